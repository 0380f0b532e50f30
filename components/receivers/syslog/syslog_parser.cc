#include "components/receivers/syslog/syslog_parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <optional>

#include "absl/strings/str_cat.h"

namespace components {

namespace {

using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using Attributes = google::protobuf::RepeatedPtrField<KeyValue>;

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

// A cursor over the line; every read checks the end.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  bool take(char c) {
    if (done() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  // Up to the next space (or the end), not taking the space.
  std::string_view word() {
    const std::size_t start = pos_;
    while (!done() && s_[pos_] != ' ') ++pos_;
    return s_.substr(start, pos_ - start);
  }
  std::optional<int> digits(int min_count, int max_count) {
    int value = 0;
    int n = 0;
    while (n < max_count && !done() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      value = value * 10 + (s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    if (n < min_count) return std::nullopt;
    return value;
  }
  std::string_view rest() const { return done() ? std::string_view() : s_.substr(pos_); }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

absl::Status malformed(const Cursor& c, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("syslog: ", std::string(what), " at byte ", c.pos()));
}

// OTLP strings are UTF-8 (protobuf refuses to encode others), but a syslog line may carry any
// bytes: each byte that does not start a valid UTF-8 sequence becomes U+FFFD.
std::string to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    const unsigned char c = *p;
    int extra = -1;
    std::uint32_t code = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      extra = 0, code = c;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07, min = 0x10000;
    }
    bool ok = extra >= 0 && end - p > extra;
    for (int i = 1; ok && i <= extra; ++i) {
      ok = (p[i] & 0xC0) == 0x80;
      code = (code << 6) | (p[i] & 0x3F);
    }
    ok = ok && code >= min && code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF);
    if (ok) {
      out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(extra + 1));
      p += extra + 1;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++p;
    }
  }
  return out;
}

AnyValue& add(Attributes& attrs, std::string_view key) {
  KeyValue* kv = attrs.Add();
  kv->set_key(to_utf8(key));
  return *kv->mutable_value();
}

void add_string(Attributes& attrs, std::string_view key, std::string_view value) {
  if (value.empty() || value == "-") return;  // absent (RFC 5424's NILVALUE)
  add(attrs, key).set_string_value(to_utf8(value));
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian), without the C library's zone.
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

// <PRI>: priority = facility * 8 + severity, at most 191.
absl::StatusOr<int> parse_pri(Cursor& c) {
  if (!c.take('<')) return malformed(c, "missing '<' of the PRI");
  std::optional<int> pri = c.digits(1, 3);
  if (!pri || *pri > 191) return malformed(c, "PRI is not a number in [0, 191]");
  if (!c.take('>')) return malformed(c, "missing '>' of the PRI");
  return *pri;
}

void set_priority(int pri, SyslogRecord& out) {
  const int severity = pri % 8;
  add(*out.mutable_attributes(), "priority").set_int_value(pri);
  add(*out.mutable_attributes(), "facility").set_int_value(pri / 8);
  out.set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(
      syslog_severity_number(severity)));
  out.set_severity_text(std::string(syslog_severity_text(severity)));
}

// "HH:MM:SS" as seconds into the day (a leap second 60 reads as 59).
absl::StatusOr<int> parse_clock(Cursor& c) {
  const auto h = c.digits(2, 2);
  if (!h || *h > 23 || !c.take(':')) return malformed(c, "bad hour in the timestamp");
  const auto mi = c.digits(2, 2);
  if (!mi || *mi > 59 || !c.take(':')) return malformed(c, "bad minute in the timestamp");
  const auto s = c.digits(2, 2);
  if (!s || *s > 60) return malformed(c, "bad second in the timestamp");
  return *h * 3600 + *mi * 60 + std::min(*s, 59);
}

// RFC 3339 as RFC 5424 restricts it: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
absl::StatusOr<std::int64_t> parse_rfc3339(Cursor& c) {
  const auto y = c.digits(4, 4);
  if (!y || !c.take('-')) return malformed(c, "bad year in the timestamp");
  // OTLP times are nanoseconds in 64 bits: they end in 2262.
  if (*y < 1970 || *y > 2261) return malformed(c, "year of the timestamp out of range");
  const auto mo = c.digits(2, 2);
  if (!mo || *mo < 1 || *mo > 12 || !c.take('-')) return malformed(c, "bad month in the timestamp");
  const auto d = c.digits(2, 2);
  if (!d || *d < 1 || *d > 31 || !c.take('T')) return malformed(c, "bad day in the timestamp");
  absl::StatusOr<int> clock = parse_clock(c);
  if (!clock.ok()) return clock.status();
  std::int64_t nanos = 0;
  if (c.take('.')) {
    int n = 0;
    while (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek())) && n < 9) {
      nanos = nanos * 10 + (c.peek() - '0');
      c.take(c.peek());
      ++n;
    }
    if (n == 0) return malformed(c, "empty fraction in the timestamp");
    for (int i = n; i < 9; ++i) nanos *= 10;
    while (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek()))) c.take(c.peek());
  }
  std::int64_t offset_seconds = 0;
  if (!c.take('Z')) {
    const bool plus = c.take('+');
    if (!plus && !c.take('-')) return malformed(c, "missing zone in the timestamp");
    const auto oh = c.digits(2, 2);
    if (!oh || *oh > 23 || !c.take(':')) return malformed(c, "bad zone in the timestamp");
    const auto om = c.digits(2, 2);
    if (!om || *om > 59) return malformed(c, "bad zone in the timestamp");
    offset_seconds = (*oh * 3600 + *om * 60) * (plus ? 1 : -1);
  }
  const std::int64_t seconds = days_from_civil(*y, *mo, *d) * 86400 + *clock - offset_seconds;
  return seconds * kNanosPerSecond + nanos;
}

