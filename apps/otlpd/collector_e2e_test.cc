// End-to-end tests of the otlpd executable: real child processes, real clients on loopback.
#include <arpa/inet.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "apps/otlpd/testing/child_collector.h"
#include "csp/csp.h"
#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"
#include "otlp/signals.h"
#include "otlp/testing/profile_view.h"
#include "otlp/testing/random_requests.h"
#include "transport/grpc_client.h"
#include "transport/http_client.h"

namespace otlpd {
namespace {

using namespace std::chrono_literals;
using testing::ChildCollector;

// ---- What a client sent and what the file exporter wrote, compared item by item -------------

// Every item with its resource and scope, serialized deterministically: batching may regroup
// requests, but each item must arrive exactly once with the same resource and scope.
using Items = std::multiset<std::string>;

std::string det(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

void add_items(const otlp::TracesRequest& r, Items& out) {
  for (const auto& rs : r.resource_spans())
    for (const auto& ss : rs.scope_spans())
      for (const auto& s : ss.spans())
        out.insert(det(rs.resource()) + "|" + det(ss.scope()) + "|" + det(s));
}
void add_items(const otlp::MetricsRequest& r, Items& out) {
  for (const auto& rm : r.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics())
        out.insert(det(rm.resource()) + "|" + det(sm.scope()) + "|" + det(m));
}
void add_items(const otlp::LogsRequest& r, Items& out) {
  for (const auto& rl : r.resource_logs())
    for (const auto& sl : rl.scope_logs())
      for (const auto& l : sl.log_records())
        out.insert(det(rl.resource()) + "|" + det(sl.scope()) + "|" + det(l));
}
void add_items(const otlp::ProfilesRequest& r, Items& out) {
  for (const std::string& s : otlp::testing::resolved_samples(r)) out.insert(s);
}

struct Expected {
  Items traces, metrics, logs, profiles;
};

void add_sent(otlp::Signal signal, const std::string& bytes, Expected& e) {
  switch (signal) {
    case otlp::Signal::kTraces: {
      otlp::TracesRequest r;
      ASSERT_TRUE(r.ParseFromString(bytes));
      add_items(r, e.traces);
      break;
    }
    case otlp::Signal::kMetrics: {
      otlp::MetricsRequest r;
      ASSERT_TRUE(r.ParseFromString(bytes));
      add_items(r, e.metrics);
      break;
    }
    case otlp::Signal::kLogs: {
      otlp::LogsRequest r;
      ASSERT_TRUE(r.ParseFromString(bytes));
      add_items(r, e.logs);
      break;
    }
    case otlp::Signal::kProfiles: {
      otlp::ProfilesRequest r;
      ASSERT_TRUE(r.ParseFromString(bytes));
      add_items(r, e.profiles);
      break;
    }
  }
}

// Reads the file exporter's JSON lines back into items. While the exporter may still be
// writing, only whole lines (ending in a newline) are read.
Expected read_file_exporter(const std::string& path) {
  Expected got;
  std::string text;
  {
    std::ifstream file(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"resourceSpans\"") != std::string::npos) {
      otlp::TracesRequest r;
      EXPECT_TRUE(otlp::decode_json(line, r).ok()) << line.substr(0, 200);
      add_items(r, got.traces);
    } else if (line.find("\"resourceMetrics\"") != std::string::npos) {
      otlp::MetricsRequest r;
      EXPECT_TRUE(otlp::decode_json(line, r).ok());
      add_items(r, got.metrics);
    } else if (line.find("\"resourceLogs\"") != std::string::npos) {
      otlp::LogsRequest r;
      EXPECT_TRUE(otlp::decode_json(line, r).ok());
      add_items(r, got.logs);
    } else if (line.find("\"resourceProfiles\"") != std::string::npos) {
      otlp::ProfilesRequest r;
      EXPECT_TRUE(otlp::decode_json(line, r).ok());
      add_items(r, got.profiles);
    } else {
      ADD_FAILURE() << "unexpected line: " << line.substr(0, 200);
    }
  }
  return got;
}

void expect_same(const Expected& sent, const Expected& got) {
  EXPECT_EQ(sent.traces.size(), got.traces.size());
  EXPECT_TRUE(sent.traces == got.traces) << "spans differ";
  EXPECT_EQ(sent.metrics.size(), got.metrics.size());
  EXPECT_TRUE(sent.metrics == got.metrics) << "metrics differ";
  EXPECT_EQ(sent.logs.size(), got.logs.size());
  EXPECT_TRUE(sent.logs == got.logs) << "log records differ";
  EXPECT_EQ(sent.profiles.size(), got.profiles.size());
  EXPECT_TRUE(sent.profiles == got.profiles) << "profile samples differ";
}

std::string random_bytes(otlp::Signal s, std::uint64_t seed) {
  return otlp::testing::random_request(s, seed)->SerializeAsString();
}

// ---- Clients ---------------------------------------------------------------------------

absl::Status send_grpc(const std::string& endpoint, otlp::Signal s, std::string body,
                       otlp::Compression compression = otlp::Compression::kGzip) {
  transport::GrpcClientOptions o;
  o.endpoint = endpoint;
  o.insecure = true;
  o.compression = compression;
  o.timeout = 30000ms;
  transport::GrpcExporterClient client(o);
  auto ctx = csp::with_timeout(csp::Context::background(), 60s).first;
  return csp::block_on(client.export_request(s, std::move(body), ctx)).status;
}

absl::Status send_http(const std::string& endpoint, otlp::Signal s, std::string body, bool json,
                       otlp::Compression compression = otlp::Compression::kGzip) {
  transport::HttpClientOptions o;
  o.endpoint = "http://" + endpoint;
  o.encoding = json ? transport::HttpEncoding::kJson : transport::HttpEncoding::kProto;
  o.compression = compression;
  o.timeout = 30000ms;
  transport::HttpExporterClient client(o);
  auto ctx = csp::with_timeout(csp::Context::background(), 60s).first;
  return csp::block_on(client.export_request(s, std::move(body), ctx)).status;
}

// grpc_port 0: any free port (ChildCollector::endpoint tells which).
std::string file_pipelines_config(const std::string& out, const std::string& exporter = "file",
                                  int grpc_port = 0) {
  return R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:)" +
         std::to_string(grpc_port) + R"("}
      http: {endpoint: "127.0.0.1:0"}
processors:
  batch: {timeout: 50ms, send_batch_size: 500}
exporters:
  file: {path: ")" +
         out + R"(", flush_interval: 50ms}
service:
  telemetry: {logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [)" +
         exporter + R"(]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [)" +
         exporter + R"(]}
    logs: {receivers: [otlp], processors: [batch], exporters: [)" +
         exporter + R"(]}
    profiles: {receivers: [otlp], processors: [batch], exporters: [)" +
         exporter + R"(]}
)";
}

// ---- Tests -----------------------------------------------------------------------------

TEST(CollectorE2E, WhatClientsSendIsWhatTheFileExporterWrites) {
  const std::string dir = testing::make_temp_dir();
  const std::string out = dir + "/out.json";
  auto c = ChildCollector::start(file_pipelines_config(out));
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string grpc = (*c)->endpoint("otlp", "grpc");
  const std::string http = (*c)->endpoint("otlp", "http");
  ASSERT_FALSE(grpc.empty());
  ASSERT_FALSE(http.empty());
  Expected sent;
  std::uint64_t seed = 1;
  for (otlp::Signal s : otlp::kAllSignals) {
    for (int i = 0; i < 3; ++i) {
      std::string body = random_bytes(s, seed++);
      add_sent(s, body, sent);
      ASSERT_TRUE(send_grpc(grpc, s, body).ok()) << otlp::signal_name(s) << "\n" << (*c)->log();
      body = random_bytes(s, seed++);
      add_sent(s, body, sent);
      ASSERT_TRUE(send_http(http, s, body, false).ok()) << otlp::signal_name(s) << "\n"
                                                        << (*c)->log();
      body = random_bytes(s, seed++);
      add_sent(s, body, sent);
      ASSERT_TRUE(send_http(http, s, body, true).ok()) << otlp::signal_name(s) << "\n"
                                                       << (*c)->log();
    }
  }
  ASSERT_EQ((*c)->stop(), 0) << (*c)->log();
  expect_same(sent, read_file_exporter(out));
  std::filesystem::remove_all(dir);
}

// otlpd -> otlpd over gRPC, over HTTP/protobuf and over HTTP/JSON: the data arrives unchanged.
class Chained : public ::testing::TestWithParam<std::string> {};

TEST_P(Chained, ForwardingPreservesTheData) {
  const std::string dir = testing::make_temp_dir();
  const std::string out = dir + "/out.json";
  auto last = ChildCollector::start(file_pipelines_config(out));
  ASSERT_TRUE(last.ok()) << last.status();
  std::string exporter;
  if (GetParam() == "grpc") {
    exporter =
        "otlp: {endpoint: \"" + (*last)->endpoint("otlp", "grpc") + "\", tls: {insecure: true}}";
  } else {
    exporter = "otlp_http: {endpoint: \"http://" + (*last)->endpoint("otlp", "http") +
               "\", encoding: " + GetParam() + "}";
  }
  const std::string exporter_id = GetParam() == "grpc" ? "otlp" : "otlp_http";
  const std::string first_config = R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
exporters:
  )" + exporter + R"(
service:
  telemetry: {logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], exporters: [)" +
                                   exporter_id + R"(]}
    metrics: {receivers: [otlp], exporters: [)" +
                                   exporter_id + R"(]}
    logs: {receivers: [otlp], exporters: [)" +
                                   exporter_id + R"(]}
    profiles: {receivers: [otlp], exporters: [)" +
                                   exporter_id + R"(]}
)";
  auto first = ChildCollector::start(first_config);
  ASSERT_TRUE(first.ok()) << first.status();
  Expected sent;
  std::uint64_t seed = 100;
  for (otlp::Signal s : otlp::kAllSignals) {
    for (int i = 0; i < 4; ++i) {
      std::string body = random_bytes(s, seed++);
      add_sent(s, body, sent);
      ASSERT_TRUE(send_grpc((*first)->endpoint("otlp", "grpc"), s, body).ok()) << (*first)->log();
    }
  }
  ASSERT_EQ((*first)->stop(), 0) << (*first)->log();  // drains its queue into `last`
  ASSERT_EQ((*last)->stop(), 0) << (*last)->log();
  expect_same(sent, read_file_exporter(out));
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Protocols, Chained, ::testing::Values("grpc", "proto", "json"));

TEST(CollectorE2E, InvalidConfigsAreRejectedWithKeyAndLine) {
  const std::string dir = testing::make_temp_dir();
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpiont: x\n"
       "exporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: [otlp], exporters: "
       "[debug]}}}\n",
       "endpiont"},
      {"receivers: {otlp: {protocols: {grpc: {}}}}\nexporters: {debug: {}}\n"
       "service: {pipelines: {traces: {receivers: [otlp], exporters: [loggin]}}}\n",
       "loggin"},
      {"receivers: {nosuch: {}}\nexporters: {debug: {}}\n"
       "service: {pipelines: {traces: {receivers: [nosuch], exporters: [debug]}}}\n",
       "unknown type \"nosuch\""},
      {"receivers: {otlp: {protocols: {grpc: {}}}}\nprocessors: {batch: {send_batch_size: lots}}\n"
       "exporters: {debug: {}}\n"
       "service: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: "
       "[debug]}}}\n",
       "send_batch_size"},
  };
  for (const Case& k : cases) {
    const std::string path = dir + "/bad.yaml";
    std::ofstream(path) << k.yaml;
    testing::RunResult r = testing::run_otlpd({"validate", "--config", path});
    EXPECT_EQ(r.exit_code, 1) << k.yaml;
    EXPECT_NE(r.err.find(k.expected), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bad.yaml:"), std::string::npos) << "names the file and line: " << r.err;
  }
  testing::RunResult ok = testing::run_otlpd({"validate"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("configuration is valid"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(CollectorE2E, ComponentsAndVersion) {
  testing::RunResult c = testing::run_otlpd({"components"});
  EXPECT_EQ(c.exit_code, 0);
  for (const char* name : {"otlp", "batch", "memory_limiter", "debug", "file", "otlp_http",
                           "otlphttp", "nop", "forward"}) {
    EXPECT_NE(c.out.find(std::string("  ") + name + " ("), std::string::npos) << name;
  }
  testing::RunResult v = testing::run_otlpd({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("otlpd "), std::string::npos);
}

}  // namespace
}  // namespace otlpd

namespace otlpd {
namespace {

// A backend that accepts TCP connections and never answers: every export to it hangs until
// its timeout. Bounded: it stops when destroyed.
class BlackHole {
 public:
  BlackHole() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 64);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
          int c = accept(fd_, nullptr, nullptr);
          if (c >= 0) held_.push_back(c);
        }
      }
    });
  }
  ~BlackHole() {
    stop_ = true;
    thread_.join();
    for (int c : held_) close(c);
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

// With the backend stalled, clients keep sending large requests: the collector must refuse
// retryably (never drop silently or grow), and its memory must stay near the configured limit.
// Out of file descriptors: both receivers stop accepting while the process is at its limit and
// accept again once descriptors are free; what was acknowledged is exactly what is written.
TEST(CollectorE2E, BothReceiversRecoverFromRunningOutOfDescriptors) {
  const std::string dir = testing::make_temp_dir();
  const std::string out = dir + "/out.jsonl";
  auto c = ChildCollector::start(file_pipelines_config(out), {}, {.max_open_files = 64});
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string grpc = (*c)->endpoint("otlp", "grpc");
  const std::string http = (*c)->endpoint("otlp", "http");
  Expected sent;
  std::uint64_t seed = 1;
  const auto send_both = [&] {
    for (const std::string& endpoint : {grpc, http}) {
      const std::string body = random_bytes(otlp::Signal::kTraces, seed++);
      const absl::Status s = endpoint == grpc ? send_grpc(endpoint, otlp::Signal::kTraces, body)
                                              : send_http(endpoint, otlp::Signal::kTraces, body,
                                                          /*json=*/false);
      ASSERT_TRUE(s.ok()) << endpoint << ": " << s << "\n" << (*c)->log();
      add_sent(otlp::Signal::kTraces, body, sent);
    }
  };
  send_both();

  // Idle connections to both receivers, far more than 64 descriptors allow.
  const auto connect_to = [](const std::string& endpoint) {
    const std::size_t colon = endpoint.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(endpoint.substr(colon + 1))));
    inet_pton(AF_INET, endpoint.substr(0, colon).c_str(), &addr.sin_addr);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  };
  std::vector<int> held;
  for (int i = 0; i < 80; ++i) {
    for (const std::string& endpoint : {grpc, http}) {
      if (const int fd = connect_to(endpoint); fd >= 0) held.push_back(fd);
    }
  }
  // Wait (generously) until the child has said that it ran out.
  bool exhausted = false;
  for (int i = 0; i < 200 && !exhausted; ++i) {
    exhausted = (*c)->log().find("Too many open files") != std::string::npos;
    if (!exhausted) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(exhausted) << "the child never ran out of descriptors:\n" << (*c)->log();
  for (const int fd : held) close(fd);

  // Both receivers serve again, and the data sent before and after is all there, once.
  send_both();
  EXPECT_EQ((*c)->stop(), 0) << (*c)->log();
  expect_same(sent, read_file_exporter(out));
  std::filesystem::remove_all(dir);
}

// The attacks that once latched the memory limiter or grew otlpd without bound: a small gzip
// request of millions of empty ScopeSpans (decodes to ~40x its inflated size), over HTTP and
// gRPC, JSON requests of many tiny spans, and a gRPC gzip bomb. Each is refused with a
// retryable or size answer, resident memory stays within the limit plus a margin, ordinary
// requests are accepted again within a few check intervals, and the file exporter holds
// exactly what was acknowledged.
TEST(CollectorE2E, HostileBurstsNeitherLatchTheLimiterNorGrowMemory) {
  constexpr int kLimitMib = 100;
  const std::string dir = testing::make_temp_dir();
  const std::string out = dir + "/out.jsonl";
  const std::string config = R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
      http: {endpoint: "127.0.0.1:0"}
processors:
  memory_limiter: {check_interval: 50ms, limit_mib: )" +
                             std::to_string(kLimitMib) + R"(, spike_limit_mib: 20}
  batch: {timeout: 50ms}
exporters:
  file: {path: ")" + out + R"(", flush_interval: 50ms}
service:
  telemetry: {logs: {level: error}}
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [file]}
)";
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string grpc = (*c)->endpoint("otlp", "grpc");
  const std::string http = (*c)->endpoint("otlp", "http");
  std::atomic<std::int64_t> max_rss{0};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      max_rss = std::max<std::int64_t>(max_rss, (*c)->rss_bytes());
      std::this_thread::sleep_for(5ms);
    }
  });

  // One ResourceSpans holding `n` empty ScopeSpans: 2 bytes each on the wire.
  const auto empty_scopes = [](std::size_t n) {
    std::string scopes;
    scopes.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) scopes.append("\x12\x00", 2);
    std::string rs;
    google::protobuf::io::StringOutputStream stream(&rs);
    {
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.WriteTag(10);  // ExportTraceServiceRequest.resource_spans
      coded.WriteVarint64(scopes.size());
      coded.WriteRaw(scopes.data(), static_cast<int>(scopes.size()));
    }
    return rs;
  };
  const auto send = [](const std::string& endpoint, bool use_grpc, std::string body,
                       otlp::Compression compression, bool json = false) {
    return use_grpc
               ? send_grpc(endpoint, otlp::Signal::kTraces, std::move(body), compression)
               : send_http(endpoint, otlp::Signal::kTraces, std::move(body), json, compression);
  };
  const auto refused = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kResourceExhausted ||
           s.code() == absl::StatusCode::kUnavailable ||
           s.code() == absl::StatusCode::kInvalidArgument;  // HTTP 413 maps to it
  };

  Expected sent;
  std::uint64_t seed = 100;
  // After an attack, ordinary requests are accepted again (the limiter may refuse for a few
  // check intervals, never for good).
  const auto expect_recovers = [&](const char* after) {
    for (const bool use_grpc : {true, false}) {
      const std::string body = random_bytes(otlp::Signal::kTraces, seed++);
      absl::Status s;
      for (int attempt = 0; attempt < 100; ++attempt) {
        s = send(use_grpc ? grpc : http, use_grpc, body, otlp::Compression::kGzip);
        if (s.code() != absl::StatusCode::kResourceExhausted &&
            s.code() != absl::StatusCode::kUnavailable) {
          break;
        }
        std::this_thread::sleep_for(100ms);
      }
      ASSERT_TRUE(s.ok()) << "after " << after << (use_grpc ? " (gRPC): " : " (HTTP): ") << s;
      add_sent(otlp::Signal::kTraces, body, sent);
    }
  };
  expect_recovers("start");

  // 1. Millions of empty ScopeSpans: 8 MB inflated (HTTP) / 4 MB - 16 (gRPC), a few KB gzipped.
  for (int round = 0; round < 3; ++round) {
    const absl::Status h = send(http, false, empty_scopes(4u << 20), otlp::Compression::kGzip);
    EXPECT_TRUE(refused(h)) << h;
    const absl::Status g = send(grpc, true, empty_scopes((2u << 20) - 8), otlp::Compression::kGzip);
    EXPECT_TRUE(refused(g)) << g;
  }
  expect_recovers("empty ScopeSpans");

  // 2. A gRPC gzip bomb: 64 MiB of zeros, about 64 KiB on the wire.
  const absl::Status bomb =
      send(grpc, true, std::string(64u << 20, '\0'), otlp::Compression::kGzip);
  EXPECT_EQ(bomb.code(), absl::StatusCode::kResourceExhausted) << bomb;
  expect_recovers("gzip bomb");

  // 3. Four large JSON requests of many small spans, at once.
  otlp::TracesRequest many;
  auto* spans = many.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 60000; ++i) {
    auto* span = spans->add_spans();
    span->set_trace_id(std::string(16, static_cast<char>(1 + i % 200)));
    span->set_span_id(std::string(8, static_cast<char>(1 + i % 200)));
    span->set_name("s");
  }
  const std::string many_bytes = many.SerializeAsString();
  std::vector<std::thread> json_clients;
  std::mutex sent_mu;
  for (int t = 0; t < 4; ++t) {
    json_clients.emplace_back([&] {
      const absl::Status s = send(http, false, many_bytes, otlp::Compression::kNone, true);
      EXPECT_TRUE(s.ok() || refused(s)) << s;
      if (s.ok()) {
        std::lock_guard lock(sent_mu);
        add_sent(otlp::Signal::kTraces, many_bytes, sent);
      }
    });
  }
  for (auto& t : json_clients) t.join();
  expect_recovers("large JSON requests");

  done = true;
  sampler.join();
  // The limit plus a margin for the runtime, the allocator's slack and one request in flight.
  EXPECT_LT(max_rss.load(), (kLimitMib + 80) * 1024LL * 1024) << "max rss " << max_rss.load();
  RecordProperty("max_rss_mib", static_cast<int>(max_rss.load() >> 20));
  EXPECT_EQ((*c)->stop(), 0) << (*c)->log();
  expect_same(sent, read_file_exporter(out));
  std::filesystem::remove_all(dir);
}

