#include "pipeline/client_metadata.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace pipeline {

bool same_metadata_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(static_cast<unsigned char>(x)) ==
                  absl::ascii_tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string_view> ClientMetadata::values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [key, value] : entries) {
    if (same_metadata_name(key, name)) out.emplace_back(value);
  }
  return out;
}

std::string_view ClientMetadata::first(std::string_view name) const {
  for (const auto& [key, value] : entries) {
    if (same_metadata_name(key, name)) return value;
  }
  return {};
}

std::size_t ClientMetadata::bytes() const {
  std::size_t n = sizeof(ClientMetadata) + address.size();
  for (const auto& [key, value] : entries) {
    n += sizeof(entries[0]) + key.size() + value.size();
  }
  return n;
}

}  // namespace pipeline
