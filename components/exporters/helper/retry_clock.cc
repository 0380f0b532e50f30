#include "components/exporters/helper/retry_clock.h"

#include "csp/select.h"

namespace components {

namespace {

class RealRetryClock final : public RetryClock {
 public:
  csp::TimePoint now() override { return csp::Clock::now(); }

  csp::Task<bool> sleep(csp::Duration d, csp::Context ctx) override {
    const std::size_t k = co_await csp::select(csp::recv(csp::after(d)), csp::recv(ctx.done()));
    co_return k == 0;
  }
};

}  // namespace

std::shared_ptr<RetryClock> real_retry_clock() {
  static const std::shared_ptr<RetryClock> clock = std::make_shared<RealRetryClock>();
  return clock;
}

}  // namespace components
