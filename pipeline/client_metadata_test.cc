#include "pipeline/client_metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/batch.h"

namespace pipeline {
namespace {

using ::testing::ElementsAre;

TEST(ClientMetadataTest, ValuesMatchNamesWithoutRegardToCaseAndKeepOrder) {
  ClientMetadata m{"127.0.0.1:4000", {{"x-tenant", "a"}, {"other", "o"}, {"x-tenant", "b"}}};
  EXPECT_THAT(m.values("X-Tenant"), ElementsAre("a", "b"));
  EXPECT_EQ(m.first("X-TENANT"), "a");
  EXPECT_TRUE(m.values("missing").empty());
  EXPECT_EQ(m.first("missing"), "");
}

TEST(ClientMetadataTest, HeldBytesCountTheMetadataWithTheRequest) {
  Batch batch;
  batch.bytes.assign(1000, 'x');
  EXPECT_EQ(held_bytes(batch), 1000);
  auto m = std::make_shared<ClientMetadata>();
  m->entries.emplace_back("x-tenant", std::string(500, 't'));
  batch.client = m;
  EXPECT_GE(held_bytes(batch), 1000 + 500 + 8);
  EXPECT_EQ(held_bytes(batch), 1000 + static_cast<std::int64_t>(m->bytes()));
}

}  // namespace
}  // namespace pipeline
