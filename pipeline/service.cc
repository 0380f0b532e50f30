#include "pipeline/service.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "csp/scheduler.h"
#include "pipeline/fan_out.h"

namespace pipeline {

namespace {

// " (file:line:col)" for messages, when the id knows where it was written.
std::string at(const ComponentId& id) {
  const std::string loc = id.where().str();
  return loc.empty() ? "" : " (" + loc + ")";
}

std::string signal_key(const ComponentId& id, otlp::Signal signal) {
  return absl::StrCat(id.str(), "|", std::string(otlp::signal_name(signal)));
}

}  // namespace

std::string_view stability_name(Stability s) {
  switch (s) {
    case Stability::kDevelopment:
      return "development";
    case Stability::kAlpha:
      return "alpha";
    case Stability::kBeta:
      return "beta";
    case Stability::kStable:
      return "stable";
  }
  return "unknown";
}

template <class F>
static const F* find_factory(const std::vector<std::unique_ptr<F>>& list, std::string_view type) {
  for (const auto& f : list) {
    if (f->type() == type) return f.get();
  }
  return nullptr;
}

const ReceiverFactory* Factories::receiver(std::string_view t) const {
  return find_factory(receivers, t);
}
const ProcessorFactory* Factories::processor(std::string_view t) const {
  return find_factory(processors, t);
}
const ExporterFactory* Factories::exporter(std::string_view t) const {
  return find_factory(exporters, t);
}
const ConnectorFactory* Factories::connector(std::string_view t) const {
  return find_factory(connectors, t);
}

absl::Status Factories::check_unique() const {
  auto check = [](const auto& list, std::string_view kind) -> absl::Status {
    for (std::size_t i = 0; i < list.size(); ++i) {
      for (std::size_t j = i + 1; j < list.size(); ++j) {
        if (list[i]->type() == list[j]->type()) {
          return absl::InternalError(absl::StrCat("duplicate ", std::string(kind), " factory \"",
                                                  std::string(list[i]->type()), "\""));
        }
      }
    }
    return absl::OkStatus();
  };
  if (auto s = check(receivers, "receiver"); !s.ok()) return s;
  if (auto s = check(processors, "processor"); !s.ok()) return s;
  if (auto s = check(exporters, "exporter"); !s.ok()) return s;
  return check(connectors, "connector");
}

absl::StatusOr<std::unique_ptr<Service>> Service::build(const Config& config,
                                                        const Factories& factories, Host& host,
                                                        ServiceOptions options) {
  if (auto s = factories.check_unique(); !s.ok()) return s;
  auto svc = std::make_unique<Service>();
  svc->host_ = &host;
  const std::size_t workers = options.entrance_workers != 0
                                  ? options.entrance_workers
                                  : csp::default_scheduler().worker_count();

  // No extension types exist in this build yet: say so instead of ignoring them.
  for (const ComponentId& id : config.service.extensions) {
    return absl::InvalidArgumentError(absl::StrCat("service::extensions: extension \"", id.str(),
                                                   "\" has unknown type \"", id.type(),
                                                   "\" (this build has no extensions)", at(id)));
  }

  // Connectors first: pipelines refer to them from both ends.
  for (const auto& [id, node] : config.connectors) {
    const ConnectorFactory* f = factories.connector(id.type());
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "connectors::", id.str(), ": unknown connector type \"", id.type(), "\"", at(id)));
    }
    auto c = f->create(id, node, host);
    if (!c.ok()) return c.status();
    svc->connectors_[id.str()] = *std::move(c);
  }

  // Who feeds whom: (receiver or connector id, signal) -> pipeline entrances.
  std::map<std::pair<std::string, otlp::Signal>, std::vector<std::shared_ptr<Consumer>>> feeds;

  for (const auto& [pid, pcfg] : config.service.pipelines) {
    const std::string pname = pid.str();
    // SignalType and otlp::Signal list the signals in the same order (component_id.h).
    const otlp::Signal signal = static_cast<otlp::Signal>(pid.signal());
    const std::string signal_name(signal_type_name(pid.signal()));
    auto where = [&](std::string_view kind, const ComponentId& id) {
      return absl::StrCat("service::pipelines::", pname, ": ", std::string(kind), " \"", id.str(),
                          "\"");
    };

    // Exporters (and connectors used as exporters) of this pipeline.
    std::vector<std::shared_ptr<Consumer>> outs;
    std::vector<std::string> to_connectors;
    for (const ComponentId& eid : pcfg.exporters) {
      if (auto it = svc->connectors_.find(eid.str()); it != svc->connectors_.end()) {
        if (!factories.connector(eid.type())->supports(signal)) {
          return absl::InvalidArgumentError(
              absl::StrCat(where("connector", eid), " does not support ", signal_name, at(eid)));
        }
        outs.push_back(it->second);
        to_connectors.push_back(eid.str());
        continue;
      }
      const std::string key = signal_key(eid, signal);
      auto found = svc->exporters_.find(key);
      if (found == svc->exporters_.end()) {
        const ExporterFactory* f = factories.exporter(eid.type());
        if (f == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(
              where("exporter", eid), " has unknown type \"", eid.type(), "\"", at(eid)));
        }
        if (!f->supports(signal)) {
          return absl::InvalidArgumentError(
              absl::StrCat(where("exporter", eid), " does not support ", signal_name, at(eid)));
        }
        auto e = f->create(eid, config.exporters.at(eid), signal, host);
        if (!e.ok()) return e.status();
        found = svc->exporters_.emplace(key, *std::move(e)).first;
      }
      outs.push_back(found->second);
    }
    std::shared_ptr<Consumer> next = fan_out(std::move(outs));

    // Processors, built back to front so each knows its successor.
    Pipeline p;
    p.name = pname;
    p.to_connectors = std::move(to_connectors);
    for (auto it = pcfg.processors.rbegin(); it != pcfg.processors.rend(); ++it) {
      const ProcessorFactory* f = factories.processor(it->type());
      if (f == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            where("processor", *it), " has unknown type \"", it->type(), "\"", at(*it)));
      }
      if (!f->supports(signal)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where("processor", *it), " does not support ", signal_name, at(*it)));
      }
      auto proc = f->create(*it, config.processors.at(*it), signal, next, host);
      if (!proc.ok()) return proc.status();
      p.processors.insert(p.processors.begin(), *proc);
      next = *std::move(proc);
    }
    p.entrance = std::make_shared<PipelineEntrance>(pname, options.entrance_capacity, workers,
                                                    std::move(next));

    // Receivers (and connectors used as receivers) feed the entrance.
    std::vector<std::string> in_names, proc_names, out_names;
    for (const ComponentId& rid : pcfg.receivers) {
      in_names.push_back(rid.str());
      if (svc->connectors_.count(rid.str()) != 0) {
        feeds[{rid.str(), signal}].push_back(p.entrance);
        p.from_connectors.push_back(rid.str());
        continue;
      }
      if (svc->receivers_.count(rid.str()) == 0) {
        const ReceiverFactory* f = factories.receiver(rid.type());
        if (f == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(
              where("receiver", rid), " has unknown type \"", rid.type(), "\"", at(rid)));
        }
        auto r = f->create(rid, config.receivers.at(rid), host);
        if (!r.ok()) return r.status();
        svc->receivers_[rid.str()] = *std::move(r);
      }
      if (!factories.receiver(rid.type())->supports(signal)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where("receiver", rid), " does not support ", signal_name, at(rid)));
      }
      feeds[{rid.str(), signal}].push_back(p.entrance);
    }
    for (const auto& id : pcfg.processors) proc_names.push_back(id.str());
    for (const auto& id : pcfg.exporters) out_names.push_back(id.str());
    auto join = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& s : v) absl::StrAppend(&out, out.empty() ? "" : ", ", s);
      return out;
    };
    p.description = absl::StrCat(pname, ": [", join(in_names), "]");
    if (!proc_names.empty()) absl::StrAppend(&p.description, " -> ", join(proc_names));
    absl::StrAppend(&p.description, " -> [", join(out_names), "]");
    svc->pipelines_.push_back(std::move(p));
  }

  for (auto& [key, consumers] : feeds) {
    const auto& [id, signal] = key;
    std::shared_ptr<Consumer> next = fan_out(std::move(consumers));
    if (auto it = svc->receivers_.find(id); it != svc->receivers_.end()) {
      it->second->connect(signal, std::move(next));
    } else {
      svc->connectors_.at(id)->connect(signal, std::move(next));
    }
  }
  return svc;
}