// "Mmm dd hh:mm:ss" (the day space-padded), in UTC or local time, the year inferred.
absl::StatusOr<std::int64_t> parse_bsd_time(Cursor& c, bool utc, std::int64_t now_ns) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::string_view month = c.word();
  const auto it = std::find(kMonths.begin(), kMonths.end(), month);
  if (it == kMonths.end()) return malformed(c, "bad month in the timestamp");
  if (!c.take(' ')) return malformed(c, "missing space after the month");
  c.take(' ');  // "Dec  1"
  const auto d = c.digits(1, 2);
  if (!d || *d < 1 || *d > 31 || !c.take(' ')) return malformed(c, "bad day in the timestamp");
  absl::StatusOr<int> clock = parse_clock(c);
  if (!clock.ok()) return clock.status();
  const int mon = static_cast<int>(it - kMonths.begin()) + 1;
  const std::time_t now = static_cast<std::time_t>(now_ns / kNanosPerSecond);
  std::tm now_tm{};
  if (utc) {
    gmtime_r(&now, &now_tm);
  } else {
    localtime_r(&now, &now_tm);
  }
  auto at_year = [&](int year) -> std::int64_t {
    if (utc) {
      return (days_from_civil(year, mon, *d) * 86400 + *clock) * kNanosPerSecond;
    }
    std::tm t{};
    t.tm_year = year - 1900;
    t.tm_mon = mon - 1;
    t.tm_mday = *d;
    t.tm_hour = *clock / 3600;
    t.tm_min = *clock / 60 % 60;
    t.tm_sec = *clock % 60;
    t.tm_isdst = -1;
    return static_cast<std::int64_t>(std::mktime(&t)) * kNanosPerSecond;
  };
  const int year = now_tm.tm_year + 1900;
  std::int64_t ns = at_year(year);
  // December's messages read in January belong to last year.
  if (ns > now_ns + kNanosPerDay) ns = at_year(year - 1);
  return ns;
}

// One SD-ELEMENT's PARAM-VALUE: escapes \" \\ \] are taken off.
absl::StatusOr<std::string> parse_param_value(Cursor& c) {
  if (!c.take('"')) return malformed(c, "missing '\"' before a structured data value");
  std::string value;
  for (;;) {
    if (c.done()) return malformed(c, "unterminated structured data value");
    const char ch = c.peek();
    c.take(ch);
    if (ch == '"') return value;
    if (ch == '\\' && (c.peek() == '"' || c.peek() == '\\' || c.peek() == ']')) {
      value.push_back(c.peek());
      c.take(c.peek());
      continue;
    }
    value.push_back(ch);
  }
}

// SD-NAME: printable US-ASCII except '=', ' ', ']', '"'; 1 to 32 characters.
std::string_view sd_name(Cursor& c, std::string_view rest_of_line) {
  std::size_t n = 0;
  while (n < rest_of_line.size() && n < 32) {
    const char ch = rest_of_line[n];
    if (ch <= 32 || ch >= 127 || ch == '=' || ch == ']' || ch == '"') break;
    ++n;
  }
  for (std::size_t i = 0; i < n; ++i) c.take(rest_of_line[i]);
  return rest_of_line.substr(0, n);
}

absl::Status parse_structured_data(Cursor& c, SyslogRecord& out) {
  if (c.take('-')) return absl::OkStatus();
  if (c.peek() != '[') return malformed(c, "structured data must be '-' or start with '['");
  AnyValue& sd = add(*out.mutable_attributes(), "structured_data");
  auto* elements = sd.mutable_kvlist_value();
  while (c.take('[')) {
    const std::string_view id = sd_name(c, c.rest());
    if (id.empty()) return malformed(c, "empty SD-ID");
    KeyValue* element = elements->add_values();
    element->set_key(to_utf8(id));
    auto* params = element->mutable_value()->mutable_kvlist_value();
    while (c.take(' ')) {
      const std::string_view name = sd_name(c, c.rest());
      if (name.empty()) return malformed(c, "empty structured data parameter name");
      if (!c.take('=')) return malformed(c, "missing '=' after a structured data name");
      absl::StatusOr<std::string> value = parse_param_value(c);
      if (!value.ok()) return value.status();
      KeyValue* param = params->add_values();
      param->set_key(to_utf8(name));
      param->mutable_value()->set_string_value(to_utf8(*value));
    }
    if (!c.take(']')) return malformed(c, "missing ']' closing structured data");
  }
  return absl::OkStatus();
}

