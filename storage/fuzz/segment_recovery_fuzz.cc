// libFuzzer target: arbitrary bytes as the segment files (and manifest) of a durable log, fed to
// recovery. Whatever the bytes, open() must succeed, every delivered record must be one whose
// frame checks out, the counters must balance, and the log must take a new append and reopen.
//
// Input: byte 0 picks the layout — bit 0: the rest is split in two segments at byte 1's
// position; bit 1: the last 36 bytes are a MANIFEST (cursor and one attempt count) instead of data;
// bits 2-3: the second segment's name gap (1, 3, 9 or 1000 sequence numbers).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/durable_log.h"
#include "storage/internal/frame.h"
#include "storage/internal/log_files.h"
#include "storage/testing/fault_injecting_file_system.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace storage;
  if (size < 2) return 0;
  const std::uint8_t layout = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  testing::FaultInjectingFileSystem fs;
  const std::string dir = "/fuzz";
  if ((layout & 2) && rest.size() >= 36) {
    fs.set_contents(dir + "/MANIFEST", std::string(rest.substr(rest.size() - 36)));
    rest.remove_suffix(36);
  }
  const std::uint64_t gaps[] = {1, 3, 9, 1000};
  if (layout & 1) {
    const std::size_t cut = std::min<std::size_t>(data[1] * 4, rest.size());
    fs.set_contents(dir + "/" + internal::segment_file_name(0), std::string(rest.substr(0, cut)));
    fs.set_contents(dir + "/" + internal::segment_file_name(gaps[(layout >> 2) & 3]),
                    std::string(rest.substr(cut)));
  } else {
    fs.set_contents(dir + "/" + internal::segment_file_name(0), std::string(rest));
  }

  DurableLogOptions options;
  options.max_segment_bytes = 4096;
  options.max_total_bytes = 1 << 20;
  options.max_record_bytes = 1024;
  options.free_space_reserve = 0;
  options.max_deliveries = 2;
  {
    auto log = DurableLog::open(fs, dir, options);
    check(log.ok());
    std::uint64_t delivered = 0;
    for (int guard = 0; guard < 100000; ++guard) {
      auto r = (*log)->try_next();
      check(r.ok());
      if (!r->has_value()) break;
      check((*r)->payload.size() <= options.max_record_bytes);
      ++delivered;
      check((*log)->ack((*r)->seq).ok());
    }
    check((*log)->append_blocking("after recovery").ok());
    const DurableLogStats s = (*log)->stats();
    check(s.recovered + s.appended == s.acknowledged + s.dead_lettered + s.dead_letter_discarded +
                                          s.corrupt_skipped + s.pending);
    check(delivered == s.acknowledged);
    check(s.recovered == s.recovery.records_recovered + s.recovery.corrupt_records_skipped);
  }
  auto again = DurableLog::open(fs, dir, options);
  check(again.ok());
  auto r = (*again)->try_next();
  check(r.ok() && r->has_value() && (*r)->payload == "after recovery");
  return 0;
}
