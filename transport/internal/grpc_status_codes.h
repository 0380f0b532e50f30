#pragma once
// How gRPC's status codes and canonical (absl) status codes map onto each other. The two enums
// carry the same seventeen codes with the same numbers today, but nothing in either library
// promises it, and a code read off the wire can be any number: so the mapping is written out
// rather than cast. Users: grpc_client.cc (the status a server answered), grpc_server.cc (the
// grpc-status it sends). grpc_status_codes_test.cc checks every code both ways.
//
// Contract: pure functions, any thread.

#include <grpcpp/support/status_code_enum.h>

#include "absl/status/status.h"

namespace transport::internal {

// The canonical code for a gRPC code; UNKNOWN for anything that is not one of gRPC's seventeen
// codes (a peer can put any number in grpc-status).
absl::StatusCode code_for_grpc_status(grpc::StatusCode code);

// The gRPC code for a canonical code; UNKNOWN for anything that is not one of the seventeen
// canonical codes.
grpc::StatusCode grpc_status_for_code(absl::StatusCode code);

}  // namespace transport::internal
