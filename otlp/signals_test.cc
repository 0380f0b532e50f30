#include "otlp/signals.h"

#include <gtest/gtest.h>

#include "otlp/errors.h"
#include "otlp/testing/profile_view.h"
#include "otlp/testing/random_requests.h"

namespace otlp {
namespace {

namespace metrics = opentelemetry::proto::metrics::v1;

// Every item of a request, in order, each tagged with its resource and scope,
// as serialized text: split + merge must give back the same list.
template <class Request>
std::vector<std::string> grouped_items(const Request& request) {
  std::vector<std::string> out;
  for_each_scope(request, [&](const auto& resource, const auto& scope) {
    std::string group = resource.resource().SerializeAsString() + "|" + resource.schema_url() +
                        "|" + scope.scope().SerializeAsString() + "|" + scope.schema_url() + "|";
    for (const auto& item : items(scope)) out.push_back(group + item.SerializeAsString());
  });
  return out;
}

// For metrics the unit is the data point, under its metric's identity.
std::vector<std::string> grouped_points(const MetricsRequest& request) {
  std::vector<std::string> out;
  for_each_scope(request, [&](const auto& resource, const auto& scope) {
    std::string group =
        resource.resource().SerializeAsString() + "|" + scope.scope().SerializeAsString() + "|";
    for (const metrics::Metric& m : scope.metrics()) {
      std::string id = group + m.name() + "|" + m.unit() + "|" + m.description() + "|" +
                       std::to_string(m.data_case()) + "|";
      auto add = [&](const auto& points) {
        for (const auto& p : points) out.push_back(id + p.SerializeAsString());
      };
      switch (m.data_case()) {
        case metrics::Metric::kGauge:
          add(m.gauge().data_points());
          break;
        case metrics::Metric::kSum:
          id += std::to_string(m.sum().aggregation_temporality()) +
                std::to_string(m.sum().is_monotonic());
          add(m.sum().data_points());
          break;
        case metrics::Metric::kHistogram:
          id += std::to_string(m.histogram().aggregation_temporality());
          add(m.histogram().data_points());
          break;
        case metrics::Metric::kExponentialHistogram:
          id += std::to_string(m.exponential_histogram().aggregation_temporality());
          add(m.exponential_histogram().data_points());
          break;
        case metrics::Metric::kSummary:
          add(m.summary().data_points());
          break;
        default:
          break;
      }
    }
  });
  return out;
}

template <class Request>
void check_split_and_merge(const Request& original, uint64_t max_items) {
  SCOPED_TRACE("max_items=" + std::to_string(max_items));
  const uint64_t total = count_items(original);
  std::vector<Request> parts = split(Request(original), max_items);
  ASSERT_FALSE(parts.empty());
  uint64_t sum = 0;
  for (const Request& part : parts) {
    uint64_t n = count_items(part);
    EXPECT_LE(n, max_items);
    EXPECT_GT(n + (parts.size() == 1 ? 1 : 0), 0u) << "an empty part";
    sum += n;
  }
  EXPECT_EQ(sum, total);
  EXPECT_EQ(parts.size(), (total + max_items - 1) / max_items);

  Request merged;
  for (Request& part : parts) merge(merged, std::move(part));
  EXPECT_EQ(count_items(merged), total);
  if constexpr (std::is_same_v<Request, MetricsRequest>) {
    EXPECT_EQ(grouped_points(merged), grouped_points(original));
  } else if constexpr (std::is_same_v<Request, ProfilesRequest>) {
    EXPECT_EQ(testing::resolved_samples(merged), testing::resolved_samples(original));
  } else {
    EXPECT_EQ(grouped_items(merged), grouped_items(original));
  }
}

TEST(Signals, NamesAndRequestTypes) {
  for (Signal s : kAllSignals) {
    EXPECT_EQ(parse_signal(signal_name(s)), s);
    EXPECT_EQ(new_request(s)->GetDescriptor(), request_descriptor(s));
    google::protobuf::Arena arena;
    EXPECT_EQ(new_request(s, &arena)->GetArena(), &arena);
  }
  EXPECT_EQ(parse_signal("spans"), std::nullopt);
  EXPECT_EQ(request_descriptor(Signal::kProfiles)->full_name(),
            "opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest");
}

TEST(Signals, ErrorKindsSurviveOnlyOnOurStatuses) {
  absl::Status ours = make_error(ErrorKind::kNestingTooDeep, "deep");
  EXPECT_EQ(error_kind(ours), ErrorKind::kNestingTooDeep);
  EXPECT_EQ(ours.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ours.message(), "deep");
  EXPECT_EQ(error_kind(absl::InvalidArgumentError("foreign")), ErrorKind::kNone);
  EXPECT_EQ(error_kind(absl::OkStatus()), ErrorKind::kNone);
  EXPECT_EQ(make_error(ErrorKind::kUnsupported, "x").code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(error_kind_name(ErrorKind::kDecompressionBomb), "decompression_bomb");
}

TEST(Signals, CountsItemsOfEverySignal) {
  testing::RandomShape shape;  // 3 resources × 2 scopes × 4 items
  EXPECT_EQ(count_items(testing::random_traces(1, shape)), 24u);
  EXPECT_EQ(count_items(testing::random_logs(1, shape)), 24u);
  EXPECT_EQ(count_items(testing::random_profiles(1, shape)), 24u * 5);
  // Metrics: 3 points per metric, except metrics with no data.
  MetricsRequest m = testing::random_metrics(1, shape);
  uint64_t expected = 0;
  for (const auto& rm : m.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& metric : sm.metrics()) {
        expected += metric.data_case() == metrics::Metric::DATA_NOT_SET ? 0 : 3;
      }
    }
  }
  EXPECT_EQ(count_items(m), expected);
  EXPECT_EQ(*count_items(static_cast<const google::protobuf::Message&>(m)), expected);
  EXPECT_FALSE(count_items(opentelemetry::proto::common::v1::AnyValue()).ok());
}

TEST(Signals, CountsDataPointsOfEveryMetricType) {
  metrics::Metric m;
  EXPECT_EQ(count_data_points(m), 0u);
  m.mutable_gauge()->add_data_points();
  EXPECT_EQ(count_data_points(m), 1u);
  m.mutable_sum()->add_data_points();
  m.mutable_sum()->add_data_points();
  EXPECT_EQ(count_data_points(m), 2u);
  m.mutable_histogram()->add_data_points();
  EXPECT_EQ(count_data_points(m), 1u);
  for (int i = 0; i < 4; ++i) m.mutable_exponential_histogram()->add_data_points();
  EXPECT_EQ(count_data_points(m), 4u);
  for (int i = 0; i < 5; ++i) m.mutable_summary()->add_data_points();
  EXPECT_EQ(count_data_points(m), 5u);
}

TEST(Signals, IteratesResourcesAndScopesInOrder) {
  TracesRequest r = testing::random_traces(3);
  int resources_seen = 0;
  for (const auto& rs : resources(r)) {
    ++resources_seen;
    EXPECT_EQ(scopes(rs).size(), 2);
  }
  EXPECT_EQ(resources_seen, 3);
  int scopes_seen = 0;
  for_each_scope(r, [&](const auto& rs, const auto& ss) {
    EXPECT_EQ(&rs, &r.resource_spans(scopes_seen / 2));
    EXPECT_EQ(&ss, &rs.scope_spans(scopes_seen % 2));
    ++scopes_seen;
  });
  EXPECT_EQ(scopes_seen, 6);
}

TEST(Signals, SplitThenMergeKeepsGroupingOrderAndCounts) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    for (uint64_t n : {1, 2, 3, 5, 7, 100}) {
      check_split_and_merge(testing::random_traces(seed), n);
      check_split_and_merge(testing::random_logs(seed), n);
      check_split_and_merge(testing::random_metrics(seed), n);
      check_split_and_merge(testing::random_profiles(seed), n);
    }
  }
}