csp::Task<absl::Status> Service::start() {
  for (auto& [key, e] : exporters_) {
    if (auto s = co_await e->start(); !s.ok()) co_return s;
  }
  for (auto& [key, c] : connectors_) {
    if (auto s = co_await c->start(); !s.ok()) co_return s;
  }
  for (auto& p : pipelines_) {
    for (auto& proc : p.processors) {
      if (auto s = co_await proc->start(); !s.ok()) co_return s;
    }
    p.entrance->start();
  }
  for (auto& [key, r] : receivers_) {
    absl::Status s = co_await r->start();
    if (!s.ok())
      co_return absl::Status(s.code(), absl::StrCat("receivers::", key, ": ", s.message()));
  }
  co_return absl::OkStatus();
}

csp::Task<void> Service::shutdown(csp::Duration deadline) {
  auto [ctx, cancel] = csp::with_timeout(csp::Context::background(), deadline);
  // 1. Receivers stop accepting and answer what they hold.
  for (auto& [key, r] : receivers_) co_await r->shutdown(ctx);
  // 2-3. Pipeline by pipeline, upstream first (a connector's downstream pipeline stays open
  // until everything feeding it has drained into it): close the entrance, let its workers push
  // the queue through, then shut the processors in order so each flushes into the next.
  for (Pipeline* p : shutdown_order()) {
    co_await p->entrance->shutdown();
    for (auto& proc : p->processors) co_await proc->shutdown(ctx);
  }
  // 4. Connectors, then exporters drain to the backends.
  for (auto& [key, c] : connectors_) co_await c->shutdown(ctx);
  for (auto& [key, e] : exporters_) co_await e->shutdown(ctx);
  cancel();
}

