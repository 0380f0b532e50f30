#include "otlp/binary_codec.h"

#include <gtest/gtest.h>

#include "otlp/errors.h"
#include "otlp/internal/wire_format.h"
#include "otlp/testing/nesting.h"
#include "otlp/testing/random_requests.h"

namespace otlp {
namespace {

using testing::nest_any_value;

LogsRequest log_with_body_depth(int depth, bool kvlist) {
  LogsRequest request;
  auto* record = request.add_resource_logs()->add_scope_logs()->add_log_records();
  nest_any_value(*record->mutable_body(), depth, kvlist);
  return request;
}

TracesRequest span_with_attribute_depth(int depth, bool kvlist) {
  TracesRequest request;
  auto* span = request.add_resource_spans()->add_scope_spans()->add_spans();
  auto* kv = span->add_attributes();
  kv->set_key("deep");
  nest_any_value(*kv->mutable_value(), depth, kvlist);
  return request;
}

TEST(BinaryCodec, RoundTripsEverySignal) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      auto original = testing::random_request(signal, seed);
      absl::StatusOr<std::string> bytes = encode_binary(*original);
      ASSERT_TRUE(bytes.ok());
      auto decoded = new_request(signal);
      ASSERT_TRUE(decode_binary(*bytes, *decoded).ok()) << signal_name(signal) << seed;
      EXPECT_EQ(decoded->SerializeAsString(), *bytes);
    }
  }
}

TEST(BinaryCodec, DecodesOntoAnArena) {
  TracesRequest original = testing::realistic_traces(10, 3);
  std::string bytes = original.SerializeAsString();
  google::protobuf::Arena arena;
  absl::StatusOr<TracesRequest*> decoded = decode_binary_on_arena<TracesRequest>(bytes, arena);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)->GetArena(), &arena);
  EXPECT_EQ((*decoded)->resource_spans(0).scope_spans(0).spans(0).GetArena(), &arena);
  EXPECT_EQ((*decoded)->SerializeAsString(), bytes);
}

TEST(BinaryCodec, EncodeAppendKeepsWhatWasThere) {
  TracesRequest request = testing::random_traces(3);
  std::string out = "prefix";
  ASSERT_TRUE(encode_binary_append(request, out).ok());
  EXPECT_EQ(out, "prefix" + request.SerializeAsString());
}

TEST(BinaryCodec, MessageSizeLimitIsItsOwnError) {
  std::string bytes = testing::random_traces(5).SerializeAsString();
  TracesRequest out;
  DecodeLimits limits;
  limits.max_message_bytes = bytes.size();
  EXPECT_TRUE(decode_binary(bytes, out, limits).ok());
  limits.max_message_bytes = bytes.size() - 1;
  absl::Status status = decode_binary(bytes, out, limits);
  EXPECT_EQ(error_kind(status), ErrorKind::kMessageTooLarge);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(status.message()).find("exceeds the limit"), std::string::npos);
}

TEST(BinaryCodec, AnyValueDepthLimitIsExactForArraysAndKvlists) {
  for (bool kvlist : {false, true}) {
    DecodeLimits limits;
    limits.max_any_value_depth = 10;
    LogsRequest out;
    std::string at_limit = log_with_body_depth(10, kvlist).SerializeAsString();
    EXPECT_TRUE(decode_binary(at_limit, out, limits).ok()) << kvlist;
    std::string above = log_with_body_depth(11, kvlist).SerializeAsString();
    absl::Status status = decode_binary(above, out, limits);
    EXPECT_EQ(error_kind(status), ErrorKind::kNestingTooDeep) << status;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);

    TracesRequest spans;
    EXPECT_TRUE(
        decode_binary(span_with_attribute_depth(10, kvlist).SerializeAsString(), spans, limits)
            .ok());
    EXPECT_EQ(error_kind(decode_binary(span_with_attribute_depth(11, kvlist).SerializeAsString(),
                                       spans, limits)),
              ErrorKind::kNestingTooDeep);
  }
}

