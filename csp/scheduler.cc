#include "csp/scheduler.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>

#include "csp/internal/random.h"
#include "csp/internal/run_queue.h"
#include "csp/internal/spin_lock.h"
#include "csp/internal/striped_counter.h"

// Invariants:
//  - A runnable goroutine is in exactly one place: a worker's runnext slot, a worker's run
//    queue, the global queue, or about to be resumed by the worker that took it.
//  - nspinning_ counts workers that are looking for work without having found any; a worker
//    taken off the idle list by wake_idle_worker() starts out spinning.
//  - idle_ holds exactly the workers that are parked or about to park; nidle_ == idle_.size().
//
// Finding work (find_runnable), in order: every 61st round the global queue first (so it is not
// starved by busy local queues); then runnext; the local queue; a batch from the global queue;
// then, while spinning, steal half of a random victim's queue (runnext only in the last round,
// giving its owner a chance to run it first); finally park.
//
// No lost wake-ups: a producer publishes work, issues a full fence and then reads nidle_ and
// nspinning_ (wake_if_idle). A worker going to sleep increments nidle_ (and, if it was
// spinning, decrements nspinning_), issues a full fence and then re-checks every queue. With
// both fences at least one side sees the other: either the producer wakes someone or the
// sleeper finds the work. If the producer skipped the wake because a spinner existed, that
// spinner re-checks after it stops spinning, so it finds the work.

namespace csp {

namespace {

constexpr int kSpinRounds = 4;
constexpr std::chrono::milliseconds kParkRecheck{20};

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "futex calls need a plain 32-bit word");

// Waits while `word` holds `expected`, at most `timeout` (spurious returns are fine).
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::milliseconds timeout) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1000000);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &ts,
          nullptr, 0);
}

// A full memory barrier. ThreadSanitizer does not model fences, so under TSan a seq_cst
// read-modify-write of one shared word stands in for it (both sides of the wake-up protocol
// touch that word, which orders them the same way).
std::atomic<std::uint64_t> tsan_fence_word{0};
inline void full_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  tsan_fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}
constexpr std::uint32_t kGlobalQueueCheckPeriod = 61;
constexpr std::uint32_t kMaxGlobalBatch = 128;

}  // namespace

struct Worker {
  Scheduler::Impl* sched = nullptr;
  std::size_t index = 0;
  internal::RunQueue runq;
  alignas(64) std::atomic<void*> runnext{nullptr};
  alignas(64) std::atomic<std::uint32_t> wake_word{0};  // 1 = wake-up pending
  bool spinning = false;  // the worker's own, except while it is on the idle list (idle_mu_)
  std::atomic<bool> running{false};
  std::atomic<bool> idle{false};
  std::uint32_t tick = 0;
  std::thread thread;
};

namespace {
thread_local Worker* tls_worker = nullptr;
}  // namespace

struct Scheduler::Impl {
  Scheduler* owner = nullptr;
  std::vector<std::unique_ptr<Worker>> workers;

  internal::SpinLock global_mu;
  std::deque<void*> global_queue;  // guarded by global_mu
  std::atomic<std::size_t> global_size{0};

  std::mutex idle_mu;
  std::vector<Worker*> idle;  // guarded by idle_mu
  std::atomic<int> nidle{0};
  std::atomic<int> nspinning{0};
  std::atomic<bool> stopping{false};

  internal::StripedCounter live;

  void run_worker(Worker* w);
  void* find_runnable(Worker* w);
  void* try_steal(Worker* w, bool take_runnext);
  void* pop_global(Worker* w);
  void push_global(void* g);
  void push_local(Worker* w, void* g);
  void wake_if_idle();
  void wake_idle_worker();
  void stop_spinning(Worker* w);
  bool park(Worker* w);
  bool any_queued_work() const;
  void wake_worker(Worker* w);

  static void on_goroutine_exit(void* arg) { static_cast<Impl*>(arg)->live.add(-1); }
};

