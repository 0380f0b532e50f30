// validate_binary must give decode_binary's verdict without decoding: every test checks both.

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "otlp/binary_codec.h"
#include "otlp/errors.h"
#include "otlp/internal/wire_format.h"
#include "otlp/testing/nesting.h"
#include "otlp/testing/random_requests.h"
#include "otlp/wire.h"

namespace otlp {
namespace {

using internal::append_len_field;
using internal::append_varint;

// decode_binary makes libprotobuf log every invalid UTF-8 string; thousands here.
const bool kQuiet = [] {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return true;
}();

absl::Status decode(Signal signal, std::string_view bytes, const DecodeLimits& limits = {}) {
  auto message = new_request(signal);
  return decode_binary(bytes, *message, limits);
}

// Validates and decodes `bytes`; both must accept, or both refuse with the same kind. Returns
// the validator's answer.
absl::Status agreed(Signal signal, std::string_view bytes, const DecodeLimits& limits = {}) {
  absl::Status validated = validate_binary(signal, bytes, limits);
  absl::Status decoded = decode(signal, bytes, limits);
  EXPECT_EQ(validated.ok(), decoded.ok()) << "validate: " << validated << "\ndecode: " << decoded;
  EXPECT_EQ(validated.code(), decoded.code()) << validated << " / " << decoded;
  EXPECT_EQ(error_kind(validated), error_kind(decoded)) << validated << " / " << decoded;
  return validated;
}

uint32_t number_of(const google::protobuf::Descriptor& type, const char* field) {
  const google::protobuf::FieldDescriptor* f = type.FindFieldByName(field);
  EXPECT_NE(f, nullptr) << type.full_name() << "." << field;
  return f == nullptr ? 1 : static_cast<uint32_t>(f->number());
}

void append_tag(std::string& out, uint32_t field, internal::WireType type) {
  append_varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(type));
}

// A traces request holding one span whose serialized fields are `span_fields`.
std::string traces_with_span(std::string_view span_fields) {
  using opentelemetry::proto::trace::v1::ResourceSpans;
  using opentelemetry::proto::trace::v1::ScopeSpans;
  std::string scope_spans, resource_spans, request;
  append_len_field(scope_spans, number_of(*ScopeSpans::descriptor(), "spans"), span_fields);
  append_len_field(resource_spans, number_of(*ResourceSpans::descriptor(), "scope_spans"),
                   scope_spans);
  append_len_field(request, number_of(*TracesRequest::descriptor(), "resource_spans"),
                   resource_spans);
  return request;
}

// A metrics request holding one histogram point whose serialized fields are `point_fields`.
std::string metrics_with_histogram_point(std::string_view point_fields) {
  namespace m = opentelemetry::proto::metrics::v1;
  std::string histogram, metric, scope, resource, request;
  append_len_field(histogram, number_of(*m::Histogram::descriptor(), "data_points"), point_fields);
  append_len_field(metric, number_of(*m::Metric::descriptor(), "histogram"), histogram);
  append_len_field(scope, number_of(*m::ScopeMetrics::descriptor(), "metrics"), metric);
  append_len_field(resource, number_of(*m::ResourceMetrics::descriptor(), "scope_metrics"), scope);
  append_len_field(request, number_of(*MetricsRequest::descriptor(), "resource_metrics"), resource);
  return request;
}

const uint32_t kSpanName = number_of(*opentelemetry::proto::trace::v1::Span::descriptor(), "name");

TEST(ValidateBinary, RandomRequestsOfEverySignalAreValid) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      const std::string bytes = testing::random_request(signal, seed)->SerializeAsString();
      absl::Status status = agreed(signal, bytes);
      EXPECT_TRUE(status.ok()) << signal_name(signal) << " " << seed << ": " << status;
    }
  }
  EXPECT_TRUE(
      validate_binary(Signal::kTraces, testing::realistic_traces().SerializeAsString()).ok());
  EXPECT_TRUE(validate_binary(Signal::kTraces, "").ok());
}

