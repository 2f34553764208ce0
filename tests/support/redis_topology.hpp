// Real Redis topologies for the fault and security tests, each process on free loopback ports in
// a temp dir of its own (kept with SPLITSTREAM_KEEP_TEST_DIRS=1, like RedisServer's):
//
//   TestCertificates certs = make_test_certificates(dir);   // a CA, a server and a client cert
//   SentinelTopology redis;        // a primary, its replica, three sentinels watching them
//   redis.server(0).kill();        // Sentinel promotes server(1):
//   redis.wait_for_primary(redis.server(1).port(), 20s);
//   RedisCluster cluster;          // three primaries sharing the 16384 slots
//   cluster.not_owning("{ev:pyongyang-2025}:reads");   // a node that answers -MOVED for it
//
// redis_cli() runs redis-cli (TLS checks, cluster create); the tests' own commands go through
// RedisServer::command and redis_command_at (hiredis, plain TCP).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/redis_server.hpp"
#include "support/wait_until.hpp"

#ifndef SPLITSTREAM_REDIS_SENTINEL
#error "SPLITSTREAM_REDIS_SENTINEL (redis-sentinel, or redis-server) must be defined by the build"
#endif
#ifndef SPLITSTREAM_REDIS_CLI
#error "SPLITSTREAM_REDIS_CLI (the redis-cli path) must be defined by the build"
#endif

