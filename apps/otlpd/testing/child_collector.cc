#include "apps/otlpd/testing/child_collector.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace otlpd::testing {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// posix_spawn of OTLPD_BINARY with stdout to `out_fd` and stderr to the file `err_path`; with a
// descriptor limit, through util-linux's prlimit (the limit must not touch the test process).
absl::StatusOr<pid_t> spawn(const std::vector<std::string>& args, int out_fd,
                            const std::string& err_path, const ChildOptions& options = {}) {
  std::vector<std::string> argv_s;
  if (options.max_open_files > 0) {
    const std::string n = std::to_string(options.max_open_files);
    argv_s = {"/usr/bin/prlimit", "--nofile=" + n + ":" + n, "--"};
  }
  argv_s.push_back(OTLPD_BINARY);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError(std::string("posix_spawn: ") + std::strerror(rc));
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "otlpd-e2e-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

absl::StatusOr<std::unique_ptr<ChildCollector>> ChildCollector::start(
    const std::string& yaml, std::vector<std::string> extra_args, ChildOptions options) {
  std::unique_ptr<ChildCollector> c(new ChildCollector());
  c->dir_ = make_temp_dir();
  const std::string config = c->dir_ + "/config.yaml";
  std::ofstream(config) << yaml;
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> args{"--config", config};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto pid = spawn(args, fds[1], c->dir_ + "/stderr.log", options);
  close(fds[1]);
  if (!pid.ok()) {
    close(fds[0]);
    return pid.status();
  }
  c->pid_ = *pid;
  // Read stdout lines until "otlpd: ready" (or EOF: it exited), for at most 60 s.
  std::string buffer;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < until) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t eol;
    while ((eol = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, eol);
      buffer.erase(0, eol + 1);
      std::istringstream words(line);
      std::string otlpd, verb, id, proto, address;
      words >> otlpd >> verb;
      if (otlpd != "otlpd:") continue;
      if (verb == "ready") ready = true;
      if (verb == "listening" && (words >> id >> proto >> address)) {
        c->endpoints_[id + " " + proto] = address;
      }
    }
  }
  close(fds[0]);
  if (!ready) {
    kill(c->pid_, SIGKILL);
    wait_exit(c->pid_);
    c->pid_ = -1;
    return absl::UnavailableError("otlpd did not become ready; its log:\n" + c->log());
  }
  return c;
}

ChildCollector::~ChildCollector() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    wait_exit(pid_);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string ChildCollector::endpoint(const std::string& receiver,
                                     const std::string& protocol) const {
  auto it = endpoints_.find(receiver + " " + protocol);
  return it == endpoints_.end() ? "" : it->second;
}

int ChildCollector::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const int code = wait_exit(pid_);
  pid_ = -1;
  return code;
}

void ChildCollector::kill_hard() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  wait_exit(pid_);
  pid_ = -1;
}

std::string ChildCollector::log() const { return read_file(dir_ + "/stderr.log"); }

std::int64_t ChildCollector::rss_bytes() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    std::string rest;
    std::getline(status, rest);
  }
  return 0;
}

RunResult run_otlpd(const std::vector<std::string>& args) {
  RunResult r;
  const std::string dir = make_temp_dir();
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  auto pid = spawn(args, out_fd, err_path);
  close(out_fd);
  if (pid.ok()) r.exit_code = wait_exit(*pid);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

}  // namespace otlpd::testing
