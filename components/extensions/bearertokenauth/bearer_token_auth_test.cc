#include "components/extensions/bearertokenauth/bearer_token_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "csp/csp.h"
#include "csp/internal/test_util.h"

namespace components {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using csp::testing::eventually;

BearerTokenAuthConfig parse(const std::string& yaml) {
  auto node = pipeline::ConfigNode::parse(yaml, "extensions::bearertokenauth");
  EXPECT_TRUE(node.ok()) << node.status();
  auto c = parse_bearer_token_auth_config(*node);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : BearerTokenAuthConfig{};
}

absl::Status parse_error(const std::string& yaml) {
  auto node = pipeline::ConfigNode::parse(yaml, "extensions::bearertokenauth");
  EXPECT_TRUE(node.ok()) << node.status();
  return parse_bearer_token_auth_config(*node).status();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

TEST(BearerTokenAuth, ChecksTheWholeHeaderExactly) {
  pipeline::Host host(pipeline::LogLevel::kError);
  auto auth = BearerTokenAuth::make("bearertokenauth", parse("{token: abc}"), host);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ((*auth)->header(), "Bearer abc");
  EXPECT_TRUE((*auth)->check("Bearer abc"));
  for (const char* wrong : {"", "Bearer", "Bearer ", "Bearer abd", "Bearer abc ", "Bearer abcd",
                            "bearer abc", "abc", "Basic abc", "Bearer ab"}) {
    EXPECT_FALSE((*auth)->check(wrong)) << wrong;
  }
  auto bare = BearerTokenAuth::make("b", parse("{token: abc, scheme: ''}"), host);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ((*bare)->header(), "abc");
  EXPECT_TRUE((*bare)->check("abc"));
  EXPECT_FALSE((*bare)->check("Bearer abc"));
}

TEST(BearerTokenAuth, ARotatedTokenFileIsPickedUpWithoutARestart) {
  const fs::path dir = fs::temp_directory_path() / ("otlpd-bearer-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "token";
  write_file(file, "  first-token\n");
  pipeline::Host host(pipeline::LogLevel::kError);
  auto auth = BearerTokenAuth::make(
      "bearertokenauth", parse("{filename: '" + file.string() + "', reload_interval: 10ms}"), host);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE((*auth)->check("Bearer first-token")) << "white space around the token is dropped";
  ASSERT_TRUE(csp::block_on((*auth)->start()).ok());

  write_file(file, "second-token-longer\n");
  EXPECT_TRUE(eventually([&] { return (*auth)->check("Bearer second-token-longer"); }));
  EXPECT_FALSE((*auth)->check("Bearer first-token"));
  EXPECT_EQ((*auth)->header(), "Bearer second-token-longer");

  // A file that goes away (or empties) keeps the last token rather than locking everyone out.
  fs::remove(file);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE((*auth)->check("Bearer second-token-longer"));
  write_file(file, "");
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE((*auth)->check("Bearer second-token-longer"));
  write_file(file, "third");
  EXPECT_TRUE(eventually([&] { return (*auth)->check("Bearer third"); }));

  csp::block_on((*auth)->shutdown(csp::Context::background()));
  csp::block_on((*auth)->shutdown(csp::Context::background()));  // twice is fine
  fs::remove_all(dir);
}

TEST(BearerTokenAuth, AMissingOrEmptyTokenFileIsAConfigurationError) {
  pipeline::Host host(pipeline::LogLevel::kError);
  const fs::path dir = fs::temp_directory_path() / ("otlpd-bearer-e-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto missing = BearerTokenAuth::make(
      "bearertokenauth", parse("{filename: '" + (dir / "nope").string() + "'}"), host);
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("cannot read the token file"));
  write_file(dir / "empty", " \n");
  auto empty = BearerTokenAuth::make("bearertokenauth",
                                     parse("{filename: '" + (dir / "empty").string() + "'}"), host);
  EXPECT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("is empty"));
  fs::remove_all(dir);
}

TEST(BearerTokenAuth, ConfigErrorsNameTheKey) {
  EXPECT_THAT(parse_error("{}").message(), HasSubstr("exactly one of token and filename"));
  EXPECT_THAT(parse_error("{token: a, filename: b}").message(),
              HasSubstr("exactly one of token and filename"));
  EXPECT_THAT(parse_error("{token: a, scheme: 'Bear er'}").message(), HasSubstr("scheme"));
  EXPECT_THAT(parse_error("{token: a, reload_interval: 0s}").message(),
              HasSubstr("reload_interval"));
  EXPECT_THAT(parse_error("{token: a, tokne: b}").message(), HasSubstr("tokne"));
  EXPECT_THAT(parse_error("{token: \"a\\r\\nX-Injected: 1\"}").message(),
              HasSubstr("control characters"));
}

}  // namespace
}  // namespace components
