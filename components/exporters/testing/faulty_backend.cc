// FaultyBackend: a scripted ExportHandler behind a real server, and the front, a relay that can
// cut every client connection at once.
//
// The front: an accept thread, and per client connection a connection to the server and two
// pump threads (client → server, server → client) doing blocking recv/send. Cutting a
// connection, or one direction ending, shuts both sockets down (SHUT_RDWR), which wakes both
// pumps; the file descriptors are closed only in stop(), after every pump has been joined, so
// no thread can ever touch a reused descriptor.

#include "components/exporters/testing/faulty_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "csp/chan.h"
#include "csp/timer.h"
#include "transport/grpc_server.h"
#include "transport/http_server.h"

namespace components::testing {

namespace {

// A loopback TCP relay to `upstream_port` that can cut every connection it relays.
class Front {
 public:
  explicit Front(int upstream_port) : upstream_port_(upstream_port) {}
  ~Front() { stop(); }

  absl::StatusOr<int> start() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return absl::InternalError("front: socket() failed");
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return absl::InternalError("front: cannot listen on 127.0.0.1");
    }
    accept_thread_ = std::thread([this] { accept_loop(); });
    return ntohs(addr.sin_port);
  }

  // Closes every relayed connection now (both sides). Returns how many were open.
  std::size_t cut_all() {
    std::lock_guard lock(mu_);
    std::size_t open = 0;
    for (Pair& p : pairs_) {
      if (!p.cut) ++open;
      close_pair_locked(p);
    }
    return open;
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    cut_all();
    // No new pump starts once stopped_ is set and the accept thread has ended.
    for (std::thread& t : pumps_) t.join();
    for (Pair& p : pairs_) {
      ::close(p.client_fd);
      ::close(p.server_fd);
    }
    pairs_.clear();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
  }

 private:
  struct Pair {
    int client_fd;
    int server_fd;
    bool cut = false;
  };

  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  // mu_ must be held.
  void close_pair_locked(Pair& p) {
    p.cut = true;
    ::shutdown(p.client_fd, SHUT_RDWR);
    ::shutdown(p.server_fd, SHUT_RDWR);
  }

  void accept_loop() {
    for (;;) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // the listener was shut down
      }
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = loopback(upstream_port_);
      if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (server >= 0) ::close(server);
        ::close(client);
        continue;
      }
      std::lock_guard lock(mu_);
      if (stopped_) {
        ::close(server);
        ::close(client);
        return;
      }
      // pairs_ is a deque: references stay valid as it grows.
      pairs_.push_back(Pair{client, server});
      Pair* pair = &pairs_.back();
      pumps_.emplace_back([this, pair] { pump(pair->client_fd, pair); });
      pumps_.emplace_back([this, pair] { pump(pair->server_fd, pair); });
    }
  }

  // Copies bytes from `from` to the other socket of the pair until either side ends.
  void pump(int from, Pair* pair) {
    const int to = from == pair->client_fd ? pair->server_fd : pair->client_fd;
    char buf[16 << 10];
    for (;;) {
      const ssize_t n = ::recv(from, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      ssize_t off = 0;
      while (off < n) {
        const ssize_t w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += w;
      }
      if (off < n) break;
    }
    std::lock_guard lock(mu_);
    close_pair_locked(*pair);
  }

  const int upstream_port_;
  int listen_fd_ = -1;
  std::thread accept_thread_;
  std::mutex mu_;
  bool stopped_ = false;            // guarded by mu_
  std::deque<Pair> pairs_;          // guarded by mu_ (fds are immutable once added)
  std::vector<std::thread> pumps_;  // guarded by mu_ until the accept thread is joined
};

}  // namespace

struct FaultyBackend::State {
  explicit State(Protocol p) : protocol(p) {}

  // The next fault: the script's head, else the next of the repeating list.
  Fault next_fault() {
    std::lock_guard lock(mu);
    if (!script.empty()) {
      Fault f = std::move(script.front());
      script.pop_front();
      return f;
    }
    return repeat[next_repeat++ % repeat.size()];
  }

  std::size_t record(const std::string& body, const Fault& fault) {
    std::lock_guard lock(mu);
    arrivals.push_back(Arrival{body, fault, false});
    return arrivals.size() - 1;
  }

  void mark_kept(std::size_t index) {
    std::lock_guard lock(mu);
    arrivals[index].kept = true;
  }

  // A static coroutine with the state as a parameter: each call in flight owns a reference.
  static csp::Task<transport::ExportResult> handle(std::shared_ptr<State> self,
                                                   transport::ExportRequest request) {
    // Null only if a server outlived stop() (the destructor always calls it first).
    if (self == nullptr) co_return transport::ExportResult{absl::UnavailableError("stopped")};
    co_return co_await self->answer(request);
  }

