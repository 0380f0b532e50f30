#include "apps/otlp_loadgen/report.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "otlp/json_text.h"

namespace loadgen {
namespace {

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }
double seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }
double per_second(std::uint64_t n, std::chrono::nanoseconds d) {
  return d.count() > 0 ? static_cast<double>(n) / seconds(d) : 0.0;
}

std::string json_string(const std::string& s) { return otlp::json_string(s); }

// "none" rather than the protocol's "identity": what --compression takes.
std::string compression_label(otlp::Compression c) {
  return c == otlp::Compression::kNone ? "none" : std::string(otlp::compression_name(c));
}

std::string mode(const LoadOptions& o) {
  if (o.rate > 0) return absl::StrFormat("open loop at %g requests/s", o.rate);
  return absl::StrFormat("closed loop, %d in flight", o.concurrency);
}

}  // namespace

std::string format_progress(const Progress& p) {
  const Counters& d = p.delta;
  std::string line = absl::StrFormat(
      "[%4.0fs] %8.0f req/s %10.0f items/s accepted  p50 %7.2f ms  p99 %7.2f ms  in flight %lld",
      seconds(p.elapsed),
      per_second(d.requests_ok + d.requests_refused + d.requests_failed, p.interval),
      per_second(d.items_accepted, p.interval), ms(p.delta_latency.p50), ms(p.delta_latency.p99),
      static_cast<long long>(p.in_flight));
  if (d.requests_refused + d.requests_failed > 0) {
    absl::StrAppend(&line, "  refused ", d.requests_refused, " failed ", d.requests_failed);
  }
  if (d.requests_skipped > 0) absl::StrAppend(&line, "  skipped ", d.requests_skipped);
  return line;
}

std::string format_summary(const RunDescription& run, const Report& r) {
  const Counters& c = r.counters;
  const std::uint64_t answered = c.requests_ok + c.requests_refused + c.requests_failed;
  std::string out =
      absl::StrFormat("otlp-loadgen: %s over %s (compression %s) to %s, %s, %.1f s\n",
                      otlp::signal_name(run.generator.signal), protocol_name(run.load.protocol),
                      compression_label(run.load.compression), run.load.endpoint, mode(run.load),
                      seconds(r.elapsed));
  absl::StrAppend(
      &out, absl::StrFormat("  per request: %d items, %d resources, %d attributes of %d bytes; "
                            "%.0f bytes\n",
                            run.generator.items_per_request, run.generator.resources_per_request,
                            run.generator.attributes_per_item, run.generator.attribute_value_bytes,
                            run.mean_request_bytes));
  absl::StrAppend(
      &out, absl::StrFormat("  requests: sent %d  ok %d  refused %d  failed %d", c.requests_sent,
                            c.requests_ok, c.requests_refused, c.requests_failed));
  if (c.requests_skipped > 0) absl::StrAppend(&out, "  skipped ", c.requests_skipped);
  absl::StrAppend(&out, absl::StrFormat("  (%.1f/s)\n", per_second(answered, r.elapsed)));
  absl::StrAppend(&out, absl::StrFormat("  items:    sent %d  accepted %d  refused %d  failed %d  "
                                        "(%.0f/s accepted)\n",
                                        c.items_sent, c.items_accepted, c.items_refused,
                                        c.items_failed, per_second(c.items_accepted, r.elapsed)));
  absl::StrAppend(&out, absl::StrFormat("  latency of OK answers: p50 %.2f ms  p99 %.2f ms  "
                                        "p99.9 %.2f ms  max %.2f ms\n",
                                        ms(r.latency.p50), ms(r.latency.p99), ms(r.latency.p999),
                                        ms(r.latency.max)));
  for (const auto& [code, n] : r.errors) {
    absl::StrAppend(&out, "  errors: ", code, " x", n, "\n");
  }
  if (!r.first_error.empty()) absl::StrAppend(&out, "  first error: ", r.first_error, "\n");
  return out;
}

std::string format_json(const RunDescription& run, const Report& r) {
  const Counters& c = r.counters;
  const std::uint64_t answered = c.requests_ok + c.requests_refused + c.requests_failed;
  std::string out = "{";
  absl::StrAppend(&out,
                  "\"signal\":", json_string(std::string(otlp::signal_name(run.generator.signal))));
  absl::StrAppend(&out,
                  ",\"protocol\":", json_string(std::string(protocol_name(run.load.protocol))));
  absl::StrAppend(&out, ",\"compression\":", json_string(compression_label(run.load.compression)));
  absl::StrAppend(&out, ",\"endpoint\":", json_string(run.load.endpoint));
  absl::StrAppend(&out, ",\"mode\":", json_string(run.load.rate > 0 ? "open" : "closed"));
  absl::StrAppend(&out, ",\"rate\":", absl::StrFormat("%g", run.load.rate));
  absl::StrAppend(&out, ",\"concurrency\":", run.load.concurrency);
  absl::StrAppend(&out, ",\"items_per_request\":", run.generator.items_per_request);
  absl::StrAppend(&out, ",\"resources_per_request\":", run.generator.resources_per_request);
  absl::StrAppend(&out, ",\"attributes_per_item\":", run.generator.attributes_per_item);
  absl::StrAppend(&out, ",\"attribute_value_bytes\":", run.generator.attribute_value_bytes);
  absl::StrAppend(&out,
                  ",\"mean_request_bytes\":", absl::StrFormat("%.0f", run.mean_request_bytes));
  absl::StrAppend(&out, ",\"elapsed_s\":", absl::StrFormat("%.6f", seconds(r.elapsed)));
  absl::StrAppend(&out, ",\"requests\":{\"sent\":", c.requests_sent, ",\"ok\":", c.requests_ok,
                  ",\"refused\":", c.requests_refused, ",\"failed\":", c.requests_failed,
                  ",\"skipped\":", c.requests_skipped, "}");
  absl::StrAppend(&out, ",\"items\":{\"sent\":", c.items_sent, ",\"accepted\":", c.items_accepted,
                  ",\"refused\":", c.items_refused, ",\"failed\":", c.items_failed, "}");
  absl::StrAppend(&out, ",\"bytes_sent\":", c.bytes_sent);
  absl::StrAppend(
      &out, ",\"requests_per_second\":", absl::StrFormat("%.3f", per_second(answered, r.elapsed)));
  absl::StrAppend(&out, ",\"items_per_second\":",
                  absl::StrFormat("%.3f", per_second(c.items_accepted, r.elapsed)));
  absl::StrAppend(
      &out, ",\"latency_ms\":{\"count\":", r.latency.count,
      absl::StrFormat(",\"p50\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f}", ms(r.latency.p50),
                      ms(r.latency.p99), ms(r.latency.p999), ms(r.latency.max)));
  absl::StrAppend(&out, ",\"errors\":{");
  bool first = true;
  for (const auto& [code, n] : r.errors) {
    absl::StrAppend(&out, first ? "" : ",", json_string(code), ":", n);
    first = false;
  }
  absl::StrAppend(&out, "},\"first_error\":", json_string(r.first_error), "}");
  return out;
}

}  // namespace loadgen
