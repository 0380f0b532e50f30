#pragma once
// What an Arena decode allocates, field by field: the cost model shared by
// estimate_decoded_bytes (decoded_size.cc) and validate_binary's estimate (binary_codec.cc), so
// the two answer the same for the same bytes. Protobuf's generated C++ classes on an Arena:
//  - every sub-message is one object of its generated class (MessageInfo::object_bytes);
//  - an element of a repeated message or string field adds a pointer in the RepeatedPtrField,
//    plus the arrays growth left behind on the arena (up to three more pointers);
//  - a string or bytes value is a std::string object on the arena plus, past the small-string
//    buffer, a heap buffer of its length (with malloc's rounding);
//  - packed scalars take at most 8 bytes per payload byte (a varint is at least one byte and
//    decodes to at most 8), doubled for growth like other repeated fields — real packed
//    payloads are small next to the rest, so the generous bound costs little;
//  - unknown fields are kept: their bytes plus a record each.

#include <cstddef>
#include <cstdint>

namespace otlp::internal::decode_cost {

inline constexpr std::int64_t kPointer = 8;
// A pointer per element, and the arrays it outgrew: on an arena they are not freed, so doubling
// leaves up to three more pointers per element behind.
inline constexpr std::int64_t kRepeatedSlot = 4 * kPointer;
inline constexpr std::int64_t kStringObject = 32;  // sizeof(std::string) with libstdc++
inline constexpr std::int64_t kSmallString = 15;   // held inside the object
inline constexpr std::int64_t kMallocOverhead = 16;
inline constexpr std::int64_t kUnknownFieldRecord = 32;
inline constexpr std::int64_t kPackedBytesPerPayloadByte = 2 * 8;

inline std::int64_t string_bytes(std::size_t length) {
  const auto n = static_cast<std::int64_t>(length);
  return kStringObject + (n > kSmallString ? n + 1 + kMallocOverhead : 0);
}

// A packed repeated scalar's payload (the repeated slot its field was charged is taken back:
// no pointers here).
inline std::int64_t packed_bytes(std::size_t payload) {
  return static_cast<std::int64_t>(payload) * kPackedBytesPerPayloadByte - kRepeatedSlot;
}

// An unknown field of `wire_bytes` (tag and value).
inline std::int64_t unknown_bytes(std::ptrdiff_t wire_bytes) {
  return kUnknownFieldRecord + static_cast<std::int64_t>(wire_bytes);
}

}  // namespace otlp::internal::decode_cost