TEST(CollectorE2E, OverloadWithAStalledBackendStaysWithinTheMemoryLimit) {
  BlackHole backend;
  constexpr int kLimitMib = 120;
  const std::string config = R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 16}
processors:
  memory_limiter: {check_interval: 50ms, limit_mib: )" +
                             std::to_string(kLimitMib) + R"(, spike_limit_mib: 30}
  batch: {timeout: 50ms}
exporters:
  otlp:
    endpoint: "127.0.0.1:)" + std::to_string(backend.port()) +
                             R"("
    tls: {insecure: true}
    timeout: 2s
    sending_queue: {queue_size: 4, num_consumers: 2}
    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms}
service:
  telemetry: {logs: {level: error}}
  pipelines:
    logs: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}
)";
  auto c = ChildCollector::start(config);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string endpoint = (*c)->endpoint("otlp", "grpc");

  // ~1 MiB requests, 4 clients x 60 requests = 240 MiB offered to a 120 MiB collector.
  otlp::LogsRequest big;
  auto* records = big.add_resource_logs()->add_scope_logs();
  for (int i = 0; i < 256; ++i) {
    records->add_log_records()->mutable_body()->set_string_value(std::string(4096, 'a' + i % 26));
  }
  const std::string body = big.SerializeAsString();
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::atomic<std::int64_t> max_rss{0};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      max_rss = std::max<std::int64_t>(max_rss, (*c)->rss_bytes());
      std::this_thread::sleep_for(10ms);
    }
  });
  std::vector<std::thread> clients;
  std::mutex codes_mu;
  std::set<absl::StatusCode> refusal_codes;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      transport::GrpcClientOptions o;
      o.endpoint = endpoint;
      o.insecure = true;
      o.compression = otlp::Compression::kNone;
      o.timeout = 30000ms;
      transport::GrpcExporterClient client(o);
      for (int i = 0; i < 60; ++i) {
        auto ctx = csp::with_timeout(csp::Context::background(), 60s).first;
        transport::ExportResult r =
            csp::block_on(client.export_request(otlp::Signal::kLogs, body, ctx));
        if (r.status.ok()) {
          ++accepted;
        } else if (r.status.code() == absl::StatusCode::kUnavailable ||
                   r.status.code() == absl::StatusCode::kResourceExhausted) {
          ++refused;
          std::lock_guard lock(codes_mu);
          refusal_codes.insert(r.status.code());
        } else {
          ++other;
          ADD_FAILURE() << r.status;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  done = true;
  sampler.join();
  EXPECT_GT(accepted.load(), 0);
  EXPECT_GT(refused.load(), 0) << "a stalled backend must push back on clients";
  EXPECT_EQ(other.load(), 0);
  // Resident memory stays within the limit plus a margin for the runtime, gRPC (~35 MiB idle)
  // and allocator slack. Without the limiter's accounting this run peaks above 250 MiB.
  EXPECT_LT(max_rss.load(), (kLimitMib + 100) * 1024LL * 1024) << "max rss " << max_rss.load();
  RecordProperty("max_rss_mib", static_cast<int>(max_rss.load() >> 20));
  RecordProperty("accepted", accepted.load());
  RecordProperty("refused", refused.load());
  (*c)->stop();
}

// A loopback port nothing listens on: connections to it are refused.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(CollectorE2E, ShutdownWithTheBackendDownSaysExactlyWhatTheMemoryQueueDrops) {
  const std::string config = R"(
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
exporters:
  otlp:
    endpoint: "127.0.0.1:)" + std::to_string(closed_port()) +
                             R"("
    tls: {insecure: true}
    retry_on_failure: {initial_interval: 50ms, max_interval: 100ms}
service:
  telemetry: {logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
)";
  auto c = ChildCollector::start(config, {"--shutdown-timeout", "1s"});
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string endpoint = (*c)->endpoint("otlp", "grpc");
  int spans = 0;
  for (int i = 0; i < 10; ++i) {
    otlp::TracesRequest r;
    auto* scope = r.add_resource_spans()->add_scope_spans();
    for (int k = 0; k < 20; ++k) scope->add_spans()->set_name("s" + std::to_string(k));
    ASSERT_TRUE(send_grpc(endpoint, otlp::Signal::kTraces, r.SerializeAsString()).ok());
    spans += 20;
  }
  EXPECT_EQ((*c)->stop(), 0);
  // Every acknowledged span is accounted for in one line: nothing is dropped silently.
  const std::string log = (*c)->log();
  EXPECT_NE(log.find(std::to_string(spans) +
                     " items in 10 batches could not be delivered before the shutdown deadline"),
            std::string::npos)
      << log;
}