namespace {

std::size_t default_worker_count() {
  if (const char* env = std::getenv("CSP_WORKERS")) {
    long n = std::strtol(env, nullptr, 10);
    if (n > 0 && n <= 1024) return static_cast<std::size_t>(n);
    std::fprintf(stderr, "csp: ignoring CSP_WORKERS=%s (want 1..1024)\n", env);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
  const std::size_t n = options.workers == 0 ? default_worker_count() : options.workers;
  impl_->workers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->sched = impl_.get();
    w->index = i;
    impl_->workers.push_back(std::move(w));
  }
  for (auto& w : impl_->workers) {
    Worker* raw = w.get();
    raw->thread = std::thread([this, raw] { impl_->run_worker(raw); });
  }
}

Scheduler::~Scheduler() {
  impl_->stopping.store(true, std::memory_order_seq_cst);
  for (auto& w : impl_->workers) impl_->wake_worker(w.get());
  for (auto& w : impl_->workers) w->thread.join();
}

void Scheduler::spawn(Task<void> task, csp::SourceLocation origin) {
  auto handle = std::move(task).release();
  if (!handle) return;
  handle.promise().detach(&Impl::on_goroutine_exit, impl_.get());
  handle.promise().set_goroutine(internal::goroutine_started(origin));
  impl_->live.add(1);
  Worker* w = tls_worker;
  if (w != nullptr && w->sched == impl_.get()) {
    impl_->push_local(w, handle.address());
  } else {
    impl_->push_global(handle.address());
  }
  impl_->wake_if_idle();
}

void Scheduler::ready(std::coroutine_handle<> h) {
  Worker* w = tls_worker;
  if (w != nullptr && w->sched == impl_.get()) {
    // The woken goroutine runs next here. Whatever it displaces becomes stealable work.
    void* displaced = w->runnext.exchange(h.address(), std::memory_order_acq_rel);
    if (displaced == nullptr) return;
    impl_->push_local(w, displaced);
  } else {
    impl_->push_global(h.address());
  }
  impl_->wake_if_idle();
}

std::size_t Scheduler::worker_count() const noexcept { return impl_->workers.size(); }

Scheduler* Scheduler::current() noexcept {
  Worker* w = tls_worker;
  return w == nullptr ? nullptr : w->sched->owner;
}

RuntimeStats Scheduler::stats() const {
  RuntimeStats s;
  s.workers = impl_->workers.size();
  s.live_goroutines = impl_->live.read();
  s.global_queue = impl_->global_size.load(std::memory_order_acquire);
  s.runnable = static_cast<std::int64_t>(s.global_queue);
  for (const auto& w : impl_->workers) {
    WorkerStats ws;
    ws.index = w->index;
    ws.queue_length = w->runq.size() + (w->runnext.load(std::memory_order_acquire) ? 1 : 0);
    ws.running = w->running.load(std::memory_order_relaxed);
    ws.idle = w->idle.load(std::memory_order_relaxed);
    s.runnable += static_cast<std::int64_t>(ws.queue_length);
    s.running += ws.running ? 1 : 0;
    s.per_worker.push_back(ws);
  }
  s.parked = std::max<std::int64_t>(0, s.live_goroutines - s.runnable - s.running);
  s.live_frames = internal::live_frames();
  return s;
}

Scheduler& default_scheduler() {
  // Constructed once, never destroyed: see the header.
  alignas(Scheduler) static std::byte storage[sizeof(Scheduler)];
  static Scheduler* scheduler = ::new (storage) Scheduler(SchedulerOptions{});
  return *scheduler;
}

void go(Task<void> task, csp::SourceLocation origin) {
  Scheduler* s = Scheduler::current();
  (s != nullptr ? *s : default_scheduler()).spawn(std::move(task), origin);
}

void YieldAwaiter::await_suspend(std::coroutine_handle<> h) const {
  Worker* w = tls_worker;
  if (w == nullptr) {
    std::fprintf(stderr, "csp: yield() awaited outside a goroutine\n");
    std::abort();
  }
  w->sched->push_global(h.address());
}

namespace internal {

void ThreadParker::park() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return ready_; });
  ready_ = false;
}

void ThreadParker::unpark() {
  // Notify while holding the lock: the parked thread cannot return (and destroy this parker)
  // before we are done with it.
  std::lock_guard lock(mu_);
  ready_ = true;
  cv_.notify_one();
}

}  // namespace internal

// ---- Worker loop ---------------------------------------------------------------------------

