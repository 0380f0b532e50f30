#pragma once
// Syslog messages (RFC 5424 and RFC 3164) as OTLP log records, with the attribute names of the
// Collector (contrib) syslog receiver, so its users' queries keep working.
//
// Every message becomes one record:
//  - body: the message as received (after framing); bytes that are not UTF-8 become U+FFFD,
//    here and in every string attribute, since OTLP strings must be UTF-8;
//  - time_unix_nano: the message's timestamp (RFC 3164 carries no year and no zone: the year is
//    the current one in `location`, moved back one if that would put the message more than a
//    day in the future; the zone is `location`); observed_time_unix_nano: when it was parsed;
//  - severity_number / severity_text from the PRI's severity (table in docs/collector.md);
//  - attributes: priority, facility (ints); hostname, appname, proc_id, msg_id, message
//    (strings, when present: "-" is absent); version (int) and structured_data (a map of
//    SD-ID to a map of parameters) for RFC 5424.
//
// Contract: parse_syslog never throws and reads nothing outside `line`. A line that does not
// follow the protocol is an error naming what is wrong (and where); the caller counts it.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/signal.h"

namespace components {

using SyslogRecord = opentelemetry::proto::logs::v1::LogRecord;

enum class SyslogProtocol { kRfc5424, kRfc3164 };

struct SyslogParseOptions {
  SyslogProtocol protocol = SyslogProtocol::kRfc5424;
  // RFC 3164 timestamps: true = UTC, false = the machine's local time zone.
  bool utc = true;
};

// Parses `line` into `out` (which is cleared first). `now_ns`: the observed time.
absl::Status parse_syslog(std::string_view line, const SyslogParseOptions& options,
                          std::int64_t now_ns, SyslogRecord& out);

// The OTLP severity of a syslog severity (0 emerg .. 7 debug), and its name.
int syslog_severity_number(int severity);
std::string_view syslog_severity_text(int severity);

}  // namespace components
