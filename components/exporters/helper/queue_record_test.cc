#include "components/exporters/helper/queue_record.h"

#include <gtest/gtest.h>

#include <random>

namespace components {
namespace {

pipeline::Batch batch_with(std::string bytes, std::int64_t items, otlp::Signal signal) {
  pipeline::Batch b;
  b.signal = signal;
  b.bytes = std::move(bytes);
  b.items = items;
  return b;
}

TEST(QueueRecord, RoundTripsWithoutMetadata) {
  std::string record = encode_queue_record(batch_with("\x0a\x02hi", 7, otlp::Signal::kLogs));
  EXPECT_EQ(record.size(), 4u + 9u);
  auto back = decode_queue_record(record);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->bytes, "\x0a\x02hi");
  EXPECT_EQ(back->items, 7);
  EXPECT_EQ(back->signal, otlp::Signal::kLogs);
  EXPECT_EQ(back->client, nullptr);
}

TEST(QueueRecord, KeepsClientMetadataAcrossTheDisk) {
  pipeline::Batch b = batch_with(std::string(300, 'p'), 12, otlp::Signal::kMetrics);
  b.client = std::make_shared<const pipeline::ClientMetadata>(pipeline::ClientMetadata{
      "[::1]:4317", {{"x-tenant", "acme"}, {"x-tenant", ""}, {"user-agent", "sdk/1"}}});
  auto back = decode_queue_record(encode_queue_record(b));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->bytes, b.bytes);
  EXPECT_EQ(back->items, 12);
  EXPECT_EQ(back->signal, otlp::Signal::kMetrics);
  ASSERT_NE(back->client, nullptr);
  EXPECT_EQ(back->client->address, "[::1]:4317");
  EXPECT_EQ(back->client->entries, b.client->entries);
}

TEST(QueueRecord, CredentialsAreNeverWrittenToDisk) {
  pipeline::Batch b = batch_with("x", 1, otlp::Signal::kTraces);
  b.client = std::make_shared<const pipeline::ClientMetadata>(pipeline::ClientMetadata{
      "1.2.3.4:5",
      {{"authorization", "Bearer s3cret"}, {"x-tenant", "acme"}, {"cookie", "id=s3cret"}}});
  const std::string record = encode_queue_record(b);
  EXPECT_EQ(record.find("s3cret"), std::string::npos);
  auto back = decode_queue_record(record);
  ASSERT_TRUE(back.has_value());
  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(back->client->entries, (Entries{{"x-tenant", "acme"}}));
}

TEST(QueueRecord, ReadsRecordsWrittenBeforeMetadataWasKept) {
  // [bytes][items: 8][signal: 1], the layout of earlier releases.
  std::string old = "abc";
  old.append("\x05\0\0\0\0\0\0\0", 8);
  old.push_back('\x00');
  auto back = decode_queue_record(old);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->bytes, "abc");
  EXPECT_EQ(back->items, 5);
  EXPECT_EQ(back->signal, otlp::Signal::kTraces);
}

TEST(QueueRecord, DamagedRecordsReadAsNothingNeverOutOfBounds) {
  pipeline::Batch b = batch_with("payload", 3, otlp::Signal::kTraces);
  b.client = std::make_shared<const pipeline::ClientMetadata>(
      pipeline::ClientMetadata{"1.2.3.4:5", {{"k", "v"}}});
  const std::string good = encode_queue_record(b);
  // Every truncation from the front or the back.
  for (std::size_t n = 0; n < good.size(); ++n) {
    (void)decode_queue_record(good.substr(0, n));
    (void)decode_queue_record(good.substr(n));
  }
  EXPECT_FALSE(decode_queue_record(good.substr(0, 8)).has_value());
  // An unknown signal.
  std::string bad_signal = good;
  bad_signal.back() = static_cast<char>(0x80 | 9);
  EXPECT_FALSE(decode_queue_record(bad_signal).has_value());
  // A metadata length past the start of the record.
  std::string long_length = good;
  long_length[long_length.size() - 10] = '\x7f';
  EXPECT_FALSE(decode_queue_record(long_length).has_value());
  // Random bytes in the metadata never read outside the record (ASan checks the reads).
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string damaged = good;
    const std::size_t at = 7 + rng() % (good.size() - 7 - 9);
    damaged[at] = static_cast<char>(rng());
    auto r = decode_queue_record(damaged);
    if (r.has_value() && r->client != nullptr) {
      EXPECT_LE(r->client->bytes(), 4 * good.size());
    }
  }
}

}  // namespace
}  // namespace components
