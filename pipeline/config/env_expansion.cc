#include "pipeline/config/env_expansion.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "pipeline/config/internal/strings.h"

namespace pipeline {

using internal::append;
using internal::cat;
namespace {

// Nested defaults are expanded recursively; a bound keeps hostile input from exhausting the
// stack.
constexpr int kMaxNesting = 16;

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(name[0])) && name[0] != '_') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// The index of the "}" that closes the "${" whose body starts at `body`, counting nested
// "${"; npos when there is none.
size_t find_closing_brace(std::string_view text, size_t body) {
  int depth = 1;
  for (size_t i = body; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      ++i;  // "$$" is an escaped "$", never the start of a reference
    } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      ++depth;
      ++i;
    } else if (text[i] == '}') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

class Expander {
 public:
  Expander(const EnvLookup& env, std::vector<std::string>* unset) : env_(env), unset_(unset) {}

  absl::StatusOr<std::string> expand(std::string_view text, int depth) {
    if (depth > kMaxNesting) {
      return absl::InvalidArgumentError("references are nested too deeply");
    }
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      char c = text[i];
      if (c != '$' || i + 1 == text.size()) {
        out.push_back(c);
        ++i;
        continue;
      }
      if (text[i + 1] == '$') {
        out.push_back('$');
        i += 2;
        continue;
      }
      if (text[i + 1] != '{') {
        out.push_back('$');
        ++i;
        continue;
      }
      size_t close = find_closing_brace(text, i + 2);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(
            cat("unterminated \"${\" in \"", text, "\"; write \"$$\" for a literal \"$\""));
      }
      absl::StatusOr<std::string> value = resolve(text.substr(i + 2, close - i - 2), depth);
      if (!value.ok()) return value.status();
      out += *value;
      i = close + 1;
    }
    return out;
  }

 private:
  // `body` is the text between "${" and its "}".
  absl::StatusOr<std::string> resolve(std::string_view body, int depth) {
    std::string_view reference = body;
    std::optional<std::string_view> default_text;
    if (size_t sep = body.find(":-"); sep != std::string_view::npos) {
      reference = body.substr(0, sep);
      default_text = body.substr(sep + 2);
    }
    std::string_view name = reference;
    if (size_t colon = reference.find(':'); colon != std::string_view::npos) {
      std::string_view scheme = reference.substr(0, colon);
      if (scheme != "env") {
        return absl::InvalidArgumentError(cat("unsupported config source \"", scheme, "\" in \"${",
                                              body,
                                              "}\"; only ${env:NAME} references are supported"));
      }
      name = reference.substr(colon + 1);
    }
    if (!valid_env_name(name)) {
      return absl::InvalidArgumentError(
          cat("invalid environment variable name \"", name, "\" in \"${", body,
              "}\"; names are letters, digits and \"_\", not starting with a digit"));
    }
    std::string key(name);
    if (std::optional<std::string> value = env_(key)) return *std::move(value);
    if (default_text) return expand(*default_text, depth + 1);
    unset_->push_back(std::move(key));
    return std::string();
  }

  const EnvLookup& env_;
  std::vector<std::string>* unset_;
};

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<ExpandedText> expand_env_refs(std::string_view text, const EnvLookup& env) {
  ExpandedText result;
  Expander expander(env, &result.unset_variables);
  absl::StatusOr<std::string> expanded = expander.expand(text, 0);
  if (!expanded.ok()) return expanded.status();
  result.text = *std::move(expanded);
  result.whole_value = text.size() >= 3 && text.substr(0, 2) == "${" && text.back() == '}' &&
                       find_closing_brace(text, 2) == text.size() - 1;
  return result;
}

}  // namespace pipeline
