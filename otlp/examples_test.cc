// Every official OTLP/JSON example (otlp/testdata/examples) decodes,
// re-encodes to JSON and to binary, and comes back equal.

#include "otlp/testing/examples.h"

#include <gtest/gtest.h>

#include "otlp/binary_codec.h"
#include "otlp/json_codec.h"
#include "otlp/signals.h"
#include "otlp/wire.h"

namespace otlp {
namespace {

TEST(Examples, TheTestdataFolderHasThem) {
  std::vector<testing::Example> examples = testing::load_examples();
  ASSERT_GE(examples.size(), 4u) << "no examples in " << testing::examples_dir();
}

TEST(Examples, EveryExampleRoundTripsThroughJsonAndBinary) {
  for (const testing::Example& example : testing::load_examples()) {
    SCOPED_TRACE(example.name);
    auto decoded = new_request(example.signal);
    absl::Status status = decode_json(example.json, *decoded);
    ASSERT_TRUE(status.ok()) << status;
    absl::StatusOr<uint64_t> items = count_items(*decoded);
    ASSERT_TRUE(items.ok());
    EXPECT_GT(*items, 0u);

    // JSON → message → JSON → message.
    std::string json = *encode_json(*decoded);
    auto from_json = new_request(example.signal);
    ASSERT_TRUE(decode_json(json, *from_json).ok());
    EXPECT_EQ(from_json->SerializeAsString(), decoded->SerializeAsString());
    EXPECT_EQ(*encode_json(*from_json), json);

    // message → binary → message → JSON.
    std::string binary = *encode_binary(*decoded);
    auto from_binary = new_request(example.signal);
    ASSERT_TRUE(decode_binary(binary, *from_binary).ok());
    EXPECT_EQ(from_binary->SerializeAsString(), binary);
    EXPECT_EQ(*encode_json(*from_binary), json);

    // The wire helpers see the same items without decoding.
    EXPECT_EQ(*wire_count_items(example.signal, binary), *items);
  }
}

TEST(Examples, TraceExampleHasTheValuesOfTheFile) {
  for (const testing::Example& example : testing::load_examples()) {
    if (example.name != "trace.json") continue;
    TracesRequest request;
    ASSERT_TRUE(decode_json(example.json, request).ok());
    const auto& span = request.resource_spans(0).scope_spans(0).spans(0);
    EXPECT_EQ(span.trace_id().size(), 16u);
    EXPECT_EQ(static_cast<uint8_t>(span.trace_id()[0]), 0x5b);
    EXPECT_EQ(span.span_id().size(), 8u);
    EXPECT_EQ(span.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
    EXPECT_EQ(span.start_time_unix_nano(), 1544712660000000000u);
    std::string json = *encode_json(request);
    EXPECT_NE(json.find("\"traceId\":\"5b8efff798038103d269b633813fc60c\""), std::string::npos);
    return;
  }
  GTEST_SKIP() << "trace.json not in the examples";
}

}  // namespace
}  // namespace otlp
