#include "otlp/signal.h"

namespace otlp {

const google::protobuf::Descriptor* request_descriptor(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return TracesRequest::descriptor();
    case Signal::kMetrics:
      return MetricsRequest::descriptor();
    case Signal::kLogs:
      return LogsRequest::descriptor();
    case Signal::kProfiles:
      return ProfilesRequest::descriptor();
  }
  return nullptr;
}

google::protobuf::Message* new_request(Signal signal, google::protobuf::Arena* arena) {
  switch (signal) {
    case Signal::kTraces:
      return google::protobuf::Arena::CreateMessage<TracesRequest>(arena);
    case Signal::kMetrics:
      return google::protobuf::Arena::CreateMessage<MetricsRequest>(arena);
    case Signal::kLogs:
      return google::protobuf::Arena::CreateMessage<LogsRequest>(arena);
    case Signal::kProfiles:
      return google::protobuf::Arena::CreateMessage<ProfilesRequest>(arena);
  }
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> new_request(Signal signal) {
  return std::unique_ptr<google::protobuf::Message>(new_request(signal, nullptr));
}

}  // namespace otlp
