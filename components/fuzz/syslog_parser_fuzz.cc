// libFuzzer target for the syslog receiver's parser (receivers/syslog/syslog_parser.h): any
// line, as RFC 5424 and as RFC 3164, in UTC and local time. A parsed line keeps its text as the
// body (bytes that are not UTF-8 replaced), its severity within the OTLP range, and its
// priority within syslog's; the record it makes encodes as a valid OTLP log record (protobuf
// refuses strings that are not UTF-8).
//
// Input: byte 0 picks the protocol and the time zone; the rest is the line.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "components/receivers/syslog/syslog_parser.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  components::SyslogParseOptions options;
  options.protocol = (data[0] & 1) != 0 ? components::SyslogProtocol::kRfc3164
                                        : components::SyslogProtocol::kRfc5424;
  options.utc = (data[0] & 2) == 0;
  const std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
  components::SyslogRecord record;
  const absl::Status parsed =
      components::parse_syslog(line, options, 1'700'000'000'000'000'000, record);
  if (!parsed.ok()) {
    check(!parsed.message().empty());
    return 0;
  }
  // The body is the line (without trailing CR, LF or NUL, framing leftovers), with what is not
  // UTF-8 replaced: so every string encodes.
  std::string_view text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == '\0')) {
    text.remove_suffix(1);
  }
  if (record.body().string_value() != text) {
    check(record.body().string_value().find("\xEF\xBF\xBD") != std::string::npos);
  }
  check(record.severity_number() >= 1 && record.severity_number() <= 24);
  for (const auto& kv : record.attributes()) {
    if (kv.key() == "priority") check(kv.value().int_value() >= 0 && kv.value().int_value() <= 191);
  }
  std::string bytes;
  check(record.SerializeToString(&bytes));
  return 0;
}
