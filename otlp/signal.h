// The four OTLP signals and their export request types.
//
// Contract: Signal names are the OTLP path names ("traces", "metrics", "logs",
// "profiles"). new_request() returns a message owned by `arena` when one is
// given (never delete it), else by the caller.
#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>

#include <memory>
#include <optional>
#include <string_view>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/signal_enum.h"

namespace otlp {

using TracesRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using ProfilesRequest =
    opentelemetry::proto::collector::profiles::v1development::ExportProfilesServiceRequest;

const google::protobuf::Descriptor* request_descriptor(Signal signal);

// A new, empty Export*ServiceRequest of the signal's type; on `arena` if given.
google::protobuf::Message* new_request(Signal signal, google::protobuf::Arena* arena);
std::unique_ptr<google::protobuf::Message> new_request(Signal signal);

}  // namespace otlp