absl::Status parse_5424(Cursor& c, std::int64_t now_ns, SyslogRecord& out) {
  const std::optional<int> version = c.digits(1, 2);
  if (!version || *version < 1) return malformed(c, "missing VERSION after the PRI");
  add(*out.mutable_attributes(), "version").set_int_value(*version);
  if (!c.take(' ')) return malformed(c, "missing space after VERSION");
  if (c.take('-')) {
    out.set_time_unix_nano(static_cast<std::uint64_t>(now_ns));  // no timestamp: when received
  } else {
    absl::StatusOr<std::int64_t> ts = parse_rfc3339(c);
    if (!ts.ok()) return ts.status();
    out.set_time_unix_nano(static_cast<std::uint64_t>(std::max<std::int64_t>(*ts, 0)));
  }
  const std::pair<const char*, int> fields[] = {
      {"hostname", 255}, {"appname", 48}, {"proc_id", 128}, {"msg_id", 32}};
  for (const auto& [key, max] : fields) {
    if (!c.take(' ')) return malformed(c, absl::StrCat("missing space before ", key));
    const std::string_view value = c.word();
    if (value.empty()) return malformed(c, absl::StrCat("empty ", key));
    if (value.size() > static_cast<std::size_t>(max)) {
      return malformed(c, absl::StrCat(key, " longer than ", max, " characters"));
    }
    add_string(*out.mutable_attributes(), key, value);
  }
  if (!c.take(' ')) return malformed(c, "missing space before structured data");
  if (absl::Status s = parse_structured_data(c, out); !s.ok()) return s;
  if (c.take(' ')) {
    std::string_view message = c.rest();
    if (message.substr(0, 3) == "\xEF\xBB\xBF") message.remove_prefix(3);  // the UTF-8 BOM
    add_string(*out.mutable_attributes(), "message", message);
  } else if (!c.done()) {
    return malformed(c, "missing space before the message");
  }
  return absl::OkStatus();
}

absl::Status parse_3164(Cursor& c, const SyslogParseOptions& options, std::int64_t now_ns,
                        SyslogRecord& out) {
  absl::StatusOr<std::int64_t> ts = parse_bsd_time(c, options.utc, now_ns);
  if (!ts.ok()) return ts.status();
  out.set_time_unix_nano(static_cast<std::uint64_t>(std::max<std::int64_t>(*ts, 0)));
  if (!c.take(' ')) return malformed(c, "missing space after the timestamp");
  const std::string_view hostname = c.word();
  if (hostname.empty()) return malformed(c, "missing HOSTNAME");
  add_string(*out.mutable_attributes(), "hostname", hostname);
  if (!c.take(' ')) return absl::OkStatus();  // a message with no TAG and no content
  // TAG: up to 32 alphanumerics (in practice any of [^:[ ]), then [pid], then ':'.
  std::string_view rest = c.rest();
  std::size_t n = 0;
  while (n < rest.size() && rest[n] != ':' && rest[n] != '[' && rest[n] != ' ') ++n;
  const bool tagged = n > 0 && n < rest.size() && (rest[n] == ':' || rest[n] == '[');
  if (!tagged) {
    add_string(*out.mutable_attributes(), "message", rest);
    return absl::OkStatus();
  }
  add_string(*out.mutable_attributes(), "appname", rest.substr(0, n));
  rest.remove_prefix(n);
  if (rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("syslog: missing ']' after the process id");
    }
    add_string(*out.mutable_attributes(), "proc_id", rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
  }
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  add_string(*out.mutable_attributes(), "message", rest);
  return absl::OkStatus();
}

}  // namespace

int syslog_severity_number(int severity) {
  static constexpr std::array<int, 8> kNumbers = {21, 19, 18, 17, 13, 10, 9, 5};
  return severity >= 0 && severity < 8 ? kNumbers[static_cast<std::size_t>(severity)] : 0;
}

std::string_view syslog_severity_text(int severity) {
  static constexpr std::array<std::string_view, 8> kNames = {"emerg",   "alert",  "crit", "err",
                                                             "warning", "notice", "info", "debug"};
  return severity >= 0 && severity < 8 ? kNames[static_cast<std::size_t>(severity)] : "";
}

absl::Status parse_syslog(std::string_view line, const SyslogParseOptions& options,
                          std::int64_t now_ns, SyslogRecord& out) {
  out.Clear();
  // Framing leftovers: a trailing CR (CRLF senders) or LF.
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == '\0')) {
    line.remove_suffix(1);
  }
  out.set_observed_time_unix_nano(static_cast<std::uint64_t>(now_ns));
  out.mutable_body()->set_string_value(to_utf8(line));
  Cursor c(line);
  absl::StatusOr<int> pri = parse_pri(c);
  if (!pri.ok()) return pri.status();
  set_priority(*pri, out);
  if (options.protocol == SyslogProtocol::kRfc5424) return parse_5424(c, now_ns, out);
  return parse_3164(c, options, now_ns, out);
}

}  // namespace components
