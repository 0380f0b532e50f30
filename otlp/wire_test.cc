// The serialized-bytes helpers must agree with the decoded ones on random
// requests of every signal, and refuse broken framing.

#include "otlp/wire.h"

#include <gtest/gtest.h>

#include "otlp/binary_codec.h"
#include "otlp/errors.h"
#include "otlp/internal/wire_format.h"
#include "otlp/json_codec.h"
#include "otlp/signals.h"
#include "otlp/testing/profile_view.h"
#include "otlp/testing/random_requests.h"

namespace otlp {
namespace {

testing::RandomShape shape_for(uint64_t seed) {
  testing::RandomShape shape;
  shape.resources = 1 + static_cast<int>(seed % 5);
  shape.scopes_per_resource = static_cast<int>(seed % 3);
  shape.items_per_scope = static_cast<int>(seed % 7);
  shape.points_per_metric = static_cast<int>(seed % 4);
  shape.samples_per_profile = static_cast<int>(seed % 6);
  return shape;
}

uint64_t decoded_count(Signal signal, std::string_view bytes) {
  auto message = new_request(signal);
  EXPECT_TRUE(decode_binary(bytes, *message).ok());
  return *count_items(*message);
}

TEST(Wire, CountAgreesWithDecodedCountOnRandomRequests) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 60; ++seed) {
      auto request = testing::random_request(signal, seed, shape_for(seed));
      std::string bytes = request->SerializeAsString();
      absl::StatusOr<uint64_t> n = wire_count_items(signal, bytes);
      ASSERT_TRUE(n.ok()) << n.status();
      EXPECT_EQ(*n, *count_items(*request)) << signal_name(signal) << " seed " << seed;
    }
  }
}

TEST(Wire, SplitPartsAreValidBoundedAndAddUp) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      auto request = testing::random_request(signal, seed, shape_for(seed));
      std::string bytes = request->SerializeAsString();
      const uint64_t total = *count_items(*request);
      for (uint64_t max_items : {1, 3, 10, 1000}) {
        absl::StatusOr<std::vector<std::string>> parts = wire_split(signal, bytes, max_items);
        ASSERT_TRUE(parts.ok()) << parts.status();
        uint64_t sum = 0;
        std::vector<std::string_view> views;
        for (const std::string& part : *parts) {
          uint64_t n = decoded_count(signal, part);
          EXPECT_EQ(*wire_count_items(signal, part), n);
          auto decoded = new_request(signal);
          ASSERT_TRUE(decode_binary(part, *decoded).ok());
          // Over the limit only when one resource alone is over it.
          const auto* field = decoded->GetDescriptor()->FindFieldByNumber(1);
          if (n > max_items) {
            EXPECT_EQ(decoded->GetReflection()->FieldSize(*decoded, field), 1);
          }
          sum += n;
          views.push_back(part);
        }
        EXPECT_EQ(sum, total);
        // Joining the parts gives the request back.
        absl::StatusOr<std::string> joined = wire_concat(signal, views);
        ASSERT_TRUE(joined.ok());
        auto back = new_request(signal);
        ASSERT_TRUE(decode_binary(*joined, *back).ok());
        if (signal == Signal::kProfiles) {
          EXPECT_EQ(testing::resolved_samples(static_cast<const ProfilesRequest&>(*back)),
                    testing::resolved_samples(static_cast<const ProfilesRequest&>(*request)));
        } else {
          EXPECT_EQ(back->SerializeAsString(), bytes);
        }
      }
    }
  }
}

TEST(Wire, ConcatenationIsMergeForEverySignal) {
  for (Signal signal : kAllSignals) {
    auto a = testing::random_request(signal, 100);
    auto b = testing::random_request(signal, 200);
    std::string ab = *wire_concat(signal, {a->SerializeAsString(), b->SerializeAsString()});
    EXPECT_EQ(*wire_count_items(signal, ab), *count_items(*a) + *count_items(*b));
    EXPECT_EQ(decoded_count(signal, ab), *count_items(*a) + *count_items(*b));
    if (signal == Signal::kProfiles) {
      auto& pa = static_cast<ProfilesRequest&>(*a);
      auto& pb = static_cast<ProfilesRequest&>(*b);
      std::vector<std::string> expected = testing::resolved_samples(pa);
      for (auto& s : testing::resolved_samples(pb)) expected.push_back(s);
      ProfilesRequest joined;
      ASSERT_TRUE(decode_binary(ab, joined).ok());
      EXPECT_EQ(testing::resolved_samples(joined), expected);
    } else {
      EXPECT_EQ(ab, a->SerializeAsString() + b->SerializeAsString());
    }
  }
}

