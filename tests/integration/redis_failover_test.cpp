// Redis dying in the middle of a race, with real processes: the demo race played by
// splitstream-sim through a relay that records what every device was told (DeviceAckWitness),
// into `splitstream serve` nodes on a Redis that fails over while the race runs:
// - A primary, its replica and three sentinels; two nodes finding the primary through the
//   sentinels with replicated durability (a batch acknowledged once the replica holds it).
//   The primary is killed (or a failover is asked for); Sentinel promotes the replica; the
//   nodes follow it, turn ready again, and the race ends.
// (A standalone Redis killed and restarted from its append-only file under fsync durability:
// durability_test.cpp.) Either way no device is ever told less than it was told before (reads
// acknowledged and lost), every read is in the stream exactly once, and the nodes' results equal
// `splitstream results` on the reads the devices sent. And a Redis at its memory limit: batches
// refused by name, stored once it has room.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/device_ack_witness.hpp"
#include "support/device_client.hpp"
#include "support/fault_race.hpp"
#include "support/redis_server.hpp"
#include "support/redis_topology.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
using test_support::SentinelTopology;
using test_support::TestDir;
namespace {

using namespace std::chrono_literals;

class RaceThroughARedisFault : public ::testing::Test {
 protected:
  void SetUp() override { DemoRace::get().write_tokens(tokens_); }

  ServeNode start_node(int redis_port, const std::string& name,
                       const std::vector<std::string>& flags) {
    logs_.push_back(dir() / (name + ".log"));
    std::vector<std::string> all = {"--log-level", "info"};
    all.insert(all.end(), flags.begin(), flags.end());
    return start_serve_node(redis_port, tokens_, all, 0, 0, kDemoEventDir, logs_.back().string());
  }

  // The nodes' and the simulator's last log lines, for a failure message.
  std::string logs() const {
    std::string out;
    for (const auto& log : logs_)
      out += log_lines(log);
    if (sim_) out += sim_->log() + "--- sim summary\n" + sim_->summary();
    return out;
  }

  // The race at x3000 (about 8 s) through the witness; returns once the node has applied a
  // quarter of it, with the race still under way.
  void play_a_quarter(const ServeNode& node, const DeviceAckWitness& witness) {
    sim_ = std::make_unique<SimRun>(dir(), witness.port(), tokens_, "3000");
    const std::size_t quarter = DemoRace::get().total_reads() / 4;
    ASSERT_TRUE(wait_until([&] { return reads_applied(node.http).value_or(0) >= quarter; }, 30s))
        << "the node applied " << reads_applied(node.http).value_or(0) << " reads\n"
        << logs();
    ASSERT_TRUE(sim_->process().running()) << "the race was meant to be under way\n" << logs();
  }

  // No device was told less than before; every read is in `primary`'s stream once; each device
  // was told all of its reads were stored, which the simulator reports too.
  void expect_every_acknowledged_read_stored_once(const RedisServer& primary,
                                                  const DeviceAckWitness& witness) {
    EXPECT_TRUE(witness.regressions().empty())
        << "acknowledged reads lost: " << witness.regressions().front();
    const auto stored = stream_reads(primary);
    std::size_t doubled = 0;
    for (const auto& [read, count] : stored)
      doubled += count > 1 ? 1 : 0;
    EXPECT_EQ(doubled, 0u) << "reads stored more than once";
    std::uint64_t told_total = 0;
    for (const auto& [device, told] : witness.told()) {
      told_total += told;
      std::uint64_t missing = 0;
      for (std::uint64_t seq = 1; seq <= told; ++seq)
        missing += stored.count({device, seq}) ? 0 : 1;
      EXPECT_EQ(missing, 0u) << device << " was told " << told << " reads were stored";
      EXPECT_EQ(told, DemoRace::get().by_device().at(device).size()) << device;
    }
    EXPECT_EQ(told_total, DemoRace::get().total_reads());
    EXPECT_EQ(stored.size(), told_total);
    EXPECT_EQ(sim_->acknowledged(), told_total) << sim_->summary();
  }

  // The node applied at least every read of the stream: also, perhaps, entries the old primary
  // took and the promoted replica never got (stored there after the replica's last sync, so never
  // acknowledged; their devices resent them, so the standings are the same).
  void expect_results_of_the_reads_sent(const ServeNode& node) {
    const std::uint64_t total = DemoRace::get().total_reads();
    EXPECT_TRUE(wait_until([&] { return reads_applied(node.http).value_or(0) >= total; }, 10s))
        << http_get(node.http, "/readyz").body << "\n"
        << logs();
    const std::string differences = results_differ(node.http, sim_->sent());
    EXPECT_TRUE(differences.empty()) << differences;
  }

  const std::filesystem::path& dir() const { return work_.path(); }