// The collector under test with a durable sending queue in `dir`, exporting to `port`.
std::string durable_config(const std::string& dir, int port, const std::string& queue_extra = "") {
  return R"(
extensions:
  file_storage: {directory: ")" +
         dir + R"(", create_directory: true}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
processors:
  batch: {timeout: 50ms}
exporters:
  otlp:
    endpoint: "127.0.0.1:)" +
         std::to_string(port) + R"("
    tls: {insecure: true}
    timeout: 2s
    sending_queue: {storage: file_storage, num_consumers: 2)" +
         queue_extra + R"(}
    retry_on_failure: {initial_interval: 50ms, max_interval: 200ms}
service:
  extensions: [file_storage]
  telemetry: {logs: {level: info}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp]}
)";
}

// The second half of the durable-queue tests: an otlpd writing to a file as the backend, and the
// collector started again on dir/queue. Waits (up to 60s) until at least `at_least` spans have
// arrived, stops both, and returns what arrived and the collector's log.
struct Redelivery {
  bool started = false;  // both processes started
  Expected got;
  std::string log;
};

Redelivery restart_and_collect(const std::string& dir, std::size_t at_least,
                               const std::string& queue_extra = "") {
  Redelivery r;
  const std::string out = dir + "/backend.json";
  auto backend = ChildCollector::start(file_pipelines_config(out));
  EXPECT_TRUE(backend.ok()) << backend.status();
  if (!backend.ok()) return r;
  const std::string backend_grpc = (*backend)->endpoint("otlp", "grpc");
  const int backend_port = std::stoi(backend_grpc.substr(backend_grpc.rfind(':') + 1));
  auto c = ChildCollector::start(durable_config(dir + "/queue", backend_port, queue_extra));
  EXPECT_TRUE(c.ok()) << "a queue left by the last run must not stop otlpd from starting: "
                      << c.status();
  if (!c.ok()) return r;
  r.started = true;
  for (int waited = 0; waited < 600 && r.got.traces.size() < at_least; ++waited) {
    std::this_thread::sleep_for(100ms);
    r.got = read_file_exporter(out);
  }
  EXPECT_EQ((*c)->stop(), 0);
  EXPECT_EQ((*backend)->stop(), 0);
  r.got = read_file_exporter(out);
  r.log = (*c)->log();
  return r;
}

