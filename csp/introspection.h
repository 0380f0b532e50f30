#pragma once
// Looking inside the runtime while it runs, for people debugging a live process (otlpd's status
// page shows both):
//
//  - goroutine_dump(): every live goroutine — where it was started, and whether it is parked
//    and on what (chan send/receive, select, sleep, I/O wait, WaitGroup.wait) for how long —
//    like Go's /debug/pprof/goroutine?debug=2 without the stacks.
//  - channel_table(): the channels that were given a name (Chan::set_name) with their capacity,
//    length, closed flag and parked senders and receivers.
//
// Contract:
//  - Both are snapshots taken while the program runs: each entry is consistent in itself, the
//    set as a whole is not one instant. Any thread; neither blocks the goroutines for longer
//    than copying a few fields under a spin lock.
//  - A goroutine that is not parked is "running or runnable" (the scheduler does not record
//    which without cost on every switch). One woken but not yet running shows as runnable.
//  - Named channels are held weakly: a channel disappears from the table with its last handle.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace csp {

struct GoroutineInfo {
  std::uint64_t id = 0;
  std::string origin;    // "transport/grpc_server.cc:1012 (start)": where it was started
  bool waiting = false;  // parked
  std::string waits_on;  // "chan receive", "select", "sleep", "I/O wait", "WaitGroup.wait"
  std::string channel;   // the channel's name, when it waits on a named one
  // How long it has been parked, at least: since the first dump that saw this wait (parking
  // reads no clock). Exact to the interval between dumps, as Go's.
  double waiting_seconds = 0;
  double age_seconds = 0;  // since it started
};

// Oldest first.
std::vector<GoroutineInfo> goroutine_dump();
// Goroutines alive now, by the registry (the dump's size without building it).
std::size_t tracked_goroutines();

struct ChannelInfo {
  std::string name;
  std::size_t capacity = 0;
  std::size_t length = 0;  // values buffered
  bool closed = false;
  std::size_t waiting_senders = 0;    // parked sends (and select cases that may send)
  std::size_t waiting_receivers = 0;  // parked receives (and select cases)
};

// By name, then by creation.
std::vector<ChannelInfo> channel_table();

namespace internal {
class ChanCore;
// Chan::set_name: registers `core` under `name` (weakly).
void name_channel(const std::shared_ptr<ChanCore>& core, std::string name);
}  // namespace internal

}  // namespace csp
