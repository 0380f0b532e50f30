#pragma once
// Factory and config of the `otlp_udp` exporter.

#include <memory>

#include "components/exporters/otlp_udp/otlp_udp_exporter.h"
#include "pipeline/factory.h"

namespace components {

absl::StatusOr<OtlpUdpExporterConfig> parse_otlp_udp_exporter_config(
    const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ExporterFactory> make_otlp_udp_exporter_factory();

}  // namespace components
