#include "apps/otlp_loadgen/generator.h"

#include <gtest/gtest.h>

#include <set>

#include "otlp/signals.h"
#include "otlp/wire.h"

namespace loadgen {
namespace {

class GeneratorShape : public ::testing::TestWithParam<otlp::Signal> {};

TEST_P(GeneratorShape, EveryVariantHoldsExactlyTheItemsAskedForOverTheResourcesAskedFor) {
  GeneratorOptions o;
  o.signal = GetParam();
  o.items_per_request = 37;  // not a multiple of resources or points per metric
  o.resources_per_request = 4;
  o.attributes_per_item = 3;
  o.attribute_value_bytes = 11;
  o.variants = 5;
  auto got = generate_requests(o);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 5u);
  std::set<std::string> distinct;
  for (const GeneratedRequest& g : *got) {
    EXPECT_EQ(g.items, 37u);
    // Decoded counting agrees with the wire count the generator checked with.
    auto decoded = otlp::new_request(o.signal);
    ASSERT_TRUE(decoded->ParseFromString(g.body));
    auto counted = otlp::count_items(*decoded);
    ASSERT_TRUE(counted.ok());
    EXPECT_EQ(*counted, 37u);
    auto parts = otlp::wire_split(o.signal, g.body, 0);
    ASSERT_TRUE(parts.ok());
    distinct.insert(g.body);
  }
  EXPECT_EQ(distinct.size(), 5u) << "variants must differ";
}

INSTANTIATE_TEST_SUITE_P(Signals, GeneratorShape,
                         ::testing::Values(otlp::Signal::kTraces, otlp::Signal::kMetrics,
                                           otlp::Signal::kLogs),
                         [](const auto& info) {
                           return std::string(otlp::signal_name(info.param));
                         });

TEST(Generator, ValueSizesShowInTheRequestSize) {
  GeneratorOptions small, large;
  large.attribute_value_bytes = small.attribute_value_bytes + 100;
  auto a = generate_requests(small);
  auto b = generate_requests(large);
  ASSERT_TRUE(a.ok() && b.ok());
  // 100 spans x 10 attributes x 100 more bytes each.
  EXPECT_GE((*b)[0].body.size(), (*a)[0].body.size() + 100u * 10u * 100u);
}

TEST(Generator, RefusesShapesItCannotMake) {
  GeneratorOptions o;
  o.signal = otlp::Signal::kProfiles;
  EXPECT_FALSE(generate_requests(o).ok());
  o = {};
  o.items_per_request = 0;
  EXPECT_FALSE(generate_requests(o).ok());
  o = {};
  o.resources_per_request = o.items_per_request + 1;
  EXPECT_FALSE(generate_requests(o).ok());
}

}  // namespace
}  // namespace loadgen