TEST(Wire, ProfilesWithOneDictionaryConcatenateAsBytes) {
  ProfilesRequest with = testing::random_profiles(1);
  ProfilesRequest without;
  without.add_resource_profiles()->add_scope_profiles()->add_profiles()->add_samples();
  std::string joined =
      *wire_concat(Signal::kProfiles, {with.SerializeAsString(), without.SerializeAsString()});
  EXPECT_EQ(joined, with.SerializeAsString() + without.SerializeAsString());
}

TEST(Wire, ALaterMetricDataMemberReplacesAnEarlierOne) {
  // Metric{gauge: 2 points, sum: 1 point}: protobuf keeps only the sum.
  opentelemetry::proto::metrics::v1::Metric gauge;
  gauge.mutable_gauge()->add_data_points();
  gauge.mutable_gauge()->add_data_points();
  opentelemetry::proto::metrics::v1::Metric sum;
  sum.mutable_sum()->add_data_points();
  std::string metric = gauge.SerializeAsString() + sum.SerializeAsString() +
                       sum.SerializeAsString();  // sum twice: points add up
  std::string scope, resource, request;
  internal::append_len_field(scope, 2, metric);
  internal::append_len_field(resource, 2, scope);
  internal::append_len_field(request, 1, resource);
  EXPECT_EQ(decoded_count(Signal::kMetrics, request), 2u);
  EXPECT_EQ(*wire_count_items(Signal::kMetrics, request), 2u);
}

TEST(Wire, BrokenFramingIsMalformed) {
  std::string bytes = testing::random_logs(3).SerializeAsString();
  for (size_t cut : {size_t{1}, bytes.size() / 3, bytes.size() - 1}) {
    std::string_view truncated = std::string_view(bytes).substr(0, cut);
    EXPECT_EQ(error_kind(wire_count_items(Signal::kLogs, truncated).status()),
              ErrorKind::kMalformed);
    EXPECT_EQ(error_kind(wire_split(Signal::kLogs, truncated, 1).status()), ErrorKind::kMalformed);
    EXPECT_EQ(error_kind(wire_concat(Signal::kLogs, {bytes, truncated}).status()),
              ErrorKind::kMalformed);
  }
  EXPECT_EQ(error_kind(wire_count_items(Signal::kTraces, std::string("\x0a\x05\x12", 3)).status()),
            ErrorKind::kMalformed);
}

TEST(Wire, TagsAreReadLikeProtobufReadsThem) {
  // Found by fuzzing: protobuf reads a 5-byte tag and drops the bits past 32,
  // so `a2 b9 fe fc 52` is an unknown field 99873684 of wire type 2, not an error.
  TracesRequest request = testing::random_traces(8);
  std::string bytes = std::string("\xa2\xb9\xfe\xfc\x52\x01x", 7) + request.SerializeAsString();
  TracesRequest decoded;
  ASSERT_TRUE(decode_binary(bytes, decoded).ok());
  EXPECT_EQ(*wire_count_items(Signal::kTraces, bytes), count_items(decoded));
  // Six bytes are too many for protobuf and for us.
  std::string too_long = std::string("\xa2\xb9\xfe\xfc\xd2\x01\x01x", 8);
  EXPECT_FALSE(decode_binary(too_long, decoded).ok());
  EXPECT_FALSE(wire_count_items(Signal::kTraces, too_long).ok());
}

TEST(Wire, EmptyRequestHasNoItems) {
  EXPECT_EQ(*wire_count_items(Signal::kTraces, ""), 0u);
  absl::StatusOr<std::vector<std::string>> parts = wire_split(Signal::kTraces, "", 5);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->size(), 1u);
}

// ---- estimate_decoded_bytes ----------------------------------------------------------

namespace pb = google::protobuf;

// Heap bytes of strings that live outside the arena (their buffers, past the small-string
// size): an Arena decode allocates them with malloc.
int64_t string_heap_bytes(const pb::Message& m) {
  int64_t total = 0;
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  const auto heap = [](const std::string& s) {
    return s.capacity() > 15 ? static_cast<int64_t>(s.capacity()) + 1 : 0;
  };
  for (const pb::FieldDescriptor* f : fields) {
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          total += string_heap_bytes(r->GetRepeatedMessage(m, f, i));
        }
      } else {
        total += string_heap_bytes(r->GetMessage(m, f));
      }
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          total += heap(r->GetRepeatedStringReference(m, f, i, nullptr));
        }
      } else {
        std::string scratch;
        total += heap(r->GetStringReference(m, f, &scratch));
      }
    }
  }
  return total;
}

// What an Arena decode of `bytes` really takes: the arena's blocks in use plus string buffers.
int64_t decoded_heap_bytes(Signal signal, std::string_view bytes) {
  pb::Arena arena;
  pb::Message* m = new_request(signal, &arena);
  EXPECT_TRUE(decode_binary(bytes, *m).ok());
  return static_cast<int64_t>(arena.SpaceUsed()) + string_heap_bytes(*m);
}