// The servers take validation's estimate of the decode's memory in place of a second walk
// (estimate_decoded_bytes): it must be the same number, unknown fields included.
TEST(ValidateBinary, EstimatesTheDecodeExactlyAsEstimateDecodedBytes) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      std::string bytes = testing::random_request(signal, seed)->SerializeAsString();
      if (seed % 4 == 0) {
        append_len_field(bytes, 999, "an unknown field");  // kept by a decode: charged
        append_varint(bytes, (1000u << 3) | 0);
        append_varint(bytes, 12345);
      }
      if (seed % 4 == 1) {
        // Field 1 (the resource list) as a varint: a known number on the wrong wire type is an
        // unknown field to the parser, and to both estimates.
        append_varint(bytes, (1u << 3) | 0);
        append_varint(bytes, 7);
      }
      int64_t estimate = -1;
      ASSERT_TRUE(validate_binary(signal, bytes, {}, &estimate).ok()) << seed;
      EXPECT_EQ(estimate, estimate_decoded_bytes(signal, bytes))
          << signal_name(signal) << " " << seed;
    }
  }
  const std::string realistic = testing::realistic_traces().SerializeAsString();
  int64_t estimate = -1;
  ASSERT_TRUE(validate_binary(Signal::kTraces, realistic, {}, &estimate).ok());
  EXPECT_EQ(estimate, estimate_decoded_bytes(Signal::kTraces, realistic));
  EXPECT_GE(estimate, static_cast<int64_t>(realistic.size()));
}

TEST(ValidateBinary, RefusesMessagesAboveTheSizeLimitLikeDecode) {
  const std::string bytes = testing::random_traces(1).SerializeAsString();
  DecodeLimits limits;
  limits.max_message_bytes = bytes.size() - 1;
  absl::Status status = agreed(Signal::kTraces, bytes, limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(error_kind(status), ErrorKind::kMessageTooLarge);
  EXPECT_EQ(status.message(), decode(Signal::kTraces, bytes, limits).message());
  limits.max_message_bytes = bytes.size();
  EXPECT_TRUE(agreed(Signal::kTraces, bytes, limits).ok());
}

TEST(ValidateBinary, RefusesDeepAnyValuesLikeDecode) {
  for (bool kvlist : {false, true}) {
    LogsRequest request;
    auto* record = request.add_resource_logs()->add_scope_logs()->add_log_records();
    testing::nest_any_value(*record->mutable_body(), 10, kvlist);
    const std::string bytes = request.SerializeAsString();
    DecodeLimits limits;
    limits.max_any_value_depth = 10;
    EXPECT_TRUE(agreed(Signal::kLogs, bytes, limits).ok());
    limits.max_any_value_depth = 9;
    absl::Status status = agreed(Signal::kLogs, bytes, limits);
    EXPECT_EQ(error_kind(status), ErrorKind::kNestingTooDeep);
    EXPECT_EQ(status.message(), "AnyValue nesting deeper than the limit of 9");
    limits.max_any_value_depth = -1;
    EXPECT_EQ(error_kind(agreed(Signal::kLogs, bytes, limits)), ErrorKind::kNestingTooDeep);
  }
  // Far past protobuf's own recursion limit, at the default depth limit.
  LogsRequest deep;
  testing::nest_any_value(
      *deep.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body(), 5000);
  EXPECT_EQ(error_kind(agreed(Signal::kLogs, deep.SerializeAsString())),
            ErrorKind::kNestingTooDeep);
}

TEST(ValidateBinary, NamesTheBadIdsPathLikeDecode) {
  TracesRequest request;
  auto* ss = request.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 3; ++i) ss->add_spans()->set_trace_id(std::string(16, '\x01'));
  ss->mutable_spans(2)->add_links()->set_span_id(std::string(8, '\x01'));
  ss->mutable_spans(2)->add_links()->set_span_id(std::string(3, '\x01'));
  absl::Status status = agreed(Signal::kTraces, request.SerializeAsString());
  EXPECT_EQ(error_kind(status), ErrorKind::kMalformed);
  EXPECT_EQ(status.message(),
            "resourceSpans[0].scopeSpans[0].spans[2].links[1].spanId: must be 8 bytes, got 3");

  LogsRequest logs;
  logs.add_resource_logs()->add_scope_logs()->add_log_records()->set_trace_id("short");
  EXPECT_EQ(agreed(Signal::kLogs, logs.SerializeAsString()).message(),
            "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: must be 16 bytes, got 5");
}

