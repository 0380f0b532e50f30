#include "components/processors/memory_limiter/memory_limiter.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "csp/scheduler.h"
#include "csp/select.h"

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

void give_back_free_memory() {
  // jemalloc, when it is the allocator (apps/otlpd links it), is found at run time so that
  // components need not link it: "arena.<all>.purge" returns every arena's unused dirty pages.
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  static const auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl != nullptr) {
    (void)mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);  // 4096 = MALLCTL_ARENAS_ALL
    return;
  }
#if defined(__GLIBC__)
  (void)malloc_trim(0);
#endif
}

MemoryLimiter::MemoryLimiter(std::string id, MemoryLimiterConfig config, pipeline::Host& host,
                             MemoryProbe probe)
    : config_(config), host_(host) {
  if (!probe.resident_bytes) probe.resident_bytes = resident_memory_bytes;
  if (!probe.give_back) probe.give_back = give_back_free_memory;
  checker_ = std::make_shared<Checker>(Checker{std::move(id), host, std::move(probe)});
  checker_->limit = config_.limit_bytes();
  checker_->spike = config_.spike_bytes();
  checker_->soft_limit = checker_->limit - checker_->spike;
}

MemoryLimiter::~MemoryLimiter() {
  // Only if shutdown() was skipped: the goroutine holds its own reference to the checker.
  if (checking_) {
    stop_.close();
    host_.admission().give_up_rss_check(this);
  }
}

void MemoryLimiter::Checker::check() {
  pipeline::Admission& admission = host.admission();
  std::int64_t rss = probe.resident_bytes();
  ++checks_since_give_back;
  // Freed memory the allocator kept counts in RSS; hand it back before judging. Above the soft
  // limit every few checks (malloc_trim walks every arena under its lock), above the hard
  // limit at every check.
  if (rss > limit || (rss > soft_limit && checks_since_give_back >= kGiveBackEveryChecks)) {
    probe.give_back();
    checks_since_give_back = 0;
    rss = probe.resident_bytes();
  }
  const std::int64_t used = admission.used();
  const auto mib = [](std::int64_t b) { return b / kMiB; };
  if (tightened) {
    ++tightened_checks;
    const bool drained = used < soft_limit;
    if (drained || tightened_checks >= kMaxTightenedChecks) {
      tightened = false;
      admission.set_over_limit(false);
      relaxed_floor = rss;
      host.log(pipeline::LogLevel::kInfo, id,
               absl::StrCat("accepting data again: ",
                            drained ? "accounted memory below the soft limit"
                                    : "resident memory stayed high for the longest refusal",
                            " (accounted ", mib(used), " MiB, rss ", mib(rss), " MiB, soft limit ",
                            mib(soft_limit), " MiB)"));
    }
  } else if (rss > limit &&
             (relaxed_floor == 0 || rss > relaxed_floor + spike / kRegrowthDivisor)) {
    tightened = true;
    tightened_checks = 0;
    admission.set_over_limit(true);
    host.log(pipeline::LogLevel::kWarn, id,
             absl::StrCat("resident memory above the limit, refusing data for at most ",
                          kMaxTightenedChecks, " checks (rss ", mib(rss), " MiB, limit ",
                          mib(limit), " MiB, accounted ", mib(used), " MiB)"));
  }
  if (rss <= limit) {
    relaxed_floor = 0;
  } else if (!tightened && relaxed_floor > 0) {
    relaxed_floor = std::min(relaxed_floor, rss);
  }
}

csp::Task<absl::Status> MemoryLimiter::start() {
  host_.admission().configure(checker_->spike, checker_->soft_limit);
  // With a limiter in several pipelines, the first runs the check for all of them.
  if (!host_.admission().take_rss_check(this)) co_return absl::OkStatus();
  checking_ = true;
  checker_->check();
  csp::go(run(checker_, config_.check_interval, stop_, done_));
  co_return absl::OkStatus();
}

// On a goroutine, not on the timer thread: reading /proc and giving memory back may take a few
// milliseconds.
csp::Task<void> MemoryLimiter::run(std::shared_ptr<Checker> checker, csp::Duration interval,
                                   csp::Chan<csp::Unit> stop, csp::Chan<csp::Unit> done) {
  csp::Ticker ticker(interval);
  for (;;) {
    const std::size_t k = co_await csp::select(csp::recv(ticker.chan()), csp::recv(stop));
    if (k == 1) break;
    checker->check();
  }
  done.close();
}

absl::Status MemoryLimiter::refusal() const {
  if (shut_down_.load(std::memory_order_acquire)) {
    return absl::UnavailableError(absl::StrCat("processor ", checker_->id, " is shut down"));
  }
  if (host_.admission().over_limit()) {
    return absl::ResourceExhaustedError("data refused due to high memory usage");
  }
  return absl::OkStatus();
}

csp::Task<absl::Status> MemoryLimiterProcessor::consume(csp::Context ctx, pipeline::Batch batch) {
  if (shut_down_.load(std::memory_order_acquire)) {
    co_return absl::UnavailableError("processor memory_limiter is shut down");
  }
  if (absl::Status s = limiter_->refusal(); !s.ok()) co_return s;
  co_return co_await next_->consume(std::move(ctx), std::move(batch));
}

csp::Task<void> MemoryLimiterProcessor::shutdown(csp::Context) {
  shut_down_.store(true, std::memory_order_release);
  co_return;
}

csp::Task<void> MemoryLimiter::shutdown(csp::Context) {
  shut_down_.store(true, std::memory_order_release);
  if (!checking_) co_return;
  stop_.close();
  co_await done_.recv();
  host_.admission().set_over_limit(false);
  host_.admission().give_up_rss_check(this);
  checking_ = false;
  checker_->tightened = false;
}

}  // namespace components
