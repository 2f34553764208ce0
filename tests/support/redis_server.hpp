// A real redis-server for integration tests: its own temp dir, a free loopback port, killed with
// the test process. Safe under `ctest -j`: no fixed ports.
//
//   RedisServer redis;                       // started and answering PING
//   options.port = redis.port();
//   redis.kill(); redis.restart();           // same port and dir: AOF data survives
//
// Options add TLS on a port of its own (tls_port(); port() stays plain on loopback for the test's
// own commands), an ACL user for the test's own connection (for servers started with
// requirepass or ACL users the test changes), and cluster mode (its bus on cluster_port()).
// Sentinels, replicas and clusters built from these: support/redis_topology.hpp.
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
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/redis_reply.hpp"
#include "support/free_port.hpp"
#include "support/hiredis_reply.hpp"
#include "support/wait_until.hpp"

#ifndef SPLITSTREAM_REDIS_SERVER
#error "SPLITSTREAM_REDIS_SERVER (the redis-server path) must be defined by the build"
#endif

namespace splitstream::test_support {

// Starts `args` (args[0] the program) as a child that dies with the test process, its stdin and
// stdout on /dev/null (redis logs to its --logfile). Returns its pid.
inline pid_t spawn_redis_process(std::vector<std::string> args) {
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
  return pid;
}

// Who the test's own connection authenticates as; empty password: no AUTH.
struct RedisTestAuth {
  std::string user;
  std::string password;
};

// One blocking command on a fresh plain connection to 127.0.0.1:port (a server or a sentinel),
// for test setup and inspection, not for the code under test. Throws if it cannot connect.
inline RedisReply redis_command_at(
    std::uint16_t port, const std::vector<std::string>& args, const RedisTestAuth& auth = {},
    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (context == nullptr || context->err != 0) {
    if (context != nullptr) redisFree(context);
    throw std::runtime_error("RedisServer: cannot connect to port " + std::to_string(port));
  }
  redisSetTimeout(context, tv);
  auto run = [&](const std::vector<std::string>& command) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(command.size()), argv.data(), lengths.data()));
    if (reply == nullptr) {
      const std::string error = context->errstr;
      redisFree(context);
      throw std::runtime_error("RedisServer: command failed: " + error);
    }
    RedisReply converted = convert_hiredis_reply(*reply);
    freeReplyObject(reply);
    return converted;
  };
  if (!auth.password.empty()) {
    std::vector<std::string> login = {"AUTH"};
    if (!auth.user.empty()) login.push_back(auth.user);
    login.push_back(auth.password);
    const RedisReply answer = run(login);
    if (answer.is_error()) {
      redisFree(context);
      throw std::runtime_error("RedisServer: AUTH failed: " + answer.as_string());
    }
  }
  RedisReply reply = run(args);
  redisFree(context);
  return reply;
}

// True when 127.0.0.1:port answers PING with +PONG (not -LOADING, not refused).
inline bool redis_answers_ping(std::uint16_t port, const RedisTestAuth& auth = {}) {
  try {
    const RedisReply reply = redis_command_at(port, {"PING"}, auth, std::chrono::milliseconds(200));
    return reply.is_status() && reply.as_string() == "PONG";
  } catch (const std::runtime_error&) {
    return false;
  }
}

// Whether SPLITSTREAM_KEEP_TEST_DIRS=1 asks to keep each test's logs and data.
inline bool keep_test_dirs() {
  const char* keep = std::getenv("SPLITSTREAM_KEEP_TEST_DIRS");
  return keep != nullptr && *keep == '1';
}

// A fresh temp dir "splitstream-<what>-XXXXXX".
inline std::filesystem::path make_test_dir(const std::string& what) {
  std::string dir_template =
      (std::filesystem::temp_directory_path() / ("splitstream-" + what + "-XXXXXX")).string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    throw std::runtime_error("cannot create a temp dir for " + what);
  }
  return dir_template;
}

// The last `bytes` of a text file (a log), for failure messages.
inline std::string file_tail(const std::filesystem::path& path, std::size_t bytes = 4000) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

