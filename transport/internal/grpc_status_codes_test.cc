#include "transport/internal/grpc_status_codes.h"

#include <gtest/gtest.h>

#include <iterator>
#include <utility>

namespace transport::internal {
namespace {

// Every code of both enums, written out pairwise from gRPC's doc/statuscodes.md and Abseil's
// status.h, not derived from either enum's numbers.
constexpr std::pair<grpc::StatusCode, absl::StatusCode> kAllCodes[] = {
    {grpc::StatusCode::OK, absl::StatusCode::kOk},
    {grpc::StatusCode::CANCELLED, absl::StatusCode::kCancelled},
    {grpc::StatusCode::UNKNOWN, absl::StatusCode::kUnknown},
    {grpc::StatusCode::INVALID_ARGUMENT, absl::StatusCode::kInvalidArgument},
    {grpc::StatusCode::DEADLINE_EXCEEDED, absl::StatusCode::kDeadlineExceeded},
    {grpc::StatusCode::NOT_FOUND, absl::StatusCode::kNotFound},
    {grpc::StatusCode::ALREADY_EXISTS, absl::StatusCode::kAlreadyExists},
    {grpc::StatusCode::PERMISSION_DENIED, absl::StatusCode::kPermissionDenied},
    {grpc::StatusCode::RESOURCE_EXHAUSTED, absl::StatusCode::kResourceExhausted},
    {grpc::StatusCode::FAILED_PRECONDITION, absl::StatusCode::kFailedPrecondition},
    {grpc::StatusCode::ABORTED, absl::StatusCode::kAborted},
    {grpc::StatusCode::OUT_OF_RANGE, absl::StatusCode::kOutOfRange},
    {grpc::StatusCode::UNIMPLEMENTED, absl::StatusCode::kUnimplemented},
    {grpc::StatusCode::INTERNAL, absl::StatusCode::kInternal},
    {grpc::StatusCode::UNAVAILABLE, absl::StatusCode::kUnavailable},
    {grpc::StatusCode::DATA_LOSS, absl::StatusCode::kDataLoss},
    {grpc::StatusCode::UNAUTHENTICATED, absl::StatusCode::kUnauthenticated},
};

TEST(GrpcStatusCodes, TheTableHasEachOfTheSeventeenCodesOnce) {
  static_assert(std::size(kAllCodes) == 17);
  bool seen_grpc[17] = {};
  bool seen_absl[17] = {};
  for (const auto& [grpc_code, absl_code] : kAllCodes) {
    const int g = static_cast<int>(grpc_code);
    const int a = static_cast<int>(absl_code);
    ASSERT_TRUE(g >= 0 && g < 17 && !seen_grpc[g]) << g;
    ASSERT_TRUE(a >= 0 && a < 17 && !seen_absl[a]) << a;
    seen_grpc[g] = seen_absl[a] = true;
  }
}

TEST(GrpcStatusCodes, EveryGrpcCodeMapsToItsCanonicalCode) {
  for (const auto& [grpc_code, absl_code] : kAllCodes) {
    EXPECT_EQ(code_for_grpc_status(grpc_code), absl_code) << static_cast<int>(grpc_code);
  }
}

TEST(GrpcStatusCodes, EveryCanonicalCodeMapsToItsGrpcCode) {
  for (const auto& [grpc_code, absl_code] : kAllCodes) {
    EXPECT_EQ(grpc_status_for_code(absl_code), grpc_code) << absl::StatusCodeToString(absl_code);
  }
}

TEST(GrpcStatusCodes, ANumberThatNamesNoCodeIsUnknown) {
  // grpc::StatusCode has no fixed underlying type, so only numbers within its value range
  // (-32..31) are valid to cast; absl::StatusCode is an int.
  for (int n : {-1, 17, 20, 31}) {
    EXPECT_EQ(code_for_grpc_status(static_cast<grpc::StatusCode>(n)), absl::StatusCode::kUnknown)
        << n;
  }
  for (int n : {-1, 17, 20, 99, 1 << 20}) {
    EXPECT_EQ(grpc_status_for_code(static_cast<absl::StatusCode>(n)), grpc::StatusCode::UNKNOWN)
        << n;
  }
}

}  // namespace
}  // namespace transport::internal
