#pragma once
// TLS settings of otlpd's servers and clients, in the Collector's terms (configtls): the keys of
// a `tls:` block map one to one onto these fields. docs/security.md shows them in use.
//
// ServerTls holds a server's certificate, key and (for mTLS) client CA, loaded as an OpenSSL
// context. Servers ask it for the context of each new connection; with reload_interval set it
// re-reads the files when they changed (a rotated certificate is served from the next
// connection on, without a restart). A reload that fails keeps the previous context and logs
// why, once per change of the files.
//
// Contract:
//  - load() reads and checks every file now: a missing file, a key that does not match its
//    certificate or an unknown version is an INVALID_ARGUMENT naming the key and the reason.
//  - context() — any thread — is cheap between reloads (a mutex and a clock read).
//  - Protocol versions: "1.2", "1.3"; min_version defaults to "1.2" as in the Collector;
//    max_version empty = the newest OpenSSL has. "1.0" and "1.1" are refused with a message
//    (OpenSSL 3's default security level refuses them anyway). Renegotiation is refused.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace transport {

inline constexpr char kDefaultTlsMinVersion[] = "1.2";

struct TlsServerOptions {
  std::string cert_file;  // PEM: the server's certificate, then its chain
  std::string key_file;   // PEM: its private key
  // PEM: CAs that sign client certificates. Set = mutual TLS: a client must present a
  // certificate that one of them signed, or the handshake fails.
  std::string client_ca_file;
  std::string min_version = kDefaultTlsMinVersion;
  std::string max_version;  // empty = newest
  // How often the files are checked for changes; 0 = never (loaded once).
  std::chrono::milliseconds reload_interval{0};
};

struct TlsClientOptions {
  std::string ca_file;    // PEM roots that verify the server; empty = the system's roots
  std::string cert_file;  // PEM client certificate for mTLS (with key_file)
  std::string key_file;
  // Verify the server's certificate for this name instead of the endpoint's host.
  std::string server_name_override;
  // Accept any server certificate (encrypts, proves nothing). For tests and labs only.
  bool insecure_skip_verify = false;
  std::string min_version = kDefaultTlsMinVersion;
  std::string max_version;

  absl::Status validate() const;
};

using SslContextPtr = std::shared_ptr<ssl_ctx_st>;

class ServerTls {
  struct Private {};

 public:
  static absl::StatusOr<std::shared_ptr<ServerTls>> load(TlsServerOptions options);

  ServerTls(Private, TlsServerOptions options);

  // The context for a connection starting now.
  SslContextPtr context();
  // Times the files were read again after a change (for tests and logs).
  std::uint64_t reloads() const;
  const TlsServerOptions& options() const { return options_; }

 private:
  struct FileStamp {
    std::int64_t mtime_ns = -1;
    std::int64_t size = -1;
    std::uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  struct Stamps {
    FileStamp cert, key, client_ca;
    bool operator==(const Stamps&) const = default;
  };
  Stamps stamp() const;

  const TlsServerOptions options_;
  mutable std::mutex mu_;
  SslContextPtr context_;                               // guarded by mu_
  Stamps loaded_;                                       // guarded by mu_: the files behind it
  Stamps failed_;                                       // guarded by mu_: last reload that failed
  std::chrono::steady_clock::time_point next_check_{};  // guarded by mu_
  std::uint64_t reloads_ = 0;                           // guarded by mu_
};

namespace internal {
// Builds a server context from the options (what load() and reloads use).
absl::StatusOr<SslContextPtr> make_server_context(const TlsServerOptions& options);
// Builds a client context: verification (or not), client certificate, versions.
absl::StatusOr<SslContextPtr> make_client_context(const TlsClientOptions& options);
// OpenSSL's queued errors as one line (and clears the queue); `fallback` when there are none.
std::string take_openssl_errors(std::string_view fallback = "unknown TLS error");
// What a protocol-negotiating server wants for a connection ("h2", "http/1.1"): the ALPN
// callback of server contexts picks it when the client offers it.
void set_alpn_preference(ssl_st* ssl, const char* protocol);
}  // namespace internal

}  // namespace transport
