// AUTH and TLS to Redis against a real redis-server started with requirepass, ACL users and
// --tls-port: `splitstream serve` given the right password (in the URL or a file), an ACL
// user, a CA (and a client certificate when Redis asks for one) turns ready and stores a
// device's batch. Given a wrong password or a certificate it cannot trust, it is not ready, says
// why in /readyz (never the password), stays up and retries with backoff, and turns ready by
// itself once Redis is fixed.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "store/key_schema.hpp"
#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/fault_race.hpp"
#include "support/redis_server.hpp"
#include "support/redis_topology.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::make_test_certificates;
using test_support::RedisServer;
using test_support::TestCertificates;
using test_support::TestDir;
namespace {

using namespace std::chrono_literals;

class RedisSecurity : public ::testing::Test {
 protected:
  void SetUp() override { DemoRace::get().write_tokens(tokens_); }

  // A node on Redis `url` with more flags, its log in the work dir; started, not waited for.
  ServeNode start_node(const std::string& url, const std::vector<std::string>& flags = {}) {
    ServeNode node;
    node.http = free_port();
    node.devices = free_port();
    logs_.push_back(work_.path() / ("node" + std::to_string(logs_.size() + 1) + ".log"));
    std::vector<std::string> args = serve_args(1, "127.0.0.1:" + std::to_string(node.http),
                                               "127.0.0.1:" + std::to_string(node.devices));
    set_redis_url(args, url);
    args.insert(args.end(), {"--device-tokens-file", tokens_.string(), "--log-level", "info"});
    args.insert(args.end(), flags.begin(), flags.end());
    node.process =
        std::make_unique<ChildProcess>(SPLITSTREAM_BIN_DIR "/splitstream", args, logs_.back());
    log_of_[node.http] = logs_.back();
    // Up once /healthz answers; a node that exits at once (a setting refused) is not waited for.
    EXPECT_TRUE(wait_until([&] {
      return !node.process->running() || http_get(node.http, "/healthz").status != 0;
    })) << logs();
    EXPECT_TRUE(node.process->running()) << "the node exited\n" << logs();
    return node;
  }

  bool wait_ready(const ServeNode& node, std::chrono::milliseconds deadline = 10s) {
    return wait_until([&] { return http_get(node.http, "/readyz").status == 200; }, deadline, 20ms);
  }

  // Waits until /readyz's Redis check names `problem`; its readiness then.
  RedisReadiness wait_not_ready_naming(const ServeNode& node, const std::string& problem) {
    RedisReadiness state;
    wait_until(
        [&] {
          state = redis_readiness(node.http);
          return state.detail.find(problem) != std::string::npos;
        },
        10s, 20ms);
    return state;
  }

  // A device's first `reads` reads acknowledged through the node, and held by Redis.
  void expect_ingests(const ServeNode& node, const RedisServer& redis, const std::string& device,
                      std::size_t reads = 100) {
    EXPECT_EQ(DemoRace::get().feed(node.devices, device, reads), reads) << logs();
    const auto acked =
        redis.command({"HGET", KeySchema("pyongyang-2025").device(device), "acked"}).to_integer();
    EXPECT_EQ(acked, static_cast<std::int64_t>(reads)) << device;
  }

  // `secret` nowhere the crew looks: /readyz, /metrics, the node's log.
  void expect_never_shown(const ServeNode& node, const std::string& secret) {
    EXPECT_EQ(http_get(node.http, "/readyz").body.find(secret), std::string::npos);
    EXPECT_EQ(http_get(node.http, "/metrics").body.find(secret), std::string::npos);
    for (const auto& log : logs_)
      EXPECT_EQ(file_text(log).find(secret), std::string::npos) << log;
  }

  // A node that cannot reach Redis stays up, retrying with backoff: still running a few
  // seconds on, having logged a few lines (a retry without backoff would log thousands).
  void expect_retrying_calmly(ServeNode& node) {
    EXPECT_FALSE(node.process->wait(3s)) << "the node exited\n" << logs();
    std::istringstream log(file_text(log_of_.at(node.http)));
    std::size_t lines = 0;
    for (std::string line; std::getline(log, line);)
      ++lines;
    EXPECT_GT(lines, 0u);
    EXPECT_LT(lines, 100u) << logs();
  }

