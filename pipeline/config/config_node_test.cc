#include "pipeline/config/config_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/config/config.h"

namespace pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using namespace std::chrono_literals;

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

ConfigNode node(std::string_view yaml, std::string_view path = "processors::batch") {
  absl::StatusOr<ConfigNode> parsed = ConfigNode::parse(yaml, path, "config.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : ConfigNode();
}

TEST(ConfigNode, TypedAccessors) {
  ConfigNode n = node(R"(
name: batch
count: -12
size: 8192
quoted_size: "4096"
ratio: 0.75
enabled: true
disabled: False
timeout: 1m30s
limit: 64MiB
limit_plain: 1000
limit_mib: 512
endpoints: [a:1, b:2]
one_endpoint: c:3
headers: {Authorization: Bearer x, X-Empty: }
)");
  EXPECT_EQ(*n.string("name", ""), "batch");
  EXPECT_EQ(*n.string("size", ""), "8192");  // any scalar reads as a string
  EXPECT_EQ(*n.int64("count", 0), -12);
  EXPECT_EQ(*n.uint64("size", 0), 8192u);
  EXPECT_EQ(*n.uint64("quoted_size", 0), 4096u);  // weakly typed, as in the Collector
  EXPECT_EQ(*n.float64("ratio", 0), 0.75);
  EXPECT_EQ(*n.float64("size", 0), 8192.0);
  EXPECT_TRUE(*n.boolean("enabled", false));
  EXPECT_FALSE(*n.boolean("disabled", true));
  EXPECT_EQ(*n.duration("timeout", 0s), 90s);
  EXPECT_EQ(*n.bytes("limit", 0), 64u << 20);
  EXPECT_EQ(*n.bytes("limit_plain", 0), 1000u);
  EXPECT_EQ(*n.mib("limit_mib", 0), 512u << 20);
  EXPECT_THAT(*n.string_list("endpoints"), ElementsAre("a:1", "b:2"));
  EXPECT_THAT(*n.string_list("one_endpoint"), ElementsAre("c:3"));
  EXPECT_THAT(*n.string_map("headers"),
              ElementsAre(Pair("Authorization", "Bearer x"), Pair("X-Empty", "")));
  EXPECT_TRUE(n.check_no_unknown_keys().ok()) << n.check_no_unknown_keys();
}

TEST(ConfigNode, AbsentAndEmptyValuesGiveDefaults) {
  ConfigNode n = node("timeout:\nsize: ~\n");
  EXPECT_EQ(*n.duration("timeout", 5s), 5s);
  EXPECT_EQ(*n.uint64("size", 7), 7u);
  EXPECT_EQ(*n.string("missing", "dflt"), "dflt");
  EXPECT_EQ(*n.int64("missing", -1), -1);
  EXPECT_EQ(*n.float64("missing", 1.5), 1.5);
  EXPECT_TRUE(*n.boolean("missing", true));
  EXPECT_EQ(*n.bytes("missing", 10), 10u);
  EXPECT_EQ(*n.mib("missing", 2), 2u << 20);
  EXPECT_THAT(*n.string_list("missing", {"x"}), ElementsAre("x"));
  EXPECT_THAT(*n.string_map("missing"), IsEmpty());
  EXPECT_THAT(*n.list("missing"), IsEmpty());
}

TEST(ConfigNode, MistypedValuesNamePathValueAndPlace) {
  ConfigNode n = node(R"(send_batch_size: lots
count: 1.5
ratio: fast
enabled: yes
timeout: 5
limit: 64M
big: 18446744073709551616
negative: -1
nested: {a: 1}
list: [a, {b: c}]
headers: {a: [1]}
)");
  EXPECT_EQ(message_of(n.uint64("send_batch_size", 0).status()),
            "processors::batch::send_batch_size: expected an unsigned integer, got \"lots\" "
            "(config.yaml:1:18)");
  EXPECT_EQ(message_of(n.int64("count", 0).status()),
            "processors::batch::count: expected an integer, got \"1.5\" (config.yaml:2:8)");
  EXPECT_EQ(message_of(n.float64("ratio", 0).status()),
            "processors::batch::ratio: expected a number, got \"fast\" (config.yaml:3:8)");
  EXPECT_EQ(message_of(n.boolean("enabled", false).status()),
            "processors::batch::enabled: expected true or false, got \"yes\" (config.yaml:4:10)");
  EXPECT_EQ(message_of(n.duration("timeout", 0s).status()),
            "processors::batch::timeout: invalid duration \"5\": a number needs a unit (ns, us, "
            "ms, s, m or h), e.g. \"5s\" or \"200ms\" (config.yaml:5:10)");
  EXPECT_EQ(message_of(n.bytes("limit", 0).status()),
            "processors::batch::limit: invalid byte size \"64M\": unknown unit \"M\"; use B, "
            "KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000) "
            "(config.yaml:6:8)");
  EXPECT_EQ(message_of(n.uint64("big", 0).status()),
            "processors::batch::big: expected an unsigned integer, got \"18446744073709551616\" "
            "(config.yaml:7:6)");
  EXPECT_EQ(message_of(n.uint64("negative", 0).status()),
            "processors::batch::negative: expected an unsigned integer, got \"-1\" "
            "(config.yaml:8:11)");
  EXPECT_EQ(message_of(n.string("nested", "").status()),
            "processors::batch::nested: expected a string, got a map (config.yaml:9:9)");
  EXPECT_EQ(message_of(n.uint64("list", 0).status()),
            "processors::batch::list: expected an unsigned integer, got a list (config.yaml:10:7)");
  EXPECT_EQ(message_of(n.string_list("list").status()),
            "processors::batch::list[1]: expected a string, got a map (config.yaml:10:11)");
  EXPECT_EQ(message_of(n.string_list("nested").status()),
            "processors::batch::nested: expected a list of strings, got a map (config.yaml:9:9)");
  EXPECT_EQ(message_of(n.string_map("headers").status()),
            "processors::batch::headers::a: expected a string, got a list (config.yaml:11:14)");
  EXPECT_EQ(message_of(n.list("send_batch_size").status()),
            "processors::batch::send_batch_size: expected a list, got \"lots\" "
            "(config.yaml:1:18)");
  EXPECT_EQ(message_of(n.mib("big", 0).status()),
            "processors::batch::big: expected an unsigned integer, got \"18446744073709551616\" "
            "(config.yaml:7:6)");
  EXPECT_EQ(message_of(node("limit_mib: 17592186044416\n").mib("limit_mib", 0).status()),
            "processors::batch::limit_mib: 17592186044416 MiB is too large (config.yaml:1:12)");
}

TEST(ConfigNode, ChildrenKnowTheirPathAndPlace) {
  ConfigNode n = node("protocols:\n  grpc:\n    endpoint: x:1\n  http:\n", "receivers::otlp");
  ConfigNode protocols = n.child("protocols");
  EXPECT_EQ(protocols.path(), "receivers::otlp::protocols");
  EXPECT_EQ(protocols.where(), (SourceLocation{"config.yaml", 2, 3}));
  EXPECT_THAT(protocols.keys(), ElementsAre("grpc", "http"));
  EXPECT_TRUE(protocols.has("http"));  // present though empty: `http:` enables the protocol
  EXPECT_FALSE(protocols.has("websocket"));
  ConfigNode http = protocols.child("http");
  EXPECT_TRUE(http.empty());
  EXPECT_EQ(*http.string("endpoint", "localhost:4318"), "localhost:4318");
  ConfigNode absent = protocols.child("websocket");
  EXPECT_TRUE(absent.empty());
  EXPECT_EQ(absent.path(), "receivers::otlp::protocols::websocket");
  EXPECT_EQ(absent.where(), protocols.where());  // nearest place that exists
  EXPECT_EQ(*absent.child("deeper").uint64("x", 3), 3u);
}

TEST(ConfigNode, ScalarWhereAMapBelongsIsAnError) {
  ConfigNode n = node("tls: yes\n", "exporters::otlp");
  ConfigNode tls = n.child("tls");
  EXPECT_EQ(message_of(tls.boolean("insecure", false).status()),
            "exporters::otlp::tls: expected a map of settings, got \"yes\" (config.yaml:1:6)");
  EXPECT_EQ(message_of(n.check_no_unknown_keys()),
            "exporters::otlp::tls: expected a map of settings, got \"yes\" (config.yaml:1:6)");
}

TEST(ConfigNode, ListOfMaps) {
  ConfigNode n = node(R"(actions:
  - key: a
    action: insert
  - key: b
    actoin: delete
)",
                      "processors::attributes");
  absl::StatusOr<std::vector<ConfigNode>> actions = n.list("actions");
  ASSERT_TRUE(actions.ok());
  ASSERT_EQ(actions->size(), 2u);
  EXPECT_EQ((*actions)[1].path(), "processors::attributes::actions[1]");
  for (const ConfigNode& action : *actions) {
    EXPECT_TRUE(action.string("key", "").ok());
    EXPECT_TRUE(action.string("action", "").ok());
  }
  EXPECT_EQ(message_of(n.check_no_unknown_keys()),
            "processors::attributes::actions[1]: unknown key \"actoin\" (config.yaml:5:5); did "
            "you mean \"action\"?");
}

