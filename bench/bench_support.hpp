// What the end-to-end benchmarks share: `splitstream serve` as a child process, CPU and
// memory of processes, Redis INFO fields.
#pragma once

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"

namespace splitstream::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// `splitstream serve` as a child that dies with this process.
class Server {
 public:
  explicit Server(const std::vector<std::string>& args) {
    std::vector<std::string> all = args;
    std::vector<char*> argv;
    for (std::string& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  // SIGTERM, then the exit status (SIGKILL after 10 s: -1).
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// Pins this thread (and the threads and processes it starts from now on) to one core; -1:
// leaves it as it is. Exits when the core cannot be had.
inline void pin_to(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    std::perror("sched_setaffinity");
    std::exit(1);
  }
}

// A child started on `cpu` (with this thread back on `client_cpu` after).
inline std::unique_ptr<Server> start_on(int cpu, const std::vector<std::string>& args,
                                        int client_cpu) {
  pin_to(cpu);
  auto server = std::make_unique<Server>(args);
  pin_to(client_cpu);
  return server;
}

// CPU seconds (user + system) a process has used so far, from /proc/PID/stat.
inline double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(all.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

inline double self_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A number after `name:` or `name=` in Redis INFO text, or 0.
inline double info_field(const std::string& info, const std::string& name) {
  const auto at = info.find(name);
  if (at == std::string::npos) return 0;
  return std::strtod(info.c_str() + at + name.size() + 1, nullptr);
}

// A memory figure of a process in bytes from /proc/PID/status: "VmRSS" (resident now) or
// "VmHWM" (the peak resident so far).
inline double process_status_bytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024.0;
  }
  return 0;
}

// Raises this process's open-file limit to its hard limit (children inherit it); the new limit.
inline std::size_t raise_open_file_limit() {
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  return static_cast<std::size_t>(files.rlim_cur);
}

// Waits until `server` answers 200 on /readyz at `http_port`; false when it exits or `timeout`
// passes first.
inline bool wait_ready(const Server& server, int http_port, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline && server.running()) {
    if (splitstream::testing::http_get(http_port, "/readyz").status == 200) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Resident memory of a process in bytes (VmRSS).
inline double process_rss_bytes(pid_t pid) {
  return process_status_bytes(pid, "VmRSS");
}

}  // namespace splitstream::bench
