#include "components/connectors/forward/factory.h"

#include "components/connectors/forward/forward_connector.h"

namespace components {
namespace {

class ForwardFactory final : public pipeline::ConnectorFactory {
 public:
  std::string_view type() const override { return "forward"; }
  bool supports(otlp::Signal) const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Connector>> create(const pipeline::ComponentId&,
                                                              const pipeline::ConfigNode& config,
                                                              pipeline::Host&) const override {
    if (auto s = config.check_no_unknown_keys(); !s.ok()) return s;
    return std::make_shared<ForwardConnector>();
  }
};

}  // namespace

std::unique_ptr<pipeline::ConnectorFactory> make_forward_connector_factory() {
  return std::make_unique<ForwardFactory>();
}

}  // namespace components
