#include "components/exporters/debug/debug_exporter.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"
#include "otlp/signals.h"

namespace components {

namespace {

template <class Request>
std::string describe_items(const Request& request);

template <>
std::string describe_items(const otlp::TracesRequest& r) {
  std::string out;
  for (const auto& rs : r.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        absl::StrAppend(&out, "\n  span ", span.name(),
                        " trace_id=", absl::BytesToHexString(span.trace_id()),
                        " span_id=", absl::BytesToHexString(span.span_id()));
      }
    }
  }
  return out;
}

template <>
std::string describe_items(const otlp::MetricsRequest& r) {
  std::string out;
  for (const auto& rm : r.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        absl::StrAppend(&out, "\n  metric ", m.name(), " points=", otlp::count_data_points(m));
      }
    }
  }
  return out;
}

template <>
std::string describe_items(const otlp::LogsRequest& r) {
  std::string out;
  for (const auto& rl : r.resource_logs()) {
    for (const auto& sl : rl.scope_logs()) {
      for (const auto& lr : sl.log_records()) {
        absl::StrAppend(&out, "\n  log severity=", lr.severity_text(),
                        " body=", lr.body().has_string_value() ? lr.body().string_value() : "…");
      }
    }
  }
  return out;
}

template <>
std::string describe_items(const otlp::ProfilesRequest& r) {
  std::string out;
  for (const auto& rp : r.resource_profiles()) {
    for (const auto& sp : rp.scope_profiles()) {
      for (const auto& p : sp.profiles()) {
        absl::StrAppend(&out, "\n  profile samples=", p.samples_size());
      }
    }
  }
  return out;
}

template <class Request>
absl::StatusOr<std::string> render_as(const pipeline::Batch& batch, Verbosity verbosity) {
  Request request;
  if (auto s = otlp::decode_binary(batch.bytes, request); !s.ok()) return s;
  std::string out = absl::StrCat(std::string(otlp::signal_name(batch.signal)),
                                 ": resources=", otlp::resources(request).size(),
                                 " items=", otlp::count_items(request));
  if (verbosity == Verbosity::kNormal) absl::StrAppend(&out, describe_items(request));
  if (verbosity == Verbosity::kDetailed) {
    auto json = otlp::encode_json(request);
    if (!json.ok()) return json.status();
    absl::StrAppend(&out, "\n", *json);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> DebugExporter::render(const pipeline::Batch& batch,
                                                  Verbosity verbosity) {
  switch (batch.signal) {
    case otlp::Signal::kTraces:
      return render_as<otlp::TracesRequest>(batch, verbosity);
    case otlp::Signal::kMetrics:
      return render_as<otlp::MetricsRequest>(batch, verbosity);
    case otlp::Signal::kLogs:
      return render_as<otlp::LogsRequest>(batch, verbosity);
    case otlp::Signal::kProfiles:
      return render_as<otlp::ProfilesRequest>(batch, verbosity);
  }
  return absl::InternalError("unknown signal");
}

csp::Task<absl::Status> DebugExporter::consume(csp::Context, pipeline::Batch batch) {
  if (shut_down_.load(std::memory_order_acquire)) {
    co_return absl::UnavailableError(absl::StrCat("exporter ", id_, " is shut down"));
  }
  auto text = render(batch, config_.verbosity);
  if (!text.ok()) {
    host_.log(pipeline::LogLevel::kWarn, id_,
              absl::StrCat("undecodable batch: ", std::string(text.status().message())));
    co_return absl::OkStatus();
  }
  host_.log(pipeline::LogLevel::kInfo, id_, *text);
  co_return absl::OkStatus();
}

}  // namespace components