  TestDir work_{"redis-fault"};
  std::filesystem::path tokens_ = work_.path() / "device-tokens";
  std::vector<std::filesystem::path> logs_;
  std::unique_ptr<SimRun> sim_;
};

class RedisFailover : public RaceThroughARedisFault {
 protected:
  // Two nodes finding the primary through the sentinels, devices on the first; `fault` runs
  // once a quarter of the race is in, and must leave server 1 the primary. Then the race ends
  // and both nodes hold it all.
  template <typename Fault>
  void race_through(Fault fault) {
    const std::vector<std::string> flags = {"--redis-sentinels",     redis_.sentinel_addresses(),
                                            "--redis-primary-name",  redis_.primary_name(),
                                            "--durability",          "replicated",
                                            "--durability-replicas", "1",
                                            "--durability-timeout",  "1000"};
    // The URL's host and port are not used with sentinels: a port nothing listens on shows it.
    const int nowhere = free_port();
    const ServeNode ingest = start_node(nowhere, "ingest", flags);
    const ServeNode follower = start_node(nowhere, "follower", flags);
    ASSERT_EQ(http_get(ingest.http, "/readyz").status, 200) << logs();
    ASSERT_EQ(http_get(follower.http, "/readyz").status, 200) << logs();
    DeviceAckWitness witness(ingest.devices);
    play_a_quarter(ingest, witness);
    if (HasFatalFailure()) return;

    fault();
    if (HasFatalFailure()) return;

    EXPECT_EQ(sim_->process().wait(120s), 0) << logs();
    for (const ServeNode* node : {&ingest, &follower}) {
      EXPECT_TRUE(wait_until([&] { return http_get(node->http, "/readyz").status == 200; }, 15s))
          << http_get(node->http, "/readyz").body << "\n"
          << logs();
    }
    expect_every_acknowledged_read_stored_once(redis_.server(1), witness);
    expect_results_of_the_reads_sent(ingest);
    expect_results_of_the_reads_sent(follower);
  }

  SentinelTopology redis_;  // a primary (server 0), its replica (server 1), three sentinels
};

TEST_F(RedisFailover, ThePrimaryKilledMidRaceIsReplacedAndNoAcknowledgedReadIsLostOrDoubled) {
  race_through([&] {
    RedisServer& replica = redis_.server(1);
    redis_.server(0).kill();
    // Sentinel sees it down after a second, votes and promotes the replica.
    ASSERT_TRUE(redis_.wait_for_primary(replica.port(), 20s)) << redis_.describe() << logs();
    // The crashed host comes back as a replica of the new primary: replicated acks go on (the
    // new primary alone has no replica to confirm a batch).
    redis_.bring_back_as_replica(0, replica.port());
  });
}

TEST_F(RedisFailover, APlannedFailoverMidRaceLosesNoAcknowledgedReadOrDoublesOne) {
  // SENTINEL FAILOVER (a Redis upgrade, a host to move): the replica is promoted at once, but the
  // old primary takes writes until Sentinel turns it into a replica, seconds later, and the
  // sentinels name the new primary only then. Nothing written there in between was confirmed
  // by a replica, so nothing written there was acknowledged.
  race_through([&] {
    const RedisReply started =
        redis_.sentinel(0).command({"SENTINEL", "FAILOVER", redis_.primary_name()});
    ASSERT_TRUE(started.is_status()) << started.debug_string();
    ASSERT_TRUE(redis_.wait_for_primary(redis_.server(1).port(), 30s))
        << redis_.describe() << logs();
  });
}

TEST(RedisOutOfMemory, ARedisAtItsMemoryLimitRefusesBatchesByNameAndTakesThemOnceItHasRoom) {
  RedisServer redis;
  const auto tokens = redis.dir() / "device-tokens";
  const auto log = redis.dir() / "node.log";
  DemoRace::get().write_tokens(tokens);
  const ServeNode node = start_serve_node(redis.port(), tokens, {"--log-level", "info"}, 0, 0,
                                          kDemoEventDir, log.string());
  ASSERT_EQ(http_get(node.http, "/readyz").status, 200) << log_lines(log);
  const DemoRace& race = DemoRace::get();
  ASSERT_EQ(race.feed(node.devices, "stadium-main", 100), 100u);
  // maxmemory reached with noeviction (docs/operations.md, Redis): every write is refused.
  ASSERT_TRUE(redis.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).is_status());
  ASSERT_TRUE(redis.command({"CONFIG", "SET", "maxmemory", "1"}).is_status());
  std::optional<v1::ServerMessage> refused;
  {
    DeviceClient device(node.devices);
    device.hello("stadium-main", "tok-stadium-main");
    refused = device.receive_reply();
    if (refused && refused->has_welcome()) {
      EXPECT_EQ(refused->welcome().acked_seq(), 100u);
      device.send(race.batch("stadium-main", 100, 200));
      refused = device.receive_reply();
    }
  }
  // The device is told why and resends later; nothing more is stored or acknowledged.
  ASSERT_TRUE(refused && refused->has_error()) << (refused ? refused->DebugString() : "nothing");
  EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_INTERNAL);
  EXPECT_NE(refused->error().text().find("OOM"), std::string::npos) << refused->error().text();
  EXPECT_EQ(redis.command({"XLEN", kDemoReadsKey}).as_integer(), 100);
  EXPECT_GE(metric(node.http, "splitstream_redis_error_replies_total"), 1);
  // The node is connected, so still ready (Redis answers, reads are served): the devices and
  // the error-reply count are where it shows.
  EXPECT_EQ(http_get(node.http, "/readyz").status, 200);
  EXPECT_EQ(http_get(node.http, "/api/v1/results.csv?race=marathon").status, 200);
  // Room again: the resend is stored.
  ASSERT_TRUE(redis.command({"CONFIG", "SET", "maxmemory", "0"}).is_status());
  EXPECT_EQ(race.feed(node.devices, "stadium-main", 200), 200u) << log_lines(log);
  EXPECT_EQ(redis.command({"XLEN", kDemoReadsKey}).as_integer(), 200);
}

}  // namespace
}  // namespace splitstream::testing