// The backend during the first run: refusing connections, or accepting them and never answering
// (so exports are in flight when otlpd is killed).
class DurableKill9 : public ::testing::TestWithParam<bool> {};

TEST_P(DurableKill9, EverythingAcknowledgedIsDeliveredAfterTheRestart) {
  const bool hanging_backend = GetParam();
  const std::string dir = testing::make_temp_dir();
  BlackHole hanging;
  // 1. The backend is down; clients are told OK only once their spans are on disk.
  Expected sent;
  {
    auto c = ChildCollector::start(
        durable_config(dir + "/queue", hanging_backend ? hanging.port() : closed_port()));
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string endpoint = (*c)->endpoint("otlp", "grpc");
    for (int i = 0; i < 20; ++i) {
      const std::string body = random_bytes(otlp::Signal::kTraces, 7000 + i);
      ASSERT_TRUE(send_grpc(endpoint, otlp::Signal::kTraces, body).ok());
      add_sent(otlp::Signal::kTraces, body, sent);
    }
    (*c)->kill_hard();  // no shutdown, no flush: what was acknowledged must be on disk already
  }
  ASSERT_GT(sent.traces.size(), 0u);
  // 2. The backend (an otlpd writing to a file) is up; the collector starts again on the same
  // directory and delivers what it had acknowledged before it was killed.
  const Redelivery r = restart_and_collect(dir, sent.traces.size());
  ASSERT_TRUE(r.started);
  // Every acknowledged span arrived, exactly once: the hanging backend never read what was in
  // flight, so nothing reached a backend twice.
  EXPECT_EQ(r.got.traces.size(), sent.traces.size()) << r.log;
  EXPECT_TRUE(r.got.traces == sent.traces);
  EXPECT_NE(r.log.find("batches from before the restart will be delivered"), std::string::npos)
      << r.log;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(CollectorE2E, DurableKill9, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "BackendHangsExportsInFlight"
                                                         : "BackendRefusesConnections");
                         });

