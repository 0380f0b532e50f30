#include "csp/introspection.h"

#include <algorithm>
#include <mutex>

#include "csp/chan.h"
#include "csp/internal/goroutine_record.h"

namespace csp {

namespace internal {
namespace {

// Every record ever made, append-only (the dump walks it), and free records: per thread, with
// a global list for balance (goroutines are often started on one worker and end on another).
// Static storage that is never destroyed: goroutines may end while static destructors run.
std::mutex& records_mu() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::vector<GoroutineRecord*>& all_records() {  // guarded by records_mu()
  static auto* all = new std::vector<GoroutineRecord*>;
  return *all;
}
// Free records in whole chains of kBatch, so moving one is O(1): a thread that takes a chain
// does not walk records last touched on another core.
struct FreeChain {
  GoroutineRecord* head;
  std::size_t count;
};
std::vector<FreeChain>& free_chains() {  // guarded by records_mu()
  static auto* chains = new std::vector<FreeChain>;
  return *chains;
}
std::atomic<std::uint64_t> g_next_id{1};

constexpr std::size_t kLocalFreeMax = 128;  // beyond, half goes to the global list
constexpr std::size_t kBatch = 64;          // records moved at a time
constexpr std::uint64_t kIdBlock = 64;      // ids taken at a time, as Go's goidcache

struct ThreadCache {
  GoroutineRecord* free_head = nullptr;
  std::size_t free_count = 0;
  std::uint64_t next_id = 0;
  std::uint64_t end_id = 0;

