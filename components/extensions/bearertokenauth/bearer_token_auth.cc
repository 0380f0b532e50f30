#include "components/extensions/bearertokenauth/bearer_token_auth.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "components/internal/config_util.h"
#include "csp/select.h"
#include "csp/timer.h"

namespace components {

namespace {

// CR, LF and the other control bytes cannot travel in a header; a token with them would be
// refused by every server, or worse, split the header.
bool has_control_characters(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<BearerTokenAuthConfig> parse_bearer_token_auth_config(
    const pipeline::ConfigNode& node) {
  BearerTokenAuthConfig c;
  OTLPD_ASSIGN_OR_RETURN(c.scheme, node.string("scheme", c.scheme));
  OTLPD_ASSIGN_OR_RETURN(c.token, node.string("token", ""));
  OTLPD_ASSIGN_OR_RETURN(c.filename, node.string("filename", ""));
  OTLPD_ASSIGN_OR_RETURN(std::chrono::nanoseconds reload,
                         node.duration("reload_interval", c.reload_interval));
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  c.reload_interval = std::chrono::duration_cast<std::chrono::milliseconds>(reload);
  if (c.token.empty() == c.filename.empty()) {
    return node.error("needs exactly one of token and filename");
  }
  if (c.reload_interval <= std::chrono::milliseconds::zero()) {
    return node.error_at("reload_interval", "must be greater than zero");
  }
  if (c.scheme.find_first_of(" \t\r\n") != std::string::npos) {
    return node.error_at("scheme", "must not contain white space");
  }
  if (has_control_characters(c.token)) {
    return node.error_at("token",
                         "must not contain control characters (a header cannot carry them)");
  }
  return c;
}

BearerTokenAuth::BearerTokenAuth(std::string id, BearerTokenAuthConfig config, pipeline::Host& host)
    : id_(std::move(id)), config_(std::move(config)), host_(host) {}

absl::StatusOr<std::shared_ptr<BearerTokenAuth>> BearerTokenAuth::make(std::string id,
                                                                       BearerTokenAuthConfig config,
                                                                       pipeline::Host& host) {
  auto auth = std::make_shared<BearerTokenAuth>(std::move(id), std::move(config), host);
  if (auth->config_.filename.empty()) {
    auto token = std::make_shared<Token>();
    token->header = auth->config_.scheme.empty()
                        ? auth->config_.token
                        : absl::StrCat(auth->config_.scheme, " ", auth->config_.token);
    auth->token_.store(std::move(token));
    return auth;
  }
  absl::StatusOr<std::shared_ptr<const Token>> token = auth->read_file(nullptr);
  if (!token.ok()) return token.status();
  auth->token_.store(*std::move(token));
  return auth;
}

absl::StatusOr<std::shared_ptr<const BearerTokenAuth::Token>> BearerTokenAuth::read_file(
    const Token* current) const {
  struct stat st {};
  if (::stat(config_.filename.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat(id_, ": cannot read the token file ", config_.filename));
  }
  const std::int64_t mtime_ns =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (current != nullptr && current->mtime_ns == mtime_ns && current->size == st.st_size) {
    return nullptr;  // unchanged
  }
  std::ifstream in(config_.filename, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(id_, ": cannot read the token file ", config_.filename));
  }
  const std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(id_, ": the token file ", config_.filename, " is empty"));
  }
  if (has_control_characters(token)) {
    return absl::InvalidArgumentError(absl::StrCat(id_, ": the token file ", config_.filename,
                                                   " holds control characters inside the token"));
  }
  auto out = std::make_shared<Token>();
  out->header = config_.scheme.empty() ? token : absl::StrCat(config_.scheme, " ", token);
  out->mtime_ns = mtime_ns;
  out->size = st.st_size;
  return std::shared_ptr<const Token>(std::move(out));
}

bool BearerTokenAuth::check(std::string_view authorization) const {
  const std::shared_ptr<const Token> token = token_.load();
  const std::string& expected = token->header;
  // Every byte of the expected header is looked at whatever the input, so the time taken says
  // nothing about where a guess went wrong (only, at most, the expected length).
  unsigned char diff = authorization.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char got = i < authorization.size() ? authorization[i] : '\0';
    diff |= static_cast<unsigned char>(got ^ expected[i]);
  }
  return diff == 0;
}

std::string BearerTokenAuth::header() const { return token_.load()->header; }

csp::Task<absl::Status> BearerTokenAuth::start() {
  if (config_.filename.empty()) co_return absl::OkStatus();
  stop_ = csp::Chan<csp::Unit>(0);
  watching_.add(1);
  csp::go(watch(stop_));
  co_return absl::OkStatus();
}

csp::Task<void> BearerTokenAuth::watch(csp::Chan<csp::Unit> stop) {
  csp::Ticker tick(config_.reload_interval);
  for (;;) {
    if (co_await csp::select(csp::recv(tick.chan()), csp::recv(stop)) == 1) break;
    absl::StatusOr<std::shared_ptr<const Token>> read = read_file(token_.load().get());
    if (!read.ok()) {
      if (!reported_problem_) {
        host_.log(pipeline::LogLevel::kError, id_,
                  absl::StrCat(read.status().message(), "; keeping the last token"));
        reported_problem_ = true;
      }
      continue;
    }
    reported_problem_ = false;
    if (*read == nullptr) continue;  // unchanged
    token_.store(*std::move(read));
    host_.log(pipeline::LogLevel::kInfo, id_, "token file changed: using the new token");
  }
  watching_.done();
}

csp::Task<void> BearerTokenAuth::shutdown(csp::Context ctx) {
  (void)ctx;
  if (stop_.is_nil()) co_return;
  stop_.close();
  co_await watching_.wait();
  stop_ = csp::Chan<csp::Unit>();
}

}  // namespace components