// kill -9 again and again while the log switches segments: a small byte bound makes every
// segment hold a batch or two, and a client keeps sending while otlpd is killed after a
// different number of acknowledged requests in each cycle, with the backend down throughout.
// otlpd must start every time, deliver every acknowledged span once the backend is up, invent
// nothing, and dead-letter nothing: the records in flight at each kill were waiting to retry,
// which the poison-record rule (storage::DurableLogOptions::max_crashes_in_flight) must not
// count against them.
TEST(CollectorE2E, DurableQueueSurvivesRepeatedKill9DuringSegmentSwitches) {
  const std::string dir = testing::make_temp_dir();
  // 512 KiB on disk: 128 KiB segments, each holding three or four of the ~36 KB requests
  // below — and room for 14 of them, as nothing is delivered until the last start.
  const std::string bound = ", sizer: bytes, queue_size: 524288";
  Expected acknowledged;
  Expected attempted;  // acknowledged or not: whatever may legitimately arrive
  std::size_t requests_acknowledged = 0;
  const int kills_after[] = {1, 2, 1, 2, 1};  // acknowledged requests per cycle before the kill
  int request_id = 0;
  for (int cycle = 0; cycle < 5; ++cycle) {
    auto c = ChildCollector::start(durable_config(dir + "/queue", closed_port(), bound));
    ASSERT_TRUE(c.ok()) << "cycle " << cycle << ": otlpd did not start: " << c.status();
    const std::string endpoint = (*c)->endpoint("otlp", "grpc");
    // The client sends one request after another from its own thread, so the kill lands
    // while a request is being appended (or a segment created) as often as between them. It
    // sends one request more than the kill waits for, so the queue (room for 14) never fills
    // however fast otlpd acknowledges.
    std::mutex mu;
    std::vector<std::string> sent_ok, sent_any;
    std::atomic<int> ok{0};
    std::atomic<bool> stop{false};
    std::thread client([&, most = kills_after[cycle] + 1] {
      while (!stop.load() && ok.load() < most) {
        otlp::TracesRequest r;
        auto* scope = r.add_resource_spans()->add_scope_spans();
        const int id = request_id++;
        for (int k = 0; k < 6; ++k) {
          auto* span = scope->add_spans();
          span->set_name("kill9-" + std::to_string(id) + "-" + std::to_string(k));
          span->add_attributes()->mutable_value()->set_string_value(
              std::string(6000, static_cast<char>('a' + (id + k) % 26)));
        }
        const std::string body = r.SerializeAsString();
        {
          std::lock_guard lock(mu);
          sent_any.push_back(body);
        }
        const absl::Status s = send_grpc(endpoint, otlp::Signal::kTraces, body);
        if (!s.ok()) {
          // Refused as full (retryable), or cut off by the kill: not acknowledged either way.
          if (stop.load()) break;
          std::this_thread::sleep_for(20ms);
          continue;
        }
        std::lock_guard lock(mu);
        sent_ok.push_back(body);
        ok.fetch_add(1);
      }
    });
    for (int waited = 0; waited < 600 && ok.load() < kills_after[cycle]; ++waited) {
      std::this_thread::sleep_for(10ms);
    }
    (*c)->kill_hard();
    stop.store(true);
    client.join();
    std::lock_guard lock(mu);
    EXPECT_GE(static_cast<int>(sent_ok.size()), kills_after[cycle]) << "cycle " << cycle;
    for (const std::string& body : sent_ok) add_sent(otlp::Signal::kTraces, body, acknowledged);
    for (const std::string& body : sent_any) add_sent(otlp::Signal::kTraces, body, attempted);
    requests_acknowledged += sent_ok.size();
  }
  ASSERT_GT(acknowledged.traces.size(), 0u);
  const Redelivery r = restart_and_collect(dir, acknowledged.traces.size(), bound);
  ASSERT_TRUE(r.started);
  std::size_t missing = 0;
  std::size_t duplicates = 0;
  for (const std::string& span : std::set<std::string>(r.got.traces.begin(), r.got.traces.end())) {
    const std::size_t n = r.got.traces.count(span);
    EXPECT_TRUE(attempted.traces.contains(span)) << "a span nobody sent was delivered";
    duplicates += n - 1;
  }
  for (const std::string& span : acknowledged.traces) missing += !r.got.traces.contains(span);
  EXPECT_EQ(missing, 0u) << missing << " of " << acknowledged.traces.size()
                         << " acknowledged spans did not arrive (" << requests_acknowledged
                         << " requests acknowledged)\n"
                         << r.log;
  // The backend was down until the last start, so a span can arrive twice only if an answer
  // from the live backend was lost in that last run (reliability.md, "Duplicates"): at most
  // the batches of the two consumers, a few requests each.
  RecordProperty("duplicate_spans", static_cast<int>(duplicates));
  EXPECT_LE(duplicates, 2u * 6u * 4u) << r.log;
  const std::string dead_letter = dir + "/queue/exporter_otlp/dead_letter.log";
  std::error_code ec;
  EXPECT_FALSE(std::filesystem::exists(dead_letter, ec) &&
               std::filesystem::file_size(dead_letter, ec) > 0)
      << "innocent batches were dead-lettered as poison\n"
      << r.log;
  std::filesystem::remove_all(dir, ec);
}