TEST(ConfigNode, UnknownKeysAreReportedAllAndNested) {
  ConfigNode n = node(R"(protocols:
  grpc:
    endpiont: localhost:4317
    transport: tcp
  http:
    endpoint: localhost:4318
tls_settings: {}
)",
                      "receivers::otlp");
  ConfigNode protocols = n.child("protocols");
  ConfigNode grpc = protocols.child("grpc");
  EXPECT_TRUE(grpc.string("endpoint", "").ok());
  EXPECT_TRUE(protocols.child("http").string("endpoint", "").ok());
  EXPECT_TRUE(n.child("tls").empty());
  EXPECT_EQ(message_of(n.check_no_unknown_keys()),
            "receivers::otlp::protocols::grpc: unknown key \"endpiont\" (config.yaml:3:5); did "
            "you mean \"endpoint\"?\n"
            "receivers::otlp::protocols::grpc: unknown key \"transport\" (config.yaml:4:5)\n"
            "receivers::otlp: unknown key \"tls_settings\" (config.yaml:7:1)");
  // Checking a child checks only below it.
  EXPECT_EQ(message_of(protocols.child("http").check_no_unknown_keys()), "");
}

TEST(ConfigNode, HasAndKeysDoNotCountAsReading) {
  ConfigNode n = node("a: 1\nb: 2\n");
  EXPECT_TRUE(n.has("a"));
  EXPECT_THAT(n.keys(), ElementsAre("a", "b"));
  EXPECT_EQ(message_of(n.check_no_unknown_keys()),
            "processors::batch: unknown key \"a\" (config.yaml:1:1)\n"
            "processors::batch: unknown key \"b\" (config.yaml:2:1)");
  n.mark_used("a");
  EXPECT_TRUE(n.uint64("b", 0).ok());
  EXPECT_TRUE(n.check_no_unknown_keys().ok());
}

