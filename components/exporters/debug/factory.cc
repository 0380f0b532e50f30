#include "components/exporters/debug/factory.h"

#include "components/exporters/nop/nop_exporter.h"
#include "components/internal/config_util.h"

namespace components {

absl::StatusOr<DebugConfig> parse_debug_config(const pipeline::ConfigNode& node) {
  DebugConfig c;
  OTLPD_ASSIGN_OR_RETURN(std::string verbosity, node.string("verbosity", "basic"));
  OTLPD_ASSIGN_OR_RETURN(c.sampling_initial, node.int64("sampling_initial", c.sampling_initial));
  OTLPD_ASSIGN_OR_RETURN(c.sampling_thereafter,
                         node.int64("sampling_thereafter", c.sampling_thereafter));
  OTLPD_ASSIGN_OR_RETURN(bool internal_logger, node.boolean("use_internal_logger", true));
  (void)internal_logger;  // we always write through the collector's log
  OTLPD_RETURN_IF_ERROR(node.check_no_unknown_keys());
  if (verbosity == "basic") {
    c.verbosity = Verbosity::kBasic;
  } else if (verbosity == "normal") {
    c.verbosity = Verbosity::kNormal;
  } else if (verbosity == "detailed") {
    c.verbosity = Verbosity::kDetailed;
  } else {
    return node.error_at("verbosity",
                         "must be basic, normal or detailed, got \"" + verbosity + "\"");
  }
  return c;
}

namespace {

class DebugFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "debug"; }
  bool supports(otlp::Signal) const override { return true; }
  pipeline::Stability stability() const override { return pipeline::Stability::kDevelopment; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId& id,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host& host) const override {
    auto c = parse_debug_config(config);
    if (!c.ok()) return c.status();
    return std::make_shared<DebugExporter>(id.str(), *c, host);
  }
};

class NopFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "nop"; }
  bool supports(otlp::Signal) const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Exporter>> create(const pipeline::ComponentId&,
                                                             const pipeline::ConfigNode& config,
                                                             otlp::Signal,
                                                             pipeline::Host&) const override {
    if (auto s = config.check_no_unknown_keys(); !s.ok()) return s;
    return std::make_shared<NopExporter>();
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> make_debug_exporter_factory() {
  return std::make_unique<DebugFactory>();
}
std::unique_ptr<pipeline::ExporterFactory> make_nop_exporter_factory() {
  return std::make_unique<NopFactory>();
}

}  // namespace components
