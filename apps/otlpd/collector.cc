#include "apps/otlpd/collector.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "apps/otlpd/limits.h"
#include "apps/otlpd/self_telemetry.h"
#include "components/factories.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/timer.h"
#include "otlp/log_line.h"
#include "otlp/log_throttle.h"
#include "pipeline/config/config.h"
#include "pipeline/config/duration.h"
#include "pipeline/graph.h"

namespace otlpd {

const char* const kDefaultConfig =
    R"(# otlpd's built-in configuration (used when no --config is given).
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: localhost:4317
      http:
        endpoint: localhost:4318
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch: {}
exporters:
  debug:
    verbosity: basic
extensions:
  status:
    endpoint: localhost:55679
service:
  extensions: [status]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
    profiles:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
)";

namespace {

// Writes the bad-input log counts every period from a goroutine (writing to stderr may block,
// so not from a timer callback, which would stall every timer and deadline). Destroying it
// stops the goroutine and waits until it has ended.
class BadInputLogFlusher {
 public:
  BadInputLogFlusher() {
    csp::go(
        [](csp::Chan<csp::Unit> stop, csp::Chan<csp::Unit> done) -> csp::Task<void> {
          csp::Ticker ticker(otlp::LogThrottle::kDefaultPeriod);
          for (;;) {
            const std::size_t k = co_await csp::select(csp::recv(ticker.chan()), csp::recv(stop));
            if (k == 1) break;
            otlp::LogThrottle::global().flush();
          }
          done.close();
        },
        stop_, done_);
  }
  ~BadInputLogFlusher() {
    stop_.close();
    (void)done_.recv_blocking();
  }
  BadInputLogFlusher(const BadInputLogFlusher&) = delete;
  BadInputLogFlusher& operator=(const BadInputLogFlusher&) = delete;

 private:
  csp::Chan<csp::Unit> stop_{0};
  csp::Chan<csp::Unit> done_{0};
};

absl::StatusOr<pipeline::Config> load(const CollectorOptions& options) {
  pipeline::LoadOptions load;
  load.files = options.config_files;
  load.sets = options.sets;
  if (load.files.empty()) {
    load.inline_yaml = kDefaultConfig;
    load.inline_name = "<built-in default config>";
  }
  return pipeline::load_config(load);
}

pipeline::LogLevel log_level(const std::string& name) {
  if (name == "debug") return pipeline::LogLevel::kDebug;
  if (name == "warn") return pipeline::LogLevel::kWarn;
  if (name == "error") return pipeline::LogLevel::kError;
  return pipeline::LogLevel::kInfo;
}

// Loads and builds; prints the error and returns null on failure.
std::unique_ptr<pipeline::Graph> build(const CollectorOptions& options,
                                       const pipeline::Factories& factories,
                                       std::unique_ptr<pipeline::Host>* host,
                                       MetricsEndpointConfig* metrics = nullptr) {
  auto config = load(options);
  if (!config.ok()) {
    std::cerr << "otlpd: invalid configuration: " << config.status().message() << "\n";
    return nullptr;
  }
  absl::StatusOr<MetricsEndpointConfig> telemetry =
      decode_metrics_config(config->service.telemetry_metrics);
  if (!telemetry.ok()) {
    std::cerr << "otlpd: invalid configuration: " << telemetry.status().message() << "\n";
    return nullptr;
  }
  if (metrics != nullptr) *metrics = *telemetry;
  otlp::set_log_format(otlp::LogFormat{config->service.log_encoding == "json"
                                           ? otlp::LogEncoding::kJson
                                           : otlp::LogEncoding::kConsole,
                                       config->service.log_initial_fields});
  *host = std::make_unique<pipeline::Host>(log_level(config->service.log_level));
  (*host)->telemetry().set_enabled(telemetry->enabled);
  for (const std::string& w : config->warnings) {
    (*host)->log(pipeline::LogLevel::kWarn, "config", w);
  }
  auto service = pipeline::Graph::build(*config, factories, **host);
  if (!service.ok()) {
    std::cerr << "otlpd: invalid configuration: " << service.status().message() << "\n";
    return nullptr;
  }
  return *std::move(service);
}

int validate(const CollectorOptions& options) {
  pipeline::Factories factories = components::make_factories();
  std::unique_ptr<pipeline::Host> host;
  auto service = build(options, factories, &host);
  if (!service) return 1;
  for (const std::string& line : service->describe()) std::cout << line << "\n";
  std::cout << "otlpd: configuration is valid\n";
  return 0;
}

int list_components() {
  pipeline::Factories f = components::make_factories();
  auto print = [](const char* kind, const auto& list) {
    std::cout << kind << ":\n";
    for (const auto& factory : list) {
      std::cout << "  " << factory->type() << " (" << pipeline::stability_name(factory->stability())
                << "; signals:";
      for (otlp::Signal s : otlp::kAllSignals) {
        if (factory->supports(s)) std::cout << " " << otlp::signal_name(s);
      }
      std::cout << ")\n";
    }
  };
  print("receivers", f.receivers);
  print("processors", f.processors);
  print("exporters", f.exporters);
  print("connectors", f.connectors);
  std::cout << "extensions:\n";
  for (const auto& factory : f.extensions) {
    std::cout << "  " << factory->type() << " (" << pipeline::stability_name(factory->stability())
              << ")\n";
  }
  return 0;
}

}  // namespace

