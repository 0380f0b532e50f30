#pragma once
// Factories and configs of the `otlp` (gRPC) and `otlp_http` / `otlphttp` exporters.

#include <memory>
#include <string_view>

#include "components/exporters/otlp/otlp_exporter.h"
#include "pipeline/factory.h"

namespace components {
absl::StatusOr<OtlpGrpcExporterConfig> parse_otlp_grpc_exporter_config(
    const pipeline::ConfigNode& node);
absl::StatusOr<OtlpHttpExporterConfig> parse_otlp_http_exporter_config(
    const pipeline::ConfigNode& node);
std::unique_ptr<pipeline::ExporterFactory> make_otlp_exporter_factory();
// type_name: "otlp_http" or its older spelling "otlphttp".
std::unique_ptr<pipeline::ExporterFactory> make_otlp_http_exporter_factory(
    std::string_view type_name);
}  // namespace components
