#include "apps/otlpd/limits.h"

#include <gtest/gtest.h>

namespace otlpd {
namespace {

TEST(Limits, RaisesTheSoftOpenFilesLimitToTheHardLimit) {
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  if (original.rlim_max < 64) GTEST_SKIP() << "hard limit too low to lower the soft one";
  rlimit lowered = original;
  lowered.rlim_cur = 32;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  absl::StatusOr<rlim_t> raised = raise_open_files_limit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(*raised, original.rlim_max);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, original.rlim_max);
  // Already at the hard limit: nothing to do, same answer.
  EXPECT_EQ(*raise_open_files_limit(), original.rlim_max);

  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);
}

}  // namespace
}  // namespace otlpd