  std::string logs() const {
    std::string out;
    for (const auto& log : logs_)
      out += log_lines(log);
    return out;
  }

  static RedisServer::Options with_password(const std::string& password) {
    RedisServer::Options options;
    options.admin_user = true;  // the test's own commands
    options.extra_args = {"--requirepass", password};
    return options;
  }

  static std::string url(const RedisServer& redis, const std::string& credentials = "") {
    return "redis://" + credentials + "127.0.0.1:" + std::to_string(redis.port());
  }

  TestDir work_{"redis-security"};
  std::filesystem::path tokens_ = work_.path() / "device-tokens";
  std::vector<std::filesystem::path> logs_;
  std::map<int, std::filesystem::path> log_of_;  // by the node's HTTP port
};

TEST_F(RedisSecurity, APasswordInTheUrlOrInAFileIsUsedAndNeverShown) {
  const std::string password = "race-day-s3cret";
  RedisServer redis(with_password(password));
  ServeNode in_url = start_node(url(redis, ":" + password + "@"));
  ASSERT_TRUE(wait_ready(in_url)) << redis_readiness(in_url.http).body << logs();
  expect_ingests(in_url, redis, "stadium-main");
  // The file's password wins over the URL's.
  const auto file = work_.path() / "redis-password";
  std::ofstream(file) << password << "\n";
  ServeNode in_file =
      start_node(url(redis, ":not-this-one@"), {"--redis-password-file", file.string()});
  ASSERT_TRUE(wait_ready(in_file)) << redis_readiness(in_file.http).body << logs();
  expect_ingests(in_file, redis, "arch-main");
  const RedisReadiness state = redis_readiness(in_file.http);
  EXPECT_NE(state.detail.find("127.0.0.1:" + std::to_string(redis.port())), std::string::npos)
      << state.detail;
  for (const ServeNode* node : {&in_url, &in_file}) {
    expect_never_shown(*node, password);
    expect_never_shown(*node, "not-this-one");
  }
}

TEST_F(RedisSecurity, AnAclUserIsUsedAndASecondPasswordForItLetsAnotherNodeIn) {
  RedisServer::Options options;
  options.admin_user = true;
  RedisServer redis(options);
  // The event's keys only (they all carry its hash tag), every command.
  ASSERT_TRUE(
      redis.command({"ACL", "SETUSER", "timing", "on", ">first-pw", "~{ev:*", "&*", "+@all"})
          .is_status());
  ServeNode first = start_node(url(redis, "timing:first-pw@"));
  ASSERT_TRUE(wait_ready(first)) << redis_readiness(first.http).body << logs();
  expect_ingests(first, redis, "stadium-main");

  // A node given a password the user does not have yet: not ready, saying why.
  ServeNode second = start_node(url(redis, "timing:second-pw@"));
  const RedisReadiness refused = wait_not_ready_naming(second, "WRONGPASS");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.detail.find("WRONGPASS"), std::string::npos) << refused.body;
  expect_never_shown(second, "second-pw");
  expect_retrying_calmly(second);
  // The user gets the second password too (a rotation: both work until the first is removed):
  // the node's next attempt gets in, without a restart, and the first node is not disturbed.
  ASSERT_TRUE(redis.command({"ACL", "SETUSER", "timing", ">second-pw"}).is_status());
  EXPECT_TRUE(wait_ready(second, 15s)) << redis_readiness(second.http).body << logs();
  expect_ingests(second, redis, "arch-main");
  EXPECT_EQ(http_get(first.http, "/readyz").status, 200);
}

