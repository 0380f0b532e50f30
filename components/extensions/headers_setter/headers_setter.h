#pragma once
// The `headers_setter` extension: request headers for an exporter's requests, static or taken
// from the client metadata that travels with each batch (pipeline::ClientMetadata), as the
// Collector (contrib) spells it. The usual use is multi-tenancy: the tenant a client named in
// its request goes on to the backend (say, Loki's or Mimir's X-Scope-OrgID).
//
//   extensions:
//     headers_setter:
//       headers:
//         - key: X-Scope-OrgID
//           from_context: x-tenant      # a client metadata name
//           default_value: anonymous    # when the batch carries none
//         - key: X-Source
//           value: otlpd-gateway        # a fixed value
//           action: insert              # insert | update | upsert (default) | delete
//   exporters:
//     otlp_http:
//       auth: {authenticator: headers_setter}
//
// For from_context to find anything, the receiver needs include_metadata: true and a batch
// processor in between needs the name in its metadata_keys (docs/collector.md).
//
// Contract:
//  - apply() starts from the exporter's own `headers` and applies each rule in order: upsert
//    sets the header, insert sets it only if absent, update only if present, delete removes it
//    (names compare without regard to case).
//  - A from_context rule takes the name's first value; without one it uses default_value, and
//    without that it leaves the request as it is.
//  - Only printable ASCII (0x20-0x7E) is sent: what both HTTP and gRPC metadata carry (gRPC
//    refuses tabs and bytes above 0x7E, and its C++ API aborts on them). A value with anything
//    else (a CR/LF injection, UTF-8) is not sent; the rule then behaves as if the batch
//    carried no value, and it is logged once (without the value: it may be a credential).
//    Header names are letters, digits, '-', '_' and '.'.
//  - Thread-safe and lock-free: apply() reads only what was configured.

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/client_metadata.h"
#include "pipeline/component.h"
#include "pipeline/config/config_node.h"
#include "pipeline/host.h"
#include "transport/export.h"

namespace components {

struct HeaderRule {
  enum class Action { kInsert, kUpdate, kUpsert, kDelete };
  std::string key;
  Action action = Action::kUpsert;
  std::string value;          // a fixed value, or
  std::string from_context;   // a client metadata name (lower case)
  std::string default_value;  // with from_context: used when the batch has no value
  bool has_default = false;
};

struct HeadersSetterConfig {
  std::vector<HeaderRule> headers;
};

absl::StatusOr<HeadersSetterConfig> parse_headers_setter_config(const pipeline::ConfigNode& node);

class HeadersSetter final : public pipeline::Component {
 public:
  HeadersSetter(std::string id, HeadersSetterConfig config, pipeline::Host& host);

  csp::Task<absl::Status> start() override;
  csp::Task<void> shutdown(csp::Context ctx) override;

  // The headers of one request: `base` (the exporter's headers) with the rules applied for a
  // batch from `client` (null: no client metadata).
  transport::Headers apply(const std::map<std::string, std::string>& base,
                           const pipeline::ClientMetadata* client) const;
  const std::string& id() const { return id_; }

 private:
  // A from_context rule's value for `client`: its first value if sendable, else the default;
  // nullopt when neither.
  std::optional<std::string_view> context_value(const HeaderRule& rule,
                                                const pipeline::ClientMetadata* client) const;

  std::string id_;
  HeadersSetterConfig config_;
  pipeline::Host& host_;
  mutable std::atomic<bool> warned_unsendable_{false};
};

}  // namespace components