  csp::Task<transport::ExportResult> answer(const transport::ExportRequest& request) {
    const Fault fault = next_fault();
    const std::size_t index = record(request.body, fault);
    switch (fault.kind) {
      case Fault::Kind::kAccept:
        mark_kept(index);
        co_return transport::ExportResult{};
      case Fault::Kind::kRefuse:
        co_return transport::ExportResult{fault.refusal, fault.retry_after};
      case Fault::Kind::kAnswerLate: {
        co_await released.recv();  // closed by stop()
        mark_kept(index);
        co_return transport::ExportResult{};
      }
      case Fault::Kind::kNeverAnswer: {
        co_await released.recv();
        co_return transport::ExportResult{absl::UnavailableError("backend stopped")};
      }
      case Fault::Kind::kCutConnection: {
        const std::size_t n = front->cut_all();
        {
          std::lock_guard lock(mu);
          cut += n;
        }
        // Nobody is left to read this answer.
        co_return transport::ExportResult{absl::UnavailableError("connection cut")};
      }
    }
    co_return transport::ExportResult{absl::InternalError("unknown fault")};
  }

  const Protocol protocol;
  std::unique_ptr<transport::GrpcServer> grpc;
  std::unique_ptr<transport::HttpServer> http;
  std::unique_ptr<Front> front;  // set before the server starts, so before any handler runs
  int front_port = 0;
  csp::Chan<csp::Unit> released{0};  // closed by stop(): held requests are answered

  mutable std::mutex mu;
  std::deque<Fault> script;                    // guarded by mu
  std::vector<Fault> repeat{Fault::accept()};  // guarded by mu
  std::size_t next_repeat = 0;                 // guarded by mu
  std::vector<Arrival> arrivals;               // guarded by mu
  std::size_t cut = 0;                         // guarded by mu
  bool stopped = false;                        // guarded by mu
};

FaultyBackend::FaultyBackend(Protocol protocol) : state_(std::make_shared<State>(protocol)) {}

FaultyBackend::~FaultyBackend() { stop(); }

absl::Status FaultyBackend::start() {
  // The handler holds the state only weakly (the state owns the server, which owns the
  // handler); each call in flight holds it strongly.
  std::weak_ptr<State> weak = state_;
  transport::ExportHandler handler =
      [weak](transport::ExportRequest request) -> csp::Task<transport::ExportResult> {
    return State::handle(weak.lock(), std::move(request));
  };
  absl::StatusOr<int> server_port;
  if (state_->protocol == Protocol::kGrpc) {
    transport::GrpcServerOptions options;
    options.endpoint = "127.0.0.1:0";
    state_->grpc = std::make_unique<transport::GrpcServer>(options, std::move(handler));
    server_port = state_->grpc->start();
  } else {
    transport::HttpServerOptions options;
    options.endpoint = "127.0.0.1:0";
    state_->http = std::make_unique<transport::HttpServer>(options, std::move(handler));
    server_port = state_->http->start();
  }
  if (!server_port.ok()) return server_port.status();
  state_->front = std::make_unique<Front>(*server_port);
  absl::StatusOr<int> front_port = state_->front->start();
  if (!front_port.ok()) return front_port.status();
  state_->front_port = *front_port;
  return absl::OkStatus();
}

std::string FaultyBackend::endpoint() const {
  const std::string host_port = absl::StrCat("127.0.0.1:", state_->front_port);
  return state_->protocol == Protocol::kGrpc ? host_port : "http://" + host_port;
}

void FaultyBackend::script(std::vector<Fault> faults) {
  std::lock_guard lock(state_->mu);
  for (Fault& f : faults) state_->script.push_back(std::move(f));
}

void FaultyBackend::then_repeat(std::vector<Fault> faults) {
  if (faults.empty()) faults.push_back(Fault::accept());
  std::lock_guard lock(state_->mu);
  state_->repeat = std::move(faults);
  state_->next_repeat = 0;
}

void FaultyBackend::stop() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
  }
  state_->released.close();
  const csp::TimePoint deadline = csp::Clock::now() + std::chrono::seconds(5);
  if (state_->grpc) state_->grpc->shutdown(deadline);
  if (state_->http) state_->http->shutdown(deadline);
  if (state_->front) state_->front->stop();
}

std::vector<Arrival> FaultyBackend::arrivals() const {
  std::lock_guard lock(state_->mu);
  return state_->arrivals;
}

std::size_t FaultyBackend::received() const {
  std::lock_guard lock(state_->mu);
  return state_->arrivals.size();
}

std::size_t FaultyBackend::received(const std::string& body) const {
  std::lock_guard lock(state_->mu);
  std::size_t n = 0;
  for (const Arrival& a : state_->arrivals) n += a.body == body ? 1 : 0;
  return n;
}

std::size_t FaultyBackend::kept(const std::string& body) const {
  std::lock_guard lock(state_->mu);
  std::size_t n = 0;
  for (const Arrival& a : state_->arrivals) n += a.body == body && a.kept ? 1 : 0;
  return n;
}

std::size_t FaultyBackend::connections_cut() const {
  std::lock_guard lock(state_->mu);
  return state_->cut;
}

}  // namespace components::testing
