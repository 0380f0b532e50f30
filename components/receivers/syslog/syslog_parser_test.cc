#include "components/receivers/syslog/syslog_parser.h"

#include <gtest/gtest.h>

#include <map>

namespace components {
namespace {

constexpr std::int64_t kNow = 1'764'576'000'000'000'000;  // 2025-12-01T08:00:00Z

// The record's attributes as strings (ints printed), structured data flattened "id.param".
std::map<std::string, std::string> attrs(const SyslogRecord& r) {
  std::map<std::string, std::string> out;
  for (const auto& kv : r.attributes()) {
    const auto& v = kv.value();
    if (v.has_int_value()) {
      out[kv.key()] = std::to_string(v.int_value());
    } else if (v.has_string_value()) {
      out[kv.key()] = v.string_value();
    } else if (v.has_kvlist_value()) {
      for (const auto& element : v.kvlist_value().values()) {
        for (const auto& param : element.value().kvlist_value().values()) {
          out[kv.key() + "." + element.key() + "." + param.key()] = param.value().string_value();
        }
      }
    }
  }
  return out;
}

TEST(SyslogParser, Rfc5424WithStructuredDataAndFraction) {
  SyslogRecord r;
  const std::string line =
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Appli\\\"cation\"][other@1 a=\"b\\]\"] "
      "\xEF\xBB\xBF"
      "An application event";
  ASSERT_TRUE(parse_syslog(line, {}, kNow, r).ok());
  EXPECT_EQ(r.body().string_value(), line);
  EXPECT_EQ(r.time_unix_nano(), 1'065'910'455'003'000'000u);
  EXPECT_EQ(r.observed_time_unix_nano(), static_cast<std::uint64_t>(kNow));
  EXPECT_EQ(r.severity_number(), 10);  // notice
  EXPECT_EQ(r.severity_text(), "notice");
  const auto a = attrs(r);
  EXPECT_EQ(a.at("priority"), "165");
  EXPECT_EQ(a.at("facility"), "20");
  EXPECT_EQ(a.at("version"), "1");
  EXPECT_EQ(a.at("hostname"), "mymachine.example.com");
  EXPECT_EQ(a.at("appname"), "evntslog");
  EXPECT_EQ(a.count("proc_id"), 0u) << "NILVALUE is absent";
  EXPECT_EQ(a.at("msg_id"), "ID47");
  EXPECT_EQ(a.at("structured_data.exampleSDID@32473.iut"), "3");
  EXPECT_EQ(a.at("structured_data.exampleSDID@32473.eventSource"), "Appli\"cation");
  EXPECT_EQ(a.at("structured_data.other@1.a"), "b]");
  EXPECT_EQ(a.at("message"), "An application event");
}

TEST(SyslogParser, Rfc5424ZoneOffsetsAndNilTimestamp) {
  SyslogRecord r;
  ASSERT_TRUE(
      parse_syslog("<34>1 2003-08-24T05:14:15.000003-07:00 host app 123 - - msg", {}, kNow, r)
          .ok());
  EXPECT_EQ(r.time_unix_nano(), 1'061'727'255'000'003'000u);
  EXPECT_EQ(attrs(r).at("proc_id"), "123");
  EXPECT_EQ(r.severity_text(), "crit");
  ASSERT_TRUE(parse_syslog("<14>1 - - - - - -", {}, kNow, r).ok());
  EXPECT_EQ(r.time_unix_nano(), static_cast<std::uint64_t>(kNow)) << "no timestamp: when seen";
  EXPECT_EQ(attrs(r).count("message"), 0u);
}

TEST(SyslogParser, Rfc3164AsLoggerSendsIt) {
  SyslogParseOptions o;
  o.protocol = SyslogProtocol::kRfc3164;
  SyslogRecord r;
  ASSERT_TRUE(
      parse_syslog("<13>Dec  1 07:59:58 web-1 myapp[4242]: user logged in\n", o, kNow, r).ok());
  // 2025-12-01T07:59:58Z: the year is the current one.
  EXPECT_EQ(r.time_unix_nano(), 1'764'575'998'000'000'000u);
  const auto a = attrs(r);
  EXPECT_EQ(a.at("hostname"), "web-1");
  EXPECT_EQ(a.at("appname"), "myapp");
  EXPECT_EQ(a.at("proc_id"), "4242");
  EXPECT_EQ(a.at("message"), "user logged in");
  EXPECT_EQ(a.at("facility"), "1");
  EXPECT_EQ(r.severity_text(), "notice");
  EXPECT_EQ(r.body().string_value(), "<13>Dec  1 07:59:58 web-1 myapp[4242]: user logged in");
  // Without a pid, and a December message read on the first of January is last year's.
  constexpr std::int64_t kNewYear = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
  ASSERT_TRUE(parse_syslog("<13>Dec 31 23:59:59 host cron: ran", o, kNewYear, r).ok());
  EXPECT_EQ(r.time_unix_nano(), 1'767'225'599'000'000'000u);
  EXPECT_EQ(attrs(r).at("appname"), "cron");
  EXPECT_EQ(attrs(r).count("proc_id"), 0u);
}

TEST(SyslogParser, SeverityTableCoversEveryLevel) {
  const int expected[] = {21, 19, 18, 17, 13, 10, 9, 5};
  for (int s = 0; s < 8; ++s) EXPECT_EQ(syslog_severity_number(s), expected[s]) << s;
  EXPECT_EQ(syslog_severity_text(0), "emerg");
  EXPECT_EQ(syslog_severity_text(7), "debug");
}

TEST(SyslogParser, MalformedLinesSayWhatIsWrongAndNeverReadPastTheEnd) {
  SyslogRecord r;
  for (const char* line :
       {"", "no pri", "<>1 -", "<999>1 - - - - - -", "<13", "<13>", "<13>1",
        "<13>1 2003-13-01T00:00:00Z h a p m -", "<13>1 2003-10-11T22:14:15 h a p m -",
        "<13>1 - h a p m [unterminated", "<13>1 - h a p m [id a=\"open", "<13>1 - h a p m junk"}) {
    absl::Status s = parse_syslog(line, {}, kNow, r);
    EXPECT_FALSE(s.ok()) << line;
    EXPECT_NE(s.message().find("syslog:"), std::string_view::npos) << s;
    EXPECT_EQ(r.body().string_value(), std::string(line)) << "the body is kept";
  }
  SyslogParseOptions bsd;
  bsd.protocol = SyslogProtocol::kRfc3164;
  for (const char* line : {"<13>Foo  1 00:00:00 h t: m", "<13>Dec 1", "<13>Dec 32 00:00:00 h",
                           "<13>Dec  1 25:00:00 h"}) {
    EXPECT_FALSE(parse_syslog(line, bsd, kNow, r).ok()) << line;
  }
  // Every prefix of a good line: an answer, never a read past the end (ASan checks).
  const std::string good = "<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a@1 k=\"v\"] message";
  for (std::size_t n = 0; n <= good.size(); ++n) (void)parse_syslog(good.substr(0, n), {}, kNow, r);
}

TEST(SyslogParser, BytesThatAreNotUtf8BecomeReplacementCharactersSoTheRecordEncodes) {
  SyslogRecord r;
  SyslogParseOptions rfc3164;
  rfc3164.protocol = SyslogProtocol::kRfc3164;
  const std::string line = "<34>Oct 11 22:14:15 my\x96\x9Chost su: caf\xC3\xA9 \xFF done";
  ASSERT_TRUE(parse_syslog(line, rfc3164, kNow, r).ok());
  EXPECT_EQ(r.body().string_value(),
            "<34>Oct 11 22:14:15 my\xEF\xBF\xBD\xEF\xBF\xBDhost su: caf\xC3\xA9 \xEF\xBF\xBD done");
  std::string bytes;
  EXPECT_TRUE(r.SerializeToString(&bytes));  // protobuf refuses strings that are not UTF-8
}

}  // namespace
}  // namespace components