TEST(BinaryCodec, DefaultDepthLimitAcceptsWhatProtobufAloneWouldRefuse) {
  // 64 array levels are 128 nested messages: above protobuf's default of 100.
  LogsRequest out;
  std::string bytes = log_with_body_depth(kDefaultMaxAnyValueDepth, false).SerializeAsString();
  EXPECT_TRUE(decode_binary(bytes, out).ok());
}

TEST(BinaryCodec, HostileNestingIsRefusedWithoutRecursingIntoIt) {
  // 5000 levels of AnyValue{array_value{values{...}}}, written by hand: far
  // past any recursion limit.
  std::string value;
  for (int i = 0; i < 5000; ++i) {
    std::string array;
    internal::append_len_field(array, 1, value);  // ArrayValue.values
    std::string any;
    internal::append_len_field(any, 5, array);  // AnyValue.array_value
    value.swap(any);
  }
  std::string record;
  internal::append_len_field(record, 5, value);  // LogRecord.body
  std::string scope;
  internal::append_len_field(scope, 2, record);
  std::string resource;
  internal::append_len_field(resource, 2, scope);
  std::string request;
  internal::append_len_field(request, 1, resource);
  LogsRequest out;
  EXPECT_EQ(error_kind(decode_binary(request, out)), ErrorKind::kNestingTooDeep);
}

TEST(BinaryCodec, MalformedInputIsAnErrorValue) {
  std::string bytes = testing::random_metrics(9).SerializeAsString();
  MetricsRequest out;
  for (size_t cut : {size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    absl::Status status = decode_binary(std::string_view(bytes).substr(0, cut), out);
    EXPECT_EQ(error_kind(status), ErrorKind::kMalformed) << cut;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(error_kind(decode_binary("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", out)),
            ErrorKind::kMalformed);
  EXPECT_EQ(error_kind(decode_binary(std::string("\x00", 1), out)), ErrorKind::kMalformed);
}

TEST(BinaryCodec, InvalidUtf8InAStringIsMalformed) {
  TracesRequest request;
  request.add_resource_spans()->add_scope_spans()->add_spans()->set_name("ok");
  std::string bytes = request.SerializeAsString();
  bytes[bytes.size() - 1] = '\xff';  // last byte of the span name
  TracesRequest out;
  EXPECT_EQ(error_kind(decode_binary(bytes, out)), ErrorKind::kMalformed);
}

TEST(BinaryCodec, EmptyInputIsAnEmptyRequest) {
  TracesRequest out;
  EXPECT_TRUE(decode_binary("", out).ok());
  EXPECT_EQ(out.resource_spans_size(), 0);
}

TEST(BinaryCodec, UnknownFieldsSurviveARoundTrip) {
  std::string bytes = testing::random_logs(4).SerializeAsString();
  bytes += std::string("\xa8\x1f\x07", 3);  // field 501, varint 7
  LogsRequest out;
  ASSERT_TRUE(decode_binary(bytes, out).ok());
  EXPECT_EQ(*encode_binary(out), bytes);
}

// ---- id lengths --------------------------------------------------------------------

absl::Status decode_bytes_of(const google::protobuf::Message& m, google::protobuf::Message& out) {
  return decode_binary(m.SerializeAsString(), out);
}

TEST(BinaryCodec, SpanIdsOfTheWrongLengthNameTheirPath) {
  TracesRequest request;
  auto* rs = request.add_resource_spans();
  rs->add_scope_spans();
  auto* ss = rs->add_scope_spans();
  for (int i = 0; i < 4; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, '\x01'));
    span->set_span_id(std::string(8, '\x02'));
  }
  TracesRequest out;
  ASSERT_TRUE(decode_bytes_of(request, out).ok());
  ss->mutable_spans(3)->set_trace_id("12345");
  absl::Status status = decode_bytes_of(request, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error_kind(status), ErrorKind::kMalformed);
  EXPECT_EQ(status.message(),
            "resourceSpans[0].scopeSpans[1].spans[3].traceId: must be 16 bytes, got 5");

  ss->mutable_spans(3)->set_trace_id(std::string(16, '\x01'));
  ss->mutable_spans(2)->set_parent_span_id(std::string(9, '\x03'));
  EXPECT_EQ(decode_bytes_of(request, out).message(),
            "resourceSpans[0].scopeSpans[1].spans[2].parentSpanId: must be 8 bytes, got 9");

  ss->mutable_spans(2)->clear_parent_span_id();
  ss->mutable_spans(1)->set_span_id(std::string(16, '\x02'));
  EXPECT_EQ(decode_bytes_of(request, out).message(),
            "resourceSpans[0].scopeSpans[1].spans[1].spanId: must be 8 bytes, got 16");

  ss->mutable_spans(1)->set_span_id(std::string(8, '\x02'));
  auto* link = ss->mutable_spans(0)->add_links();
  link->set_trace_id(std::string(16, '\x04'));
  link->set_span_id(std::string(8, '\x05'));
  ASSERT_TRUE(decode_bytes_of(request, out).ok());
  ss->mutable_spans(0)->add_links()->set_trace_id(std::string(17, '\x04'));
  EXPECT_EQ(decode_bytes_of(request, out).message(),
            "resourceSpans[0].scopeSpans[1].spans[0].links[1].traceId: must be 16 bytes, got 17");
}

