#include "transport/internal/messages.h"

#include <google/protobuf/duration.pb.h>

#include <algorithm>

#include "google/rpc/error_details.pb.h"
#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"

namespace transport::internal {
namespace {

namespace collector = opentelemetry::proto::collector;
using TracesResponse = collector::trace::v1::ExportTraceServiceResponse;
using MetricsResponse = collector::metrics::v1::ExportMetricsServiceResponse;
using LogsResponse = collector::logs::v1::ExportLogsServiceResponse;
using ProfilesResponse = collector::profiles::v1development::ExportProfilesServiceResponse;

constexpr std::string_view kRetryInfoType = "google.rpc.RetryInfo";

// Sets or reads the partial success of one response type; the four differ only in the name of
// the rejected counter.
template <class Response, class Set>
std::unique_ptr<google::protobuf::Message> response_with(std::int64_t rejected,
                                                         std::string_view message, Set set) {
  auto response = std::make_unique<Response>();
  if (rejected != 0 || !message.empty()) {
    auto* partial = response->mutable_partial_success();
    set(*partial, rejected);
    partial->set_error_message(std::string(message));
  }
  return response;
}

}  // namespace

std::string_view export_method(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case otlp::Signal::kMetrics:
      return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    case otlp::Signal::kLogs:
      return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    case otlp::Signal::kProfiles:
      return "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export";
  }
  return "";
}

std::optional<otlp::Signal> signal_of_method(std::string_view method) {
  for (otlp::Signal signal : otlp::kAllSignals) {
    if (export_method(signal) == method) return signal;
  }
  return std::nullopt;
}

std::unique_ptr<google::protobuf::Message> make_export_response(otlp::Signal signal,
                                                                std::int64_t rejected_items,
                                                                std::string_view message) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return response_with<TracesResponse>(
          rejected_items, message, [](auto& p, std::int64_t n) { p.set_rejected_spans(n); });
    case otlp::Signal::kMetrics:
      return response_with<MetricsResponse>(
          rejected_items, message, [](auto& p, std::int64_t n) { p.set_rejected_data_points(n); });
    case otlp::Signal::kLogs:
      return response_with<LogsResponse>(
          rejected_items, message, [](auto& p, std::int64_t n) { p.set_rejected_log_records(n); });
    case otlp::Signal::kProfiles:
      return response_with<ProfilesResponse>(
          rejected_items, message, [](auto& p, std::int64_t n) { p.set_rejected_profiles(n); });
  }
  return nullptr;
}

PartialSuccess partial_success_of(otlp::Signal signal, const google::protobuf::Message& response) {
  PartialSuccess out;
  switch (signal) {
    case otlp::Signal::kTraces: {
      const auto& p = static_cast<const TracesResponse&>(response).partial_success();
      out = {p.rejected_spans(), p.error_message()};
      break;
    }
    case otlp::Signal::kMetrics: {
      const auto& p = static_cast<const MetricsResponse&>(response).partial_success();
      out = {p.rejected_data_points(), p.error_message()};
      break;
    }
    case otlp::Signal::kLogs: {
      const auto& p = static_cast<const LogsResponse&>(response).partial_success();
      out = {p.rejected_log_records(), p.error_message()};
      break;
    }
    case otlp::Signal::kProfiles: {
      const auto& p = static_cast<const ProfilesResponse&>(response).partial_success();
      out = {p.rejected_profiles(), p.error_message()};
      break;
    }
  }
  return out;
}

absl::StatusOr<PartialSuccess> parse_partial_success(otlp::Signal signal, std::string_view body,
                                                     bool json) {
  std::unique_ptr<google::protobuf::Message> response = make_export_response(signal, 0, "");
  const absl::Status status =
      json ? otlp::decode_json(body, *response) : otlp::decode_binary(body, *response);
  if (!status.ok()) return status;
  return partial_success_of(signal, *response);
}

google::rpc::Status make_rpc_status(const absl::Status& status,
                                    std::optional<std::chrono::milliseconds> retry_after) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(std::string(status.message()));
  if (retry_after.has_value()) {
    google::rpc::RetryInfo info;
    const std::int64_t ms = std::max<std::int64_t>(0, retry_after->count());
    info.mutable_retry_delay()->set_seconds(ms / 1000);
    info.mutable_retry_delay()->set_nanos(static_cast<int>(ms % 1000) * 1000000);
    out.add_details()->PackFrom(info);
  }
  return out;
}

std::optional<std::chrono::milliseconds> retry_info_of(const google::rpc::Status& status) {
  for (const google::protobuf::Any& detail : status.details()) {
    const std::string_view type_url = detail.type_url();
    const std::size_t slash = type_url.rfind('/');
    const std::string_view type =
        slash == std::string_view::npos ? type_url : type_url.substr(slash + 1);
    if (type != kRetryInfoType) continue;
    google::rpc::RetryInfo info;
    if (!detail.UnpackTo(&info)) continue;
    const auto& delay = info.retry_delay();
    // A hostile peer may send any numbers: clamp instead of overflowing.
    const std::int64_t max_seconds = std::int64_t{1} << 40;
    const std::int64_t seconds = std::clamp<std::int64_t>(delay.seconds(), 0, max_seconds);
    const std::int64_t nanos = std::clamp<std::int64_t>(delay.nanos(), 0, 999999999);
    return std::chrono::milliseconds(seconds * 1000 + (nanos + 999999) / 1000000);
  }
  return std::nullopt;
}

std::string encode_rpc_status(const google::rpc::Status& status, bool json) {
  if (json) {
    absl::StatusOr<std::string> text = otlp::encode_json(status);
    if (text.ok()) return *std::move(text);
    // Cannot happen for a Status we made; keep the answer well-formed anyway.
    return R"({"code":13,"message":"cannot encode status"})";
  }
  return status.SerializeAsString();
}

absl::StatusOr<google::rpc::Status> decode_rpc_status(std::string_view body, bool json) {
  google::rpc::Status status;
  const absl::Status decoded =
      json ? otlp::decode_json(body, status) : otlp::decode_binary(body, status);
  if (!decoded.ok()) return decoded;
  return status;
}

}  // namespace transport::internal
