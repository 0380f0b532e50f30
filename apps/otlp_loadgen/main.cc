// otlp-loadgen: drives an OTLP endpoint with synthetic traces, metrics or logs and reports what
// was accepted and how fast (docs/performance.md). Progress goes to stderr, the summary to
// stdout (--json: one JSON object).

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <thread>

#include "apps/otlp_loadgen/generator.h"
#include "apps/otlp_loadgen/load_runner.h"
#include "apps/otlp_loadgen/report.h"

namespace {

// SIGINT/SIGTERM end the run early (with a summary); a second one exits at once. Handled on a
// thread of its own with sigwait, so the run's threads never see them.
void watch_signals(const sigset_t& set, loadgen::LoadRunner* runner) {
  std::thread([set, runner] {
    int sig = 0;
    sigwait(&set, &sig);
    runner->stop();
    std::fprintf(stderr, "otlp-loadgen: stopping; waiting for requests in flight\n");
    sigwait(&set, &sig);
    _exit(128 + sig);
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  // Blocked before any thread starts, so every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  CLI::App app{
      "otlp-loadgen — sends synthetic OTLP traces, metrics or logs and measures what the "
      "endpoint accepts.\nClosed loop (--concurrency N in flight) unless --rate is given; runs "
      "for --duration seconds (10 by default) or --count requests."};
  loadgen::GeneratorOptions gen;
  loadgen::LoadOptions load;
  std::string signal = "traces", protocol = "grpc", compression = "none", endpoint;
  double duration_s = 0, timeout_s = 10;
  std::vector<std::string> headers;
  bool json = false, quiet = false;

  app.add_option("--endpoint", endpoint,
                 "host:port to send to (default 127.0.0.1:4317 for grpc, 127.0.0.1:4318 for http)");
  app.add_option("--protocol", protocol, "grpc, http/protobuf or http/json")->capture_default_str();
  app.add_option("--compression", compression, "none, gzip, deflate, or zstd (HTTP only)")
      ->capture_default_str();
  app.add_option("--signal", signal, "traces, metrics or logs")->capture_default_str();
  app.add_option("--items", gen.items_per_request,
                 "items per request: spans, metric data points or log records")
      ->capture_default_str();
  app.add_option("--resources", gen.resources_per_request, "resources per request")
      ->capture_default_str();
  app.add_option("--attributes", gen.attributes_per_item, "attributes per item")
      ->capture_default_str();
  app.add_option("--attribute-bytes", gen.attribute_value_bytes,
                 "size of each attribute's string value")
      ->capture_default_str();
  app.add_option("--log-body-bytes", gen.log_body_bytes, "size of each log record's body")
      ->capture_default_str();
  app.add_option("--points-per-metric", gen.points_per_metric, "data points per metric")
      ->capture_default_str();
  app.add_option("--variants", gen.variants, "distinct requests generated and sent in turn")
      ->capture_default_str();
  app.add_option("--seed", gen.seed, "seed of the generator")->capture_default_str();
  app.add_option("--rate", load.rate, "open loop: requests per second (0 = closed loop)")
      ->capture_default_str();
  app.add_option("--concurrency,-c", load.concurrency, "closed loop: requests in flight")
      ->capture_default_str();
  app.add_option("--max-in-flight", load.max_in_flight,
                 "open loop: due requests beyond this many in flight are skipped and counted")
      ->capture_default_str();
  app.add_option("--duration,-d", duration_s, "seconds to run (default 10 unless --count)");
  app.add_option("--count,-n", load.count, "requests to send");
  app.add_option("--timeout", timeout_s, "seconds before a request gives up")
      ->capture_default_str();
  app.add_option("--header", headers, "key=value sent with every request (repeatable)");
  app.add_flag("--json", json, "print the summary as one JSON object");
  app.add_flag("--quiet,-q", quiet, "no progress lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto fail = [](const std::string& message) {
    std::cerr << "otlp-loadgen: " << message << "\n";
    return 2;
  };
  auto sig = otlp::parse_signal(signal);
  if (!sig) return fail("unknown --signal " + signal);
  gen.signal = *sig;
  auto proto = loadgen::parse_protocol(protocol);
  if (!proto) return fail("unknown --protocol " + protocol);
  load.protocol = *proto;
  auto comp = compression == "none" ? std::optional(otlp::Compression::kNone)
                                    : otlp::parse_compression(compression);
  if (!comp) return fail("unknown --compression " + compression);
  load.compression = *comp;
  load.endpoint = !endpoint.empty()                           ? endpoint
                  : load.protocol == loadgen::Protocol::kGrpc ? "127.0.0.1:4317"
                                                              : "127.0.0.1:4318";
  if (duration_s == 0 && load.count == 0) duration_s = 10;
  load.duration = std::chrono::milliseconds(static_cast<std::int64_t>(duration_s * 1000));
  load.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
  for (const std::string& h : headers) {
    const auto eq = h.find('=');
    if (eq == std::string::npos) return fail("--header wants key=value: " + h);
    load.headers[h.substr(0, eq)] = h.substr(eq + 1);
  }
  if (absl::Status s = load.validate(); !s.ok()) return fail(std::string(s.message()));

  auto requests = loadgen::generate_requests(gen);
  if (!requests.ok()) return fail(std::string(requests.status().message()));
  loadgen::RunDescription description{gen, load, 0};
  for (const auto& r : *requests)
    description.mean_request_bytes += static_cast<double>(r.body.size());
  description.mean_request_bytes /= static_cast<double>(requests->size());

  loadgen::LoadRunner runner(gen.signal, load, std::move(*requests));
  watch_signals(set, &runner);
  loadgen::Report report = runner.run([quiet](const loadgen::Progress& p) {
    if (!quiet) std::fprintf(stderr, "%s\n", loadgen::format_progress(p).c_str());
  });
  if (json) {
    std::cout << loadgen::format_json(description, report) << std::endl;
  } else {
    std::cout << loadgen::format_summary(description, report) << std::flush;
  }
  // The clients' threads (gRPC's, the poller) may still hold connections; leave without running
  // static destructors under them.
  std::fflush(nullptr);
  _exit(0);
}