TEST_F(RedisSecurity, AWrongPasswordIsNamedTheNodeStaysUpAndTurnsReadyOnceRedisTakesIt) {
  RedisServer redis(with_password("the-redis-password"));
  ServeNode node = start_node(url(redis, ":the-node-password@"));
  const RedisReadiness refused = wait_not_ready_naming(node, "WRONGPASS");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.detail.find("127.0.0.1:" + std::to_string(redis.port())), std::string::npos)
      << refused.body;
  EXPECT_NE(refused.detail.find("not connected"), std::string::npos) << refused.body;
  expect_retrying_calmly(node);
  expect_never_shown(node, "the-node-password");
  // Devices are refused meanwhile (the server cannot say what is stored).
  EXPECT_EQ(DemoRace::get().feed(node.devices, "stadium-main", 10), 0u);
  // Redis given the node's password: ready without a restart.
  ASSERT_TRUE(redis.command({"CONFIG", "SET", "requirepass", "the-node-password"}).is_status());
  EXPECT_TRUE(wait_ready(node, 15s)) << redis_readiness(node.http).body << logs();
  expect_ingests(node, redis, "stadium-main");
  expect_never_shown(node, "the-node-password");
}

class RedisTls : public RedisSecurity {
 protected:
  RedisServer::Options tls(bool auth_clients) const {
    RedisServer::Options options;
    options.tls =
        RedisServer::Options::Tls{certs_.server_cert, certs_.server_key, certs_.ca, auth_clients};
    return options;
  }
  static std::string tls_url(const RedisServer& redis) {
    return "rediss://127.0.0.1:" + std::to_string(redis.tls_port());
  }
  TestCertificates certs_ = make_test_certificates(work_.path());
};

TEST_F(RedisTls, RedissWithTheCaIsReadyAndStoresReads) {
  RedisServer redis(tls(false));
  ServeNode node = start_node(tls_url(redis), {"--redis-tls-ca", certs_.ca.string()});
  ASSERT_TRUE(wait_ready(node)) << redis_readiness(node.http).body << logs();
  expect_ingests(node, redis, "stadium-main");
  // Its connections are on the TLS port; on the plain port, only the test's own.
  const std::string clients = redis.command({"CLIENT", "LIST"}).as_string();
  auto count = [&](std::uint16_t port) {
    const std::string local = " laddr=127.0.0.1:" + std::to_string(port) + " ";
    std::size_t n = 0;
    for (auto at = clients.find(local); at != std::string::npos; at = clients.find(local, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count(redis.port()), 1u) << clients;
  EXPECT_GE(count(redis.tls_port()), 1u) << clients;
}

TEST_F(RedisTls, AClientCertificateIsPresentedWhenRedisAsksForOne) {
  RedisServer redis(tls(true));
  ServeNode without = start_node(tls_url(redis), {"--redis-tls-ca", certs_.ca.string()});
  ServeNode with = start_node(
      tls_url(redis), {"--redis-tls-ca", certs_.ca.string(), "--redis-tls-cert",
                       certs_.client_cert.string(), "--redis-tls-key", certs_.client_key.string()});
  ASSERT_TRUE(wait_ready(with)) << redis_readiness(with.http).body << logs();
  expect_ingests(with, redis, "stadium-main");
  // Redis drops a client without a certificate after its handshake: never connected.
  const RedisReadiness refused = redis_readiness(without.http);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.detail.find("not connected"), std::string::npos) << refused.body;
  EXPECT_TRUE(without.process->running());
}

TEST_F(RedisTls, AServerCertificateTheNodeCannotTrustIsATlsErrorAndTheNodeStaysUp) {
  RedisServer redis(tls(false));
  const TestCertificates other = make_test_certificates(work_.path(), "other");
  // A CA that did not sign the server's certificate.
  ServeNode wrong_ca = start_node(tls_url(redis), {"--redis-tls-ca", other.ca.string()});
  // The right CA, but a name the certificate does not carry.
  ServeNode wrong_name = start_node(
      tls_url(redis),
      {"--redis-tls-ca", certs_.ca.string(), "--redis-tls-server-name", "redis.example.org"});
  for (ServeNode* node : {&wrong_ca, &wrong_name}) {
    const RedisReadiness refused = wait_not_ready_naming(*node, "certificate verify failed");
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_NE(refused.detail.find("certificate verify failed"), std::string::npos)
        << refused.body << logs();
    EXPECT_NE(refused.detail.find("TLS"), std::string::npos) << refused.body;
  }
  expect_retrying_calmly(wrong_name);
  EXPECT_TRUE(wrong_ca.process->running());
}

}  // namespace
}  // namespace splitstream::testing
