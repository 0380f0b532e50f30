#include "components/receivers/statsd/statsd_parser.h"

#include <gtest/gtest.h>

namespace components {
namespace {

TEST(StatsdParser, EveryTypeWithRatesAndTags) {
  auto c = parse_statsd_line("page.views:3|c|@0.5|#env:prod,region:eu,canary");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "page.views");
  EXPECT_EQ(c->type, StatsdType::kCounter);
  EXPECT_EQ(c->value, 3);
  EXPECT_EQ(c->sample_rate, 0.5);
  using Tags = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(c->tags, (Tags{{"canary", ""}, {"env", "prod"}, {"region", "eu"}}));

  auto g = parse_statsd_line("queue.depth:-4|g");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->relative);
  EXPECT_EQ(g->value, -4);
  auto g2 = parse_statsd_line("queue.depth:+4.5|g");
  ASSERT_TRUE(g2.ok());
  EXPECT_TRUE(g2->relative);
  EXPECT_EQ(g2->value, 4.5);
  EXPECT_FALSE(parse_statsd_line("queue.depth:7|g")->relative);

  EXPECT_EQ(parse_statsd_line("rt:320|ms")->type, StatsdType::kTimer);
  EXPECT_EQ(parse_statsd_line("size:12|h")->type, StatsdType::kHistogram);
  EXPECT_EQ(parse_statsd_line("lat:0.25|d|#a:b|c:container123|T1656581400")->type,
            StatsdType::kDistribution);
  auto s = parse_statsd_line("users:alice|s");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type, StatsdType::kSet);
  EXPECT_EQ(s->set_member, "alice");
  EXPECT_EQ(parse_statsd_line("x:1|c\r")->value, 1) << "a CRLF sender's CR is dropped";
}

TEST(StatsdParser, MalformedLinesSayWhy) {
  for (const char* line :
       {"", "novalue", ":1|c", "x:1", "x|c", "x:1|q", "x:abc|c", "x:nan|g", "x:inf|ms", "x:1|c|@0",
        "x:1|c|@2", "x:1|c|@x", "x:|s", "x:1|c|#:v", "x:0x10|c"}) {
    auto r = parse_statsd_line(line);
    EXPECT_FALSE(r.ok()) << line;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("statsd:"), std::string_view::npos);
    }
  }
}

}  // namespace
}  // namespace components