TEST(ValidateBinary, RefusesInvalidUtf8InStringsButNotInBytes) {
  const std::string bad[] = {
      "\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xe2\x82", "\x80"};
  for (const std::string& text : bad) {
    std::string span;
    append_len_field(span, kSpanName, text);
    absl::Status status = agreed(Signal::kTraces, traces_with_span(span));
    EXPECT_EQ(error_kind(status), ErrorKind::kMalformed) << text;
    EXPECT_EQ(status.message(),
              "invalid protobuf for opentelemetry.proto.collector.trace.v1."
              "ExportTraceServiceRequest: invalid UTF-8 in opentelemetry.proto.trace.v1.Span.name");
  }
  const std::string good[] = {"",
                              "plain ascii text, longer than a word",
                              "\xc2\xa9",
                              "\xe2\x82\xac",
                              "\xf0\x9f\x98\x80",
                              "\xf4\x8f\xbf\xbf",
                              "\xef\xbf\xbf"};
  for (const std::string& text : good) {
    std::string span;
    append_len_field(span, kSpanName, text);
    EXPECT_TRUE(agreed(Signal::kTraces, traces_with_span(span)).ok()) << text;
  }
  // An AnyValue's bytes_value may hold anything.
  LogsRequest logs;
  logs.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body()->set_bytes_value(
      "\xff\xfe");
  EXPECT_TRUE(agreed(Signal::kLogs, logs.SerializeAsString()).ok());
}

TEST(ValidateBinary, AKnownFieldOnTheWrongWireTypeIsAnUnknownField) {
  std::string span;
  append_tag(span, kSpanName, internal::WireType::kVarint);  // name is a string
  append_varint(span, 12345);
  append_tag(span, kSpanName, internal::WireType::kFixed32);
  span.append("\xff\xff\xff\xff");
  append_tag(span, 7, internal::WireType::kLen);  // start_time_unix_nano is fixed64
  append_varint(span, 2);
  span.append("\xff\xff");  // not UTF-8, not a fixed64: nobody looks
  EXPECT_TRUE(agreed(Signal::kTraces, traces_with_span(span)).ok());

  std::string truncated;
  append_tag(truncated, kSpanName, internal::WireType::kFixed64);
  truncated.append("\x01\x02\x03");
  EXPECT_EQ(error_kind(agreed(Signal::kTraces, traces_with_span(truncated))),
            ErrorKind::kMalformed);
}