void Scheduler::Impl::run_worker(Worker* w) {
  tls_worker = w;
  for (;;) {
    void* g = find_runnable(w);
    if (g == nullptr) break;  // stopping
    w->running.store(true, std::memory_order_relaxed);
    std::coroutine_handle<>::from_address(g).resume();
    w->running.store(false, std::memory_order_relaxed);
  }
  tls_worker = nullptr;
}

void* Scheduler::Impl::find_runnable(Worker* w) {
  for (;;) {
    if (stopping.load(std::memory_order_relaxed)) return nullptr;

    if (++w->tick % kGlobalQueueCheckPeriod == 0 &&
        global_size.load(std::memory_order_relaxed) > 0) {
      if (void* g = pop_global(w)) return g;
    }
    if (w->runnext.load(std::memory_order_relaxed) != nullptr) {
      if (void* g = w->runnext.exchange(nullptr, std::memory_order_acq_rel)) return g;
    }
    if (void* g = w->runq.pop()) return g;
    if (global_size.load(std::memory_order_relaxed) > 0) {
      if (void* g = pop_global(w)) return g;
    }

    // Look at the other workers, unless enough workers are already looking: at most half of
    // the busy workers spin, so a burst of wake-ups does not burn every core.
    const int busy = static_cast<int>(workers.size()) - nidle.load(std::memory_order_relaxed);
    if (workers.size() > 1 &&
        (w->spinning || 2 * nspinning.load(std::memory_order_relaxed) < busy)) {
      if (!w->spinning) {
        w->spinning = true;
        nspinning.fetch_add(1, std::memory_order_seq_cst);
      }
      for (int round = 0; round < kSpinRounds; ++round) {
        if (void* g = try_steal(w, round == kSpinRounds - 1)) {
          stop_spinning(w);
          return g;
        }
        if (global_size.load(std::memory_order_relaxed) > 0) {
          if (void* g = pop_global(w)) {
            stop_spinning(w);
            return g;
          }
        }
        for (int i = 0; i < 64; ++i) internal::cpu_relax();
      }
    }

    park(w);
  }
}

void Scheduler::Impl::stop_spinning(Worker* w) {
  if (!w->spinning) return;
  w->spinning = false;
  // The last spinner found work; there may be more, so let another idle worker look.
  if (nspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) wake_if_idle();
}

void* Scheduler::Impl::try_steal(Worker* w, bool take_runnext) {
  const std::size_t n = workers.size();
  const std::size_t start = internal::thread_random().below(static_cast<std::uint32_t>(n));
  void* batch[internal::RunQueue::kCapacity / 2];
  for (std::size_t i = 0; i < n; ++i) {
    Worker* victim = workers[(start + i) % n].get();
    if (victim == w) continue;
    std::uint32_t got = victim->runq.grab(batch, internal::RunQueue::kCapacity / 2);
    if (got > 0) {
      for (std::uint32_t k = 1; k < got; ++k) w->runq.push(batch[k]);  // our queue is empty
      return batch[0];
    }
    if (take_runnext && victim->runnext.load(std::memory_order_relaxed) != nullptr) {
      if (void* g = victim->runnext.exchange(nullptr, std::memory_order_acq_rel)) return g;
    }
  }
  return nullptr;
}

void* Scheduler::Impl::pop_global(Worker* w) {
  void* first = nullptr;
  std::lock_guard lock(global_mu);
  std::size_t n = global_queue.size();
  if (n == 0) return nullptr;
  // Take a fair share, leaving work for the other workers.
  std::size_t take = std::min<std::size_t>(n / workers.size() + 1, kMaxGlobalBatch);
  take = std::min(take, n);
  take = std::min<std::size_t>(take, internal::RunQueue::kCapacity / 2);
  first = global_queue.front();
  global_queue.pop_front();
  for (std::size_t i = 1; i < take; ++i) {
    if (!w->runq.push(global_queue.front())) break;
    global_queue.pop_front();
  }
  global_size.store(global_queue.size(), std::memory_order_release);
  return first;
}

void Scheduler::Impl::push_global(void* g) {
  std::lock_guard lock(global_mu);
  global_queue.push_back(g);
  global_size.store(global_queue.size(), std::memory_order_release);
}

