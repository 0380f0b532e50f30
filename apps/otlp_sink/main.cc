// otlp-sink: an OTLP/gRPC and OTLP/HTTP backend that answers OK and counts what it gets
// (docs/performance.md). Prints its ports on stdout ("otlp-sink: listening grpc 127.0.0.1:PORT",
// then "otlp-sink: ready"), a progress line per second on stderr, and the totals on SIGTERM or
// SIGINT; --json FILE keeps the totals in FILE (rewritten every second and at exit).

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "apps/otlp_sink/sink.h"

namespace {

constexpr otlp::Signal kCounted[] = {otlp::Signal::kTraces, otlp::Signal::kMetrics,
                                     otlp::Signal::kLogs, otlp::Signal::kProfiles};

double delivery_rate(const sink::SinkCounts& c) {
  const double span_s = static_cast<double>(c.last_item_unix_ns - c.first_item_unix_ns) / 1e9;
  return span_s > 0 ? static_cast<double>(c.items()) / span_s : 0.0;
}

std::string to_json(const sink::SinkCounts& c, bool counting) {
  std::string out = absl::StrCat("{\"counting\":", counting ? "true" : "false",
                                 ",\"requests\":", c.requests(), ",\"items\":", c.items(),
                                 ",\"bytes\":", c.bytes, ",\"uncountable\":", c.uncountable);
  for (otlp::Signal s : kCounted) {
    absl::StrAppend(&out, ",\"", std::string(otlp::signal_name(s)),
                    "\":{\"requests\":", c.of(s).requests, ",\"items\":", c.of(s).items, "}");
  }
  absl::StrAppend(&out, ",\"first_item_unix_ns\":", c.first_item_unix_ns,
                  ",\"last_item_unix_ns\":", c.last_item_unix_ns,
                  ",\"items_per_second\":", absl::StrFormat("%.3f", delivery_rate(c)), "}");
  return out;
}

// Written beside and renamed over, so a reader never sees half a file.
void write_json(const std::string& path, const sink::SinkCounts& c, bool counting) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << to_json(c, counting) << "\n";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    std::fprintf(stderr, "otlp-sink: cannot write %s: %s\n", path.c_str(), ec.message().c_str());
}

std::string totals_text(const sink::SinkCounts& c) {
  std::string out = absl::StrCat("otlp-sink: totals: requests ", c.requests(), "  items ",
                                 c.items(), "  bytes ", c.bytes);
  for (otlp::Signal s : kCounted) {
    if (c.of(s).requests == 0) continue;
    absl::StrAppend(&out, "\n  ", std::string(otlp::signal_name(s)), ": requests ",
                    c.of(s).requests, "  items ", c.of(s).items);
  }
  absl::StrAppend(&out, absl::StrFormat("\n  delivery rate (first to last item): %.0f items/s",
                                        delivery_rate(c)));
  if (c.uncountable > 0) absl::StrAppend(&out, "\n  uncountable requests: ", c.uncountable);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // Blocked before any thread starts (every thread inherits the mask); main takes them with
  // sigtimedwait, which also paces the progress line.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  CLI::App app{
      "otlp-sink — an OTLP backend that accepts everything and counts spans, data "
      "points and log records.\nStops on SIGTERM or SIGINT and prints the totals."};
  sink::SinkOptions options;
  bool no_count = false, quiet = false;
  std::string json_path;
  app.add_option("--grpc", options.grpc_endpoint,
                 "OTLP/gRPC host:port (port 0 = any free port); 'off' to disable")
      ->capture_default_str();
  app.add_option("--http", options.http_endpoint,
                 "OTLP/HTTP host:port (port 0 = any free port); 'off' to disable")
      ->capture_default_str();
  app.add_flag("--no-count", no_count,
               "answer without counting items (requests and bytes only): the servers' ceiling");
  app.add_option("--max-request-mib", options.max_request_mib,
                 "largest request accepted, after decompression")
      ->capture_default_str();
  app.add_option("--json", json_path, "keep the totals as JSON in this file");
  app.add_flag("--quiet,-q", quiet, "no progress lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (options.grpc_endpoint == "off") options.grpc_endpoint.clear();
  if (options.http_endpoint == "off") options.http_endpoint.clear();
  options.count_items = !no_count;

  sink::Sink s(options);
  if (absl::Status st = s.start(); !st.ok()) {
    std::cerr << "otlp-sink: " << st << "\n";
    return 1;
  }
  auto host_of = [](const std::string& endpoint) {
    return endpoint.substr(0, endpoint.rfind(':'));
  };
  if (s.grpc_port() != 0) {
    std::cout << "otlp-sink: listening grpc " << host_of(options.grpc_endpoint) << ":"
              << s.grpc_port() << "\n";
  }
  if (s.http_port() != 0) {
    std::cout << "otlp-sink: listening http " << host_of(options.http_endpoint) << ":"
              << s.http_port() << "\n";
  }
  std::cout << "otlp-sink: ready" << std::endl;
  write_json(json_path, s.counts(), options.count_items);

  const auto start = std::chrono::steady_clock::now();
  sink::SinkCounts last = s.counts();
  int sig = 0;
  for (;;) {
    const timespec second{1, 0};
    sig = sigtimedwait(&set, nullptr, &second);
    if (sig > 0) break;
    const sink::SinkCounts now = s.counts();
    write_json(json_path, now, options.count_items);
    if (!quiet) {
      const double t =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "[%4.0fs] %8llu req/s %10llu items/s  total items %llu\n", t,
                   static_cast<unsigned long long>(now.requests() - last.requests()),
                   static_cast<unsigned long long>(now.items() - last.items()),
                   static_cast<unsigned long long>(now.items()));
    }
    last = now;
  }
  s.shutdown();
  const sink::SinkCounts final_counts = s.counts();
  write_json(json_path, final_counts, options.count_items);
  std::cout << totals_text(final_counts) << std::endl;
  std::fflush(nullptr);
  // Leave without static destructors: csp's threads outlive main by design.
  _exit(0);
}