TEST(CollectorE2E, DurableQueueStartsAndDeliversTheRestFromABitFlippedAndTornSegment) {
  const std::string dir = testing::make_temp_dir();
  std::vector<std::string> bodies;
  {
    auto c = ChildCollector::start(durable_config(dir + "/queue", closed_port()));
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string endpoint = (*c)->endpoint("otlp", "grpc");
    for (int i = 0; i < 20; ++i) {
      bodies.push_back(random_bytes(otlp::Signal::kTraces, 9000 + i));
      ASSERT_TRUE(send_grpc(endpoint, otlp::Signal::kTraces, bodies.back()).ok());
    }
    (*c)->kill_hard();
  }
  // Damage the segment as a failing disk and a power cut would: one flipped bit in the middle,
  // and the last few bytes gone.
  std::string segment;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir + "/queue/exporter_otlp")) {
    if (entry.path().extension() == ".seg") segment = entry.path().string();
  }
  ASSERT_FALSE(segment.empty());
  const auto size = std::filesystem::file_size(segment);
  ASSERT_GT(size, 1000u);
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x10);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&byte, 1);
  }
  std::filesystem::resize_file(segment, size - 7);

  // All batches but the damaged ones arrive: at most one per flipped bit and one torn at the end.
  Expected all;
  std::vector<std::size_t> per_batch;
  for (const std::string& body : bodies) {
    const std::size_t before = all.traces.size();
    add_sent(otlp::Signal::kTraces, body, all);
    per_batch.push_back(all.traces.size() - before);
  }
  // A record is one request here: each client waited for its OK, which waits for the batch
  // holding it to be persisted. So the loss is at most the two largest requests.
  std::sort(per_batch.rbegin(), per_batch.rend());
  const std::size_t at_least = all.traces.size() - per_batch[0] - per_batch[1];
  const Redelivery r = restart_and_collect(dir, at_least);
  ASSERT_TRUE(r.started);
  EXPECT_GE(r.got.traces.size(), at_least) << r.log;
  for (const std::string& span : r.got.traces) {
    EXPECT_TRUE(all.traces.contains(span)) << "a span nobody sent was delivered";
  }
  EXPECT_NE(r.log.find("corrupt records skipped"), std::string::npos) << r.log;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(CollectorE2E, AFullDurableQueueRefusesRetryablyAndKeepsWhatItAccepted) {
  const std::string dir = testing::make_temp_dir();
  const std::string bound = ", sizer: bytes, queue_size: 262144";  // 256 KiB on disk
  Expected accepted;
  int refused = 0;
  {
    auto c = ChildCollector::start(durable_config(dir + "/queue", closed_port(), bound));
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string endpoint = (*c)->endpoint("otlp", "grpc");
    for (int i = 0; i < 60 && refused < 5; ++i) {
      otlp::TracesRequest r;
      auto* scope = r.add_resource_spans()->add_scope_spans();
      for (int k = 0; k < 10; ++k) {
        auto* span = scope->add_spans();
        span->set_name("full-" + std::to_string(i) + "-" + std::to_string(k));
        span->add_attributes()->mutable_value()->set_string_value(std::string(2000, 'x'));
      }
      const std::string body = r.SerializeAsString();
      absl::Status s = send_grpc(endpoint, otlp::Signal::kTraces, body);
      if (s.ok()) {
        add_sent(otlp::Signal::kTraces, body, accepted);
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
        ++refused;
      }
    }
    EXPECT_GT(refused, 0) << "the disk bound was never reached";
    EXPECT_EQ((*c)->stop(), 0) << "a full queue is not a reason to exit";
  }
  // With the backend up, everything accepted before the bound arrives.
  const Redelivery r = restart_and_collect(dir, accepted.traces.size(), bound);
  ASSERT_TRUE(r.started);
  EXPECT_TRUE(r.got.traces == accepted.traces)
      << r.got.traces.size() << " of " << accepted.traces.size() << " accepted spans arrived";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// ---- Failover between two real backends ---------------------------------------------------

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// The collector under test: traces go through a failover connector to a primary and a backup
// otlp exporter; the primary's sending queue is on disk when `durable`.
std::string failover_config(const std::string& dir, int primary_port, int backup_port,
                            bool durable) {
  auto exporter = [](int port, const std::string& queue) {
    return R"({endpoint: "127.0.0.1:)" + std::to_string(port) +
           R"(", tls: {insecure: true}, timeout: 2s,
      sending_queue: {num_consumers: 2)" +
           queue + R"(}, retry_on_failure: {initial_interval: 50ms, max_interval: 200ms}})";
  };
  return R"(
extensions:
  file_storage: {directory: ")" +
         dir + R"(", create_directory: true}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
processors:
  batch: {timeout: 20ms}
exporters:
  otlp/primary: )" +
         exporter(primary_port, durable ? ", storage: file_storage" : "") + R"(
  otlp/backup: )" +
         exporter(backup_port, "") + R"(
