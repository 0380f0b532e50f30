#include "components/factories.h"

#include "components/connectors/failover/factory.h"
#include "components/connectors/forward/factory.h"
#include "components/exporters/debug/factory.h"
#include "components/exporters/file/factory.h"
#include "components/exporters/otlp/factory.h"
#include "components/exporters/otlp_udp/factory.h"
#include "components/exporters/otlp_websocket/factory.h"
#include "components/extensions/bearertokenauth/factory.h"
#include "components/extensions/file_storage/factory.h"
#include "components/extensions/headers_setter/factory.h"
#include "components/extensions/health_check/factory.h"
#include "components/extensions/status/factory.h"
#include "components/processors/batch/factory.h"
#include "components/processors/memory_limiter/factory.h"
#include "components/receivers/otlp/factory.h"
#include "components/receivers/statsd/factory.h"
#include "components/receivers/syslog/factory.h"

namespace components {

pipeline::Factories make_factories() {
  pipeline::Factories f;
  f.receivers.push_back(make_otlp_receiver_factory());
  f.receivers.push_back(make_statsd_receiver_factory());
  f.receivers.push_back(make_syslog_receiver_factory());
  f.processors.push_back(make_batch_processor_factory());
  f.processors.push_back(make_memory_limiter_factory());
  f.exporters.push_back(make_debug_exporter_factory());
  f.exporters.push_back(make_nop_exporter_factory());
  f.exporters.push_back(make_file_exporter_factory());
  f.exporters.push_back(make_otlp_exporter_factory());
  f.exporters.push_back(make_otlp_http_exporter_factory("otlp_http"));
  f.exporters.push_back(make_otlp_http_exporter_factory("otlphttp"));
  f.exporters.push_back(make_otlp_udp_exporter_factory());
  f.exporters.push_back(make_otlp_websocket_exporter_factory());
  f.connectors.push_back(make_forward_connector_factory());
  f.connectors.push_back(make_failover_connector_factory());
  f.extensions.push_back(make_bearer_token_auth_extension_factory());
  f.extensions.push_back(make_headers_setter_extension_factory());
  f.extensions.push_back(make_file_storage_extension_factory());
  f.extensions.push_back(make_health_check_extension_factory());
  f.extensions.push_back(make_status_extension_factory());
  return f;
}

}  // namespace components
