#pragma once
// Everything of the transport layer in one include. See docs/transport.md for the guide.

#include "transport/export.h"
#include "transport/grpc_client.h"
#include "transport/grpc_server.h"
#include "transport/http_client.h"
#include "transport/http_server.h"