std::vector<Service::Pipeline*> Service::shutdown_order() {
  // rank(p) = 0 without connector inputs, else 1 + the highest rank of a pipeline exporting to
  // one of its connectors. Relaxed until stable (bounded: a cycle cannot raise it forever).
  std::vector<int> rank(pipelines_.size(), 0);
  for (std::size_t round = 0; round < pipelines_.size() + 1; ++round) {
    bool changed = false;
    for (std::size_t i = 0; i < pipelines_.size(); ++i) {
      for (const std::string& c : pipelines_[i].from_connectors) {
        for (std::size_t j = 0; j < pipelines_.size(); ++j) {
          const auto& outs = pipelines_[j].to_connectors;
          if (j != i && std::find(outs.begin(), outs.end(), c) != outs.end() &&
              rank[i] < rank[j] + 1) {
            rank[i] = rank[j] + 1;
            changed = true;
          }
        }
      }
    }
    if (!changed) break;
  }
  std::vector<Pipeline*> order;
  for (auto& p : pipelines_) order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [&](Pipeline* a, Pipeline* b) {
    return rank[a - pipelines_.data()] < rank[b - pipelines_.data()];
  });
  return order;
}

std::vector<std::string> Service::describe() const {
  std::vector<std::string> out;
  for (const auto& p : pipelines_) out.push_back(p.description);
  return out;
}

}  // namespace pipeline
