#pragma once
// ChildCollector: runs build/bin/otlpd as a real child process for end-to-end tests. It writes
// the config to a temp file, starts otlpd, reads the endpoints it prints on stdout
// ("otlpd: listening <id> <grpc|http> <host:port>", then "otlpd: ready"), and stops it with
// SIGTERM. stderr goes to a file, shown by log() when a test fails.

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace otlpd::testing {

struct ChildOptions {
  // RLIMIT_NOFILE (soft and hard) of the child; 0 = inherited.
  unsigned long max_open_files = 0;
};

class ChildCollector {
 public:
  // Starts otlpd with `yaml` and waits (up to 60s) until it is ready or has exited.
  static absl::StatusOr<std::unique_ptr<ChildCollector>> start(
      const std::string& yaml, std::vector<std::string> extra_args = {}, ChildOptions options = {});
  ~ChildCollector();

  // "host:port" of a receiver's protocol, e.g. endpoint("otlp", "grpc").
  std::string endpoint(const std::string& receiver, const std::string& protocol) const;
  // Sends SIGTERM and waits for the exit; returns the exit code (or 128 + signal).
  int stop();
  // kill -9: no shutdown at all, as a crash or the OOM killer would end it.
  void kill_hard();
  pid_t pid() const { return pid_; }
  std::string log() const;
  // Resident memory of the child in bytes (VmRSS).
  std::int64_t rss_bytes() const;

 private:
  ChildCollector() = default;
  pid_t pid_ = -1;
  std::string dir_;
  std::map<std::string, std::string> endpoints_;  // "otlp grpc" -> "127.0.0.1:1234"
};

// Runs otlpd with args to completion (e.g. {"validate", "--config", f}); exit code and output.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult run_otlpd(const std::vector<std::string>& args);

// A fresh temp directory (removed by the caller).
std::string make_temp_dir();

}  // namespace otlpd::testing
