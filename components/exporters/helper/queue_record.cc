#include "components/exporters/helper/queue_record.h"

#include <cstdint>
#include <string_view>

namespace components {

namespace {

constexpr std::size_t kTrailer = 9;  // items and signal
constexpr unsigned char kHasMetadata = 0x80;

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

std::uint64_t get(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return v;
}

// Credentials a client sent travel with the batch in memory (a headers_setter may pass them
// on) but are never written to disk.
bool secret(std::string_view name) {
  return name == "authorization" || name == "proxy-authorization" || name == "cookie";
}

void put_string(std::string& out, std::string_view s) {
  put(out, s.size(), 4);
  out.append(s);
}

// Reads the metadata strings of `in` (exactly all of it).
std::optional<pipeline::ClientMetadata> parse_metadata(std::string_view in) {
  std::size_t at = 0;
  const auto next = [&]() -> std::optional<std::string> {
    if (in.size() - at < 4) return std::nullopt;
    const std::uint64_t n = get(in, at, 4);
    at += 4;
    if (in.size() - at < n) return std::nullopt;
    std::string s(in.substr(at, n));
    at += n;
    return s;
  };
  if (in.size() < 4) return std::nullopt;
  const std::uint64_t count = get(in, 0, 4);
  at = 4;
  // Each string takes at least its 4-byte length: a count past that cannot be right.
  if (count == 0 || count % 2 == 0 || count > (in.size() - at) / 4) return std::nullopt;
  pipeline::ClientMetadata m;
  std::optional<std::string> address = next();
  if (!address) return std::nullopt;
  m.address = *std::move(address);
  for (std::uint64_t i = 1; i < count; i += 2) {
    std::optional<std::string> name = next();
    std::optional<std::string> value = next();
    if (!name || !value) return std::nullopt;
    m.entries.emplace_back(*std::move(name), *std::move(value));
  }
  if (at != in.size()) return std::nullopt;
  return m;
}

}  // namespace

std::string encode_queue_record(pipeline::Batch batch) {
  std::string out = std::move(batch.bytes);
  auto signal = static_cast<unsigned char>(batch.signal);
  if (batch.client != nullptr) {
    const std::size_t start = out.size();
    std::size_t kept = 0;
    for (const auto& [name, value] : batch.client->entries) kept += secret(name) ? 0 : 1;
    put(out, 1 + 2 * kept, 4);
    put_string(out, batch.client->address);
    for (const auto& [name, value] : batch.client->entries) {
      if (secret(name)) continue;
      put_string(out, name);
      put_string(out, value);
    }
    put(out, out.size() - start, 4);
    signal |= kHasMetadata;
  }
  put(out, static_cast<std::uint64_t>(batch.items), 8);
  out.push_back(static_cast<char>(signal));
  return out;
}

std::optional<pipeline::Batch> decode_queue_record(std::string record) {
  if (record.size() < kTrailer) return std::nullopt;
  std::size_t end = record.size() - kTrailer;
  const auto tag = static_cast<unsigned char>(record[end + 8]);
  const unsigned char signal = tag & ~kHasMetadata;
  if (signal > static_cast<unsigned char>(otlp::Signal::kProfiles)) return std::nullopt;
  pipeline::Batch batch;
  batch.signal = static_cast<otlp::Signal>(signal);
  batch.items = static_cast<std::int64_t>(get(record, end, 8));
  if ((tag & kHasMetadata) != 0) {
    if (end < 4) return std::nullopt;
    const std::uint64_t length = get(record, end - 4, 4);
    if (length > end - 4) return std::nullopt;
    const std::size_t start = end - 4 - length;
    std::optional<pipeline::ClientMetadata> m =
        parse_metadata(std::string_view(record).substr(start, length));
    if (!m) return std::nullopt;
    batch.client = std::make_shared<const pipeline::ClientMetadata>(*std::move(m));
    end = start;
  }
  record.resize(end);
  batch.bytes = std::move(record);
  return batch;
}

}  // namespace components
