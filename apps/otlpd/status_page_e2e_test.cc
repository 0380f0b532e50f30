// The status page in a real browser: a real otlpd with the `status` extension, a load sent over
// OTLP/gRPC through it to a real backend, and Debian's Chromium (headless) loading the page.
// The page must draw the configured components, its counters must move while the load runs,
// and a screenshot must come out the size asked for.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "apps/otlpd/testing/child_collector.h"
#include "csp/csp.h"
#include "csp/internal/test_util.h"
#include "otlp/testing/random_requests.h"
#include "otlp/wire.h"
#include "transport/grpc_client.h"
#include "transport/grpc_server.h"

namespace otlpd {
namespace {

using namespace std::chrono_literals;
using testing::ChildCollector;
namespace fs = std::filesystem;

constexpr char kChromium[] = "/usr/bin/chromium";

// Runs headless Chromium on `url` with `args`; returns what it printed on stdout.
std::string chromium(const std::string& url, const std::string& args, const fs::path& profile) {
  const std::string command =
      absl::StrCat("timeout 120 ", kChromium,
                   " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                   " --no-first-run --user-data-dir=",
                   profile.string(), " ", args, " '", url, "' 2>/dev/null");
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  ::pclose(pipe);
  return out;
}

// The page's DOM after its script has polled a few times (virtual time runs ahead).
std::string rendered_dom(const std::string& url, const fs::path& profile) {
  return chromium(url, "--virtual-time-budget=3500 --dump-dom", profile);
}

// The number shown (digits grouped with commas) in the element with data-testid `id`, or -1.
long long shown(const std::string& dom, const std::string& id) {
  const std::string key = "data-testid=\"" + id + "\">";
  const std::size_t at = dom.find(key);
  if (at == std::string::npos) return -1;
  std::string digits;
  for (std::size_t i = at + key.size(); i < dom.size() && dom[i] != '<'; ++i) {
    if (dom[i] >= '0' && dom[i] <= '9') {
      digits += dom[i];
    } else if (dom[i] != ',') {
      return -1;
    }
  }
  return digits.empty() ? -1 : std::stoll(digits);
}

TEST(StatusPageE2E, ChromiumDrawsTheComponentsAndTheirCountersMoveUnderLoad) {
  ASSERT_TRUE(fs::exists(kChromium))
      << "Debian's chromium is needed (scripts/install-deps installs it for make test)";
  const fs::path dir = testing::make_temp_dir();

  std::atomic<std::int64_t> backend_spans{0};
  transport::GrpcServerOptions backend_options;
  backend_options.endpoint = "127.0.0.1:0";
  transport::GrpcServer backend(
      backend_options, [&](transport::ExportRequest r) -> csp::Task<transport::ExportResult> {
        backend_spans += static_cast<std::int64_t>(*otlp::wire_count_items(r.signal, r.body));
        co_return transport::ExportResult{};
      });
  absl::StatusOr<int> backend_port = backend.start();
  ASSERT_TRUE(backend_port.ok()) << backend_port.status();

  auto c = ChildCollector::start(absl::StrCat(R"(
extensions:
  status: {endpoint: "127.0.0.1:0"}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
processors:
  batch: {timeout: 20ms}
exporters:
  otlp/backend:
    endpoint: "127.0.0.1:)",
                                              *backend_port, R"("
    tls: {insecure: true}
service:
  extensions: [status]
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp/backend]}
)"));
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string url = "http://" + (*c)->endpoint("status", "http") + "/";

  // A steady load while the browser looks.
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> sent{0};
  std::thread load([&] {
    transport::GrpcClientOptions o;
    o.endpoint = (*c)->endpoint("otlp", "grpc");
    o.insecure = true;
    transport::GrpcExporterClient client(o);
    for (std::uint64_t seed = 1; !stop.load(); ++seed) {
      std::string body =
          otlp::testing::random_request(otlp::Signal::kTraces, seed % 50)->SerializeAsString();
      const auto n =
          static_cast<std::int64_t>(*otlp::wire_count_items(otlp::Signal::kTraces, body));
      if (csp::block_on(
              client.export_request(otlp::Signal::kTraces, body, csp::Context::background()))
              .status.ok()) {
        sent += n;
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  ASSERT_TRUE(csp::testing::eventually([&] { return sent.load() > 0; }));

  const std::string first = rendered_dom(url, dir / "profile");
  // The graph shows the configured components.
  EXPECT_NE(first.find("data-pipeline=\"traces\""), std::string::npos) << first;
  EXPECT_NE(first.find("data-component=\"receiver/otlp\""), std::string::npos) << first;
  EXPECT_NE(first.find("data-component=\"processor/batch\""), std::string::npos) << first;
  EXPECT_NE(first.find("data-component=\"exporter/otlp/backend\""), std::string::npos) << first;
  EXPECT_NE(first.find("<span id=\"error\"></span>"), std::string::npos)
      << "the page reports an error: " << first;
  // The channel table and the goroutine dump come from the runtime itself.
  EXPECT_NE(first.find("data-channel=\"exporter otlp/backend sending queue\""), std::string::npos)
      << first;
  EXPECT_NE(first.find("data-channel=\"processor batch traces input\""), std::string::npos)
      << first;
  EXPECT_NE(first.find(" connections\""), std::string::npos) << first;  // a listener's slots
  EXPECT_NE(first.find("started at transport/"), std::string::npos) << first;
  EXPECT_NE(first.find("[chan receive on exporter otlp/backend sending queue"), std::string::npos)
      << first;
  const long long accepted_first = shown(first, "receiver-otlp-accepted");
  EXPECT_GT(accepted_first, 0) << first;

  // The counters move while the load runs.
  const std::int64_t sent_before = sent.load();
  ASSERT_TRUE(csp::testing::eventually([&] { return sent.load() > sent_before; }));
  const std::string second = rendered_dom(url, dir / "profile");
  const long long accepted_second = shown(second, "receiver-otlp-accepted");
  EXPECT_GT(accepted_second, accepted_first) << second;
  EXPECT_GT(shown(second, "exporter-otlp/backend-sent"), 0) << second;

  // A screenshot, as a person would see the page.
  const fs::path png = dir / "status.png";
  chromium(
      url,
      absl::StrCat("--virtual-time-budget=3500 --window-size=1280,900 --screenshot=", png.string()),
      dir / "profile");
  stop = true;
  load.join();
  ASSERT_TRUE(fs::exists(png));
  std::ifstream in(png, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1280u);  // IHDR width
  EXPECT_EQ(be32(20), 900u);   // IHDR height
  // A drawn page, not a blank one: a blank 1280x900 PNG is a few kilobytes.
  EXPECT_GT(bytes.size(), 20'000u);

  EXPECT_EQ((*c)->stop(), 0);
  EXPECT_TRUE(csp::testing::eventually([&] { return backend_spans.load() == sent.load(); }))
      << backend_spans.load() << " of " << sent.load();
  backend.shutdown(csp::Clock::now() + 5s);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace otlpd
