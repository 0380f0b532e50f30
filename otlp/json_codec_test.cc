// One test per OTLP/JSON rule (see json_codec.h), then round trips of random
// requests and a cross-check against protobuf's own JSON mapping.

#include "otlp/json_codec.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>

#include "otlp/errors.h"
#include "otlp/testing/nesting.h"
#include "otlp/testing/random_requests.h"

namespace otlp {
namespace {

namespace metrics = opentelemetry::proto::metrics::v1;
namespace trace = opentelemetry::proto::trace::v1;

std::string json_of(const google::protobuf::Message& m) { return *encode_json(m); }

template <class T>
T decoded(std::string_view json) {
  T out;
  absl::Status status = decode_json(json, out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

absl::Status decode_error(std::string_view json) {
  TracesRequest out;
  return decode_json(json, out);
}

// A span at resourceSpans[0].scopeSpans[0].spans[0] with the given members.
std::string span_json(std::string_view members) {
  return "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{" + std::string(members) + "}]}]}]}";
}

const trace::Span& first_span(const TracesRequest& r) {
  return r.resource_spans(0).scope_spans(0).spans(0);
}

// ---- keys ----------------------------------------------------------------------

TEST(JsonCodec, WritesLowerCamelCaseKeys) {
  TracesRequest r = testing::realistic_traces(1, 1);
  auto* span = r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
  span->set_dropped_attributes_count(3);
  std::string json = json_of(r);
  for (const char* key :
       {"\"resourceSpans\"", "\"scopeSpans\"", "\"traceId\"", "\"spanId\"", "\"startTimeUnixNano\"",
        "\"endTimeUnixNano\"", "\"droppedAttributesCount\"", "\"schemaUrl\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key;
  }
  EXPECT_EQ(json.find("\"resource_spans\""), std::string::npos);
}

TEST(JsonCodec, AcceptsProtoFieldNamesToo) {
  TracesRequest r = decoded<TracesRequest>(
      "{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[{\"name\":\"x\","
      "\"start_time_unix_nano\":\"5\"}]}]}]}");
  EXPECT_EQ(first_span(r).name(), "x");
  EXPECT_EQ(first_span(r).start_time_unix_nano(), 5u);
}

TEST(JsonCodec, IgnoresUnknownKeysAtAnyLevel) {
  TracesRequest r = decoded<TracesRequest>(
      "{\"future\":{\"a\":[1,{\"b\":null}]},\"resourceSpans\":[{\"x\":1,\"scopeSpans\":[{"
      "\"spans\":[{\"name\":\"n\",\"newField\":[[[]]],\"attributes\":[{\"key\":\"k\","
      "\"value\":{\"stringValue\":\"v\",\"futureKind\":{}}}]}]}]}]}");
  EXPECT_EQ(first_span(r).name(), "n");
  EXPECT_EQ(first_span(r).attributes(0).value().string_value(), "v");
}

TEST(JsonCodec, NullMeansAbsent) {
  TracesRequest r = decoded<TracesRequest>(span_json(
      "\"name\":null,\"status\":null,\"attributes\":null,\"traceId\":null,\"kind\":null"));
  EXPECT_EQ(first_span(r).name(), "");
  EXPECT_FALSE(first_span(r).has_status());
}

// ---- ids -------------------------------------------------------------------------

TEST(JsonCodec, IdsAreHexAnyCaseInLowerCaseOut) {
  TracesRequest r = decoded<TracesRequest>(
      span_json("\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"eee19b7ec3c1b174\","
                "\"parentSpanId\":\"EeE19B7EC3C1B173\",\"links\":[{\"traceId\":"
                "\"000102030405060708090A0B0C0D0E0F\",\"spanId\":\"0001020304050607\"}]"));
  const trace::Span& span = first_span(r);
  EXPECT_EQ(span.trace_id(), std::string("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81"
                                         "\x3f\xc6\x0c",
                                         16));
  EXPECT_EQ(span.span_id().size(), 8u);
  EXPECT_EQ(span.links(0).trace_id()[15], '\x0f');
  std::string json = json_of(r);
  EXPECT_NE(json.find("\"traceId\":\"5b8efff798038103d269b633813fc60c\""), std::string::npos);
  EXPECT_NE(json.find("\"spanId\":\"eee19b7ec3c1b174\""), std::string::npos);
  EXPECT_NE(json.find("\"parentSpanId\":\"eee19b7ec3c1b173\""), std::string::npos);
  EXPECT_NE(json.find("\"traceId\":\"000102030405060708090a0b0c0d0e0f\""), std::string::npos);
}

TEST(JsonCodec, IdsInLogsExemplarsAndProfilesAreHex) {
  LogsRequest logs;
  auto* record = logs.add_resource_logs()->add_scope_logs()->add_log_records();
  record->set_trace_id(std::string(16, '\xab'));
  record->set_span_id(std::string(8, '\x01'));
  EXPECT_NE(json_of(logs).find("\"traceId\":\"abababababababababababababababab\""),
            std::string::npos);
  EXPECT_NE(json_of(logs).find("\"spanId\":\"0101010101010101\""), std::string::npos);

  MetricsRequest m;
  auto* e = m.add_resource_metrics()
                ->add_scope_metrics()
                ->add_metrics()
                ->mutable_gauge()
                ->add_data_points()
                ->add_exemplars();
  e->set_span_id(std::string(8, '\xff'));
  EXPECT_NE(json_of(m).find("\"spanId\":\"ffffffffffffffff\""), std::string::npos);

  ProfilesRequest p;
  p.mutable_dictionary()->add_link_table()->set_trace_id(std::string(16, '\x10'));
  p.add_resource_profiles()->add_scope_profiles()->add_profiles()->set_profile_id(
      std::string(16, '\x22'));
  std::string pj = json_of(p);
  EXPECT_NE(pj.find("\"traceId\":\"10101010101010101010101010101010\""), std::string::npos);
  EXPECT_NE(pj.find("\"profileId\":\"22222222222222222222222222222222\""), std::string::npos);
}

TEST(JsonCodec, BadIdNamesItsPath) {
  std::string json =
      "{\"resourceSpans\":[{\"scopeSpans\":[{},{\"spans\":[{},{},{},{\"traceId\":\"xyz1\"}]}]}]}";
  absl::Status status = decode_error(json);
  EXPECT_EQ(error_kind(status), ErrorKind::kMalformed);
  EXPECT_EQ(status.message(), "resourceSpans[0].scopeSpans[1].spans[3].traceId: invalid hex id");
  EXPECT_EQ(error_kind(decode_error(span_json("\"spanId\":\"abc\""))), ErrorKind::kMalformed);
  EXPECT_EQ(error_kind(decode_error(span_json("\"spanId\":12"))), ErrorKind::kMalformed);
}

TEST(JsonCodec, IdsOfTheWrongLengthNameTheirPath) {
  std::string json =
      "{\"resourceSpans\":[{\"scopeSpans\":[{},{\"spans\":[{},{},{},{\"traceId\":\"0102030405\"}]}]"
      "}]}";
  absl::Status status = decode_error(json);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error_kind(status), ErrorKind::kMalformed);
  EXPECT_EQ(status.message(),
            "resourceSpans[0].scopeSpans[1].spans[3].traceId: must be 16 bytes, got 5");
  EXPECT_EQ(decode_error(span_json("\"spanId\":\"0102030405060708090a\"")).message(),
            "resourceSpans[0].scopeSpans[0].spans[0].spanId: must be 8 bytes, got 10");
  EXPECT_EQ(decode_error(span_json("\"parentSpanId\":\"01020304\"")).message(),
            "resourceSpans[0].scopeSpans[0].spans[0].parentSpanId: must be 8 bytes, got 4");
  EXPECT_EQ(decode_error(span_json("\"links\":[{\"traceId\":\"00\"}]")).message(),
            "resourceSpans[0].scopeSpans[0].spans[0].links[0].traceId: must be 16 bytes, got 1");
  // Empty ids are absent ids; exact lengths pass.
  decoded<TracesRequest>(span_json("\"traceId\":\"\",\"spanId\":\"\""));
  decoded<TracesRequest>(span_json(
      "\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\""));

  LogsRequest logs;
  absl::Status log_status = decode_json(
      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":"
      "\"5b8efff798038103d269b633813fc60c00\"}]}]}]}",
      logs);
  EXPECT_EQ(log_status.message(),
            "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: must be 16 bytes, got 17");
}

// ---- enums -------------------------------------------------------------------------

TEST(JsonCodec, EnumsAreIntegersOutNamesOrIntegersIn) {
  TracesRequest r =
      decoded<TracesRequest>(span_json("\"kind\":\"SPAN_KIND_CLIENT\",\"status\":{\"code\":2}"));
  EXPECT_EQ(first_span(r).kind(), trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(first_span(r).status().code(), trace::Status::STATUS_CODE_ERROR);
  std::string json = json_of(r);
  EXPECT_NE(json.find("\"kind\":3"), std::string::npos);
  EXPECT_NE(json.find("\"code\":2"), std::string::npos);
  // Values this build does not know are kept (proto3 enums are open).
  EXPECT_EQ(first_span(decoded<TracesRequest>(span_json("\"kind\":42"))).kind(), 42);
  absl::Status status = decode_error(span_json("\"kind\":\"SPAN_KIND_BOGUS\""));
  EXPECT_EQ(status.message(),
            "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown enum value \"SPAN_KIND_BOGUS\"");
}

// ---- integers ------------------------------------------------------------------------

TEST(JsonCodec, SixtyFourBitIntegersAreStringsOutStringsOrNumbersIn) {
  TracesRequest r = decoded<TracesRequest>(span_json(
      "\"startTimeUnixNano\":\"18446744073709551615\",\"endTimeUnixNano\":1544712661000000000,"
      "\"attributes\":[{\"key\":\"a\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
      "{\"key\":\"b\",\"value\":{\"intValue\":9223372036854775807}},"
      "{\"key\":\"c\",\"value\":{\"intValue\":1e3}}]"));
  const trace::Span& span = first_span(r);
  EXPECT_EQ(span.start_time_unix_nano(), UINT64_MAX);
  EXPECT_EQ(span.end_time_unix_nano(), 1544712661000000000u);
  EXPECT_EQ(span.attributes(0).value().int_value(), INT64_MIN);
  EXPECT_EQ(span.attributes(1).value().int_value(), INT64_MAX);
  EXPECT_EQ(span.attributes(2).value().int_value(), 1000);
  std::string json = json_of(r);
  EXPECT_NE(json.find("\"startTimeUnixNano\":\"18446744073709551615\""), std::string::npos);
  EXPECT_NE(json.find("\"endTimeUnixNano\":\"1544712661000000000\""), std::string::npos);
  EXPECT_NE(json.find("\"intValue\":\"-9223372036854775808\""), std::string::npos);
}

TEST(JsonCodec, ThirtyTwoBitIntegersAreNumbersOut) {
  TracesRequest r =
      decoded<TracesRequest>(span_json("\"droppedAttributesCount\":\"7\",\"flags\":257"));
  EXPECT_EQ(first_span(r).dropped_attributes_count(), 7u);
  std::string json = json_of(r);
  EXPECT_NE(json.find("\"droppedAttributesCount\":7"), std::string::npos);
  EXPECT_NE(json.find("\"flags\":257"), std::string::npos);
}

TEST(JsonCodec, OutOfRangeOrNonIntegralNumbersAreRejected) {
  for (const char* bad :
       {"\"droppedAttributesCount\":-1", "\"droppedAttributesCount\":4294967296",
        "\"startTimeUnixNano\":\"-1\"", "\"startTimeUnixNano\":1.5",
        "\"startTimeUnixNano\":\"18446744073709551616\"", "\"startTimeUnixNano\":\" 1\"",
        "\"startTimeUnixNano\":true", "\"kind\":2147483648"}) {
    EXPECT_EQ(error_kind(decode_error(span_json(bad))), ErrorKind::kMalformed) << bad;
  }
}

// ---- doubles ---------------------------------------------------------------------------

TEST(JsonCodec, NonFiniteDoublesAreStrings) {
  MetricsRequest m = decoded<MetricsRequest>(
      "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"gauge\":{\"dataPoints\":["
      "{\"asDouble\":\"NaN\"},{\"asDouble\":\"Infinity\"},{\"asDouble\":\"-Infinity\"},"
      "{\"asDouble\":\"2.5\"},{\"asDouble\":-0.0},{\"asDouble\":1e308}]}}]}]}]}");
  const auto& points = m.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points();
  EXPECT_TRUE(std::isnan(points[0].as_double()));
  EXPECT_EQ(points[1].as_double(), INFINITY);
  EXPECT_EQ(points[2].as_double(), -INFINITY);
  EXPECT_EQ(points[3].as_double(), 2.5);
  EXPECT_TRUE(std::signbit(points[4].as_double()));
  std::string json = json_of(m);
  EXPECT_NE(json.find("\"asDouble\":\"NaN\""), std::string::npos);
  EXPECT_NE(json.find("\"asDouble\":\"Infinity\""), std::string::npos);
  EXPECT_NE(json.find("\"asDouble\":\"-Infinity\""), std::string::npos);
  EXPECT_NE(json.find("\"asDouble\":2.5"), std::string::npos);
  EXPECT_NE(json.find("\"asDouble\":-0"), std::string::npos);
  MetricsRequest back = decoded<MetricsRequest>(json);
  EXPECT_EQ(back.SerializeAsString(), m.SerializeAsString());
}

TEST(JsonCodec, DoublesReadBackBitForBit) {
  MetricsRequest m;
  auto* gauge = m.add_resource_metrics()->add_scope_metrics()->add_metrics()->mutable_gauge();
  for (double d : {0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, 123456789012345678.0,
                   -2.2250738585072014e-308, 1e21, 9007199254740993.0}) {
    gauge->add_data_points()->set_as_double(d);
  }
  EXPECT_EQ(decoded<MetricsRequest>(json_of(m)).SerializeAsString(), m.SerializeAsString());
}

TEST(JsonCodec, HugeIntegralDoublesAreReadAndWrittenSafely) {
  // Found by fuzzing: -78398662313265594368.0 was written as an integer
  // literal that JSON parsers refuse. JavaScript writes 1e20 the same way.
  MetricsRequest m;
  auto* gauge = m.add_resource_metrics()->add_scope_metrics()->add_metrics()->mutable_gauge();
  for (double d : {-78398662313265594368.0, 1e20, 1e18, 123456789012345678901234.0, -1e300}) {
    gauge->add_data_points()->set_as_double(d);
  }
  std::string json = json_of(m);
  EXPECT_NE(json.find("{\"asDouble\":-7.83986623132656e+19}"), std::string::npos) << json;
  EXPECT_EQ(decoded<MetricsRequest>(json).SerializeAsString(), m.SerializeAsString());

  MetricsRequest js = decoded<MetricsRequest>(
      "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"gauge\":{\"dataPoints\":["
      "{\"asDouble\":100000000000000000000,\"attributes\":[{\"key\":\"12345678901234567890123\","
      "\"value\":{\"stringValue\":\"-99999999999999999999\\\"\"}}]}]}}]}]}]}");
  const auto& point = js.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points(0);
  EXPECT_EQ(point.as_double(), 1e20);
  EXPECT_EQ(point.attributes(0).key(), "12345678901234567890123");  // strings untouched
  EXPECT_EQ(point.attributes(0).value().string_value(), "-99999999999999999999\"");
  // Integer fields still refuse what does not fit.
  EXPECT_EQ(error_kind(decode_error(span_json("\"startTimeUnixNano\":100000000000000000000"))),
            ErrorKind::kMalformed);
}

// ---- bytes -------------------------------------------------------------------------------

TEST(JsonCodec, OtherBytesAreBase64AnyAlphabetPaddedOrNot) {
  const std::string raw("\xfb\xff\xfe\x00\x01", 5);  // needs '+' / '/' in standard base64
  for (const char* text : {"+//+AAE=", "+//+AAE", "-__-AAE=", "-__-AAE"}) {
    TracesRequest r = decoded<TracesRequest>(
        span_json(std::string("\"attributes\":[{\"key\":\"b\",\"value\":{\"bytesValue\":\"") +
                  text + "\"}}]"));
    EXPECT_EQ(first_span(r).attributes(0).value().bytes_value(), raw) << text;
    EXPECT_NE(json_of(r).find("\"bytesValue\":\"+//+AAE=\""), std::string::npos);
  }
  for (const char* bad : {"+//+AAE==", "-_/+AAE=", "A", "AB=C", "@@@@"}) {
    absl::Status status = decode_error(
        span_json(std::string("\"attributes\":[{\"key\":\"b\",\"value\":{\"bytesValue\":\"") + bad +
                  "\"}}]"));
    EXPECT_EQ(status.message(),
              "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.bytesValue: invalid "
              "base64")
        << bad;
  }
}

// ---- optional presence ----------------------------------------------------------------------

TEST(JsonCodec, OptionalFieldsKeepPresence) {
  MetricsRequest m;
  auto* hist = m.add_resource_metrics()->add_scope_metrics()->add_metrics()->mutable_histogram();
  auto* with_zero = hist->add_data_points();
  with_zero->set_sum(0);
  with_zero->set_min(0);
  with_zero->set_max(0);
  hist->add_data_points();  // sum, min and max absent
  auto* expo = m.mutable_resource_metrics(0)
                   ->mutable_scope_metrics(0)
                   ->add_metrics()
                   ->mutable_exponential_histogram()
                   ->add_data_points();
  expo->set_min(0);

  std::string json = json_of(m);
  EXPECT_NE(json.find("{\"sum\":0,\"min\":0,\"max\":0}"), std::string::npos) << json;
  MetricsRequest back = decoded<MetricsRequest>(json);
  const auto& points =
      back.resource_metrics(0).scope_metrics(0).metrics(0).histogram().data_points();
  EXPECT_TRUE(points[0].has_sum());
  EXPECT_TRUE(points[0].has_min());
  EXPECT_TRUE(points[0].has_max());
  EXPECT_FALSE(points[1].has_sum());
  EXPECT_FALSE(points[1].has_min());
  EXPECT_FALSE(points[1].has_max());
  const auto& expo_back =
      back.resource_metrics(0).scope_metrics(0).metrics(1).exponential_histogram().data_points(0);
  EXPECT_TRUE(expo_back.has_min());
  EXPECT_FALSE(expo_back.has_max());
  EXPECT_EQ(back.SerializeAsString(), m.SerializeAsString());
}

TEST(JsonCodec, NonOptionalDefaultsAreOmitted) {
  MetricsRequest m;
  auto* summary = m.add_resource_metrics()->add_scope_metrics()->add_metrics()->mutable_summary();
  summary->add_data_points()->set_sum(0);  // SummaryDataPoint.sum has no presence
  EXPECT_EQ(json_of(m),
            "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"summary\":{\"dataPoints\":"
            "[{}]}}]}]}]}");
}

// ---- AnyValue ---------------------------------------------------------------------------------

TEST(JsonCodec, EveryAnyValueKindRoundTrips) {
  const std::string attrs =
      "\"attributes\":["
      "{\"key\":\"empty\",\"value\":{}},"
      "{\"key\":\"no-value\"},"
      "{\"key\":\"s\",\"value\":{\"stringValue\":\"\"}},"
      "{\"key\":\"b\",\"value\":{\"boolValue\":false}},"
      "{\"key\":\"i\",\"value\":{\"intValue\":\"0\"}},"
      "{\"key\":\"d\",\"value\":{\"doubleValue\":0}},"
      "{\"key\":\"y\",\"value\":{\"bytesValue\":\"\"}},"
      "{\"key\":\"a\",\"value\":{\"arrayValue\":{\"values\":[{\"arrayValue\":{}},"
      "{\"arrayValue\":{\"values\":[{\"stringValue\":\"deep\"},{}]}}]}}},"
      "{\"key\":\"k\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"x\",\"value\":"
      "{\"kvlistValue\":{\"values\":[{\"key\":\"y\",\"value\":{\"intValue\":\"-1\"}}]}}}]}}},"
      "{\"key\":\"kv-empty\",\"value\":{\"kvlistValue\":{}}}]";
  TracesRequest r = decoded<TracesRequest>(span_json(attrs));
  const auto& a = first_span(r).attributes();
  ASSERT_EQ(a.size(), 10);
  EXPECT_TRUE(a[0].has_value());
  EXPECT_EQ(a[0].value().value_case(), opentelemetry::proto::common::v1::AnyValue::VALUE_NOT_SET);
  EXPECT_FALSE(a[1].has_value());
  EXPECT_TRUE(a[2].value().has_string_value());
  EXPECT_TRUE(a[3].value().has_bool_value());
  EXPECT_TRUE(a[4].value().has_int_value());
  EXPECT_TRUE(a[5].value().has_double_value());
  EXPECT_TRUE(a[6].value().has_bytes_value());
  EXPECT_EQ(a[7].value().array_value().values(1).array_value().values(0).string_value(), "deep");
  EXPECT_EQ(
      a[8].value().kvlist_value().values(0).value().kvlist_value().values(0).value().int_value(),
      -1);
  EXPECT_TRUE(a[9].value().has_kvlist_value());
  // The writer produces the same members back, including the zero-valued ones.
  std::string json = json_of(r);
  EXPECT_NE(json.find(attrs), std::string::npos) << json;
  EXPECT_EQ(decoded<TracesRequest>(json).SerializeAsString(), r.SerializeAsString());
}

TEST(JsonCodec, StringsAreEscapedAndUnicodeKept) {
  TracesRequest r;
  r.add_resource_spans()->add_scope_spans()->add_spans()->set_name(
      std::string("q\"b\\n\n\t\x01\x1f é 日本 🙂 \x7f", 27));
  std::string json = json_of(r);
  EXPECT_NE(json.find(R"("name":"q\"b\\n\n\t\u0001\u001f é 日本 🙂 )"), std::string::npos)
      << json;
  EXPECT_EQ(decoded<TracesRequest>(json).SerializeAsString(), r.SerializeAsString());
  // \u escapes, surrogate pairs included, are read.
  EXPECT_EQ(first_span(decoded<TracesRequest>(span_json(R"("name":"\u00e9\ud83d\ude42")"))).name(),
            "é🙂");
}

// ---- errors and limits ------------------------------------------------------------------------

TEST(JsonCodec, ErrorsNameThePath) {
  absl::Status status = decode_error(
      "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"k\",\"value\":{"
      "\"boolValue\":\"yes\"}}]}}]}");
  EXPECT_EQ(status.message(),
            "resourceSpans[0].resource.attributes[0].value.boolValue: expected true or false");
  EXPECT_EQ(decode_error("[]").message(), "(root): expected an object");
  EXPECT_EQ(decode_error("{\"resourceSpans\":{}}").message(), "resourceSpans: expected an array");
  EXPECT_EQ(decode_error("{\"resourceSpans\":[null]}").message(),
            "resourceSpans[0]: null is not allowed in an array");
  EXPECT_EQ(error_kind(decode_error("{\"resourceSpans\":[")), ErrorKind::kMalformed);
  EXPECT_EQ(error_kind(decode_error("")), ErrorKind::kMalformed);
  EXPECT_EQ(error_kind(decode_error("{} {}")), ErrorKind::kMalformed);
  EXPECT_EQ(error_kind(decode_error("{\"a\":\"\xff\"}")), ErrorKind::kMalformed);
}

TEST(JsonCodec, MessageSizeLimitIsItsOwnError) {
  std::string json = json_of(testing::random_traces(1));
  TracesRequest out;
  DecodeLimits limits;
  limits.max_message_bytes = json.size();
  EXPECT_TRUE(decode_json(json, out, limits).ok());
  limits.max_message_bytes = json.size() - 1;
  EXPECT_EQ(error_kind(decode_json(json, out, limits)), ErrorKind::kMessageTooLarge);
}

TEST(JsonCodec, AnyValueDepthLimitIsItsOwnError) {
  for (bool kvlist : {false, true}) {
    DecodeLimits limits;
    limits.max_any_value_depth = 8;
    LogsRequest ok_request;
    testing::nest_any_value(
        *ok_request.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body(), 8,
        kvlist);
    LogsRequest out;
    EXPECT_TRUE(decode_json(json_of(ok_request), out, limits).ok());
    LogsRequest deep;
    testing::nest_any_value(
        *deep.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body(), 9, kvlist);
    absl::Status status = decode_json(json_of(deep), out, limits);
    EXPECT_EQ(error_kind(status), ErrorKind::kNestingTooDeep) << status;
  }
}

TEST(JsonCodec, HostileJsonNestingIsRefused) {
  std::string json = "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(error_kind(decode_error(json)), ErrorKind::kNestingTooDeep);
}

// ---- round trips and cross-checks ---------------------------------------------------------------

TEST(JsonCodec, RandomRequestsRoundTripExactly) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 30; ++seed) {
      auto original = testing::random_request(signal, seed);
      for (bool pretty : {false, true}) {
        std::string json = *encode_json(*original, JsonEncodeOptions{pretty});
        auto back = new_request(signal);
        absl::Status status = decode_json(json, *back);
        ASSERT_TRUE(status.ok()) << status << "\n" << json;
        EXPECT_EQ(back->SerializeAsString(), original->SerializeAsString())
            << signal_name(signal) << " seed " << seed;
        EXPECT_EQ(*encode_json(*back, JsonEncodeOptions{pretty}), json);
      }
    }
  }
}

// Bytes fields are where OTLP/JSON departs from proto3 JSON (hex ids); with them
// cleared, protobuf's own mapping must agree with ours in both directions.
// Negative zeros are cleared too: protobuf writes -0.0 as the integer "-0",
// which a JSON parser (simdjson, and so we) reads as the integer 0.
void clear_bytes_fields(google::protobuf::Message& m) {
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->type() == google::protobuf::FieldDescriptor::TYPE_BYTES) {
      r->ClearField(&m, f);
    } else if (f->type() == google::protobuf::FieldDescriptor::TYPE_DOUBLE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          if (r->GetRepeatedDouble(m, f, i) == 0) r->SetRepeatedDouble(&m, f, i, 0.0);
        }
      } else if (r->GetDouble(m, f) == 0) {
        r->SetDouble(&m, f, 0.0);
      }
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          clear_bytes_fields(*r->MutableRepeatedMessage(&m, f, i));
        }
      } else {
        clear_bytes_fields(*r->MutableMessage(&m, f));
      }
    }
  }
}

TEST(JsonCodec, AgreesWithProtobufJsonMappingWhereOtlpDoesNotDepart) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      auto original = testing::random_request(signal, seed);
      clear_bytes_fields(*original);
      auto theirs = new_request(signal);
      ASSERT_TRUE(
          google::protobuf::util::JsonStringToMessage(*encode_json(*original), theirs.get()).ok());
      EXPECT_EQ(theirs->SerializeAsString(), original->SerializeAsString());
      std::string their_json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*original, &their_json).ok());
      auto ours = new_request(signal);
      ASSERT_TRUE(decode_json(their_json, *ours).ok());
      EXPECT_EQ(ours->SerializeAsString(), original->SerializeAsString()) << their_json;
    }
  }
}

}  // namespace
}  // namespace otlp
