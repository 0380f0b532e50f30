#include "components/extensions/headers_setter/headers_setter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "components/exporters/helper/client_auth.h"
#include "components/extensions/bearertokenauth/bearer_token_auth.h"

namespace components {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

HeadersSetter make(std::string_view yaml, pipeline::Host& host) {
  auto node = pipeline::ConfigNode::parse(yaml, "extensions::headers_setter");
  EXPECT_TRUE(node.ok()) << node.status();
  auto c = parse_headers_setter_config(*node);
  EXPECT_TRUE(c.ok()) << c.status();
  return HeadersSetter("headers_setter", c.ok() ? *std::move(c) : HeadersSetterConfig{}, host);
}

pipeline::ClientMetadata tenant(std::string value) {
  return pipeline::ClientMetadata{"10.1.1.1:5000", {{"x-tenant", std::move(value)}}};
}

TEST(HeadersSetter, FromContextTakesTheBatchsValueElseTheDefaultElseNothing) {
  pipeline::Host host{pipeline::LogLevel::kError};
  HeadersSetter with_default = make(R"(
headers:
  - key: X-Scope-OrgID
    from_context: X-Tenant
    default_value: anonymous
)",
                                    host);
  const pipeline::ClientMetadata acme = tenant("acme");
  EXPECT_THAT(with_default.apply({}, &acme), ElementsAre(Pair("X-Scope-OrgID", "acme")));
  EXPECT_THAT(with_default.apply({}, nullptr), ElementsAre(Pair("X-Scope-OrgID", "anonymous")));

  HeadersSetter without = make("headers: [{key: X-Scope-OrgID, from_context: x-tenant}]", host);
  EXPECT_TRUE(without.apply({}, nullptr).empty());
  const pipeline::ClientMetadata other{"", {{"user-agent", "x"}}};
  EXPECT_TRUE(without.apply({}, &other).empty());
  // Several values: the first one goes.
  const pipeline::ClientMetadata two{"", {{"x-tenant", "first"}, {"x-tenant", "second"}}};
  EXPECT_THAT(without.apply({}, &two), ElementsAre(Pair("X-Scope-OrgID", "first")));
}

TEST(HeadersSetter, ActionsWorkOnTheExportersOwnHeaders) {
  pipeline::Host host{pipeline::LogLevel::kError};
  HeadersSetter s = make(R"(
headers:
  - {key: x-insert-new, value: "1", action: insert}
  - {key: X-Existing, value: "2", action: insert}
  - {key: x-update-missing, value: "3", action: update}
  - {key: x-updated, value: "4", action: update}
  - {key: x-gone, action: delete}
  - {key: x-upsert, value: "5"}
)",
                         host);
  const std::map<std::string, std::string> base = {
      {"x-existing", "kept"}, {"x-updated", "old"}, {"x-gone", "bye"}, {"x-upsert", "old"}};
  EXPECT_THAT(s.apply(base, nullptr),
              ElementsAre(Pair("x-existing", "kept"), Pair("x-updated", "4"), Pair("x-upsert", "5"),
                          Pair("x-insert-new", "1")));
}

TEST(HeadersSetter, AValueThatCannotTravelInAHeaderIsNotSent) {
  pipeline::Host host{pipeline::LogLevel::kError};
  HeadersSetter s = make(R"(
headers:
  - {key: x-scope-orgid, from_context: x-tenant, default_value: fallback}
  - {key: x-raw, from_context: x-tenant}
)",
                         host);
  const pipeline::ClientMetadata injected = tenant("acme\r\nx-admin: true");
  EXPECT_THAT(s.apply({}, &injected), ElementsAre(Pair("x-scope-orgid", "fallback")));
  // Tabs and UTF-8 travel over HTTP/1 but not in gRPC metadata: not sent either.
  for (const char* value : {"a\tb", "caf\xc3\xa9"}) {
    const pipeline::ClientMetadata m = tenant(value);
    EXPECT_THAT(s.apply({}, &m), ElementsAre(Pair("x-scope-orgid", "fallback"))) << value;
  }
}

TEST(HeadersSetterConfig, MistakesAreNamedAtTheirKey) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : {
           Case{"{}", "headers"},
           Case{"headers: []", "at least one"},
           Case{"headers: [{value: x}]", "key"},
           Case{"headers: [{key: 'bad name', value: x}]", "not a valid header name"},
           Case{"headers: [{key: a}]", "exactly one of value and from_context"},
           Case{"headers: [{key: a, value: x, from_context: y}]", "exactly one"},
           Case{"headers: [{key: a, value: x, action: replace}]", "not one of insert"},
           Case{"headers: [{key: a, value: x, action: delete}]", "no meaning"},
           Case{"headers: [{key: a, value: x, default_value: y}]", "only with from_context"},
           Case{"headers: [{key: a, from_attribute: sub}]", "from_attribute"},
           Case{"headers: [{key: a, value: \"x\\ny\"}]", "printable ASCII"},
           Case{"headers: [{key: a, value: \"caf\\u00e9\"}]", "printable ASCII"},
           Case{"headers: [{key: 'a+b', value: x}]", "not a valid header name"},
           Case{"headers: [{key: a, value: x, colour: red}]", "colour"},
       }) {
    auto node = pipeline::ConfigNode::parse(c.yaml, "extensions::headers_setter");
    ASSERT_TRUE(node.ok()) << c.yaml;
    auto config = parse_headers_setter_config(*node);
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.message)) << c.yaml;
  }
}

TEST(ClientAuth, FindsEitherKindAndNamesTheKeyOtherwise) {
  pipeline::Host host{pipeline::LogLevel::kError};
  host.add_extension("headers_setter", std::make_shared<HeadersSetter>(
                                           "headers_setter", HeadersSetterConfig{}, host));
  host.add_extension("bearertokenauth", std::make_shared<BearerTokenAuth>(
                                            "bearertokenauth", BearerTokenAuthConfig{}, host));
  auto parse = [&](const char* yaml) {
    auto node = pipeline::ConfigNode::parse(yaml, "exporters::otlp");
    EXPECT_TRUE(node.ok());
    return find_client_auth(*node, host);
  };
  auto setter = parse("auth: {authenticator: headers_setter}");
  ASSERT_TRUE(setter.ok()) << setter.status();
  EXPECT_NE(setter->headers, nullptr);
  EXPECT_EQ(setter->bearer, nullptr);
  auto bearer = parse("auth: {authenticator: bearertokenauth}");
  ASSERT_TRUE(bearer.ok()) << bearer.status();
  EXPECT_NE(bearer->bearer, nullptr);
  auto none = parse("endpoint: x");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->bearer, nullptr);
  EXPECT_EQ(none->headers, nullptr);
  auto missing = parse("auth: {authenticator: oauth2client}");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("exporters::otlp::auth::authenticator"));
}

}  // namespace
}  // namespace components
