#include "components/extensions/headers_setter/headers_setter.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"

namespace components {

namespace {

// What every transport can carry: printable ASCII and space. HTTP/1 would also take tabs and
// bytes above 0x7E, but gRPC metadata does not (and gRPC's C++ API aborts the process on a
// value it refuses), so the setter holds every value to the narrower rule.
bool sendable(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u <= 0x7e;
  });
}

// A header name both HTTP and gRPC accept (gRPC: lower case after folding, digits, - _ .).
bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

absl::StatusOr<HeadersSetterConfig> parse_headers_setter_config(const pipeline::ConfigNode& node) {
  HeadersSetterConfig c;
  OTLPD_RETURN_IF_ERROR(node.require("headers"));
  OTLPD_ASSIGN_OR_RETURN(std::vector<pipeline::ConfigNode> list, node.list("headers"));
  if (list.empty()) return node.error_at("headers", "must list at least one header");
  for (const pipeline::ConfigNode& h : list) {
    HeaderRule rule;
    OTLPD_RETURN_IF_ERROR(h.require("key"));
    OTLPD_ASSIGN_OR_RETURN(rule.key, h.string("key", ""));
    OTLPD_ASSIGN_OR_RETURN(std::string action, h.string("action", "upsert"));
    OTLPD_ASSIGN_OR_RETURN(rule.value, h.string("value", ""));
    OTLPD_ASSIGN_OR_RETURN(rule.from_context, h.string("from_context", ""));
    rule.has_default = h.has("default_value");
    OTLPD_ASSIGN_OR_RETURN(rule.default_value, h.string("default_value", ""));
    if (h.has("from_attribute")) {
      return h.error_at("from_attribute",
                        "is not supported: otlpd's authenticators attach no attributes; use "
                        "from_context with a request header the receiver keeps "
                        "(include_metadata)");
    }
    OTLPD_RETURN_IF_ERROR(h.check_no_unknown_keys());
    if (!valid_name(rule.key)) {
      return h.error_at("key", absl::StrCat("\"", rule.key, "\" is not a valid header name"));
    }
    if (action == "insert") {
      rule.action = HeaderRule::Action::kInsert;
    } else if (action == "update") {
      rule.action = HeaderRule::Action::kUpdate;
    } else if (action == "upsert") {
      rule.action = HeaderRule::Action::kUpsert;
    } else if (action == "delete") {
      rule.action = HeaderRule::Action::kDelete;
    } else {
      return h.error_at(
          "action", absl::StrCat("\"", action, "\" is not one of insert, update, upsert, delete"));
    }
    const bool has_value = h.has("value");
    const bool has_context = h.has("from_context");
    if (rule.action == HeaderRule::Action::kDelete) {
      if (has_value || has_context) {
        return h.error_at(has_value ? "value" : "from_context",
                          "has no meaning with action: delete");
      }
    } else if (has_value == has_context) {
      return h.error(absl::StrCat("header \"", rule.key,
                                  "\": exactly one of value and from_context must be set"));
    }
    if (has_value && !sendable(rule.value)) {
      return h.error_at("value",
                        "may hold only printable ASCII: it must travel in HTTP and gRPC headers");
    }
    if (rule.has_default && !has_context) {
      return h.error_at("default_value", "is used only with from_context");
    }
    if (rule.has_default && !sendable(rule.default_value)) {
      return h.error_at("default_value",
                        "may hold only printable ASCII: it must travel in HTTP and gRPC headers");
    }
    if (has_context && rule.from_context.empty()) {
      return h.error_at("from_context", "must name a client metadata key");
    }
    absl::AsciiStrToLower(&rule.from_context);
    c.headers.push_back(std::move(rule));
  }
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  return c;
}

HeadersSetter::HeadersSetter(std::string id, HeadersSetterConfig config, pipeline::Host& host)
    : id_(std::move(id)), config_(std::move(config)), host_(host) {}

csp::Task<absl::Status> HeadersSetter::start() { co_return absl::OkStatus(); }

csp::Task<void> HeadersSetter::shutdown(csp::Context) { co_return; }

std::optional<std::string_view> HeadersSetter::context_value(
    const HeaderRule& rule, const pipeline::ClientMetadata* client) const {
  const std::vector<std::string_view> got =
      client != nullptr ? client->values(rule.from_context) : std::vector<std::string_view>{};
  if (!got.empty() && sendable(got.front())) return got.front();
  if (!got.empty() && !warned_unsendable_.exchange(true, std::memory_order_relaxed)) {
    host_.log(pipeline::LogLevel::kWarn, id_,
              absl::StrCat("client metadata \"", rule.from_context,
                           "\" holds a byte that cannot travel in a header (only printable ASCII "
                           "can) and is not sent as header \"",
                           rule.key, "\" (logged once)"));
  }
  if (rule.has_default) return std::string_view(rule.default_value);
  return std::nullopt;
}

transport::Headers HeadersSetter::apply(const std::map<std::string, std::string>& base,
                                        const pipeline::ClientMetadata* client) const {
  transport::Headers out(base.begin(), base.end());
  const auto find = [&out](std::string_view key) {
    return std::find_if(out.begin(), out.end(), [key](const auto& h) {
      return pipeline::same_metadata_name(h.first, key);
    });
  };
  for (const HeaderRule& rule : config_.headers) {
    auto at = find(rule.key);
    if (rule.action == HeaderRule::Action::kDelete) {
      if (at != out.end()) out.erase(at);
      continue;
    }
    if (rule.action == HeaderRule::Action::kInsert && at != out.end()) continue;
    if (rule.action == HeaderRule::Action::kUpdate && at == out.end()) continue;
    std::optional<std::string_view> value = rule.value;
    if (!rule.from_context.empty()) value = context_value(rule, client);
    if (!value) continue;
    if (at != out.end()) {
      at->second = std::string(*value);
    } else {
      out.emplace_back(rule.key, std::string(*value));
    }
  }
  return out;
}

}  // namespace components