TEST(ValidateBinary, RepeatedScalarsArePackedOrNot) {
  namespace m = opentelemetry::proto::metrics::v1;
  const uint32_t counts = number_of(*m::HistogramDataPoint::descriptor(), "bucket_counts");
  std::string point;
  append_tag(point, counts, internal::WireType::kFixed64);  // unpacked
  point.append(8, '\x01');
  append_len_field(point, counts, std::string(16, '\x02'));  // packed
  EXPECT_TRUE(agreed(Signal::kMetrics, metrics_with_histogram_point(point)).ok());

  std::string ragged;
  append_len_field(ragged, counts, std::string(12, '\x02'));  // not a multiple of 8
  EXPECT_EQ(error_kind(agreed(Signal::kMetrics, metrics_with_histogram_point(ragged))),
            ErrorKind::kMalformed);

  // Packed varints (exponential histogram buckets): every value must end inside the payload.
  const uint32_t bucket_counts =
      number_of(*m::ExponentialHistogramDataPoint::Buckets::descriptor(), "bucket_counts");
  const uint32_t positive = number_of(*m::ExponentialHistogramDataPoint::descriptor(), "positive");
  const uint32_t exp_points = number_of(*m::ExponentialHistogram::descriptor(), "data_points");
  const uint32_t exp_metric = number_of(*m::Metric::descriptor(), "exponential_histogram");
  auto request_with_buckets = [&](std::string_view packed) {
    std::string buckets, point_fields, histogram, metric, scope, resource, request;
    append_len_field(buckets, bucket_counts, packed);
    append_len_field(point_fields, positive, buckets);
    append_len_field(histogram, exp_points, point_fields);
    append_len_field(metric, exp_metric, histogram);
    append_len_field(scope, number_of(*m::ScopeMetrics::descriptor(), "metrics"), metric);
    append_len_field(resource, number_of(*m::ResourceMetrics::descriptor(), "scope_metrics"),
                     scope);
    append_len_field(request, number_of(*MetricsRequest::descriptor(), "resource_metrics"),
                     resource);
    return request;
  };
  EXPECT_TRUE(agreed(Signal::kMetrics, request_with_buckets("\x01\x96\x01\x7f")).ok());
  EXPECT_EQ(error_kind(agreed(Signal::kMetrics, request_with_buckets("\x01\x96"))),
            ErrorKind::kMalformed);
  EXPECT_EQ(error_kind(agreed(Signal::kMetrics, request_with_buckets(std::string(11, '\xff')))),
            ErrorKind::kMalformed);
}

TEST(ValidateBinary, UnknownFieldsAreFramedNotRefused) {
  std::string span;
  append_tag(span, 1000, internal::WireType::kVarint);
  append_varint(span, UINT64_MAX);
  append_len_field(span, 1001, "\xff anything");
  append_tag(span, 1002, internal::WireType::kStartGroup);
  append_tag(span, 3, internal::WireType::kFixed32);
  span.append("abcd");
  append_tag(span, 1002, internal::WireType::kEndGroup);
  EXPECT_TRUE(agreed(Signal::kTraces, traces_with_span(span)).ok());

  std::string mismatched;
  append_tag(mismatched, 1002, internal::WireType::kStartGroup);
  append_tag(mismatched, 1003, internal::WireType::kEndGroup);
  EXPECT_EQ(error_kind(agreed(Signal::kTraces, traces_with_span(mismatched))),
            ErrorKind::kMalformed);

  std::string unopened;
  append_tag(unopened, 1002, internal::WireType::kEndGroup);
  EXPECT_EQ(error_kind(agreed(Signal::kTraces, traces_with_span(unopened))), ErrorKind::kMalformed);

  // Groups count against the parser's recursion limit (16 + 3 × the depth limit).
  DecodeLimits limits;
  limits.max_any_value_depth = 4;  // recursion limit 28; the span is 3 levels down
  for (int groups : {25, 26}) {
    std::string nested;
    for (int i = 0; i < groups; ++i) append_tag(nested, 1002, internal::WireType::kStartGroup);
    for (int i = 0; i < groups; ++i) append_tag(nested, 1002, internal::WireType::kEndGroup);
    EXPECT_EQ(agreed(Signal::kTraces, traces_with_span(nested), limits).ok(), groups == 25);
  }
}

// Unknown groups deeper than WireReader's own group limit (100) but within the parser's
// recursion limit must not hide a too-deep AnyValue behind them.
TEST(ValidateBinary, DeepUnknownGroupsDoNotHideDeepAnyValues) {
  std::string groups;
  for (int i = 0; i < 150; ++i) append_tag(groups, 1002, internal::WireType::kStartGroup);
  for (int i = 0; i < 150; ++i) append_tag(groups, 1002, internal::WireType::kEndGroup);
  LogsRequest request;
  auto* record = request.add_resource_logs()->add_scope_logs()->add_log_records();
  testing::nest_any_value(*record->mutable_body(), 70);
  const std::string deep = groups + request.SerializeAsString();
  EXPECT_EQ(error_kind(agreed(Signal::kLogs, deep)), ErrorKind::kNestingTooDeep);
  EXPECT_TRUE(agreed(Signal::kLogs, groups).ok());
}

