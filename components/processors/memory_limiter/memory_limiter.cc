#include "components/processors/memory_limiter/memory_limiter.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace components {

namespace {
constexpr std::int64_t kMiB = 1024 * 1024;
}

std::int64_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

std::int64_t total_memory_bytes() {
  // cgroup v2 limit, when the collector runs in a container.
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string word;
  if (cg >> word && word != "max") {
    try {
      return std::stoll(word);
    } catch (...) {
    }
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  std::int64_t kb = 0;
  while (meminfo >> key >> kb >> unit) {
    if (key == "MemTotal:") return kb * 1024;
  }
  return 0;
}

std::int64_t MemoryLimiterConfig::limit_bytes() const {
  if (limit_mib > 0) return limit_mib * kMiB;
  return total_memory_bytes() / 100 * limit_percentage;
}

std::int64_t MemoryLimiterConfig::spike_bytes() const {
  if (limit_mib > 0) return spike_limit_mib > 0 ? spike_limit_mib * kMiB : limit_bytes() / 5;
  if (spike_limit_percentage > 0) return total_memory_bytes() / 100 * spike_limit_percentage;
  return limit_bytes() / 5;
}

MemoryLimiter::MemoryLimiter(std::string id, MemoryLimiterConfig config,
                             std::shared_ptr<pipeline::Consumer> next, pipeline::Host& host)
    : id_(std::move(id)), config_(config), next_(std::move(next)), host_(host) {
  soft_limit_ = config_.limit_bytes() - config_.spike_bytes();
}

void MemoryLimiter::check() {
  const std::int64_t rss = resident_memory_bytes();
  const bool over = rss > soft_limit_;
  if (over != host_.admission().over_limit()) {
    host_.log(over ? pipeline::LogLevel::kWarn : pipeline::LogLevel::kInfo, id_,
              absl::StrCat(over ? "memory usage above soft limit, refusing data"
                                : "memory usage back below soft limit, accepting data",
                           " (rss ", rss / kMiB, " MiB, soft limit ", soft_limit_ / kMiB, " MiB)"));
  }
  host_.admission().set_over_limit(over);
}

csp::Task<absl::Status> MemoryLimiter::start() {
  host_.admission().configure(config_.spike_bytes(), soft_limit_);
  check();
  checker_ = csp::after_func(
      config_.check_interval, [this](csp::TimePoint) { check(); }, config_.check_interval);
  co_return absl::OkStatus();
}

csp::Task<absl::Status> MemoryLimiter::consume(csp::Context ctx, pipeline::Batch batch) {
  if (host_.admission().over_limit()) {
    co_return absl::ResourceExhaustedError("data refused due to high memory usage");
  }
  co_return co_await next_->consume(std::move(ctx), std::move(batch));
}

csp::Task<void> MemoryLimiter::shutdown(csp::Context) {
  checker_.cancel();
  host_.admission().set_over_limit(false);
  co_return;
}

}  // namespace components