TEST(EstimateDecodedBytes, WithinOneToThreeTimesTheRealDecodeOfRealisticRequests) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      testing::RandomShape shape = shape_for(seed);
      shape.resources += 2;
      shape.scopes_per_resource += 1;
      shape.items_per_scope += 5;
      std::string bytes = testing::random_request(signal, seed, shape)->SerializeAsString();
      const int64_t estimate = estimate_decoded_bytes(signal, bytes);
      const int64_t actual = decoded_heap_bytes(signal, bytes);
      EXPECT_GE(estimate, static_cast<int64_t>(bytes.size()));
      EXPECT_GE(estimate, actual) << signal_name(signal) << " seed " << seed;
      EXPECT_LE(estimate, 3 * actual) << signal_name(signal) << " seed " << seed;
    }
  }
}

TEST(EstimateDecodedBytes, ManyEmptyScopeSpansShowTheBlowUp) {
  // The pathological request of the issue: empty ScopeSpans, two wire bytes each.
  TracesRequest request;
  auto* rs = request.add_resource_spans();
  for (int i = 0; i < 200'000; ++i) rs->add_scope_spans();
  std::string bytes = request.SerializeAsString();
  const int64_t estimate = estimate_decoded_bytes(Signal::kTraces, bytes);
  const int64_t actual = decoded_heap_bytes(Signal::kTraces, bytes);
  EXPECT_GE(estimate, 30 * static_cast<int64_t>(bytes.size()));
  EXPECT_GE(estimate, actual);
  EXPECT_LE(estimate, 3 * actual);
}

TEST(EstimateDecodedBytes, NeverBelowTheBodyAndToleratesAnyInput) {
  EXPECT_GT(estimate_decoded_bytes(Signal::kLogs, ""), 0);  // the request object itself
  std::string bytes = testing::random_metrics(3).SerializeAsString();
  for (std::size_t cut = 0; cut <= bytes.size(); cut += 7) {
    std::string_view part = std::string_view(bytes).substr(0, cut);
    EXPECT_GE(estimate_decoded_bytes(Signal::kMetrics, part), static_cast<int64_t>(cut));
  }
  std::string junk(4096, '\xff');
  EXPECT_GE(estimate_decoded_bytes(Signal::kTraces, junk), 4096);
  // Deep nesting is walked with a bounded stack: 20000 nested AnyValue arrays in a log body.
  std::string any;  // AnyValue.array_value (5) -> ArrayValue.values (1) -> AnyValue ...
  for (int i = 0; i < 20'000; ++i) {
    std::string array;
    internal::append_len_field(array, 1, any);
    any.clear();
    internal::append_len_field(any, 5, array);
  }
  std::string record, scope, resource, request;
  internal::append_len_field(record, 5, any);  // LogRecord.body
  internal::append_len_field(scope, 2, record);
  internal::append_len_field(resource, 2, scope);
  internal::append_len_field(request, 1, resource);
  EXPECT_GE(estimate_decoded_bytes(Signal::kLogs, request), static_cast<int64_t>(request.size()));
}

// What decode_json of `json` really takes: the Arena's blocks plus string buffers (the parser's
// own buffers are not measured; the estimate covers them on top).
int64_t json_decoded_heap_bytes(Signal signal, std::string_view json) {
  pb::Arena arena;
  pb::Message* m = new_request(signal, &arena);
  EXPECT_TRUE(decode_json(json, *m).ok());
  return static_cast<int64_t>(arena.SpaceUsed()) + string_heap_bytes(*m);
}

TEST(EstimateJsonDecodedBytes, CoversTheDecodeOfRealisticAndHostileRequests) {
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const std::string json =
          *encode_json(*testing::random_request(signal, seed, shape_for(seed)));
      const int64_t estimate = estimate_json_decoded_bytes(json);
      EXPECT_GE(estimate, static_cast<int64_t>(json.size()));
      EXPECT_GE(estimate, json_decoded_heap_bytes(signal, json))
          << signal_name(signal) << " seed " << seed;
    }
  }
  // Empty objects, three characters each, decode to a message object each.
  std::string json = R"({"resourceSpans":[{"scopeSpans":[{})";
  for (int i = 0; i < 100'000; ++i) json += ",{}";
  json += "]}]}";
  EXPECT_GE(estimate_json_decoded_bytes(json), json_decoded_heap_bytes(Signal::kTraces, json));
  EXPECT_GE(estimate_json_decoded_bytes(json), 50 * static_cast<int64_t>(json.size()));
  // Braces inside strings are text, not objects.
  EXPECT_EQ(estimate_json_decoded_bytes(R"({"a":"{{{\"{{"})"),
            estimate_json_decoded_bytes(R"({"a":"xxxxxxx"})"));
}

}  // namespace
}  // namespace otlp