void Scheduler::Impl::push_local(Worker* w, void* g) {
  if (w->runq.push(g)) return;
  // Full: move half of it, and g, to the global queue where every worker can find them.
  void* batch[internal::RunQueue::kCapacity / 2];
  std::uint32_t n = w->runq.grab(batch, internal::RunQueue::kCapacity / 2);
  std::lock_guard lock(global_mu);
  for (std::uint32_t i = 0; i < n; ++i) global_queue.push_back(batch[i]);
  global_queue.push_back(g);
  global_size.store(global_queue.size(), std::memory_order_release);
}

void Scheduler::Impl::wake_if_idle() {
  // Full fence: orders the publication of work before the reads below (see Invariants).
  full_fence();
  if (nidle.load(std::memory_order_relaxed) == 0) return;
  if (nspinning.load(std::memory_order_relaxed) != 0) return;
  wake_idle_worker();
}

void Scheduler::Impl::wake_idle_worker() {
  int expected = 0;
  if (!nspinning.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) return;
  Worker* w = nullptr;
  {
    std::lock_guard lock(idle_mu);
    if (!idle.empty()) {
      w = idle.back();
      idle.pop_back();
      nidle.fetch_sub(1, std::memory_order_seq_cst);
      w->spinning = true;  // it wakes up as the spinner we just counted
    }
  }
  if (w == nullptr) {
    nspinning.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  wake_worker(w);
}

void Scheduler::Impl::wake_worker(Worker* w) {
  w->wake_word.store(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&w->wake_word), FUTEX_WAKE_PRIVATE, 1,
          nullptr, nullptr, 0);
}

bool Scheduler::Impl::any_queued_work() const {
  if (global_size.load(std::memory_order_acquire) > 0) return true;
  for (const auto& w : workers) {
    if (!w->runq.empty()) return true;
  }
  return false;
}

// Parks w until there may be work. Returns when it should look again.
bool Scheduler::Impl::park(Worker* w) {
  // Take our own spinning state before going on the idle list: once we are on it, a waker may
  // set `spinning` for us (counting us as its new spinner), and reading it afterwards would
  // confuse its spinner with ours and leave nspinning counting a spinner that does not exist,
  // which stops every later wake-up.
  const bool was_spinning = w->spinning;
  w->spinning = false;
  {
    std::lock_guard lock(idle_mu);
    idle.push_back(w);
    nidle.fetch_add(1, std::memory_order_seq_cst);
    w->idle.store(true, std::memory_order_relaxed);
  }
  if (was_spinning) nspinning.fetch_sub(1, std::memory_order_seq_cst);
  full_fence();

  if (any_queued_work() || stopping.load(std::memory_order_relaxed)) {
    std::unique_lock lock(idle_mu);
    auto it = std::find(idle.begin(), idle.end(), w);
    if (it != idle.end()) {
      idle.erase(it);
      nidle.fetch_sub(1, std::memory_order_seq_cst);
      w->idle.store(false, std::memory_order_relaxed);
      return true;
    }
    // A waker already took us off the list and is about to (or did) set our wake word; we
    // are now its spinner. Fall through and consume that wake-up.
  }

  // Sleep until woken. The timeout is a backstop, like Go's sysmon: a parked worker looks at
  // the queues again every kParkRecheck even if a wake-up went astray, so a lost wake-up costs
  // latency, never progress.
  while (w->wake_word.load(std::memory_order_acquire) == 0) {
    futex_wait(w->wake_word, 0, kParkRecheck);
    if (w->wake_word.load(std::memory_order_acquire) != 0) break;
    if (stopping.load(std::memory_order_relaxed) || any_queued_work()) {
      std::unique_lock lock(idle_mu);
      auto it = std::find(idle.begin(), idle.end(), w);
      if (it != idle.end()) {
        idle.erase(it);
        nidle.fetch_sub(1, std::memory_order_seq_cst);
        w->idle.store(false, std::memory_order_relaxed);
        return true;
      }
      // Taken off the list by a waker: its wake-up is on the way; wait for it.
    }
  }
  w->wake_word.store(0, std::memory_order_relaxed);
  w->idle.store(false, std::memory_order_relaxed);
  return true;
}

}  // namespace csp
