#include "pipeline/config/component_id.h"

#include <gtest/gtest.h>

#include <map>
#include <unordered_set>

namespace pipeline {
namespace {

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

TEST(ComponentId, ParsesTypeAndName) {
  absl::StatusOr<ComponentId> plain = ComponentId::parse("otlp");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->type(), "otlp");
  EXPECT_EQ(plain->name(), "");
  EXPECT_EQ(plain->str(), "otlp");

  absl::StatusOr<ComponentId> named = ComponentId::parse("batch/traces_2");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->type(), "batch");
  EXPECT_EQ(named->name(), "traces_2");
  EXPECT_EQ(named->str(), "batch/traces_2");
}

TEST(ComponentId, NameMayHoldAnythingButEdgeWhitespaceAndControls) {
  for (const char* text : {"otlp/eu.west-1", "otlp/a b", "otlp/x/y", "otlp/ünïcode", "A_1/2"}) {
    absl::StatusOr<ComponentId> id = ComponentId::parse(text);
    ASSERT_TRUE(id.ok()) << text << ": " << id.status();
    EXPECT_EQ(id->str(), text);
  }
  EXPECT_EQ(ComponentId::parse("otlp/x/y")->name(), "x/y");  // split at the first "/"
}

TEST(ComponentId, RejectsWithTheBrokenRule) {
  EXPECT_EQ(message_of(ComponentId::parse("").status()), "invalid component id \"\": it is empty");
  EXPECT_EQ(message_of(ComponentId::parse("otlp/").status()),
            "invalid component id \"otlp/\": the name after \"/\" must not be empty");
  const std::string type_rule =
      "the type must start with a letter and contain only letters, digits and \"_\"";
  for (const char* text : {"1otlp", "otlp-http", "/name", " otlp", "otlp.x", "_x"}) {
    absl::StatusOr<ComponentId> id = ComponentId::parse(text);
    ASSERT_FALSE(id.ok()) << text;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(message_of(id.status()),
              std::string("invalid component id \"") + text + "\": " + type_rule);
  }
  EXPECT_EQ(message_of(ComponentId::parse("otlp/ x").status()),
            "invalid component id \"otlp/ x\": the name must not start or end with whitespace");
  EXPECT_EQ(message_of(ComponentId::parse("otlp/x\t").status()),
            "invalid component id \"otlp/x\t\": the name must not start or end with whitespace");
  EXPECT_EQ(message_of(ComponentId::parse("otlp/a\nb").status()),
            "invalid component id \"otlp/a\nb\": the name must not contain control characters");
}

TEST(ComponentId, MessageEndsWithLocation) {
  EXPECT_EQ(message_of(ComponentId::parse("9", SourceLocation{"c.yaml", 3, 5}).status()),
            "invalid component id \"9\": the type must start with a letter and contain only "
            "letters, digits and \"_\" (c.yaml:3:5)");
}

TEST(ComponentId, LocationTakesNoPartInIdentity) {
  ComponentId a = *ComponentId::parse("otlp/2", SourceLocation{"a.yaml", 1, 1});
  ComponentId b = *ComponentId::parse("otlp/2", SourceLocation{"b.yaml", 9, 9});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.where().file, "a.yaml");
  EXPECT_EQ(std::hash<ComponentId>()(a), std::hash<ComponentId>()(b));
  std::unordered_set<ComponentId> set = {a, b};
  EXPECT_EQ(set.size(), 1u);
}

TEST(ComponentId, OrdersByTypeThenName) {
  std::map<ComponentId, int> ordered;
  for (const char* text : {"otlp/b", "batch", "otlp", "otlp/a", "debug"}) {
    ordered[*ComponentId::parse(text)] = 0;
  }
  std::vector<std::string> order;
  for (const auto& [id, unused] : ordered) order.push_back(id.str());
  EXPECT_EQ(order, (std::vector<std::string>{"batch", "debug", "otlp", "otlp/a", "otlp/b"}));
  EXPECT_LT(ComponentId("otlp"), ComponentId("otlp", "a"));
  EXPECT_NE(ComponentId("otlp"), ComponentId("otlphttp"));
}

TEST(ComponentId, ConstructorForIdsWrittenInCode) {
  ComponentId id("memory_limiter", "x");
  EXPECT_EQ(id.str(), "memory_limiter/x");
  EXPECT_FALSE(id.where().known());
}

TEST(ComponentIdDeathTest, InvalidIdInCodeAborts) {
  EXPECT_DEATH(ComponentId("bad-type"), "invalid component id in code");
  EXPECT_DEATH(ComponentId("otlp", " x"), "invalid component id in code");
}

TEST(PipelineId, ParsesSignalAndName) {
  struct Case {
    const char* text;
    otlp::Signal signal;
    const char* name;
  };
  for (const Case& c :
       {Case{"traces", otlp::Signal::kTraces, ""}, Case{"metrics/2", otlp::Signal::kMetrics, "2"},
        Case{"logs/audit trail", otlp::Signal::kLogs, "audit trail"},
        Case{"profiles/x", otlp::Signal::kProfiles, "x"}}) {
    absl::StatusOr<PipelineId> id = PipelineId::parse(c.text);
    ASSERT_TRUE(id.ok()) << c.text << ": " << id.status();
    EXPECT_EQ(id->signal(), c.signal);
    EXPECT_EQ(id->name(), c.name);
    EXPECT_EQ(id->str(), c.text);
  }
}

TEST(PipelineId, RejectsUnknownSignalsAndBadNames) {
  const std::string rule =
      "the signal must be traces, metrics, logs or profiles, optionally followed by \"/name\"";
  for (const char* text : {"trace", "Traces", "", "/x", "spans/1", "traces2"}) {
    EXPECT_EQ(message_of(PipelineId::parse(text).status()),
              std::string("invalid pipeline id \"") + text + "\": " + rule);
  }
  EXPECT_EQ(message_of(PipelineId::parse("traces/").status()),
            "invalid pipeline id \"traces/\": the name after \"/\" must not be empty");
}

TEST(PipelineId, OrdersBySignalThenName) {
  EXPECT_LT(*PipelineId::parse("traces/z"), *PipelineId::parse("metrics"));
  EXPECT_LT(*PipelineId::parse("logs"), *PipelineId::parse("logs/a"));
  EXPECT_EQ(PipelineId(otlp::Signal::kLogs, "a"), *PipelineId::parse("logs/a"));
  EXPECT_EQ(std::hash<PipelineId>()(PipelineId(otlp::Signal::kLogs, "a")),
            std::hash<PipelineId>()(*PipelineId::parse("logs/a")));
}

TEST(Names, SignalsAndKinds) {
  EXPECT_EQ(otlp::signal_name(otlp::Signal::kProfiles), "profiles");
  EXPECT_EQ(component_kind_name(ComponentKind::kConnector), "connector");
  EXPECT_EQ(section_name(ComponentKind::kExtension), "extensions");
}

}  // namespace
}  // namespace pipeline
