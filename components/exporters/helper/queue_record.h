#pragma once
// The record a durable sending queue keeps per batch (storage::DurableLog payload).
//
//   [request bytes][client metadata][metadata length: 4][items: 8][signal: 1]
//
// Integers are little-endian. The fields trail the request so that both ends work in place:
// the batch's own string grows when it is written and shrinks when it is read back. The
// signal byte's top bit says whether client metadata (pipeline::ClientMetadata) is there;
// records written before metadata was kept have it clear and no metadata fields, and still
// read. The metadata is a count of strings (4 bytes) and then each string as its length
// (4 bytes) and bytes: the address, then name and value of each entry. Credentials
// (authorization, proxy-authorization, cookie) are left out: they are never written to disk,
// so a batch read back has none.
//
// A record that does not parse (truncated, a length past its start, an unknown signal) reads
// as nullopt; nothing here trusts a length without checking it against what is there.

#include <optional>
#include <string>

#include "pipeline/batch.h"

namespace components {

std::string encode_queue_record(pipeline::Batch batch);
std::optional<pipeline::Batch> decode_queue_record(std::string record);

}  // namespace components