void add_collector_commands(CLI::App& app, CollectorOptions* options,
                            std::function<int()>* selected) {
  app.add_option("--config", options->config_files,
                 "Collector configuration file (repeat to merge several, in order)");
  app.add_option("--set", options->sets,
                 "Override one setting, e.g. --set processors.batch.timeout=1s");
  app.add_option("--shutdown-timeout", options->shutdown_timeout,
                 "How long a shutdown may take to drain the pipelines (default 30s)");
  CLI::App* v = app.add_subcommand("validate", "Check a configuration without starting it");
  v->add_option("--config", options->config_files, "Collector configuration file");
  v->add_option("--set", options->sets, "Override one setting");
  v->callback([options, selected] { *selected = [options] { return validate(*options); }; });
  CLI::App* c = app.add_subcommand("components", "List the components this build contains");
  c->callback([selected] { *selected = [] { return list_components(); }; });
}

int run_collector(const CollectorOptions& options) {
  // SIGINT and SIGTERM are taken by this thread alone (sigwait below): block them before any
  // other thread exists, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto grace = pipeline::parse_duration(options.shutdown_timeout);
  if (!grace.ok()) {
    std::cerr << "otlpd: --shutdown-timeout: " << grace.status().message() << "\n";
    return 2;
  }
  // libprotobuf logs a line per bad message (e.g. invalid UTF-8): count those instead, and
  // write the counts once a minute.
  otlp::install_protobuf_log_handler();
  pipeline::Factories factories = components::make_factories();
  std::unique_ptr<pipeline::Host> host;
  MetricsEndpointConfig metrics;
  std::unique_ptr<pipeline::Graph> service = build(options, factories, &host, &metrics);
  if (!service) return 1;
  const BadInputLogFlusher flush_bad_input_counts;
  if (absl::StatusOr<rlim_t> files = raise_open_files_limit(); files.ok()) {
    host->log(pipeline::LogLevel::kInfo, "otlpd", "open files limit: " + std::to_string(*files));
  } else {
    host->log(pipeline::LogLevel::kWarn, "otlpd", std::string(files.status().message()));
  }

  // Through the host's log, so that service::telemetry::logs::encoding applies to every line.
  host->log(pipeline::LogLevel::kInfo, "otlpd",
            absl::StrCat("otlpd ", OTLPD_VERSION, " starting on ",
                         csp::default_scheduler().worker_count(), " workers"));
  for (const std::string& line : service->describe()) {
    host->log(pipeline::LogLevel::kInfo, "otlpd", "pipeline " + line);
  }
  SelfTelemetry self_telemetry(*host, metrics);
  if (absl::Status s = self_telemetry.start(); !s.ok()) {
    host->log(pipeline::LogLevel::kError, "otlpd", "cannot start: " + std::string(s.message()));
    return 1;
  }
  absl::Status started = csp::block_on(service->start());
  if (!started.ok()) {
    host->log(pipeline::LogLevel::kError, "otlpd",
              "cannot start: " + std::string(started.message()));
    host->set_phase(pipeline::Phase::kStopping);
    csp::block_on(service->shutdown(std::chrono::seconds(5)));
    return 1;
  }
  host->set_phase(pipeline::Phase::kRunning);
  for (const auto& e : host->endpoints()) {
    std::printf("otlpd: listening %s %s %s\n", e.component.c_str(), e.what.c_str(),
                e.address.c_str());
  }
  // The status page is the `status` extension's endpoint (status/<name> too), if enabled.
  std::string status_url = "off (enable the status extension)";
  for (const auto& e : host->endpoints()) {
    if (e.component == "status" || e.component.rfind("status/", 0) == 0) {
      status_url = e.what + "://" + e.address + "/";
      break;
    }
  }
  std::printf("otlpd: ready (metrics: %s; status page: %s; Ctrl-C to stop)\n",
              self_telemetry.url().empty() ? "off" : self_telemetry.url().c_str(),
              status_url.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  host->log(
      pipeline::LogLevel::kInfo, "otlpd",
      std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", draining pipelines");
  host->set_phase(pipeline::Phase::kStopping);
  csp::block_on(service->shutdown(std::chrono::duration_cast<csp::Duration>(*grace)));
  self_telemetry.shutdown();
  host->log(pipeline::LogLevel::kInfo, "otlpd", "stopped");
  std::fflush(stdout);
  return 0;
}

}  // namespace otlpd
