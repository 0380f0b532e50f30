#pragma once
// Process limits otlpd adjusts at start.

#include <sys/resource.h>

#include "absl/status/statusor.h"

namespace otlpd {

// Raises the soft RLIMIT_NOFILE to the hard limit (each client connection and each exporter
// connection is a descriptor; distributions default the soft limit to 1024). Returns the soft
// limit in force afterwards; an error if it could not be read or raised.
absl::StatusOr<rlim_t> raise_open_files_limit();

}  // namespace otlpd
