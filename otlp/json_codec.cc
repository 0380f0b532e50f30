// OTLP/JSON codec. Decoding parses with simdjson's DOM and walks the tree
// guided by the descriptor tables of internal/message_index, setting fields
// through protobuf reflection; encoding walks the message the same way and
// writes text directly. Both sides apply the OTLP rules listed in the header.

#include "otlp/json_codec.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "otlp/errors.h"
#include "otlp/internal/absl_view.h"
#include "otlp/internal/encoding.h"
#include "otlp/internal/message_index.h"

namespace otlp {
namespace {

namespace pb = google::protobuf;
namespace dom = simdjson::dom;
using internal::FieldInfo;
using internal::MessageInfo;

// JSON levels outside AnyValues (request … exemplar … attribute arrays) plus
// slack; each AnyValue level adds at most 4 (AnyValue {}, kvlistValue {},
// values [], KeyValue {}).
constexpr size_t kJsonStructuralDepth = 24;
constexpr size_t kJsonLevelsPerAnyValueLevel = 4;

// ---- decoding ----------------------------------------------------------------

bool parse_int64_text(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool parse_uint64_text(std::string_view text, uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool parse_double_text(std::string_view text, double& out) {
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text == "Infinity") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Infinity") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

// An integral double in [min, max] (exponent forms like 1e3 are integers too).
bool integral_double(double d, double min, double max) {
  return std::isfinite(d) && std::trunc(d) == d && d >= min && d <= max;
}

class JsonDecoder {
 public:
  explicit JsonDecoder(const DecodeLimits& limits) : limits_(limits) {}

  absl::Status decode_message(dom::element value, const MessageInfo& info, pb::Message& msg) {
    dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return fail("expected an object");
    if (info.is_any_value && ++any_depth_ > limits_.max_any_value_depth) {
      return make_error(ErrorKind::kNestingTooDeep,
                        absl::StrCat(path_text(), ": AnyValue nesting deeper than the limit of ",
                                     limits_.max_any_value_depth));
    }
    // Asked once per message: GetReflection() is not free.
    const pb::Reflection* reflection = msg.GetReflection();
    for (dom::key_value_pair member : object) {
      const FieldInfo* field = info.find_by_name(member.key);
      if (field == nullptr) continue;  // unknown keys are ignored (OTLP/JSON rule)
      path_.push_back({member.key, -1});
      absl::Status status = decode_field(member.value, *field, reflection, msg);
      if (!status.ok()) return status;
      path_.pop_back();
    }
    if (info.is_any_value) --any_depth_;
    return absl::OkStatus();
  }

 private:
  struct Segment {
    std::string_view key;
    int64_t index;  // -1 for a key
  };

  std::string path_text() const {
    std::string out;
    for (const Segment& s : path_) {
      if (s.index >= 0) {
        absl::StrAppend(&out, "[", s.index, "]");
      } else {
        if (!out.empty()) out.push_back('.');
        out.append(s.key);
      }
    }
    return out.empty() ? "(root)" : out;
  }

  absl::Status fail(std::string_view what) const {
    return make_error(ErrorKind::kMalformed, absl::StrCat(path_text(), ": ", internal::av(what)));
  }

  absl::Status decode_field(dom::element value, const FieldInfo& field, const pb::Reflection* r,
                            pb::Message& msg) {
    if (value.is_null()) return absl::OkStatus();  // null means "absent"
    if (!field.repeated) return decode_value(value, field, r, msg, /*add=*/false);
    dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) return fail("expected an array");
    int64_t index = 0;
    for (dom::element item : array) {
      path_.push_back({{}, index++});
      if (item.is_null()) return fail("null is not allowed in an array");
      absl::Status status = decode_value(item, field, r, msg, /*add=*/true);
      if (!status.ok()) return status;
      path_.pop_back();
    }
    return absl::OkStatus();
  }

  absl::Status decode_value(dom::element value, const FieldInfo& field, const pb::Reflection* r,
                            pb::Message& msg, bool add) {
    const pb::FieldDescriptor* fd = field.descriptor;
    switch (field.cpp_type) {
      case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
        pb::Message* child = add ? r->AddMessage(&msg, fd) : r->MutableMessage(&msg, fd);
        return decode_message(value, *field.message, *child);
      }
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        std::string_view text;
        if (value.get_string().get(text) != simdjson::SUCCESS) return fail("expected a string");
        std::string bytes;
        if (fd->type() == pb::FieldDescriptor::TYPE_STRING) {
          bytes.assign(text);
        } else if (field.hex_id) {
          if (!internal::decode_hex(text, bytes)) return fail("invalid hex id");
          if (!bytes.empty() && bytes.size() != static_cast<std::size_t>(field.id_bytes)) {
            return fail(absl::StrCat("must be ", field.id_bytes, " bytes, got ", bytes.size()));
          }
        } else if (!internal::decode_base64(text, bytes)) {
          return fail("invalid base64");
        }
        add ? r->AddString(&msg, fd, std::move(bytes)) : r->SetString(&msg, fd, std::move(bytes));
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_BOOL: {
        bool b = false;
        if (value.get_bool().get(b) != simdjson::SUCCESS) return fail("expected true or false");
        add ? r->AddBool(&msg, fd, b) : r->SetBool(&msg, fd, b);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      case pb::FieldDescriptor::CPPTYPE_FLOAT: {
        double d = 0;
        if (!read_double(value, d)) return fail("expected a number, \"NaN\" or \"[-]Infinity\"");
        if (field.cpp_type == pb::FieldDescriptor::CPPTYPE_FLOAT) {
          float f = static_cast<float>(d);
          add ? r->AddFloat(&msg, fd, f) : r->SetFloat(&msg, fd, f);
        } else {
          add ? r->AddDouble(&msg, fd, d) : r->SetDouble(&msg, fd, d);
        }
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_INT32: {
        int64_t v = 0;
        if (!read_signed(value, std::numeric_limits<int32_t>::min(),
                         std::numeric_limits<int32_t>::max(), v)) {
          return fail("expected a 32-bit integer");
        }
        add ? r->AddInt32(&msg, fd, static_cast<int32_t>(v))
            : r->SetInt32(&msg, fd, static_cast<int32_t>(v));
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_INT64: {
        int64_t v = 0;
        if (!read_signed(value, std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max(), v)) {
          return fail("expected a 64-bit integer (number or decimal string)");
        }
        add ? r->AddInt64(&msg, fd, v) : r->SetInt64(&msg, fd, v);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_UINT32: {
        uint64_t v = 0;
        if (!read_unsigned(value, std::numeric_limits<uint32_t>::max(), v)) {
          return fail("expected an unsigned 32-bit integer");
        }
        add ? r->AddUInt32(&msg, fd, static_cast<uint32_t>(v))
            : r->SetUInt32(&msg, fd, static_cast<uint32_t>(v));
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v = 0;
        if (!read_unsigned(value, std::numeric_limits<uint64_t>::max(), v)) {
          return fail("expected an unsigned 64-bit integer (number or decimal string)");
        }
        add ? r->AddUInt64(&msg, fd, v) : r->SetUInt64(&msg, fd, v);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_ENUM: {
        int64_t v = 0;
        std::string_view name;
        if (value.get_string().get(name) == simdjson::SUCCESS && !parse_int64_text(name, v)) {
          const pb::EnumValueDescriptor* e = fd->enum_type()->FindValueByName(std::string(name));
          if (e == nullptr)
            return fail(absl::StrCat("unknown enum value \"", internal::av(name), "\""));
          v = e->number();
        } else if (!read_signed(value, std::numeric_limits<int32_t>::min(),
                                std::numeric_limits<int32_t>::max(), v)) {
          return fail("expected an enum number or name");
        }
        add ? r->AddEnumValue(&msg, fd, static_cast<int>(v))
            : r->SetEnumValue(&msg, fd, static_cast<int>(v));
        return absl::OkStatus();
      }
    }
    return fail("unsupported field type");
  }

  static bool read_double(dom::element value, double& out) {
    switch (value.type()) {
      case dom::element_type::DOUBLE:
        return value.get_double().get(out) == simdjson::SUCCESS;
      case dom::element_type::INT64: {
        int64_t i = 0;
        if (value.get_int64().get(i) != simdjson::SUCCESS) return false;
        out = static_cast<double>(i);
        return true;
      }
      case dom::element_type::UINT64: {
        uint64_t u = 0;
        if (value.get_uint64().get(u) != simdjson::SUCCESS) return false;
        out = static_cast<double>(u);
        return true;
      }
      case dom::element_type::STRING: {
        std::string_view text;
        return value.get_string().get(text) == simdjson::SUCCESS && parse_double_text(text, out);
      }
      default:
        return false;
    }
  }

  static bool read_signed(dom::element value, int64_t min, int64_t max, int64_t& out) {
    switch (value.type()) {
      case dom::element_type::INT64:
        if (value.get_int64().get(out) != simdjson::SUCCESS) return false;
        break;
      case dom::element_type::UINT64:
        return false;  // above INT64_MAX
      case dom::element_type::DOUBLE: {
        double d = 0;
        // 2^63 is not representable as int64; the range check is on doubles.
        if (value.get_double().get(d) != simdjson::SUCCESS ||
            !integral_double(d, -9223372036854775808.0, 9223372036854774784.0)) {
          return false;
        }
        out = static_cast<int64_t>(d);
        break;
      }
      case dom::element_type::STRING: {
        std::string_view text;
        if (value.get_string().get(text) != simdjson::SUCCESS) return false;
        if (!parse_int64_text(text, out)) {
          double d = 0;
          if (!parse_double_text(text, d) ||
              !integral_double(d, -9223372036854775808.0, 9223372036854774784.0)) {
            return false;
          }
          out = static_cast<int64_t>(d);
        }
        break;
      }
      default:
        return false;
    }
    return out >= min && out <= max;
  }

  static bool read_unsigned(dom::element value, uint64_t max, uint64_t& out) {
    switch (value.type()) {
      case dom::element_type::INT64: {
        int64_t i = 0;
        if (value.get_int64().get(i) != simdjson::SUCCESS || i < 0) return false;
        out = static_cast<uint64_t>(i);
        break;
      }
      case dom::element_type::UINT64:
        if (value.get_uint64().get(out) != simdjson::SUCCESS) return false;
        break;
      case dom::element_type::DOUBLE: {
        double d = 0;
        if (value.get_double().get(d) != simdjson::SUCCESS ||
            !integral_double(d, 0, 18446744073709549568.0)) {
          return false;
        }
        out = static_cast<uint64_t>(d);
        break;
      }
      case dom::element_type::STRING: {
        std::string_view text;
        if (value.get_string().get(text) != simdjson::SUCCESS) return false;
        if (!parse_uint64_text(text, out)) {
          double d = 0;
          if (!parse_double_text(text, d) || !integral_double(d, 0, 18446744073709549568.0)) {
            return false;
          }
          out = static_cast<uint64_t>(d);
        }
        break;
      }
      default:
        return false;
    }
    return out <= max;
  }

  const DecodeLimits& limits_;
  std::vector<Segment> path_;
  int any_depth_ = 0;
};

// simdjson refuses integer literals beyond 64 bits, but JSON writers emit them
// for large doubles (JavaScript writes 1e20 as 100000000000000000000). On that
// error we retry with every such literal turned into a decimal ("…0.0"), which
// parses as a double; integer fields then reject it by range as usual.
// Returns false when the text has no such literal (the error is genuine).
bool rewrite_big_integers(std::string_view json, std::string& out) {
  constexpr size_t kMaxExactDigits = 19;
  out.clear();
  out.reserve(json.size() + 16);
  bool changed = false;
  bool in_string = false;
  size_t i = 0;
  while (i < json.size()) {
    char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out.push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i;
      size_t digits = 0;
      bool integral = true;
      if (json[i] == '-') ++i;
      while (i < json.size()) {
        char d = json[i];
        if (d >= '0' && d <= '9') {
          ++digits;
        } else if (d == '.' || d == 'e' || d == 'E' || d == '+' || d == '-') {
          integral = false;
        } else {
          break;
        }
        ++i;
      }
      out.append(json.substr(start, i - start));
      if (integral && digits > kMaxExactDigits) {
        out.append(".0");
        changed = true;
      }
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return changed;
}

// One parser per thread: simdjson parsers own large buffers worth reusing.
dom::parser& thread_parser(size_t max_depth) {
  thread_local dom::parser parser;
  thread_local size_t depth = 0;
  if (depth != max_depth) {
    if (parser.allocate(std::max<size_t>(parser.capacity(), 4096), max_depth) !=
        simdjson::SUCCESS) {
      depth = 0;
    } else {
      depth = max_depth;
    }
  }
  return parser;
}

// ---- encoding ----------------------------------------------------------------

class JsonEncoder {
 public:
  JsonEncoder(std::string& out, bool pretty) : out_(out), pretty_(pretty) {}

  void encode_message(const pb::Message& msg, const MessageInfo& info) {
    const pb::Reflection* r = msg.GetReflection();
    out_.push_back('{');
    ++indent_;
    bool first = true;
    for (const FieldInfo& candidate : info.fields) {
      const FieldInfo* chosen = &candidate;
      if (candidate.oneof != nullptr) {
        // One question per oneof instead of one per member (AnyValue has 8).
        if (!candidate.first_of_oneof) continue;
        const pb::FieldDescriptor* set = r->GetOneofFieldDescriptor(msg, candidate.oneof);
        if (set == nullptr) continue;
        chosen = &info.fields[set->index()];
      }
      const FieldInfo& field = *chosen;
      const pb::FieldDescriptor* fd = field.descriptor;
      int size = 0;
      if (field.repeated) {
        size = r->FieldSize(msg, fd);
        if (size == 0) continue;
      } else if (!r->HasField(msg, fd)) {
        continue;  // proto3: default values are not written
      }
      if (!first) out_.push_back(',');
      first = false;
      newline();
      internal::append_json_string(out_, field.json_name);
      out_.append(pretty_ ? ": " : ":");
      if (!field.repeated) {
        encode_value(msg, r, field, -1);
        continue;
      }
      out_.push_back('[');
      ++indent_;
      for (int i = 0; i < size; ++i) {
        if (i > 0) out_.push_back(',');
        newline();
        encode_value(msg, r, field, i);
      }
      --indent_;
      newline();
      out_.push_back(']');
    }
    --indent_;
    if (!first) newline();
    out_.push_back('}');
  }

 private:
  void newline() {
    if (!pretty_) return;
    out_.push_back('\n');
    out_.append(static_cast<size_t>(2 * indent_), ' ');
  }

  void quoted_int64(int64_t v) {
    out_.push_back('"');
    internal::append_int64(out_, v);
    out_.push_back('"');
  }

  void quoted_uint64(uint64_t v) {
    out_.push_back('"');
    internal::append_uint64(out_, v);
    out_.push_back('"');
  }

  void write_double(double d) {
    if (std::isnan(d)) {
      out_.append("\"NaN\"");
    } else if (std::isinf(d)) {
      out_.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
      internal::append_double(out_, d);
    }
  }

  // index < 0: the singular field; else element `index` of a repeated one.
  void encode_value(const pb::Message& msg, const pb::Reflection* r, const FieldInfo& field,
                    int index) {
    const pb::FieldDescriptor* fd = field.descriptor;
    const bool rep = index >= 0;
    switch (field.cpp_type) {
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        encode_message(rep ? r->GetRepeatedMessage(msg, fd, index) : r->GetMessage(msg, fd),
                       *field.message);
        return;
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& value = rep ? r->GetRepeatedStringReference(msg, fd, index, &scratch)
                                       : r->GetStringReference(msg, fd, &scratch);
        if (fd->type() == pb::FieldDescriptor::TYPE_STRING) {
          internal::append_json_string(out_, value);
        } else {
          out_.push_back('"');
          field.hex_id ? internal::append_hex(out_, value) : internal::append_base64(out_, value);
          out_.push_back('"');
        }
        return;
      }
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        out_.append((rep ? r->GetRepeatedBool(msg, fd, index) : r->GetBool(msg, fd)) ? "true"
                                                                                     : "false");
        return;
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        write_double(rep ? r->GetRepeatedDouble(msg, fd, index) : r->GetDouble(msg, fd));
        return;
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        write_double(rep ? r->GetRepeatedFloat(msg, fd, index) : r->GetFloat(msg, fd));
        return;
      case pb::FieldDescriptor::CPPTYPE_INT32:
        internal::append_int64(out_,
                               rep ? r->GetRepeatedInt32(msg, fd, index) : r->GetInt32(msg, fd));
        return;
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        internal::append_uint64(out_,
                                rep ? r->GetRepeatedUInt32(msg, fd, index) : r->GetUInt32(msg, fd));
        return;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        quoted_int64(rep ? r->GetRepeatedInt64(msg, fd, index) : r->GetInt64(msg, fd));
        return;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        quoted_uint64(rep ? r->GetRepeatedUInt64(msg, fd, index) : r->GetUInt64(msg, fd));
        return;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        internal::append_int64(
            out_, rep ? r->GetRepeatedEnumValue(msg, fd, index) : r->GetEnumValue(msg, fd));
        return;
    }
  }

  std::string& out_;
  const bool pretty_;
  int indent_ = 0;
};

}  // namespace

absl::Status decode_json(std::string_view json, pb::Message& out, const DecodeLimits& limits) {
  if (json.size() > limits.max_message_bytes) {
    return make_error(ErrorKind::kMessageTooLarge,
                      absl::StrCat("JSON message of ", json.size(), " bytes exceeds the limit of ",
                                   limits.max_message_bytes, " bytes"));
  }
  if (limits.max_any_value_depth < 0) {
    return make_error(ErrorKind::kNestingTooDeep, "max_any_value_depth is negative");
  }
  const size_t max_depth =
      kJsonStructuralDepth +
      kJsonLevelsPerAnyValueLevel * static_cast<size_t>(limits.max_any_value_depth);
  dom::parser& parser = thread_parser(max_depth);
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a padded
  // copy kept per thread, so that steady-state decoding does not allocate.
  thread_local std::string padded;
  padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(json);
  dom::element root;
  simdjson::error_code error = parser.parse(padded.data(), padded.size(), false).get(root);
  thread_local std::string rewritten;
  if (error == simdjson::NUMBER_ERROR && rewrite_big_integers(json, rewritten)) {
    rewritten.reserve(rewritten.size() + simdjson::SIMDJSON_PADDING);
    error = parser.parse(rewritten.data(), rewritten.size(), false).get(root);
  }
  if (error == simdjson::DEPTH_ERROR) {
    return make_error(ErrorKind::kNestingTooDeep,
                      absl::StrCat("JSON nesting deeper than ", max_depth, " levels"));
  }
  if (error != simdjson::SUCCESS) {
    return make_error(ErrorKind::kMalformed,
                      absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  out.Clear();
  JsonDecoder decoder(limits);
  return decoder.decode_message(root, internal::message_info(out.GetDescriptor()), out);
}

void encode_json_append(const pb::Message& message, std::string& out,
                        const JsonEncodeOptions& options) {
  JsonEncoder encoder(out, options.pretty);
  encoder.encode_message(message, internal::message_info(message.GetDescriptor()));
}

absl::StatusOr<std::string> encode_json(const pb::Message& message,
                                        const JsonEncodeOptions& options) {
  std::string out;
  out.reserve(message.ByteSizeLong() * 2 + 16);
  encode_json_append(message, out, options);
  return out;
}

}  // namespace otlp