TEST(Signals, SplitKeepsEachItemUnderACopyOfItsResourceAndScope) {
  TracesRequest original = testing::random_traces(11);
  std::vector<TracesRequest> parts = split(TracesRequest(original), 3);
  ASSERT_EQ(parts.size(), 8u);
  for (const TracesRequest& part : parts) {
    for_each_scope(part, [&](const auto& rs, const auto& ss) {
      bool found = false;
      for_each_scope(original, [&](const auto& ors, const auto& oss) {
        if (ors.resource().SerializeAsString() == rs.resource().SerializeAsString() &&
            oss.scope().SerializeAsString() == ss.scope().SerializeAsString()) {
          for (const auto& span : ss.spans()) {
            for (const auto& ospan : oss.spans()) {
              found |= ospan.span_id() == span.span_id();
            }
          }
        }
      });
      EXPECT_TRUE(found);
    });
  }
}

TEST(Signals, SplitCutsALargeMetricIntoMetricsOfTheSameIdentity) {
  MetricsRequest r;
  auto* m = r.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("requests");
  m->set_unit("1");
  m->mutable_sum()->set_is_monotonic(true);
  m->mutable_sum()->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  for (int i = 0; i < 10; ++i) m->mutable_sum()->add_data_points()->set_as_int(i);
  std::vector<MetricsRequest> parts = split(MetricsRequest(r), 4);
  ASSERT_EQ(parts.size(), 3u);
  int next = 0;
  for (const MetricsRequest& part : parts) {
    const metrics::Metric& piece = part.resource_metrics(0).scope_metrics(0).metrics(0);
    EXPECT_EQ(piece.name(), "requests");
    EXPECT_TRUE(piece.sum().is_monotonic());
    EXPECT_EQ(piece.sum().aggregation_temporality(), metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
    for (const auto& p : piece.sum().data_points()) EXPECT_EQ(p.as_int(), next++);
  }
  EXPECT_EQ(next, 10);
}

TEST(Signals, SplitKeepsEmptyResourcesAndScopes) {
  LogsRequest r;
  r.add_resource_logs()->set_schema_url("empty-resource");
  auto* rl = r.add_resource_logs();
  rl->add_scope_logs()->set_schema_url("empty-scope");
  for (int i = 0; i < 3; ++i) rl->add_scope_logs()->add_log_records()->set_severity_text("x");
  std::vector<LogsRequest> parts = split(LogsRequest(r), 2);
  LogsRequest merged;
  for (auto& p : parts) merge(merged, std::move(p));
  EXPECT_EQ(merged.resource_logs(0).schema_url(), "empty-resource");
  EXPECT_EQ(merged.resource_logs(1).scope_logs(0).schema_url(), "empty-scope");
  EXPECT_EQ(count_items(merged), 3u);
}

TEST(Signals, NoLimitOrSmallRequestIsReturnedWhole) {
  TracesRequest r = testing::random_traces(2);
  std::string bytes = r.SerializeAsString();
  std::vector<TracesRequest> parts = split(TracesRequest(r), 0);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].SerializeAsString(), bytes);
  parts = split(TracesRequest(r), 1000);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].SerializeAsString(), bytes);
}

