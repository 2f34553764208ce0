// A real redis-server for integration tests: its own temp dir, a free loopback port, killed with
// the test process. Safe under `ctest -j`: no fixed ports.
//
//   RedisServer redis;                       // started and answering PING
//   options.port = redis.port();
//   redis.kill(); redis.restart();           // same port and dir: AOF data survives
//
// The port is picked below the kernel's ephemeral range: a client reconnecting to a dead server
// on an ephemeral port can be given that very port as its own source port and connect to itself.
#pragma once

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/redis_reply.hpp"
#include "support/hiredis_reply.hpp"
#include "support/wait_until.hpp"

#ifndef SPLITSTREAM_REDIS_SERVER
#error "SPLITSTREAM_REDIS_SERVER (the redis-server path) must be defined by the build"
#endif

namespace splitstream::test_support {

class RedisServer {
 public:
  struct Options {
    bool append_only = true;              // --appendonly yes: data survives kill() + restart()
    std::vector<std::string> extra_args;  // more redis-server options, e.g. {"--maxclients", "5"}
  };

  RedisServer() : RedisServer(Options{}) {}
  explicit RedisServer(Options options) : options_(std::move(options)) {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "splitstream-redis-XXXXXX").string();
    if (::mkdtemp(dir_template.data()) == nullptr) {
      throw std::runtime_error("RedisServer: cannot create a temp dir");
    }
    dir_ = dir_template;
    // Another process may take the port between our probe and redis's bind: try a few.
    for (int attempt = 0; attempt < 20; ++attempt) {
      port_ = pick_free_port();
      if (start_and_wait()) return;
    }
    const std::string log = log_tail();
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("RedisServer: redis-server did not start; log:\n" + log);
  }

  ~RedisServer() {
    kill();
    std::error_code ignored;
    // SPLITSTREAM_KEEP_TEST_DIRS=1 keeps the logs, data and event of each test for a post-mortem.
    if (const char* keep = std::getenv("SPLITSTREAM_KEEP_TEST_DIRS"); keep && *keep == '1') return;
    std::filesystem::remove_all(dir_, ignored);
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }

  // SIGTERM (redis flushes the AOF and exits), then wait; SIGKILL after 10 s.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (testing::wait_until([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; },
                            std::chrono::seconds(10), std::chrono::milliseconds(5))) {
      pid_ = -1;
      return;
    }
    kill();
  }

  // SIGKILL, then wait: a crash, as far as clients can tell.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Starts again on the same port and in the same dir (stops it first if it runs).
  void restart() {
    stop();
    // The port can be briefly busy (another test probing it): retry, then give up.
    if (!testing::wait_until([&] { return start_and_wait(); }, std::chrono::seconds(10),
                             std::chrono::milliseconds(50))) {
      throw std::runtime_error("RedisServer: restart on port " + std::to_string(port_) +
                               " failed; log:\n" + log_tail());
    }
  }

  // A blocking command on a fresh connection: for test setup and inspection, not for the code
  // under test. Throws if the server cannot be reached.
  RedisReply command(const std::vector<std::string>& args) const {
    redisContext* context = connect(std::chrono::milliseconds(2000));
    if (context == nullptr) {
      throw std::runtime_error("RedisServer: cannot connect to port " + std::to_string(port_));
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(args.size()), argv.data(), lengths.data()));
    if (reply == nullptr) {
      const std::string error = context->errstr;
      redisFree(context);
      throw std::runtime_error("RedisServer: command failed: " + error);
    }
    RedisReply converted = convert_hiredis_reply(*reply);
    freeReplyObject(reply);
    redisFree(context);
    return converted;
  }

 private:
  static std::uint16_t pick_free_port() {
    int ephemeral_low = 32768;
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    range >> ephemeral_low;
    const int low = 10000;
    const int high = std::max(low + 1000, ephemeral_low) - 1;
    std::random_device seed;
    std::mt19937 random(seed());
    std::uniform_int_distribution<int> pick(low, high);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const auto port = static_cast<std::uint16_t>(pick(random));
      if (can_bind(port)) return port;
    }
    throw std::runtime_error("RedisServer: no free port");
  }

  static bool can_bind(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
  }

  redisContext* connect(std::chrono::milliseconds timeout) const {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (context != nullptr && context->err != 0) {
      redisFree(context);
      return nullptr;
    }
    if (context != nullptr) redisSetTimeout(context, tv);
    return context;
  }

  // Spawns redis-server and waits for +PONG (not -LOADING). False if it exited (port taken).
  bool start_and_wait() {
    const std::string port = std::to_string(port_);
    const std::string log = (dir_ / "redis.log").string();
    std::vector<std::string> args = {SPLITSTREAM_REDIS_SERVER,
                                     "--port",
                                     port,
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_.string(),
                                     "--logfile",
                                     log,
                                     "--save",
                                     "",
                                     "--appendonly",
                                     options_.append_only ? "yes" : "no",
                                     "--daemonize",
                                     "no"};
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);

    const pid_t pid = ::fork();
    if (pid < 0) {
      if (dev_null >= 0) ::close(dev_null);
      throw std::runtime_error("RedisServer: fork failed");
    }
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec. Dies with the test process.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (dev_null >= 0) {
        ::dup2(dev_null, STDIN_FILENO);
        ::dup2(dev_null, STDOUT_FILENO);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (dev_null >= 0) ::close(dev_null);
    pid_ = pid;

    bool exited = false;
    const bool up = testing::wait_until(
        [&] {
          exited = exited || ::waitpid(pid_, nullptr, WNOHANG) == pid_;
          return exited || answers_ping();
        },
        std::chrono::seconds(20));
    if (exited) {
      pid_ = -1;
      return false;
    }
    if (up) return true;
    kill();
    return false;
  }

  bool answers_ping() const {
    redisContext* context = connect(std::chrono::milliseconds(200));
    if (context == nullptr) return false;
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    const bool pong = reply != nullptr && reply->type == REDIS_REPLY_STATUS &&
                      std::string(reply->str, reply->len) == "PONG";
    if (reply != nullptr) freeReplyObject(reply);
    redisFree(context);
    return pong;
  }

  std::string log_tail() const {
    std::ifstream in(dir_ / "redis.log");
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str();
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }

  Options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace splitstream::test_support
