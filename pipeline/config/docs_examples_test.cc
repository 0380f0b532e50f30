// Runs the examples of docs/configuration.md (see pipeline/config/testing/guide_examples.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pipeline/config/config.h"
#include "pipeline/config/testing/guide_examples.h"

namespace pipeline {
namespace {

using testing::Example;
using testing::read_lines;
using testing::trimmed;
using testing::without_indent;

std::vector<Example> examples() { return testing::examples(OTLPD_CONFIGURATION_DOC); }

TEST(ConfigurationGuide, HasExamplesOfEveryKind) {
  std::map<std::string, int> kinds;
  for (const Example& example : examples()) ++kinds[example.kind];
  EXPECT_GE(kinds["ok"], 5);
  EXPECT_GE(kinds["error"], 20);
  EXPECT_GE(kinds["warnings"], 1);
  EXPECT_GE(kinds["files"], 1);
  EXPECT_GE(kinds["graph-error"], 1);
  EXPECT_EQ(kinds.size(), 5u) << "unknown check kind in the guide";
}

TEST(ConfigurationGuide, EveryMarkerHasItsBlocks) {
  int markers = 0;
  for (const std::string& line : read_lines(OTLPD_CONFIGURATION_DOC)) {
    if (without_indent(line).starts_with("<!-- check: ")) ++markers;
  }
  std::vector<Example> found = examples();
  EXPECT_EQ(static_cast<int>(found.size()), markers);
  for (const Example& example : found) {
    SCOPED_TRACE("docs/configuration.md:" + std::to_string(example.line));
    for (const std::string& block : example.yaml_blocks) EXPECT_FALSE(block.empty());
    if (example.kind == "error" || example.kind == "graph-error" || example.kind == "warnings") {
      EXPECT_FALSE(example.expected_text.empty());
    }
  }
}

TEST(ConfigurationGuide, EveryExampleDoesWhatTheGuideSays) {
  for (const Example& example : examples()) {
    SCOPED_TRACE("docs/configuration.md:" + std::to_string(example.line));
    absl::StatusOr<Config> config = testing::load(example);
    if (example.kind == "error") {
      ASSERT_FALSE(config.ok()) << "example loads, but the guide says it fails";
      EXPECT_EQ(std::string(config.status().message()), trimmed(example.expected_text));
      continue;
    }
    ASSERT_TRUE(config.ok()) << config.status();
    if (example.kind == "warnings") {
      EXPECT_EQ(absl::StrJoin(config->warnings, "\n"), trimmed(example.expected_text));
    }
  }
}

}  // namespace
}  // namespace pipeline