TEST(ConfigNode, CopiesShareWhatWasRead) {
  ConfigNode n = node("a: 1\nsub: {b: 2}\n");
  ConfigNode copy = n;
  EXPECT_TRUE(copy.uint64("a", 0).ok());
  EXPECT_TRUE(n.child("sub").uint64("b", 0).ok());  // a second child() shares the first's record
  EXPECT_TRUE(copy.check_no_unknown_keys().ok()) << copy.check_no_unknown_keys();
  EXPECT_TRUE(n.check_no_unknown_keys().ok());
}

TEST(ConfigNode, RequireAndValidationMessages) {
  ConfigNode n = node("endpoint:\nqueue_size: 0\n", "exporters::otlp");
  EXPECT_EQ(message_of(n.require("endpoint")),
            "exporters::otlp: missing required key \"endpoint\" (config.yaml:1:1)");
  EXPECT_EQ(message_of(n.require("queue_size")), "");
  EXPECT_EQ(message_of(n.error_at("queue_size", "must be positive")),
            "exporters::otlp::queue_size: must be positive (config.yaml:2:13)");
  EXPECT_EQ(message_of(n.error_at("absent", "is needed when tls is on")),
            "exporters::otlp::absent: is needed when tls is on (config.yaml:1:1)");
  EXPECT_EQ(message_of(n.error("has conflicting settings")),
            "exporters::otlp: has conflicting settings (config.yaml:1:1)");
}

TEST(ConfigNode, DefaultNodeIsEmpty) {
  ConfigNode n;
  EXPECT_TRUE(n.empty());
  EXPECT_EQ(n.path(), "");
  EXPECT_FALSE(n.where().known());
  EXPECT_EQ(*n.string("x", "d"), "d");
  EXPECT_TRUE(n.check_no_unknown_keys().ok());
  EXPECT_EQ(message_of(n.error("bad")), "bad");
}

TEST(ConfigNode, ParseReportsYamlErrors) {
  EXPECT_EQ(message_of(ConfigNode::parse("a: [1\nb: 2\n", "x", "snippet").status()),
            "invalid YAML: end of sequence flow not found (snippet:2:2)");
}

// The same checks on a real file through load_config, as the engine will run them.
TEST(ConfigNode, ComponentParserOnALoadedFile) {
  const std::string file = std::string(PIPELINE_CONFIG_TESTDATA) + "/typo_component_key.yaml";
  LoadOptions options;
  options.files = {file};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();

  // What an OTLP receiver parser would do.
  const ConfigNode& otlp = config->receivers.at(ComponentId("otlp"));
  ConfigNode protocols = otlp.child("protocols");
  for (const char* protocol : {"grpc", "http"}) {
    if (protocols.has(protocol)) {
      EXPECT_TRUE(protocols.child(protocol).string("endpoint", "").ok());
    }
  }
  EXPECT_EQ(message_of(otlp.check_no_unknown_keys()),
            "receivers::otlp::protocols::grpc: unknown key \"endpiont\" (" + file +
                ":7:9); did you mean \"endpoint\"?");

  const ConfigNode& batch2 = config->processors.at(ComponentId("batch", "2"));
  EXPECT_EQ(message_of(batch2.uint64("send_batch_size", 8192).status()),
            "processors::batch/2::send_batch_size: expected an unsigned integer, got \"lots\" (" +
                file + ":14:22)");
}

TEST(ConfigNode, EnvMapReadAsStringGivesTheExpandedText) {
  LoadOptions options;
  options.inline_yaml = R"(
receivers:
  otlp:
    password: "${env:P}"
    token: ${env:P}
exporters: {debug: }
service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}
)";
  options.env = [](const std::string&) { return std::optional<std::string>("a: b"); };
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  const ConfigNode& otlp = config->receivers.at(ComponentId("otlp"));
  EXPECT_EQ(*otlp.string("password", ""), "a: b");
  EXPECT_EQ(*otlp.string("token", ""), "a: b");
}

}  // namespace
}  // namespace pipeline