connectors:
  failover: {priority_levels: [[traces/primary], [traces/backup]], retry_interval: 300ms}
service:
  extensions: [file_storage]
  telemetry: {logs: {level: info}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [failover]}
    traces/primary: {receivers: [failover], exporters: [otlp/primary]}
    traces/backup: {receivers: [failover], exporters: [otlp/backup]}
)";
}

class Failover : public ::testing::TestWithParam<bool> {};

// The primary backend goes away: everything acknowledged meanwhile reaches the backup,
// including what was already queued for the primary; the primary comes back on its port and
// traffic returns to it. Every span arrives exactly once, at one backend or the other.
TEST_P(Failover, ThePrimaryDownTheBackupGetsEverythingThePrimaryBackTrafficReturns) {
  const bool durable = GetParam();
  const std::string dir = testing::make_temp_dir();
  auto primary = ChildCollector::start(file_pipelines_config(dir + "/primary1.json"));
  ASSERT_TRUE(primary.ok()) << primary.status();
  auto backup = ChildCollector::start(file_pipelines_config(dir + "/backup.json"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  const int primary_port = port_of((*primary)->endpoint("otlp", "grpc"));
  auto c = ChildCollector::start(failover_config(
      dir + "/queue", primary_port, port_of((*backup)->endpoint("otlp", "grpc")), durable));
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string endpoint = (*c)->endpoint("otlp", "grpc");
  Expected sent;
  int seed = 0;
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string body = random_bytes(otlp::Signal::kTraces, 9000 + seed++);
      ASSERT_TRUE(send_grpc(endpoint, otlp::Signal::kTraces, body).ok());
      add_sent(otlp::Signal::kTraces, body, sent);
    }
  };
  // Waits (up to 60s) until `path` holds at least n spans.
  auto wait_for = [](const std::string& path, std::size_t n) {
    Expected got = read_file_exporter(path);
    for (int i = 0; i < 600 && got.traces.size() < n; ++i) {
      std::this_thread::sleep_for(100ms);
      got = read_file_exporter(path);
    }
    return got;
  };

  // 1. The primary takes everything.
  send(5);
  const std::size_t first = sent.traces.size();
  EXPECT_EQ(wait_for(dir + "/primary1.json", first).traces.size(), first);

  // 2. The primary is gone: what was acknowledged since goes to the backup, also the batches
  // that were in the primary's queue when its connection was refused.
  EXPECT_EQ((*primary)->stop(), 0);
  send(20);
  const std::size_t while_down = sent.traces.size() - first;
  EXPECT_EQ(wait_for(dir + "/backup.json", while_down).traces.size(), while_down) << (*c)->log();

  // 3. The primary is back on its port: a probe finds it and traffic returns.
  auto primary2 =
      ChildCollector::start(file_pipelines_config(dir + "/primary2.json", "file", primary_port));
  ASSERT_TRUE(primary2.ok()) << primary2.status();
  for (int i = 0; i < 300 && read_file_exporter(dir + "/primary2.json").traces.empty(); ++i) {
    send(1);
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_FALSE(read_file_exporter(dir + "/primary2.json").traces.empty()) << (*c)->log();
  const std::size_t before_last = read_file_exporter(dir + "/primary2.json").traces.size();
  const std::size_t before_send = sent.traces.size();
  send(5);
  const std::size_t last = sent.traces.size();
  // Delivered before the stop: a durable queue would keep the rest on disk for the next start.
  EXPECT_GE(wait_for(dir + "/primary2.json", before_last + (last - before_send)).traces.size(),
            before_last + (last - before_send))
      << (*c)->log();

  EXPECT_EQ((*c)->stop(), 0);
  EXPECT_EQ((*primary2)->stop(), 0);
  EXPECT_EQ((*backup)->stop(), 0);
  Expected got = read_file_exporter(dir + "/primary1.json");
  const Expected at_backup = read_file_exporter(dir + "/backup.json");
  const Expected at_primary2 = read_file_exporter(dir + "/primary2.json");
  EXPECT_GE(at_primary2.traces.size(), before_last + 1) << "the last spans went to the primary";
  got.traces.insert(at_backup.traces.begin(), at_backup.traces.end());
  got.traces.insert(at_primary2.traces.begin(), at_primary2.traces.end());
  EXPECT_EQ(got.traces.size(), last) << "each acknowledged span exactly once overall";
  EXPECT_TRUE(got.traces == sent.traces);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(CollectorE2E, Failover, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "DurablePrimaryQueue"
                                                         : "MemoryPrimaryQueue");
                         });

}  // namespace
}  // namespace otlpd
