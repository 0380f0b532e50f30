#include "transport/internal/grpc_framing.h"

#include <gtest/gtest.h>

#include <string>

namespace transport::internal {
namespace {

std::string prefix(std::uint8_t flag, std::uint32_t length) {
  std::string p(5, '\0');
  p[0] = static_cast<char>(flag);
  p[1] = static_cast<char>(length >> 24);
  p[2] = static_cast<char>(length >> 16);
  p[3] = static_cast<char>(length >> 8);
  p[4] = static_cast<char>(length);
  return p;
}

absl::Status accept_all(std::int64_t) { return absl::OkStatus(); }

TEST(GrpcMessageReader, OneMessageInAnySplitIsReturnedWhole) {
  const std::string wire = grpc_frame("hello, otlp");
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    GrpcMessageReader reader(1024, false);
    for (std::size_t i = 0; i < wire.size(); i += step) {
      ASSERT_TRUE(reader.feed(std::string_view(wire).substr(i, step), accept_all).ok());
    }
    absl::StatusOr<GrpcMessage> message = reader.finish();
    ASSERT_TRUE(message.ok()) << message.status();
    EXPECT_EQ(message->payload, "hello, otlp");
    EXPECT_FALSE(message->compressed);
  }
}

TEST(GrpcMessageReader, PrefixIsCheckedBeforeAnyBodyByteIsBuffered) {
  GrpcMessageReader reader(100, false);
  std::int64_t announced = -1;
  const absl::Status s = reader.feed(prefix(0, 101) + "xyz", [&](std::int64_t n) {
    announced = n;
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(s.message(), "received message larger than max (101 vs. 100)");
  EXPECT_EQ(announced, -1) << "the budget must not be asked for a message that is refused";
  EXPECT_EQ(reader.buffered(), 0u);
  // Sticky: later bytes are not buffered either.
  EXPECT_EQ(reader.feed("more", accept_all).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(GrpcMessageReader, CompressedFlagRules) {
  for (int flag : {2, 0x80, 0xff}) {
    GrpcMessageReader reader(100, true);
    EXPECT_EQ(reader.feed(prefix(static_cast<std::uint8_t>(flag), 1), accept_all).code(),
              absl::StatusCode::kInternal)
        << flag;
  }
  GrpcMessageReader identity(100, false);
  EXPECT_EQ(identity.feed(prefix(1, 1), accept_all).code(), absl::StatusCode::kInternal);
  GrpcMessageReader gzip(100, true);
  ASSERT_TRUE(gzip.feed(prefix(1, 1) + "z", accept_all).ok());
  absl::StatusOr<GrpcMessage> message = gzip.finish();
  ASSERT_TRUE(message.ok());
  EXPECT_TRUE(message->compressed);
}

TEST(GrpcMessageReader, TheBudgetIsAskedForTheAnnouncedLengthAndMayRefuse) {
  GrpcMessageReader reader(1 << 20, false);
  std::int64_t asked = 0;
  const absl::Status s = reader.feed(prefix(0, 5000), [&](std::int64_t n) {
    asked = n;
    return absl::ResourceExhaustedError("no memory");
  });
  EXPECT_EQ(asked, 5000);
  EXPECT_EQ(s.message(), "no memory");
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(GrpcMessageReader, CardinalityAndTruncation) {
  {
    GrpcMessageReader reader(100, false);
    EXPECT_EQ(reader.finish().status().code(), absl::StatusCode::kUnimplemented);
  }
  {
    GrpcMessageReader reader(100, false);
    const absl::Status s = reader.feed(grpc_frame("a") + grpc_frame("b"), accept_all);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(reader.finish().status().code(), absl::StatusCode::kUnimplemented);
  }
  {
    GrpcMessageReader reader(100, false);
    ASSERT_TRUE(reader.feed(prefix(0, 10) + "12345", accept_all).ok());
    const absl::Status s = reader.finish().status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
    EXPECT_EQ(s.message(), "truncated gRPC message: got 5 of 10 bytes");
  }
  {
    GrpcMessageReader reader(100, false);
    ASSERT_TRUE(reader.feed(std::string_view("\0\0", 2), accept_all).ok());
    EXPECT_EQ(reader.finish().status().code(), absl::StatusCode::kInternal);
  }
  {
    GrpcMessageReader reader(100, false);  // an empty message is one message
    ASSERT_TRUE(reader.feed(prefix(0, 0), accept_all).ok());
    absl::StatusOr<GrpcMessage> message = reader.finish();
    ASSERT_TRUE(message.ok());
    EXPECT_TRUE(message->payload.empty());
  }
}

TEST(GrpcText, PercentEncodingRoundTrips) {
  const std::string text = "bad \xff byte, 100% sure\n";
  const std::string encoded = percent_encode_grpc_message(text);
  EXPECT_EQ(encoded, "bad %FF byte, 100%25 sure%0A");
  EXPECT_EQ(percent_decode_grpc_message(encoded), text);
  EXPECT_EQ(percent_decode_grpc_message("50%"), "50%");    // a lone '%' stays
  EXPECT_EQ(percent_decode_grpc_message("%zz1"), "%zz1");  // so does a bad escape
}

TEST(GrpcText, BinaryHeadersAreUnpaddedBase64) {
  EXPECT_EQ(encode_binary_header("a"), "YQ");
  EXPECT_EQ(encode_binary_header("ab"), "YWI");
  EXPECT_EQ(encode_binary_header("abc"), "YWJj");
}

}  // namespace
}  // namespace transport::internal
