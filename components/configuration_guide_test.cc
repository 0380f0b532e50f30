// Builds the examples of docs/configuration.md that the guide says fail when the pipelines are
// built (`check: graph-error`) with this build's components: they must fail with exactly the
// message the guide shows. (The other examples show the file format and are often partial
// component configs, so only loading them is checked, in pipeline/config.)

#include <gtest/gtest.h>

#include "components/factories.h"
#include "pipeline/config/testing/guide_examples.h"
#include "pipeline/graph.h"

namespace components {
namespace {

TEST(ConfigurationGuide, GraphErrorsAreTheOnesTheGuideShows) {
  const pipeline::Factories factories = make_factories();
  int refused = 0;
  for (const auto& example : pipeline::testing::examples(OTLPD_CONFIGURATION_DOC)) {
    if (example.kind != "graph-error") continue;
    SCOPED_TRACE("docs/configuration.md:" + std::to_string(example.line));
    absl::StatusOr<pipeline::Config> config = pipeline::testing::load(example);
    ASSERT_TRUE(config.ok()) << config.status();
    pipeline::Host host(pipeline::LogLevel::kError);
    auto graph = pipeline::Graph::build(*config, factories, host);
    ASSERT_FALSE(graph.ok()) << "example builds, but the guide says it fails";
    EXPECT_EQ(std::string(graph.status().message()),
              pipeline::testing::trimmed(example.expected_text));
    ++refused;
  }
  EXPECT_GE(refused, 1);
}

}  // namespace
}  // namespace components