TEST(ValidateBinary, RefusesBrokenFraming) {
  const std::string valid = testing::random_traces(3).SerializeAsString();
  // Truncated anywhere inside the first field, a request is broken.
  for (std::size_t cut : {std::size_t{1}, std::size_t{2}, valid.size() / 2, valid.size() - 1}) {
    SCOPED_TRACE(cut);
    absl::Status status = agreed(Signal::kTraces, std::string_view(valid).substr(0, cut));
    EXPECT_EQ(error_kind(status), ErrorKind::kMalformed);
    EXPECT_TRUE(absl::StartsWith(status.message(),
                                 "invalid protobuf for "
                                 "opentelemetry.proto.collector.trace.v1."
                                 "ExportTraceServiceRequest: "))
        << status;
  }
  const std::string broken[] = {
      std::string("\x00", 1),                                           // tag 0
      std::string("\x0c"),                                              // end of group at the top
      std::string("\x0e\x00", 2),                                       // wire type 6
      std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),  // an 11-byte varint
      std::string("\x0a\x80\x80\x80\x80\x80\x00", 7),                   // a 6-byte length
      std::string("\x0a\x80\x80\x80\x80\x08", 6),                       // a 2 GiB length
      std::string("\xfa\xff\xff\xff\xff\x01\x00", 7),                   // a 6-byte tag
  };
  for (const std::string& bytes : broken) {
    EXPECT_EQ(error_kind(agreed(Signal::kTraces, bytes)), ErrorKind::kMalformed);
  }
  // Over-long but within the parser's limits: accepted.
  EXPECT_TRUE(agreed(Signal::kTraces, std::string("\x0a\x80\x80\x80\x80\x00", 6)).ok());
  EXPECT_TRUE(
      agreed(Signal::kTraces, std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f")).ok());
}

// Deterministic mutations of valid requests: validate_binary and decode_binary agree on each.
TEST(ValidateBinary, AgreesWithDecodeOnMutatedRequests) {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  DecodeLimits small;
  small.max_any_value_depth = 3;
  small.max_message_bytes = 1u << 20;
  int cases = 0, accepted = 0;
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      testing::RandomShape shape;
      shape.resources = 1;
      shape.items_per_scope = 2;
      const std::string valid = testing::random_request(signal, seed, shape)->SerializeAsString();
      for (int i = 0; i < 250; ++i) {
        std::string bytes = valid;
        const int edits = 1 + static_cast<int>(next() % 3);
        for (int e = 0; e < edits && !bytes.empty(); ++e) {
          const std::size_t at = next() % bytes.size();
          switch (next() % 4) {
            case 0:
              bytes[at] = static_cast<char>(bytes[at] ^ (1 << (next() % 8)));
              break;
            case 1:
              bytes.resize(at);
              break;
            case 2:
              bytes.insert(at, 1, static_cast<char>(next()));
              break;
            case 3:
              bytes[at] = static_cast<char>(next());
              break;
          }
        }
        SCOPED_TRACE(::testing::PrintToString(bytes));
        for (const DecodeLimits& limits : {DecodeLimits{}, small}) {
          const bool ok = validate_binary(signal, bytes, limits).ok();
          ASSERT_EQ(ok, decode(signal, bytes, limits).ok())
              << signal_name(signal) << " seed " << seed << " case " << i;
          accepted += ok ? 1 : 0;
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 8000);
  // Both verdicts occur, so the comparison is not one-sided.
  EXPECT_GT(accepted, cases / 20);
  EXPECT_LT(accepted, cases - cases / 20);
}

}  // namespace
}  // namespace otlp
