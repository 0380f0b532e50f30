// TLS on both servers and both clients, with certificates made in the test (TestPki): a client
// that trusts the CA gets through, one with a wrong CA, a missing or expired client certificate,
// or plaintext is refused, rotated certificates are served without a restart, and a refused
// client leaves the others unaffected.

#include "transport/tls.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "csp/internal/test_util.h"
#include "csp/scheduler.h"
#include "transport/grpc_client.h"
#include "transport/grpc_server.h"
#include "transport/http_client.h"
#include "transport/http_server.h"
#include "transport/testing/recording_handler.h"
#include "transport/testing/requests.h"
#include "transport/testing/test_pki.h"
#include "transport/websocket_client.h"

namespace transport {
namespace {

// gRPC's c-ares resolver keeps a few bytes per name it looked up past the end of the process,
// which LeakSanitizer reports; the system resolver it can use instead does not.
const bool kNativeResolver = [] { return ::setenv("GRPC_DNS_RESOLVER", "native", 1) == 0; }();

using ::testing::HasSubstr;
using testing::PemFiles;
using testing::TestPki;

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "otlpd-tls-XXXXXX").string();
  const char* made = ::mkdtemp(pattern.data());
  return made != nullptr ? std::string(made) : std::string();
}

// Sends `bytes` on a plain TCP connection and reads until the server closes it; returns what
// arrived, or an error saying what happened instead (still open after 30 s, a failed connect).
// A server that closes while the bytes are still going out (a reset) has closed too.
absl::StatusOr<std::string> plain_exchange(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket");
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  absl::StatusOr<std::string> got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    got = absl::UnavailableError(absl::StrCat("connect: ", std::strerror(errno)));
  } else if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0 && errno != ECONNRESET &&
             errno != EPIPE) {
    got = absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
  } else {
    std::string in;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        got = std::move(in);  // closed (or reset) by the server
      } else {
        got = absl::DeadlineExceededError(absl::StrCat(
            "the server kept the connection open for 30 s after sending ", in.size(), " bytes"));
      }
      break;
    }
  }
  ::close(fd);
  return got;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    ASSERT_FALSE(dir_.empty());
    pki_ = std::make_unique<TestPki>(dir_);
    ca_ = pki_->make_ca("ca");
    other_ca_ = pki_->make_ca("other-ca");
    server_ = pki_->make_leaf("server", {.ca = "ca"});
    client_ = pki_->make_leaf("client", {.ca = "ca"});
  }
  void TearDown() override {
    grpc_server_.reset();
    http_server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::shared_ptr<ServerTls> server_tls(const PemFiles& files, std::string client_ca = {},
                                        std::chrono::milliseconds reload = {}) {
    TlsServerOptions o;
    o.cert_file = files.cert;
    o.key_file = files.key;
    o.client_ca_file = std::move(client_ca);
    o.reload_interval = reload;
    absl::StatusOr<std::shared_ptr<ServerTls>> tls = ServerTls::load(o);
    EXPECT_TRUE(tls.ok()) << tls.status();
    return tls.ok() ? *tls : nullptr;
  }

  int start_grpc(std::shared_ptr<ServerTls> tls) {
    GrpcServerOptions o;
    o.endpoint = "127.0.0.1:0";
    o.tls = std::move(tls);
    grpc_server_ = std::make_unique<GrpcServer>(o, recorder_.handler());
    absl::StatusOr<int> port = grpc_server_->start();
    EXPECT_TRUE(port.ok()) << port.status();
    return port.value_or(0);
  }

  int start_http(std::shared_ptr<ServerTls> tls) {
    HttpServerOptions o;
    o.endpoint = "127.0.0.1:0";
    o.tls = std::move(tls);
    http_server_ = std::make_unique<HttpServer>(o, recorder_.handler());
    absl::StatusOr<int> port = http_server_->start();
    EXPECT_TRUE(port.ok()) << port.status();
    return port.value_or(0);
  }

  // One export over gRPC to "localhost:port" with `tls`; its status.
  absl::Status grpc_export(int port, TlsClientOptions tls) {
    GrpcClientOptions o;
    o.endpoint = "localhost:" + std::to_string(port);
    o.tls = std::move(tls);
    o.timeout = std::chrono::seconds(20);
    GrpcExporterClient client(o);
    return csp::block_on(client.export_request(otlp::Signal::kTraces,
                                               testing::request_bytes(otlp::Signal::kTraces, 3),
                                               csp::Context::background()))
        .status;
  }

  absl::Status http_export(const std::string& url, TlsClientOptions tls) {
    HttpClientOptions o;
    o.endpoint = url;
    o.tls = std::move(tls);
    o.timeout = std::chrono::seconds(20);
    HttpExporterClient client(o);
    return csp::block_on(client.export_request(otlp::Signal::kLogs,
                                               testing::request_bytes(otlp::Signal::kLogs, 3),
                                               csp::Context::background()))
        .status;
  }

  static TlsClientOptions trusting(const PemFiles& ca, const PemFiles* client = nullptr) {
    TlsClientOptions o;
    o.ca_file = ca.cert;
    if (client != nullptr) {
      o.cert_file = client->cert;
      o.key_file = client->key;
    }
    return o;
  }

  std::string dir_;
  std::unique_ptr<TestPki> pki_;
  PemFiles ca_, other_ca_, server_, client_;
  testing::RecordingHandler recorder_;
  std::unique_ptr<GrpcServer> grpc_server_;
  std::unique_ptr<HttpServer> http_server_;
};

