#include "otlp/fuzz/harness.h"

#include <google/protobuf/stubs/logging.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "otlp/binary_codec.h"
#include "otlp/compression.h"
#include "otlp/errors.h"
#include "otlp/json_codec.h"
#include "otlp/signals.h"
#include "otlp/testing/examples.h"
#include "otlp/testing/random_requests.h"
#include "otlp/wire.h"

namespace otlp::fuzz {
namespace {

constexpr size_t kDecompressCap = 1u << 20;
constexpr Compression kCodecs[] = {Compression::kGzip, Compression::kDeflate, Compression::kZstd,
                                   Compression::kNone};

[[noreturn]] void violated(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz invariant violated: %s %s\n", what, detail.c_str());
  std::abort();
}

void check(bool ok, const char* what, const std::string& detail = "") {
  if (!ok) violated(what, detail);
}

Signal signal_from(uint8_t selector) { return kAllSignals[selector % 4]; }

// Limits small enough that the fuzzer spends its time on structure.
DecodeLimits fuzz_limits() {
  DecodeLimits limits;
  limits.max_message_bytes = 1u << 20;
  limits.max_any_value_depth = 16;
  return limits;
}

std::string with_selector(uint8_t selector, std::string_view payload) {
  std::string out(1, static_cast<char>(selector));
  out.append(payload);
  return out;
}

}  // namespace

void binary_decode(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const Signal signal = signal_from(data[0]);
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto request = new_request(signal);
  if (!decode_binary(bytes, *request, fuzz_limits()).ok()) return;

  absl::StatusOr<uint64_t> wire = wire_count_items(signal, bytes);
  check(wire.ok(), "wire_count_items failed on a decodable request");
  check(*wire == *count_items(*request), "wire count != decoded count");

  std::string json = *encode_json(*request);
  auto again = new_request(signal);
  absl::Status status = decode_json(json, *again, fuzz_limits());
  check(status.ok(), "our JSON does not decode", std::string(status.message()));
  check(*encode_json(*again) == json, "JSON re-encoding differs");
}

void json_decode(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const Signal signal = signal_from(data[0]);
  std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto request = new_request(signal);
  if (!decode_json(json, *request, fuzz_limits()).ok()) return;

  std::string text = *encode_json(*request);
  auto from_text = new_request(signal);
  absl::Status status = decode_json(text, *from_text, fuzz_limits());
  check(status.ok(), "our JSON does not decode", std::string(status.message()));
  check(*encode_json(*from_text) == text, "JSON re-encoding differs");

  std::string binary = *encode_binary(*request);
  auto from_binary = new_request(signal);
  status = decode_binary(binary, *from_binary, fuzz_limits());
  check(status.ok(), "our binary does not decode", std::string(status.message()));
  check(*encode_json(*from_binary) == text, "binary round trip changed the message");
}

void decompress(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const Compression codec = kCodecs[data[0] % 4];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  absl::StatusOr<std::string> out = otlp::decompress(codec, input, kDecompressCap);
  if (!out.ok()) return;
  check(out->size() <= kDecompressCap, "output above the cap");
  absl::StatusOr<std::string> packed = compress(codec, *out);
  check(packed.ok(), "compress failed");
  absl::StatusOr<std::string> back = otlp::decompress(codec, *packed, kDecompressCap);
  check(back.ok() && *back == *out, "compress/decompress round trip differs");
}

void wire_split(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const Signal signal = signal_from(data[0]);
  const uint64_t max_items = data[1] % 16;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  absl::StatusOr<uint64_t> total = wire_count_items(signal, bytes);
  absl::StatusOr<std::vector<std::string>> parts = otlp::wire_split(signal, bytes, max_items);
  check(total.ok() == parts.ok(), "wire_count_items and wire_split disagree on validity");
  if (!parts.ok()) return;
  check(!parts->empty(), "no parts");
  uint64_t sum = 0;
  std::vector<std::string_view> views;
  for (const std::string& part : *parts) {
    absl::StatusOr<uint64_t> n = wire_count_items(signal, part);
    check(n.ok(), "a part has broken framing");
    sum += *n;
    views.push_back(part);
  }
  check(sum == *total, "parts do not add up");

  auto request = new_request(signal);
  if (!decode_binary(bytes, *request, fuzz_limits()).ok()) return;
  check(*count_items(*request) == *total, "wire count != decoded count");
  for (const std::string& part : *parts) {
    auto piece = new_request(signal);
    check(decode_binary(part, *piece, fuzz_limits()).ok(), "a part of a valid request fails");
  }
  absl::StatusOr<std::string> joined = wire_concat(signal, views, fuzz_limits());
  check(joined.ok(), "wire_concat failed on valid parts");
  check(*wire_count_items(signal, *joined) == *total, "concatenation changed the count");
}

void binary_validate(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const Signal signal = signal_from(data[0]);
  // Small depths make the recursion limit (16 + 3 × depth) reachable with unknown groups too.
  DecodeLimits limits = fuzz_limits();
  constexpr int kDepths[] = {16, 0, 1, 3};
  limits.max_any_value_depth = kDepths[data[1] % 4];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const absl::Status validated = validate_binary(signal, bytes, limits);
  auto request = new_request(signal);
  const absl::Status decoded = decode_binary(bytes, *request, limits);
  const std::string detail =
      absl::StrCat("validate: ", validated.ToString(), " decode: ", decoded.ToString());
  check(validated.ok() == decoded.ok(), "validate_binary and decode_binary disagree", detail);
  check(error_kind(validated) == error_kind(decoded), "validate_binary's error kind differs",
        detail);
}

std::vector<std::string> seeds(std::string_view target) {
  std::vector<std::string> out;
  testing::RandomShape small;
  small.resources = 2;
  small.scopes_per_resource = 1;
  small.items_per_scope = 2;
  small.attributes = 2;
  small.points_per_metric = 2;
  small.samples_per_profile = 2;
  std::vector<std::pair<Signal, std::unique_ptr<google::protobuf::Message>>> requests;
  for (const testing::Example& example : testing::load_examples()) {
    auto request = new_request(example.signal);
    if (decode_json(example.json, *request).ok()) {
      requests.emplace_back(example.signal, std::move(request));
    }
  }
  for (Signal signal : kAllSignals) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      requests.emplace_back(signal, testing::random_request(signal, seed, small));
    }
  }
  for (const auto& [signal, request] : requests) {
    const uint8_t selector = static_cast<uint8_t>(signal);
    std::string binary = request->SerializeAsString();
    if (target == "binary_decode") {
      out.push_back(with_selector(selector, binary));
    } else if (target == "json_decode") {
      out.push_back(with_selector(selector, *encode_json(*request)));
    } else if (target == "wire_split") {
      out.push_back(with_selector(selector, std::string(1, '\x02') + binary));
    } else if (target == "binary_validate") {
      out.push_back(with_selector(selector, std::string(1, '\x00') + binary));
    } else if (target == "decompress") {
      for (uint8_t c = 0; c < 3; ++c)
        out.push_back(with_selector(c, *compress(kCodecs[c], binary)));
    }
  }
  return out;
}

void initialize(std::string_view target) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 is logged otherwise
  const char* dir = std::getenv("OTLP_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return;
  std::filesystem::create_directories(dir);
  int i = 0;
  for (const std::string& seed : seeds(target)) {
    std::ofstream(std::filesystem::path(dir) / ("seed-" + std::to_string(i++)), std::ios::binary)
        << seed;
  }
  std::fprintf(stderr, "wrote %d seeds for %.*s to %s\n", i, static_cast<int>(target.size()),
               target.data(), dir);
  std::exit(0);
}

}  // namespace otlp::fuzz