TEST(Signals, ProfilePiecesEachCarryTheDictionary) {
  ProfilesRequest r = testing::random_profiles(4);
  for (const ProfilesRequest& part : split(ProfilesRequest(r), 7)) {
    EXPECT_EQ(part.dictionary().SerializeAsString(), r.dictionary().SerializeAsString());
  }
}

TEST(Signals, MergingProfilesRewritesIndicesIntoOneDictionary) {
  ProfilesRequest a = testing::random_profiles(21);
  ProfilesRequest b = testing::random_profiles(22);
  std::vector<std::string> expected = testing::resolved_samples(a);
  for (const std::string& s : testing::resolved_samples(b)) expected.push_back(s);
  const int strings = a.dictionary().string_table_size() + b.dictionary().string_table_size() - 1;
  merge(a, std::move(b));
  EXPECT_EQ(testing::resolved_samples(a), expected);
  EXPECT_EQ(a.dictionary().string_table_size(), strings);
  EXPECT_EQ(a.dictionary().string_table(0), "");
}

TEST(Signals, MergingIntoAnEmptyRequestTakesTheDictionaryAsIs) {
  ProfilesRequest b = testing::random_profiles(5);
  ProfilesRequest merged;
  merge(merged, ProfilesRequest(b));
  EXPECT_EQ(merged.SerializeAsString(), b.SerializeAsString());
}

}  // namespace
}  // namespace otlp
