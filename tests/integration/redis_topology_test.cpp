// The test support for real Redis topologies (support/redis_topology.hpp) on its own, against
// real redis-server, redis-sentinel and redis-cli processes: sentinels promote the replica when
// the primary is killed, a three-node cluster forms and redirects to the owner of an event's
// slot, a TLS server answers only clients that trust its CA (and present a certificate when it
// asks for one), and requirepass or ACL users leave the tests' own connection working. The
// fault tests (redis_failover_test, redis_security_test, redis_cluster_test) build on these.
#include "support/redis_topology.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/demo_race.hpp"
#include "support/device_ack_witness.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::make_test_certificates;
using test_support::redis_cli;
using test_support::redis_cli_tls_args;
using test_support::redis_command_at;
using test_support::RedisCluster;
using test_support::RedisServer;
using test_support::SentinelTopology;
namespace {

using namespace std::chrono_literals;
const std::string kReadsKey = "{ev:pyongyang-2025}:reads";

TEST(RedisTopology, SentinelsPromoteTheReplicaWhenThePrimaryIsKilled) {
  SentinelTopology redis;  // waits until the three sentinels name server 0 and see the replica
  RedisServer& primary = redis.server(0);
  RedisServer& replica = redis.server(1);
  ASSERT_EQ(redis.sentinel_count(), 3u);
  EXPECT_EQ(redis.sentinel(0).primary_port(), primary.port());
  EXPECT_EQ(primary.info_field("role"), "master");
  EXPECT_EQ(replica.info_field("role"), "slave");
  ASSERT_TRUE(primary.command({"SET", "before", "1"}).is_status());
  EXPECT_TRUE(wait_until([&] { return replica.command({"GET", "before"}).as_string() == "1"; }));

  primary.kill();
  // down-after 1 s, then the vote and the promotion: a few seconds.
  ASSERT_TRUE(redis.wait_for_primary(replica.port(), 20s)) << redis.describe();
  EXPECT_EQ(replica.info_field("role"), "master");
  EXPECT_TRUE(replica.command({"SET", "after", "2"}).is_status());

  // The crashed host back as a replica of the new primary: it syncs what it missed.
  redis.bring_back_as_replica(0, replica.port());
  EXPECT_TRUE(wait_until([&] { return SentinelTopology::replica_link_up(primary); }, 15s));
  EXPECT_TRUE(wait_until([&] { return primary.command({"GET", "after"}).as_string() == "2"; }));
  EXPECT_TRUE(redis.wait_for_primary(replica.port(), 10s)) << redis.describe();
}

TEST(RedisTopology, AThreeNodeClusterRedirectsToTheOwnerOfTheEventsSlot) {
  RedisCluster cluster;  // waits for cluster_state:ok on every node
  ASSERT_EQ(cluster.size(), 3u);
  EXPECT_TRUE(cluster.state_ok());
  // Every key of the event hashes by its tag: one slot.
  EXPECT_EQ(cluster.slot_of(kReadsKey), cluster.slot_of("{ev:pyongyang-2025}:meta"));
  RedisServer& owner = cluster.owner_of(kReadsKey);
  RedisServer& other = cluster.not_owning(kReadsKey);
  EXPECT_NE(owner.port(), other.port());
  EXPECT_TRUE(owner.command({"XADD", kReadsKey, "*", "d", "x", "s", "1"}).is_string());
  const RedisReply moved = other.command({"XLEN", kReadsKey});
  ASSERT_TRUE(moved.is_error()) << moved.debug_string();
  EXPECT_EQ(moved.as_string(), "MOVED " + std::to_string(cluster.slot_of(kReadsKey)) +
                                   " 127.0.0.1:" + std::to_string(owner.port()));
}

class RedisTopologyTls : public ::testing::Test {
 protected:
  RedisServer::Options tls_options(bool auth_clients) {
    RedisServer::Options options;
    options.tls =
        RedisServer::Options::Tls{certs_.server_cert, certs_.server_key, certs_.ca, auth_clients};
    return options;
  }
  test_support::TestDir files_{"certs"};
  test_support::TestCertificates certs_ = make_test_certificates(files_.path());
  test_support::TestCertificates other_ = make_test_certificates(files_.path(), "other");
};

TEST_F(RedisTopologyTls, ATlsServerAnswersOnlyClientsThatTrustItsCa) {
  RedisServer redis(tls_options(false));
  ASSERT_NE(redis.tls_port(), 0);
  const auto pong = redis_cli([&] {
    auto args = redis_cli_tls_args(redis.tls_port(), certs_.ca);
    args.push_back("PING");
    return args;
  }());
  EXPECT_EQ(pong.output, "PONG\n");
  // By name too: the certificate names localhost.
  auto by_name = redis_cli_tls_args(redis.tls_port(), certs_.ca);
  by_name.insert(by_name.end(), {"--sni", "localhost", "PING"});
  EXPECT_EQ(redis_cli(by_name).output, "PONG\n");
  auto untrusted = redis_cli_tls_args(redis.tls_port(), other_.ca);
  untrusted.push_back("PING");
  const auto refused = redis_cli(untrusted);
  EXPECT_EQ(refused.output.find("PONG"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("certificate verify failed"), std::string::npos) << refused.output;
  // Plain RESP on the TLS port gets no answer.
  EXPECT_FALSE(test_support::redis_answers_ping(redis.tls_port()));
}

TEST_F(RedisTopologyTls, AServerThatAsksForAClientCertificateAnswersOnlyWithOne) {
  RedisServer redis(tls_options(true));
  auto without = redis_cli_tls_args(redis.tls_port(), certs_.ca);
  without.push_back("PING");
  EXPECT_EQ(redis_cli(without).output.find("PONG"), std::string::npos);
  auto with =
      redis_cli_tls_args(redis.tls_port(), certs_.ca, certs_.client_cert, certs_.client_key);
  with.push_back("PING");
  EXPECT_EQ(redis_cli(with).output, "PONG\n");
  // A certificate from a CA the server does not trust is refused too.
  auto foreign =
      redis_cli_tls_args(redis.tls_port(), certs_.ca, other_.client_cert, other_.client_key);
  foreign.push_back("PING");
  EXPECT_EQ(redis_cli(foreign).output.find("PONG"), std::string::npos);
}

TEST(RedisTopology, RequirepassAndAclUsersLeaveTheTestsOwnConnectionWorking) {
  RedisServer::Options options;
  options.admin_user = true;
  options.extra_args = {"--requirepass", "race-day"};
  RedisServer redis(options);
  EXPECT_TRUE(redis.command({"PING"}).is_status());
  // Anyone else must authenticate.
  const RedisReply anonymous = redis_command_at(redis.port(), {"PING"});
  ASSERT_TRUE(anonymous.is_error());
  EXPECT_EQ(anonymous.as_string().rfind("NOAUTH", 0), 0u) << anonymous.as_string();
  EXPECT_TRUE(redis_command_at(redis.port(), {"PING"}, {"", "race-day"}).is_status());
  EXPECT_THROW(redis_command_at(redis.port(), {"PING"}, {"", "wrong"}), std::runtime_error);
  // An ACL user the test makes, and a password changed under a running server.
  EXPECT_TRUE(
      redis.command({"ACL", "SETUSER", "timing", "on", ">timing-pw", "~{ev:*", "&*", "+@all"})
          .is_status());
  EXPECT_TRUE(redis_command_at(redis.port(), {"PING"}, {"timing", "timing-pw"}).is_status());
  EXPECT_TRUE(redis.command({"CONFIG", "SET", "requirepass", "changed"}).is_status());
  EXPECT_TRUE(redis.command({"PING"}).is_status());
  EXPECT_TRUE(redis_command_at(redis.port(), {"PING"}, {"", "changed"}).is_status());
}

TEST(RedisTopology, TheAckWitnessRelaysADeviceAndRecordsWhatItWasTold) {
  RedisServer redis;
  const auto tokens = redis.dir() / "device-tokens";
  DemoRace::get().write_tokens(tokens);
  ServeNode node = start_serve_node(redis.port(), tokens);
  ASSERT_EQ(http_get(node.http, "/readyz").status, 200);
  DeviceAckWitness witness(node.devices);
  ASSERT_EQ(DemoRace::get().feed(witness.port(), "stadium-main", 600), 600u);
  EXPECT_EQ(witness.told().at("stadium-main"), 600u);
  EXPECT_GE(witness.replies(), 4u);  // a Welcome and three Acks of 250, 250 and 100
  EXPECT_TRUE(witness.regressions().empty());
  // The stream lost (FLUSHALL: what a failover to a replica that missed the writes looks like):
  // the next Welcome goes back, and the witness says so.
  redis.command({"FLUSHALL"});
  ASSERT_EQ(DemoRace::get().feed(witness.port(), "stadium-main", 100), 100u);
  ASSERT_EQ(witness.regressions().size(), 1u);
  EXPECT_EQ(witness.regressions()[0], "Welcome told stadium-main 0 after 600");
}

}  // namespace
}  // namespace splitstream::testing