// ---- gRPC ----

TEST_F(TlsTest, GrpcOverTlsReachesTheHandlerWhenTheClientTrustsTheCa) {
  const int port = start_grpc(server_tls(server_));
  EXPECT_TRUE(grpc_export(port, trusting(ca_)).ok());
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_EQ(recorder_.requests()[0].body, testing::request_bytes(otlp::Signal::kTraces, 3));
}

TEST_F(TlsTest, GrpcClientWithAnotherCaIsRefusedAndOthersGoOn) {
  const int port = start_grpc(server_tls(server_));
  const absl::Status refused = grpc_export(port, trusting(other_ca_));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_EQ(recorder_.count(), 0u);
  EXPECT_TRUE(grpc_export(port, trusting(ca_)).ok());
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(TlsTest, GrpcPlaintextClientIsRefused) {
  const int port = start_grpc(server_tls(server_));
  GrpcClientOptions o;
  o.endpoint = "127.0.0.1:" + std::to_string(port);
  o.insecure = true;
  o.timeout = std::chrono::seconds(20);
  GrpcExporterClient plain(o);
  const absl::Status refused =
      csp::block_on(plain.export_request(otlp::Signal::kTraces,
                                         testing::request_bytes(otlp::Signal::kTraces, 1),
                                         csp::Context::background()))
          .status;
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  const int port = start_grpc(server_tls(server_, ca_.cert));
  // No certificate, one signed by another CA, an expired one: all refused in the handshake.
  pki_->make_leaf("stranger", {.ca = "other-ca"});
  const PemFiles stranger{dir_ + "/stranger.pem", dir_ + "/stranger.key"};
  const PemFiles expired = pki_->make_leaf("expired-client", {.ca = "ca", .expired = true});
  EXPECT_EQ(grpc_export(port, trusting(ca_)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(grpc_export(port, trusting(ca_, &stranger)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(grpc_export(port, trusting(ca_, &expired)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(recorder_.count(), 0u);
  EXPECT_TRUE(grpc_export(port, trusting(ca_, &client_)).ok());
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(TlsTest, AnExpiredServerCertificateIsRefusedByTheClients) {
  const PemFiles expired = pki_->make_leaf("expired-server", {.ca = "ca", .expired = true});
  const int grpc_port = start_grpc(server_tls(expired));
  EXPECT_EQ(grpc_export(grpc_port, trusting(ca_)).code(), absl::StatusCode::kUnavailable);
  const int http_port = start_http(server_tls(expired));
  const absl::Status refused =
      http_export("https://localhost:" + std::to_string(http_port), trusting(ca_));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("TLS handshake"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("certificate verify failed"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("(certificate has expired)"));
  EXPECT_EQ(recorder_.count(), 0u);
}

TEST_F(TlsTest, SkippingVerificationStillEncrypts) {
  const int port = start_grpc(server_tls(server_));
  TlsClientOptions skip;
  skip.insecure_skip_verify = true;  // no CA given: verification would fail
  EXPECT_TRUE(grpc_export(port, skip).ok());
  const int http_port = start_http(server_tls(server_));
  EXPECT_TRUE(http_export("https://127.0.0.1:" + std::to_string(http_port), skip).ok());
  EXPECT_EQ(recorder_.count(), 2u);
}

TEST_F(TlsTest, RotatedCertificatesAreServedFromTheNextConnection) {
  // The server's files, copied so that the test can replace them.
  const PemFiles live{dir_ + "/live.pem", dir_ + "/live.key"};
  TestPki::replace(server_, live);
  std::shared_ptr<ServerTls> tls = server_tls(live, {}, std::chrono::milliseconds(10));
  const int grpc_port = start_grpc(tls);
  const int http_port = start_http(tls);
  EXPECT_TRUE(grpc_export(grpc_port, trusting(ca_)).ok());
  EXPECT_EQ(grpc_export(grpc_port, trusting(other_ca_)).code(), absl::StatusCode::kUnavailable);

  pki_->make_leaf("rotated", {.ca = "other-ca"});
  TestPki::replace(PemFiles{dir_ + "/rotated.pem", dir_ + "/rotated.key"}, live);
  EXPECT_TRUE(csp::testing::eventually([&] {
    tls->context();  // a new connection's look at the files
    return tls->reloads() > 0;
  }));
  EXPECT_TRUE(grpc_export(grpc_port, trusting(other_ca_)).ok());
  EXPECT_EQ(grpc_export(grpc_port, trusting(ca_)).code(), absl::StatusCode::kUnavailable);
  const std::string url = "https://localhost:" + std::to_string(http_port);
  EXPECT_TRUE(http_export(url, trusting(other_ca_)).ok());
  EXPECT_EQ(http_export(url, trusting(ca_)).code(), absl::StatusCode::kUnavailable);
}

TEST_F(TlsTest, ABrokenRotationKeepsServingThePreviousCertificate) {
  const PemFiles live{dir_ + "/live.pem", dir_ + "/live.key"};
  TestPki::replace(server_, live);
  std::shared_ptr<ServerTls> tls = server_tls(live, {}, std::chrono::milliseconds(1));
  const int port = start_grpc(tls);
  {
    std::ofstream garbage(live.cert, std::ios::trunc);
    garbage << "not a certificate\n";
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(grpc_export(port, trusting(ca_)).ok());
  EXPECT_EQ(tls->reloads(), 0u);
}

// ---- HTTP ----

TEST_F(TlsTest, HttpsReachesTheHandlerWithMutualTls) {
  const int port = start_http(server_tls(server_, ca_.cert));
  const std::string url = "https://localhost:" + std::to_string(port);
  EXPECT_TRUE(http_export(url, trusting(ca_, &client_)).ok());
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_EQ(recorder_.requests()[0].body, testing::request_bytes(otlp::Signal::kLogs, 3));
  const absl::Status anonymous = http_export(url, trusting(ca_));
  EXPECT_EQ(anonymous.code(), absl::StatusCode::kUnavailable) << anonymous;
  EXPECT_EQ(http_export(url, trusting(other_ca_, &client_)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(recorder_.count(), 1u);
}

TEST_F(TlsTest, TheServerNameIsVerifiedUnlessOverridden) {
  const PemFiles named = pki_->make_leaf("named", {.ca = "ca", .dns = {"otlpd.test"}, .ips = {}});
  const int port = start_http(server_tls(named));
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  const absl::Status wrong_name = http_export(url, trusting(ca_));
  EXPECT_EQ(wrong_name.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(wrong_name.message()), HasSubstr("certificate verify failed"));
  EXPECT_THAT(std::string(wrong_name.message()), HasSubstr("(IP address mismatch)"));
  TlsClientOptions overridden = trusting(ca_);
  overridden.server_name_override = "otlpd.test";
  EXPECT_TRUE(http_export(url, overridden).ok());
  const int grpc_port = start_grpc(server_tls(named));
  EXPECT_EQ(grpc_export(grpc_port, trusting(ca_)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(grpc_export(grpc_port, overridden).ok());
}

TEST_F(TlsTest, PlainHttpToATlsPortIsClosedWithoutAnAnswer) {
  const int port = start_http(server_tls(server_));
  const std::string request = "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  absl::StatusOr<std::string> got = plain_exchange(port, request);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, ::testing::Not(HasSubstr("HTTP/1.1")));
  const int grpc_port = start_grpc(server_tls(server_));
  got = plain_exchange(grpc_port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(recorder_.count(), 0u);
  // The servers still serve TLS clients.
  EXPECT_TRUE(http_export("https://localhost:" + std::to_string(port), trusting(ca_)).ok());
  EXPECT_TRUE(grpc_export(grpc_port, trusting(ca_)).ok());
}

TEST_F(TlsTest, WebSocketOverTlsIsVerifiedLikeTheOtherClients) {
  const int port = start_http(server_tls(server_));
  const auto ws_export = [&](TlsClientOptions tls) {
    WebSocketClientOptions o;
    o.endpoint = "wss://localhost:" + std::to_string(port);
    o.tls = std::move(tls);
    o.timeout = std::chrono::seconds(20);
    WebSocketExporterClient client(o);
    return csp::block_on(client.export_borrowed(otlp::Signal::kMetrics,
                                                testing::request_bytes(otlp::Signal::kMetrics, 5),
                                                csp::Context::background()))
        .status;
  };
  EXPECT_TRUE(ws_export(trusting(ca_)).ok());
  const absl::Status refused = ws_export(trusting(other_ca_));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("certificate verify failed"));
  ASSERT_EQ(recorder_.count(), 1u);
  EXPECT_TRUE(testing::same_request(otlp::Signal::kMetrics, recorder_.requests()[0].body,
                                    testing::request_bytes(otlp::Signal::kMetrics, 5)));
}

// A client that resumes its TLS 1.2 session on its next connection, as Java 8, curl and Go
// with a session cache do: under mutual TLS the resumed handshake must work too.
TEST_F(TlsTest, AMutualTlsClientMayResumeItsTls12Session) {
  const int port = start_http(server_tls(server_, ca_.cert));
  TlsClientOptions o = trusting(ca_, &client_);
  o.max_version = "1.2";
  absl::StatusOr<SslContextPtr> ctx = internal::make_client_context(o);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  const std::string body = testing::request_bytes(otlp::Signal::kLogs, 3);
  const std::string request =
      "POST /v1/logs HTTP/1.1\r\nHost: localhost\r\n"
      "Content-Type: application/x-protobuf\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  SSL_SESSION* session = nullptr;
  for (int round = 0; round < 2; ++round) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    SSL* ssl = SSL_new(ctx->get());
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (session != nullptr) SSL_set_session(ssl, session);
    ASSERT_EQ(SSL_connect(ssl), 1) << internal::take_openssl_errors();
    EXPECT_EQ(SSL_version(ssl), TLS1_2_VERSION);
    if (round == 1) {
      EXPECT_EQ(SSL_session_reused(ssl), 1) << "the session was not resumed";
    }
    ASSERT_EQ(SSL_write(ssl, request.data(), static_cast<int>(request.size())),
              static_cast<int>(request.size()));
    char answer[64] = {};
    ASSERT_GT(SSL_read(ssl, answer, sizeof answer - 1), 12);
    EXPECT_EQ(std::string(answer, 12), "HTTP/1.1 200") << answer;
    if (round == 0) session = SSL_get1_session(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ::close(fd);
  }
  SSL_SESSION_free(session);
  EXPECT_EQ(recorder_.count(), 2u);
}

// ---- configuration ----

TEST_F(TlsTest, LoadErrorsNameTheKeyAndTheFile) {
  TlsServerOptions o;
  o.cert_file = dir_ + "/missing.pem";
  o.key_file = server_.key;
  absl::StatusOr<std::shared_ptr<ServerTls>> missing = ServerTls::load(o);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()),
              ::testing::StartsWith("cert_file \"" + o.cert_file +
                                    "\": cannot read: No such file or directory"));
  o.cert_file = dir_ + "/garbage.pem";
  std::ofstream(o.cert_file) << "not PEM\n";
  EXPECT_THAT(
      std::string(ServerTls::load(o).status().message()),
      ::testing::StartsWith("cert_file \"" + o.cert_file + "\": cannot load the certificate"));
  o.cert_file = server_.cert;
  o.key_file = client_.key;
  EXPECT_THAT(std::string(ServerTls::load(o).status().message()),
              ::testing::StartsWith("key_file \"" + client_.key + "\": does not match"));
  o.key_file = server_.key;
  o.min_version = "1.4";
  EXPECT_THAT(std::string(ServerTls::load(o).status().message()),
              ::testing::StartsWith("min_version: unknown TLS version \"1.4\""));
  o.min_version = "1.0";
  EXPECT_THAT(std::string(ServerTls::load(o).status().message()),
              ::testing::StartsWith("min_version: TLS 1.0 is refused by OpenSSL 3"));
  o.min_version = "1.3";
  o.max_version = "1.2";
  EXPECT_THAT(std::string(ServerTls::load(o).status().message()),
              ::testing::StartsWith("max_version: 1.2 is below min_version 1.3"));
}

TEST_F(TlsTest, MinVersionIsEnforced) {
  TlsServerOptions o;
  o.cert_file = server_.cert;
  o.key_file = server_.key;
  o.min_version = "1.3";
  absl::StatusOr<std::shared_ptr<ServerTls>> tls = ServerTls::load(o);
  ASSERT_TRUE(tls.ok()) << tls.status();
  const int port = start_http(*tls);
  const std::string url = "https://localhost:" + std::to_string(port);
  TlsClientOptions old = trusting(ca_);
  old.max_version = "1.2";
  EXPECT_EQ(http_export(url, old).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(http_export(url, trusting(ca_)).ok());
}

}  // namespace
}  // namespace transport
