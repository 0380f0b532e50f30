#include "apps/otlpd/limits.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace otlpd {

absl::StatusOr<rlim_t> raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno)));
  }
  if (limit.rlim_cur == limit.rlim_max) return limit.rlim_cur;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(absl::StrCat("setrlimit(RLIMIT_NOFILE, ", limit.rlim_max,
                                            "): ", std::strerror(errno), " (soft limit stays ",
                                            before, ")"));
  }
  return limit.rlim_cur;
}

}  // namespace otlpd