  ~ThreadCache() {  // a thread that ends hands its free records back
    if (free_head == nullptr) return;
    std::lock_guard lock(records_mu());
    free_chains().push_back(FreeChain{free_head, free_count});
  }
};
thread_local ThreadCache t_cache;

GoroutineRecord* take_record() {
  ThreadCache& c = t_cache;
  if (c.free_head == nullptr) {
    std::lock_guard lock(records_mu());
    std::vector<FreeChain>& chains = free_chains();
    if (!chains.empty()) {
      c.free_head = chains.back().head;
      c.free_count = chains.back().count;
      chains.pop_back();
    } else {
      auto* g = new GoroutineRecord;  // NOLINT: never freed, reused (see above)
      all_records().push_back(g);
      return g;
    }
  }
  GoroutineRecord* g = c.free_head;
  c.free_head = g->next_free;
  --c.free_count;
  return g;
}

void give_back(GoroutineRecord* g) {
  ThreadCache& c = t_cache;
  g->next_free = c.free_head;
  c.free_head = g;
  if (++c.free_count <= kLocalFreeMax) return;
  // Cut the newest kBatch records off as one chain (records this thread just touched).
  GoroutineRecord* head = c.free_head;
  GoroutineRecord* tail = head;
  for (std::size_t i = 1; i < kBatch; ++i) tail = tail->next_free;
  c.free_head = tail->next_free;
  c.free_count -= kBatch;
  tail->next_free = nullptr;
  std::lock_guard lock(records_mu());
  free_chains().push_back(FreeChain{head, kBatch});
}

// Named channels; a mutex is fine (names are set when components start).
struct NamedChannel {
  std::string name;
  std::weak_ptr<ChanCore> core;
  const void* address = nullptr;
};
std::mutex& channels_mu() {
  static auto* mu = new std::mutex;  // never destroyed, as the records
  return *mu;
}
std::vector<NamedChannel>& channels() {
  static auto* list = new std::vector<NamedChannel>;
  return *list;
}

std::string origin_text(const char* file_name, std::uint32_t line, const char* function_name) {
  std::string file = file_name != nullptr ? file_name : "?";
  // Paths from the repository root are enough ("transport/grpc_server.cc").
  for (const char* root : {"/csp/", "/otlp/", "/transport/", "/storage/", "/telemetry/",
                           "/pipeline/", "/components/", "/apps/"}) {
    const std::size_t at = file.rfind(root);
    if (at != std::string::npos) {
      file = file.substr(at + 1);
      break;
    }
  }
  std::string function = function_name != nullptr ? function_name : "?";
  // go(f, args...) starts the goroutine inside csp/scheduler.h; the place worth showing is the
  // function the callable was written in, which the template's own name carries:
  // "void csp::go(F&&, Args&& ...) [with F = ns::Thing::start()::<lambda()>; Args = {}]".
  if (const std::size_t with = function.find("[with F = "); with != std::string::npos) {
    std::string f = function.substr(with + 10);
    f = f.substr(0, f.find_first_of(";]"));
    if (const std::size_t lambda = f.find("::<lambda"); lambda != std::string::npos) {
      f = f.substr(0, lambda);
    }
    if (const std::size_t paren = f.find('('); paren != std::string::npos) f = f.substr(0, paren);
    return "a callable given to csp::go in " + f;
  }
  // "csp::Task<void> transport::GrpcServer::Impl::start()::<lambda(...)>": the name, not the
  // signature, is what tells a reader which goroutine this is.
  if (const std::size_t paren = function.find('('); paren != std::string::npos) {
    const std::size_t space = function.rfind(' ', paren);
    const std::size_t from = space == std::string::npos ? 0 : space + 1;
    function = function.substr(from, paren - from);
  }
  return file + ":" + std::to_string(line) + " (" + function + ")";
}

}  // namespace

GoroutineRecord* goroutine_started(csp::SourceLocation origin) {
  GoroutineRecord* g = take_record();
  // The seqlock's write side: the id is 0 (free) until the fields are all written, and a
  // reader that saw the old id before sees the new one after (goroutine_dump).
  std::atomic_thread_fence(std::memory_order_release);
  ThreadCache& c = t_cache;
  if (c.next_id == c.end_id) {
    c.next_id = g_next_id.fetch_add(kIdBlock, std::memory_order_relaxed);
    c.end_id = c.next_id + kIdBlock;
  }
  g->file.store(origin.file_name(), std::memory_order_relaxed);
  g->function.store(origin.function_name(), std::memory_order_relaxed);
  g->line.store(origin.line(), std::memory_order_relaxed);
  g->created_ns.store(coarse_now_ns(), std::memory_order_relaxed);
  g->wait.store(nullptr, std::memory_order_relaxed);
  g->wait_since_ns.store(0, std::memory_order_relaxed);
  g->id.store(c.next_id++, std::memory_order_release);  // last: the dump sees it complete
  return g;
}

void goroutine_exited(GoroutineRecord* g) noexcept {
  if (g == nullptr) return;
  g->id.store(0, std::memory_order_release);
  give_back(g);
}

void name_channel(const std::shared_ptr<ChanCore>& core, std::string name) {
  if (core == nullptr) return;
  std::lock_guard lock(channels_mu());
  std::vector<NamedChannel>& list = channels();
  std::erase_if(list,
                [&](const NamedChannel& c) { return c.core.expired() || c.address == core.get(); });
  list.push_back(NamedChannel{std::move(name), core, core.get()});
}

std::size_t WaitQueue::size() const noexcept {
  std::size_t n = 0;
  for (const Waiter* w = head_; w != nullptr; w = w->next) {
    if (w->select == nullptr || w->select->done.load(std::memory_order_acquire) == 0) ++n;
  }
  return n;
}

}  // namespace internal

std::vector<GoroutineInfo> goroutine_dump() {
  // Channel names first (a different lock), to name what goroutines wait on.
  std::vector<std::pair<const void*, std::string>> names;
  {
    std::lock_guard lock(internal::channels_mu());
    for (const internal::NamedChannel& c : internal::channels()) {
      if (!c.core.expired()) names.emplace_back(c.address, c.name);
    }
  }
  struct Raw {
    std::uint64_t id;
    const char* file;
    const char* function;
    std::uint32_t line;
    std::int64_t created_ns;
    const char* wait;
    const void* object;
    std::int64_t since_ns;
  };
  std::vector<internal::GoroutineRecord*> records;
  {
    std::lock_guard lock(internal::records_mu());
    records = internal::all_records();
  }
  const std::int64_t now = internal::coarse_now_ns();
  std::vector<Raw> raw;
  raw.reserve(records.size());
  for (internal::GoroutineRecord* g : records) {
    const std::uint64_t id = g->id.load(std::memory_order_acquire);
    if (id == 0) continue;  // free
    Raw r{id,
          g->file.load(std::memory_order_relaxed),
          g->function.load(std::memory_order_relaxed),
          g->line.load(std::memory_order_relaxed),
          g->created_ns.load(std::memory_order_relaxed),
          g->wait.load(std::memory_order_acquire),
          g->wait_object.load(std::memory_order_relaxed),
          g->wait_since_ns.load(std::memory_order_relaxed)};
    if (r.wait != nullptr && r.since_ns == 0) {
      // First seen waiting: stamp it now (a later park resets the stamp to 0).
      std::int64_t expected = 0;
      r.since_ns =
          g->wait_since_ns.compare_exchange_strong(expected, now, std::memory_order_relaxed)
              ? now
              : expected;
    }
    // The record may have been reused while it was read: then it is another goroutine now.
    // (A seqlock's read side: the fence keeps the field loads above the second id load.)
    std::atomic_thread_fence(std::memory_order_acquire);
    if (g->id.load(std::memory_order_relaxed) != id) continue;
    raw.push_back(r);
  }
  // Oldest first. Ids are handed out per thread in blocks, so they order goroutines only within
  // a thread; the start time (coarse) comes first.
  std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
    return a.created_ns != b.created_ns ? a.created_ns < b.created_ns : a.id < b.id;
  });
  std::vector<GoroutineInfo> out;
  out.reserve(raw.size());
  for (const Raw& r : raw) {
    GoroutineInfo info;
    info.id = r.id;
    info.origin = internal::origin_text(r.file, r.line, r.function);
    info.age_seconds = static_cast<double>(now - r.created_ns) / 1e9;
    if (r.wait != nullptr) {
      info.waiting = true;
      info.waits_on = r.wait;
      info.waiting_seconds =
          r.since_ns == 0 ? 0
                          : static_cast<double>(std::max<std::int64_t>(0, now - r.since_ns)) / 1e9;
      for (const auto& [address, name] : names) {
        if (address == r.object) info.channel = name;
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

std::size_t tracked_goroutines() {
  std::lock_guard lock(internal::records_mu());
  std::size_t n = 0;
  for (const internal::GoroutineRecord* g : internal::all_records()) {
    if (g->id.load(std::memory_order_relaxed) != 0) ++n;
  }
  return n;
}

std::vector<ChannelInfo> channel_table() {
  std::vector<std::pair<std::string, std::shared_ptr<internal::ChanCore>>> live;
  {
    std::lock_guard lock(internal::channels_mu());
    for (const internal::NamedChannel& c : internal::channels()) {
      if (auto core = c.core.lock()) live.emplace_back(c.name, std::move(core));
    }
  }
  std::vector<ChannelInfo> out;
  for (auto& [name, core] : live) {
    ChannelInfo info;
    info.name = name;
    info.capacity = core->capacity();
    core->lock();
    info.length = core->size_locked();
    info.closed = core->closed_locked();
    info.waiting_senders = core->sendq().size();
    info.waiting_receivers = core->recvq().size();
    core->unlock();
    out.push_back(std::move(info));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ChannelInfo& a, const ChannelInfo& b) { return a.name < b.name; });
  return out;
}

}  // namespace csp
