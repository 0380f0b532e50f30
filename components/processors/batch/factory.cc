#include "components/processors/batch/factory.h"

#include "components/processors/batch/batch_processor.h"

namespace components {
namespace {

class BatchFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "batch"; }
  bool supports(otlp::Signal) const override { return true; }
  absl::StatusOr<std::shared_ptr<pipeline::Processor>> create(
      const pipeline::ComponentId& id, const pipeline::ConfigNode& config, otlp::Signal signal,
      std::shared_ptr<pipeline::Consumer> next, std::shared_ptr<pipeline::Component>,
      pipeline::Host& host) const override {
    auto c = BatchConfig::parse(config);
    if (!c.ok()) return c.status();
    return std::make_shared<BatchProcessor>(id.str(), *c, signal, std::move(next), host);
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> make_batch_processor_factory() {
  return std::make_unique<BatchFactory>();
}

}  // namespace components