TEST(BinaryCodec, EmptyIdsAreAbsentAndValid) {
  TracesRequest request;
  auto* span = request.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_name("no ids");
  span->add_links();
  TracesRequest out;
  EXPECT_TRUE(decode_bytes_of(request, out).ok());
}

TEST(BinaryCodec, LogAndExemplarAndProfileIdsAreChecked) {
  LogsRequest logs;
  auto* record = logs.add_resource_logs()->add_scope_logs()->add_log_records();
  record->set_trace_id(std::string(16, '\x01'));
  record->set_span_id(std::string(7, '\x01'));
  LogsRequest logs_out;
  EXPECT_EQ(decode_bytes_of(logs, logs_out).message(),
            "resourceLogs[0].scopeLogs[0].logRecords[0].spanId: must be 8 bytes, got 7");

  MetricsRequest metrics;
  auto* metric = metrics.add_resource_metrics()->add_scope_metrics()->add_metrics();
  auto* point = metric->mutable_sum()->add_data_points();
  point->add_exemplars()->set_trace_id(std::string(16, '\x01'));
  point->add_exemplars()->set_trace_id(std::string(1, '\x01'));
  MetricsRequest metrics_out;
  EXPECT_EQ(decode_bytes_of(metrics, metrics_out).message(),
            "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].exemplars[1].traceId: "
            "must be 16 bytes, got 1");

  ProfilesRequest profiles;
  profiles.mutable_dictionary()->add_link_table();  // the empty link: valid
  profiles.mutable_dictionary()->add_link_table()->set_span_id(std::string(4, '\x01'));
  ProfilesRequest profiles_out;
  EXPECT_EQ(decode_bytes_of(profiles, profiles_out).message(),
            "dictionary.linkTable[1].spanId: must be 8 bytes, got 4");
  profiles.mutable_dictionary()->mutable_link_table(1)->set_span_id(std::string(8, '\x01'));
  profiles.add_resource_profiles()->add_scope_profiles()->add_profiles()->set_profile_id("x");
  EXPECT_EQ(decode_bytes_of(profiles, profiles_out).message(),
            "resourceProfiles[0].scopeProfiles[0].profiles[0].profileId: must be 16 bytes, got 1");
}

TEST(BinaryCodec, RandomRequestsHaveValidIds) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 50; ++seed) {
      auto original = testing::random_request(signal, seed);
      auto decoded = new_request(signal);
      absl::Status status = decode_binary(original->SerializeAsString(), *decoded);
      EXPECT_TRUE(status.ok()) << signal_name(signal) << " " << seed << ": " << status;
    }
  }
}

}  // namespace
}  // namespace otlp
