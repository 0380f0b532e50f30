#pragma once
// Factory and config of the `otlp_websocket` exporter.

#include <memory>

#include "components/exporters/otlp_websocket/otlp_websocket_exporter.h"
#include "pipeline/factory.h"

namespace components {

absl::StatusOr<OtlpWebSocketExporterConfig> parse_otlp_websocket_exporter_config(
    const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ExporterFactory> make_otlp_websocket_exporter_factory();

}  // namespace components
