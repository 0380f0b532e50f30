#pragma once
// The `bearertokenauth` extension: a shared secret in the `authorization` header, checked by
// receivers and sent by exporters that name it, as the Collector (contrib) spells it.
//
//   extensions:
//     bearertokenauth:
//       scheme: Bearer                 # the default; "" sends and expects the bare token
//       token: ${env:OTLP_TOKEN}       # or:
//       filename: /run/secrets/otlp    # read at start and re-read when the file changes
//   receivers:
//     otlp:
//       protocols:
//         grpc: {auth: {authenticator: bearertokenauth}}
//         http: {auth: {authenticator: bearertokenauth}}
//   exporters:
//     otlp:
//       auth: {authenticator: bearertokenauth}
//
// Contract:
//  - check(header) is true when the header is exactly "<scheme> <token>" (or the token alone
//    with an empty scheme). It compares in time that does not depend on where the bytes differ,
//    takes no mutex (the token is an atomic shared_ptr; libstdc++ guards its count with a
//    lock bit, so a reload briefly contends with checks), and never writes the header or the
//    token anywhere.
//  - A token with control characters (CR, LF, ...) is refused: it could not travel in a header.
//  - header() is what a client sends: "<scheme> <token>".
//  - With `filename`, the file is read when the extension is created (a missing or empty file
//    is a configuration error) and re-read every `reload_interval` (1s) while it runs when its
//    modification time or size changed; a rotated token is accepted and sent from then on.
//    A file that becomes unreadable or empty keeps the last token and logs the problem once.
//  - Thread-safe: check() and header() may run on any thread during a reload.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "csp/chan.h"
#include "csp/task.h"
#include "csp/wait_group.h"
#include "pipeline/component.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"

namespace components {

struct BearerTokenAuthConfig {
  std::string scheme = "Bearer";
  std::string token;     // set, or
  std::string filename;  // a file holding it (surrounding white space ignored)
  std::chrono::milliseconds reload_interval{1000};
};

absl::StatusOr<BearerTokenAuthConfig> parse_bearer_token_auth_config(
    const pipeline::ConfigNode& node);

class BearerTokenAuth final : public pipeline::Component {
 public:
  // Reads the token file if there is one: an error when it cannot (or it is empty).
  static absl::StatusOr<std::shared_ptr<BearerTokenAuth>> make(std::string id,
                                                               BearerTokenAuthConfig config,
                                                               pipeline::Host& host);
  BearerTokenAuth(std::string id, BearerTokenAuthConfig config, pipeline::Host& host);

  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  bool check(std::string_view authorization) const;
  std::string header() const;
  const std::string& id() const { return id_; }

 private:
  struct Token {
    std::string header;  // "<scheme> <token>"
    std::int64_t mtime_ns = 0;
    std::int64_t size = -1;
  };
  // Reads the file into a new Token if it changed since `current` (null: unconditionally).
  absl::StatusOr<std::shared_ptr<const Token>> read_file(const Token* current) const;
  csp::Task<void> watch(csp::Chan<csp::Unit> stop);

  const std::string id_;
  const BearerTokenAuthConfig config_;
  pipeline::Host& host_;
  std::atomic<std::shared_ptr<const Token>> token_;
  csp::Chan<csp::Unit> stop_;  // closed by shutdown(); nil until start()
  csp::WaitGroup watching_;
  bool reported_problem_ = false;  // the watcher's own
};

}  // namespace components
