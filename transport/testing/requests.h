#pragma once
// Request bytes for transport tests: deterministic random requests of every signal, and an
// equality that compares decoded messages (JSON and binary paths may order bytes differently).

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/binary_codec.h"
#include "otlp/testing/random_requests.h"
#include "transport/export.h"

namespace transport::testing {

// Every value `request` carries under metadata `name` (include_metadata), in order.
inline std::vector<std::string> metadata_values(const ExportRequest& request,
                                                std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [k, v] : request.metadata) {
    if (k == name) values.push_back(v);
  }
  return values;
}

inline std::string request_bytes(otlp::Signal signal, std::uint64_t seed = 1) {
  return otlp::testing::random_request(signal, seed)->SerializeAsString();
}

// Both decode, and to equal messages. Compared by deterministic re-serialization rather than
// MessageDifferencer, which holds NaN != NaN (random requests carry NaN doubles).
inline bool same_request(otlp::Signal signal, std::string_view a, std::string_view b) {
  std::unique_ptr<google::protobuf::Message> ma = otlp::new_request(signal);
  std::unique_ptr<google::protobuf::Message> mb = otlp::new_request(signal);
  if (!otlp::decode_binary(a, *ma).ok() || !otlp::decode_binary(b, *mb).ok()) return false;
  const auto canonical = [](const google::protobuf::Message& m) {
    std::string out;
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
    return out;
  };
  return canonical(*ma) == canonical(*mb);
}

// The server's message for binary bytes that are not a valid request: "invalid <Type>: <otlp's
// message>", the message being otlp::validate_binary's (the servers validate, not decode). The
// bytes must be refused by decode_binary too.
inline std::string invalid_message(otlp::Signal signal, std::string_view bytes) {
  std::unique_ptr<google::protobuf::Message> m = otlp::new_request(signal);
  if (otlp::decode_binary(bytes, *m).ok()) return "(the bytes decode)";
  const absl::Status status = otlp::validate_binary(signal, bytes);
  return "invalid " + m->GetDescriptor()->name() + ": " + std::string(status.message());
}

}  // namespace transport::testing