namespace splitstream::test_support {

// A temp dir for a test's files, removed with it (kept with SPLITSTREAM_KEEP_TEST_DIRS=1).
class TestDir {
 public:
  explicit TestDir(const std::string& what = "test") : path_(make_test_dir(what)) {}
  ~TestDir() {
    std::error_code ignored;
    if (!keep_test_dirs()) std::filesystem::remove_all(path_, ignored);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct ProgramResult {
  int status = -1;     // the exit status; -1 when it was killed at the deadline or by a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs `args` (args[0] the program) to its end, or kills it after `timeout`.
inline ProgramResult run_program(std::vector<std::string> args,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::vector<char*> argv;
  for (std::string& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("run_program: pipe failed");
  const int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("run_program: fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dev_null >= 0) ::dup2(dev_null, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (dev_null >= 0) ::close(dev_null);
  ::close(out[1]);
  ProgramResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd readable{out[0], POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = !timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// redis-cli with these arguments (e.g. {"--tls", "--cacert", ca, "-p", port, "PING"}).
inline ProgramResult redis_cli(const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::vector<std::string> all = {SPLITSTREAM_REDIS_CLI};
  all.insert(all.end(), args.begin(), args.end());
  return run_program(std::move(all), timeout);
}

// Certificates made with the openssl command (P-256 keys: quick to make), valid for a day.
struct TestCertificates {
  std::filesystem::path ca;  // the CA that signed both certificates below
  std::filesystem::path ca_key;
  std::filesystem::path server_cert;  // CN localhost; SAN localhost and 127.0.0.1
  std::filesystem::path server_key;
  std::filesystem::path client_cert;  // CN splitstream-client
  std::filesystem::path client_key;
};

// A CA "<prefix>-ca" and the two certificates it signs, in `dir` (files named <prefix>-*.pem).
// Two calls with different prefixes give two CAs that do not trust each other's certificates.
inline TestCertificates make_test_certificates(const std::filesystem::path& dir,
                                               const std::string& prefix = "test") {
  auto file = [&](const std::string& name) { return dir / (prefix + "-" + name); };
  TestCertificates out{file("ca.pem"),         file("ca-key.pem"), file("server.pem"),
                       file("server-key.pem"), file("client.pem"), file("client-key.pem")};
  const std::string new_key =
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  auto run = [](const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
      throw std::runtime_error("make_test_certificates: failed: " + command);
    }
  };
  run(new_key + "-x509 -days 1 -subj /CN=" + prefix + "-ca -keyout " + out.ca_key.string() +
      " -out " + out.ca.string());
  auto sign = [&](const std::string& subject, const std::string& extension,
                  const std::filesystem::path& cert, const std::filesystem::path& key) {
    const std::string request = cert.string() + ".csr";
    run(new_key + "-subj " + subject + " -addext " + extension + " -keyout " + key.string() +
        " -out " + request);
    run("openssl x509 -req -days 1 -copy_extensions copyall -in " + request + " -CA " +
        out.ca.string() + " -CAkey " + out.ca_key.string() + " -CAcreateserial -CAserial " +
        file("ca.srl").string() + " -out " + cert.string());
  };
  sign("/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1", out.server_cert,
       out.server_key);
  sign("/CN=splitstream-client", "extendedKeyUsage=clientAuth", out.client_cert, out.client_key);
  return out;
}

// The redis-cli arguments of a TLS connection to 127.0.0.1:port trusting `ca` (and presenting
// a client certificate when `cert` is not empty).
inline std::vector<std::string> redis_cli_tls_args(std::uint16_t port,
                                                   const std::filesystem::path& ca,
                                                   const std::filesystem::path& cert = {},
                                                   const std::filesystem::path& key = {}) {
  std::vector<std::string> args = {"--tls",     "--cacert", ca.string(),         "-h",
                                   "127.0.0.1", "-p",       std::to_string(port)};
  if (!cert.empty()) args.insert(args.end(), {"--cert", cert.string(), "--key", key.string()});
  return args;
}

// One redis-sentinel process watching one primary.
class RedisSentinel {
 public:
  struct Monitor {
    std::string name;  // the primary's name (SENTINEL get-master-addr-by-name)
    std::uint16_t primary_port = 0;
    int quorum = 2;
    std::chrono::milliseconds down_after{1000};
    std::chrono::milliseconds failover_timeout{3000};
  };

  explicit RedisSentinel(Monitor monitor) : monitor_(std::move(monitor)) {
    dir_ = make_test_dir("sentinel");
    for (int attempt = 0; attempt < 20; ++attempt) {
      port_ = static_cast<std::uint16_t>(splitstream::testing::free_port());
      if (start_and_wait()) return;
    }
    const std::string log = log_tail();
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("RedisSentinel: it did not start; log:\n" + log);
  }
  ~RedisSentinel() {
    kill();
    std::error_code ignored;
    if (keep_test_dirs()) return;
    std::filesystem::remove_all(dir_, ignored);
  }
  RedisSentinel(const RedisSentinel&) = delete;
  RedisSentinel& operator=(const RedisSentinel&) = delete;

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string log_tail(std::size_t bytes = 4000) const {
    return file_tail(dir_ / "sentinel.log", bytes);
  }

  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  RedisReply command(const std::vector<std::string>& args) const {
    return redis_command_at(port_, args);
  }

  // The primary's port as this sentinel names it; nullopt when it names none (or is away).
  std::optional<std::uint16_t> primary_port() const {
    try {
      const RedisReply reply = command({"SENTINEL", "get-master-addr-by-name", monitor_.name});
      if (reply.elements().size() != 2) return std::nullopt;
      const auto port = reply.elements()[1].to_integer();
      if (!port) return std::nullopt;
      return static_cast<std::uint16_t>(*port);
    } catch (const std::runtime_error&) {
      return std::nullopt;
    }
  }

  // SENTINEL MASTER <name>: "flags", "num-slaves", "num-other-sentinels", ... ; empty when it
  // cannot be asked.
  std::map<std::string, std::string> primary_state() const {
    std::map<std::string, std::string> out;
    try {
      const RedisReply reply = command({"SENTINEL", "MASTER", monitor_.name});
      const auto& fields = reply.elements();
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
        out[fields[i].as_string()] = fields[i + 1].as_string();
    } catch (const std::runtime_error&) {
    }
    return out;
  }

 private:
  bool start_and_wait() {
    // A sentinel needs a config file it may rewrite (it records what it learns there).
    const auto config = dir_ / "sentinel.conf";
    {
      std::ofstream out(config, std::ios::trunc);
      const std::string& name = monitor_.name;
      out << "port " << port_ << "\nbind 127.0.0.1\ndaemonize no\ndir " << dir_.string()
          << "\nlogfile " << (dir_ / "sentinel.log").string() << "\nsentinel monitor " << name
          << " 127.0.0.1 " << monitor_.primary_port << " " << monitor_.quorum
          << "\nsentinel down-after-milliseconds " << name << " " << monitor_.down_after.count()
          << "\nsentinel failover-timeout " << name << " " << monitor_.failover_timeout.count()
          << "\nsentinel parallel-syncs " << name << " 1\n";
    }
    // --sentinel: redis-server (when the build found no redis-sentinel) runs as a sentinel too.
    pid_ = spawn_redis_process({SPLITSTREAM_REDIS_SENTINEL, config.string(), "--sentinel"});
    bool exited = false;
    const bool up = testing::wait_until(
        [&] {
          exited = exited || ::waitpid(pid_, nullptr, WNOHANG) == pid_;
          return exited || redis_answers_ping(port_);
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

  Monitor monitor_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// A primary, its replica and three sentinels (quorum 2) watching them: what a failover needs.
// Built in order: the primary, the replica (until its link is up), the sentinels (until each
// names the primary, knows the replica and the two other sentinels).
class SentinelTopology {
 public:
  struct Options {
    std::string primary_name = "splitstream";
    int sentinels = 3;
    int quorum = 2;
    std::chrono::milliseconds down_after{1000};
    std::chrono::milliseconds failover_timeout{3000};
    RedisServer::Options redis;  // both servers' (the replica's --replicaof comes on top)
  };

  SentinelTopology() : SentinelTopology(Options{}) {}
  explicit SentinelTopology(Options options) : options_(std::move(options)) {
    // A replica (re)joining is served at once, not after the default 5 s wait for others.
    options_.redis.extra_args.insert(options_.redis.extra_args.begin(),
                                     {"--repl-diskless-sync-delay", "0"});
    servers_.push_back(std::make_unique<RedisServer>(options_.redis));
    RedisServer::Options replica = options_.redis;
    replica.extra_args.insert(replica.extra_args.end(),
                              {"--replicaof", "127.0.0.1", std::to_string(servers_[0]->port())});
    servers_.push_back(std::make_unique<RedisServer>(replica));
    if (!testing::wait_until([&] { return replica_link_up(*servers_[1]); },
                             std::chrono::seconds(15), std::chrono::milliseconds(20))) {
      throw std::runtime_error("SentinelTopology: the replica did not sync; log:\n" +
                               servers_[1]->log_tail());
    }
    for (int i = 0; i < options_.sentinels; ++i) {
      sentinels_.push_back(std::make_unique<RedisSentinel>(
          RedisSentinel::Monitor{options_.primary_name, servers_[0]->port(), options_.quorum,
                                 options_.down_after, options_.failover_timeout}));
    }
    // Sentinels find each other through the primary (a hello every 2 s).
    if (!wait_for_primary(servers_[0]->port(), std::chrono::seconds(20), 1)) {
      throw std::runtime_error("SentinelTopology: the sentinels did not agree:\n" + describe());
    }
  }

  SentinelTopology(const SentinelTopology&) = delete;
  SentinelTopology& operator=(const SentinelTopology&) = delete;

  // 0: started as the primary, 1: started as its replica (roles change with a failover).
  RedisServer& server(std::size_t i) { return *servers_.at(i); }
  RedisSentinel& sentinel(std::size_t i) { return *sentinels_.at(i); }
  std::size_t sentinel_count() const { return sentinels_.size(); }
  const std::string& primary_name() const { return options_.primary_name; }

  // Server i (killed) started again in its dir as a replica of 127.0.0.1:primary_port: a
  // crashed primary's host back after the failover.
  void bring_back_as_replica(std::size_t i, std::uint16_t primary_port) {
    std::vector<std::string> args = options_.redis.extra_args;
    args.insert(args.end(), {"--replicaof", "127.0.0.1", std::to_string(primary_port)});
    servers_.at(i)->restart(std::move(args));
  }

  // "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3" (the value of --redis-sentinels).
  std::string sentinel_addresses() const {
    std::string out;
    for (const auto& s : sentinels_)
      out += (out.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(s->port());
    return out;
  }

  // Waits until every sentinel names 127.0.0.1:port as the primary, with no failover under way
  // (flags exactly "master"), and each knows at least `replicas` replicas and every other
  // sentinel.
  bool wait_for_primary(std::uint16_t port, std::chrono::milliseconds deadline, int replicas = 0) {
    const std::string others = std::to_string(sentinels_.size() - 1);
    return testing::wait_until(
        [&] {
          for (const auto& s : sentinels_) {
            if (s->primary_port() != port) return false;
            auto state = s->primary_state();
            if (state["flags"] != "master" || state["num-other-sentinels"] != others) return false;
            if (std::atoi(state["num-slaves"].c_str()) < replicas) return false;
          }
          return true;
        },
        deadline, std::chrono::milliseconds(50));
  }

  // What each sentinel says and the last lines of its log, for a failure message.
  std::string describe() const {
    std::string out;
    for (std::size_t i = 0; i < sentinels_.size(); ++i) {
      const auto port = sentinels_[i]->primary_port();
      out += "--- sentinel " + std::to_string(i) + " on " + std::to_string(sentinels_[i]->port()) +
             " names " + (port ? std::to_string(*port) : std::string("nothing"));
      for (const auto& [field, value] : sentinels_[i]->primary_state()) {
        if (field == "flags" || field == "num-slaves" || field == "num-other-sentinels")
          out += ", " + field + "=" + value;
      }
      out += "\n" + sentinels_[i]->log_tail(1500) + "\n";
    }
    return out;
  }

  static bool replica_link_up(const RedisServer& server) {
    try {
      return server.info_field("master_link_status") == "up";
    } catch (const std::runtime_error&) {
      return false;
    }
  }

 private:
  Options options_;
  std::vector<std::unique_ptr<RedisServer>> servers_;
  std::vector<std::unique_ptr<RedisSentinel>> sentinels_;
};

// A Redis Cluster of `nodes` primaries (no replicas), made by `redis-cli --cluster create`, ready
// once every node says cluster_state:ok.
class RedisCluster {
 public:
  explicit RedisCluster(std::size_t nodes = 3) {
    RedisServer::Options options;
    options.cluster = true;
    std::vector<std::string> create = {"--cluster", "create"};
    for (std::size_t i = 0; i < nodes; ++i) {
      nodes_.push_back(std::make_unique<RedisServer>(options));
      create.push_back("127.0.0.1:" + std::to_string(nodes_.back()->port()));
    }
    create.insert(create.end(), {"--cluster-replicas", "0", "--cluster-yes"});
    const ProgramResult made = redis_cli(create, std::chrono::seconds(60));
    std::ofstream(nodes_[0]->dir() / "cluster-create.log") << made.output;
    if (made.status != 0) {
      throw std::runtime_error("RedisCluster: redis-cli --cluster create failed:\n" + made.output);
    }
    if (!testing::wait_until([&] { return state_ok(); }, std::chrono::seconds(20),
                             std::chrono::milliseconds(50))) {
      throw std::runtime_error("RedisCluster: the cluster did not reach cluster_state:ok:\n" +
                               nodes_[0]->command({"CLUSTER", "INFO"}).as_string());
    }
  }

  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  std::size_t size() const { return nodes_.size(); }

  // Every node: cluster_state:ok, all slots assigned, every node known.
  bool state_ok() const {
    for (const auto& n : nodes_) {
      try {
        const std::string info = n->command({"CLUSTER", "INFO"}).as_string();
        if (info.find("cluster_state:ok") == std::string::npos ||
            info.find("cluster_slots_assigned:16384") == std::string::npos ||
            info.find("cluster_known_nodes:" + std::to_string(nodes_.size())) ==
                std::string::npos) {
          return false;
        }
      } catch (const std::runtime_error&) {
        return false;
      }
    }
    return true;
  }

  std::int64_t slot_of(const std::string& key) const {
    return nodes_[0]->command({"CLUSTER", "KEYSLOT", key}).as_integer();
  }

  // The node that owns the slot of `key`, as node 0's CLUSTER SLOTS says.
  RedisServer& owner_of(const std::string& key) {
    const std::int64_t slot = slot_of(key);
    const RedisReply slots = nodes_[0]->command({"CLUSTER", "SLOTS"});
    for (const RedisReply& range : slots.elements()) {
      const auto& e = range.elements();
      if (e.size() < 3 || slot < e[0].as_integer() || slot > e[1].as_integer()) continue;
      const std::int64_t port = e[2].elements().at(1).as_integer();
      for (auto& n : nodes_)
        if (n->port() == port) return *n;
    }
    throw std::runtime_error("RedisCluster: no node owns slot " + std::to_string(slot));
  }

  // A node that does not own the slot of `key` (it answers -MOVED for it).
  RedisServer& not_owning(const std::string& key) {
    const RedisServer& owner = owner_of(key);
    for (auto& n : nodes_)
      if (n.get() != &owner) return *n;
    throw std::runtime_error("RedisCluster: every node owns the slot");
  }

 private:
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace splitstream::test_support
