#include "transport/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "otlp/log_line.h"

namespace transport {

namespace {

std::optional<int> parse_version(std::string_view v) {
  if (v == "1.2") return TLS1_2_VERSION;
  if (v == "1.3") return TLS1_3_VERSION;
  return std::nullopt;
}

absl::Status version_error(std::string_view key, std::string_view v) {
  if (v == "1.0" || v == "1.1") {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(key), ": TLS ", std::string(v),
                     " is refused by OpenSSL 3's default security level; use 1.2 or 1.3"));
  }
  return absl::InvalidArgumentError(absl::StrCat(std::string(key), ": unknown TLS version \"",
                                                 std::string(v), "\" (1.2 or 1.3)"));
}

absl::Status check_versions(std::string_view min, std::string_view max) {
  const std::optional<int> lo = parse_version(min.empty() ? kDefaultTlsMinVersion : min);
  if (!lo) return version_error("min_version", min);
  if (!max.empty()) {
    const std::optional<int> hi = parse_version(max);
    if (!hi) return version_error("max_version", max);
    if (*hi < *lo) {
      return absl::InvalidArgumentError(absl::StrCat("max_version: ", std::string(max),
                                                     " is below min_version ", std::string(min)));
    }
  }
  return absl::OkStatus();
}

absl::Status set_versions(SSL_CTX* ctx, std::string_view min, std::string_view max) {
  if (absl::Status s = check_versions(min, max); !s.ok()) return s;
  SSL_CTX_set_min_proto_version(ctx, *parse_version(min.empty() ? kDefaultTlsMinVersion : min));
  SSL_CTX_set_max_proto_version(ctx, max.empty() ? 0 : *parse_version(max));
  return absl::OkStatus();
}

// A file OpenSSL would fail to open, said plainly ("No such file or directory").
absl::Status check_readable(std::string_view key, const std::string& path) {
  if (::access(path.c_str(), R_OK) == 0) return absl::OkStatus();
  const int e = errno;
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(key), " \"", path, "\": cannot read: ", std::strerror(e)));
}

absl::Status file_error(std::string_view key, const std::string& path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(key), " \"", path,
                                                 "\": ", std::string(what), ": ",
                                                 internal::take_openssl_errors("unreadable")));
}

absl::Status use_certificate(SSL_CTX* ctx, const std::string& cert_file,
                             const std::string& key_file) {
  if (absl::Status s = check_readable("cert_file", cert_file); !s.ok()) return s;
  if (absl::Status s = check_readable("key_file", key_file); !s.ok()) return s;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return file_error("cert_file", cert_file, "cannot load the certificate");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          "key_file \"", key_file, "\": does not match cert_file \"", cert_file, "\""));
    }
    return file_error("key_file", key_file, "cannot load the private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("key_file \"", key_file, "\": does not match cert_file \"", cert_file,
                     "\": ", internal::take_openssl_errors("mismatch")));
  }
  return absl::OkStatus();
}

