// Helpers on serialized Export*ServiceRequest bytes that never decode the
// payload: counting items, splitting at resource boundaries, concatenating.
// They make forwarding and batching cheap: a collector can size, cut and join
// batches while keeping the client's exact bytes.
//
// Contract:
//  - They read only the framing of the levels they need (request → resource →
//    scope → item, plus a metric's data field); item payloads are not looked
//    into. So they reject broken framing (kMalformed) but may accept a request
//    that a full decode would reject, e.g. for invalid UTF-8 in a span name.
//  - On requests that decode, they agree with the decoded helpers of
//    otlp/signals.h: wire_count_items(bytes) == count_items(decode(bytes)),
//    including protobuf's rule that a later member of a metric's `data` oneof
//    replaces an earlier one.
//  - wire_split() returns requests of whole resources (ResourceSpans, …) with
//    at most max_items items each, except that a resource holding more than
//    max_items items travels alone (cutting inside one needs a decode: use
//    otlp::split). Fields of the request other than its resources (for
//    profiles, the dictionary) are copied into every part. max_items == 0
//    means no limit.
//  - wire_concat() relies on protobuf's rule that concatenated messages merge:
//    for traces, metrics and logs it is plain concatenation, after checking
//    only the top level's framing (it does not look inside resources, so it
//    costs a copy, not a walk). For profiles it is
//    too when at most one input has a dictionary; otherwise it decodes, merges
//    with otlp::merge (which rewrites indices) and re-encodes.
//  - Thread-safe: pure functions of their inputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/binary_codec.h"
#include "otlp/signal.h"

namespace otlp {

absl::StatusOr<uint64_t> wire_count_items(Signal signal, std::string_view request);

// The heap an Arena decode of `body` (an Export*ServiceRequest of `signal`) will take, estimated
// in one pass over the wire bytes guided by the schema: per sub-message its generated class's
// size, per string its length plus overhead, per repeated element a pointer and growth slack.
// Never less than body.size(); O(body.size()), allocates nothing, never fails: malformed framing
// charges the rest of the body at its size. Servers reserve this much memory before decoding
// (a request of many empty messages decodes to ~40x its bytes).
int64_t estimate_decoded_bytes(Signal signal, std::string_view body);
// The same for an OTLP/JSON request: one pass that counts objects (each charged as a large
// message) and elements, plus the JSON parser's own buffers. Never less than the text's size.
int64_t estimate_json_decoded_bytes(std::string_view json);

absl::StatusOr<std::vector<std::string>> wire_split(Signal signal, std::string_view request,
                                                    uint64_t max_items);

absl::StatusOr<std::string> wire_concat(Signal signal,
                                        const std::vector<std::string_view>& requests,
                                        const DecodeLimits& limits = {});

}  // namespace otlp