class RedisServer {
 public:
  struct Options {
    bool append_only = true;              // --appendonly yes: data survives kill() + restart()
    std::vector<std::string> extra_args;  // more redis-server options, e.g. {"--maxclients", "5"}
    // TLS on tls_port() with this certificate and key; clients' certificates (when asked for)
    // must chain to `ca`. port() stays plain, on loopback, for the test's own commands.
    struct Tls {
      std::filesystem::path cert;
      std::filesystem::path key;
      std::filesystem::path ca;
      bool auth_clients = false;  // --tls-auth-clients yes: a client certificate is required
    };
    std::optional<Tls> tls = std::nullopt;
    // The test's own connection (command(), the start-up PING) authenticates as kAdminUser,
    // created with every permission: for servers started with requirepass or ACL users.
    bool admin_user = false;
    // --cluster-enabled yes, nodes.conf in dir(), the cluster bus on cluster_port().
    bool cluster = false;
  };

  static constexpr const char* kAdminUser = "splitstream-test";
  static constexpr const char* kAdminPassword = "splitstream-test-admin";

  RedisServer() : RedisServer(Options{}) {}
  explicit RedisServer(Options options) : options_(std::move(options)) {
    dir_ = make_test_dir("redis");
    // Another process may take a port between our probe and redis's bind: try a few.
    for (int attempt = 0; attempt < 20; ++attempt) {
      port_ = pick_port();
      if (options_.tls) tls_port_ = pick_port();
      if (options_.cluster) cluster_port_ = pick_port();
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
    if (keep_test_dirs()) return;
    std::filesystem::remove_all(dir_, ignored);
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  // With Options::tls: the TLS port (0 without).
  std::uint16_t tls_port() const { return tls_port_; }
  // With Options::cluster: the cluster bus port (0 without).
  std::uint16_t cluster_port() const { return cluster_port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path log_path() const { return dir_ / "redis.log"; }
  bool running() const { return pid_ > 0; }
  // How the test's own connection authenticates (empty without Options::admin_user).
  RedisTestAuth test_auth() const {
    if (!options_.admin_user) return {};
    return {kAdminUser, kAdminPassword};
  }

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

  // restart() with other extra arguments from now on (e.g. a crashed primary brought back as a
  // replica of the one that replaced it: {"--replicaof", "127.0.0.1", port}).
  void restart(std::vector<std::string> extra_args) {
    stop();
    options_.extra_args = std::move(extra_args);
    restart();
  }

  // A blocking command on a fresh connection: for test setup and inspection, not for the code
  // under test. Throws if the server cannot be reached.
  RedisReply command(const std::vector<std::string>& args) const {
    return redis_command_at(port_, args, test_auth());
  }

  // The value of one field of INFO (e.g. "role", "master_link_status"); "" when absent.
  std::string info_field(const std::string& field) const {
    const std::string text = "\r\n" + command({"INFO"}).as_string();
    const std::string key = "\r\n" + field + ":";
    const auto at = text.find(key);
    if (at == std::string::npos) return "";
    const auto from = at + key.size();
    return text.substr(from, text.find("\r\n", from) - from);
  }

  // The last lines of its log, for failure messages.
  std::string log_tail() const { return file_tail(log_path()); }

 private:
  // A free port; never one this process was given before (so none this server has).
  static std::uint16_t pick_port() {
    return static_cast<std::uint16_t>(splitstream::testing::free_port());
  }

  // Spawns redis-server and waits for +PONG (not -LOADING). False if it exited (port taken).
  bool start_and_wait() {
    const std::string log = log_path().string();
    std::vector<std::string> args = {SPLITSTREAM_REDIS_SERVER,
                                     "--port",
                                     std::to_string(port_),
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
    if (options_.tls) {
      args.insert(args.end(),
                  {"--tls-port", std::to_string(tls_port_), "--tls-cert-file",
                   options_.tls->cert.string(), "--tls-key-file", options_.tls->key.string(),
                   "--tls-ca-cert-file", options_.tls->ca.string(), "--tls-auth-clients",
                   options_.tls->auth_clients ? "yes" : "no"});
    }
    if (options_.admin_user) {
      args.insert(args.end(), {"--user", kAdminUser, "on", std::string(">") + kAdminPassword, "~*",
                               "&*", "+@all"});
    }
    if (options_.cluster) {
      args.insert(args.end(), {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                               "--cluster-port", std::to_string(cluster_port_),
                               "--cluster-node-timeout", "2000"});
    }
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    pid_ = spawn_redis_process(std::move(args));

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

  bool answers_ping() const { return redis_answers_ping(port_, test_auth()); }

  Options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::uint16_t cluster_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace splitstream::test_support