// The server side of ALPN: the protocol the connection's server asked for, when the client
// offers it; otherwise no ALPN at all (a client that offers none of ours decides itself).
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                const unsigned char* in, unsigned int in_len, void*) {
  const char* want = static_cast<const char*>(SSL_get_app_data(ssl));
  if (want == nullptr) return SSL_TLSEXT_ERR_NOACK;
  const std::size_t want_len = std::strlen(want);
  for (unsigned int i = 0; i < in_len;) {
    const unsigned int len = in[i];
    if (i + 1 + len > in_len) break;
    if (len == want_len && std::memcmp(in + i + 1, want, len) == 0) {
      *out = in + i + 1;
      *out_len = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

SslContextPtr wrap(SSL_CTX* ctx) { return SslContextPtr(ctx, SSL_CTX_free); }

}  // namespace

namespace internal {

std::string take_openssl_errors(std::string_view fallback) {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    // "error:0A000086:SSL routines::certificate verify failed": the reason is what a reader
    // wants; the code stays for searching.
    const char* reason = ERR_reason_error_string(e);
    const std::string text = reason != nullptr ? reason : buf;
    if (out.find(text) != std::string::npos) continue;  // the same reason from another layer
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? std::string(fallback) : out;
}

void set_alpn_preference(ssl_st* ssl, const char* protocol) {
  SSL_set_app_data(ssl, const_cast<char*>(protocol));
}

absl::StatusOr<SslContextPtr> make_server_context(const TlsServerOptions& options) {
  ERR_clear_error();
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError(options.cert_file.empty() ? "cert_file: required for TLS"
                                                                : "key_file: required for TLS");
  }
  SslContextPtr ctx = wrap(SSL_CTX_new(TLS_server_method()));
  if (ctx == nullptr) return absl::InternalError(take_openssl_errors("SSL_CTX_new failed"));
  if (absl::Status s = set_versions(ctx.get(), options.min_version, options.max_version); !s.ok()) {
    return s;
  }
  // No renegotiation (a cheap way for a client to make the server work), no compression.
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (absl::Status s = use_certificate(ctx.get(), options.cert_file, options.key_file); !s.ok()) {
    return s;
  }
  if (!options.client_ca_file.empty()) {
    if (absl::Status s = check_readable("client_ca_file", options.client_ca_file); !s.ok()) {
      return s;
    }
    if (SSL_CTX_load_verify_locations(ctx.get(), options.client_ca_file.c_str(), nullptr) != 1) {
      return file_error("client_ca_file", options.client_ca_file, "cannot load the CAs");
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names == nullptr) {
      return file_error("client_ca_file", options.client_ca_file, "no CA names in it");
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);  // takes the stack
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  // Session resumption needs a session id context whenever clients are verified (OpenSSL fails a
  // resumed TLS 1.2 handshake without one). Sessions and tickets belong to this context, so a
  // reload (a new context) does not resume sessions made under the old certificate or CAs.
  static constexpr unsigned char kSessionContext[] = "otlpd";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

absl::StatusOr<SslContextPtr> make_client_context(const TlsClientOptions& options) {
  ERR_clear_error();
  if (absl::Status s = options.validate(); !s.ok()) return s;
  SslContextPtr ctx = wrap(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr) return absl::InternalError(take_openssl_errors("SSL_CTX_new failed"));
  if (absl::Status s = set_versions(ctx.get(), options.min_version, options.max_version); !s.ok()) {
    return s;
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (options.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  } else {
    if (options.ca_file.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
        return absl::InternalError(take_openssl_errors("cannot load the system's CAs"));
      }
    } else if (absl::Status s = check_readable("ca_file", options.ca_file); !s.ok()) {
      return s;
    } else if (SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != 1) {
      return file_error("ca_file", options.ca_file, "cannot load the CAs");
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  if (!options.cert_file.empty()) {
    if (absl::Status s = use_certificate(ctx.get(), options.cert_file, options.key_file); !s.ok()) {
      return s;
    }
  }
  return ctx;
}

}  // namespace internal

absl::Status TlsClientOptions::validate() const {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(cert_file.empty() ? "cert_file: required with key_file"
                                                        : "key_file: required with cert_file");
  }
  return check_versions(min_version, max_version);
}

absl::StatusOr<std::shared_ptr<ServerTls>> ServerTls::load(TlsServerOptions options) {
  auto tls = std::make_shared<ServerTls>(Private{}, std::move(options));
  const Stamps stamps = tls->stamp();
  absl::StatusOr<SslContextPtr> ctx = internal::make_server_context(tls->options_);
  if (!ctx.ok()) return ctx.status();
  std::lock_guard lock(tls->mu_);
  tls->context_ = *std::move(ctx);
  tls->loaded_ = stamps;
  tls->next_check_ = std::chrono::steady_clock::now() + tls->options_.reload_interval;
  return tls;
}

ServerTls::ServerTls(Private, TlsServerOptions options) : options_(std::move(options)) {}

ServerTls::Stamps ServerTls::stamp() const {
  auto one = [](const std::string& path) {
    FileStamp s;
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return s;
    s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    s.size = st.st_size;
    s.inode = st.st_ino;
    return s;
  };
  return Stamps{one(options_.cert_file), one(options_.key_file), one(options_.client_ca_file)};
}

SslContextPtr ServerTls::context() {
  std::unique_lock lock(mu_);
  if (options_.reload_interval.count() <= 0) return context_;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return context_;
  next_check_ = now + options_.reload_interval;
  const Stamps stamps = stamp();
  if (stamps == loaded_ || stamps == failed_) return context_;
  // A certificate and its key are often replaced one after the other: a mismatch now may be
  // fine at the next check, so a failure is remembered by the files' stamps, not for good.
  absl::StatusOr<SslContextPtr> fresh = internal::make_server_context(options_);
  if (!fresh.ok()) {
    failed_ = stamps;
    lock.unlock();
    otlp::write_log_line("warn", "tls",
                         absl::StrCat("reloading ", options_.cert_file,
                                      " failed, still serving the previous certificate: ",
                                      fresh.status().message()));
    lock.lock();
    return context_;
  }
  context_ = *std::move(fresh);
  loaded_ = stamps;
  ++reloads_;
  return context_;
}

std::uint64_t ServerTls::reloads() const {
  std::lock_guard lock(mu_);
  return reloads_;
}

}  // namespace transport
