// Redis Cluster, for real: three primaries made by `redis-cli --cluster create`. A node pointed at
// a cluster member that does not own the event's slot follows -MOVED to the owner, turns ready
// and takes the demo race from splitstream-sim; a second node pointed at the third member follows
// the same stream. Everything lands on the owner, and both nodes' results equal `splitstream
// results` on the reads sent.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/demo_race.hpp"
#include "support/fault_race.hpp"
#include "support/redis_server.hpp"
#include "support/redis_topology.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisCluster;
using test_support::RedisServer;
using test_support::TestDir;
namespace {

using namespace std::chrono_literals;

TEST(RedisClusterServe, NodesPointedAtMembersThatDoNotOwnTheEventsSlotFollowMovedAndIngest) {
  RedisCluster cluster;
  RedisServer& owner = cluster.owner_of(kDemoReadsKey);
  std::vector<RedisServer*> others;
  for (std::size_t i = 0; i < cluster.size(); ++i)
    if (&cluster.node(i) != &owner) others.push_back(&cluster.node(i));
  ASSERT_EQ(others.size(), 2u);

  TestDir work("redis-cluster");
  const auto tokens = work.path() / "device-tokens";
  DemoRace::get().write_tokens(tokens);
  std::vector<ServeNode> nodes;
  std::vector<std::filesystem::path> logs;
  auto all_logs = [&] {
    std::string out;
    for (const auto& log : logs)
      out += log_lines(log);
    return out;
  };
  for (RedisServer* member : others) {
    logs.push_back(work.path() / ("node" + std::to_string(logs.size() + 1) + ".log"));
    nodes.push_back(start_serve_node(member->port(), tokens, {"--log-level", "info"}, 0, 0,
                                     kDemoEventDir, logs.back().string()));
    ASSERT_EQ(http_get(nodes.back().http, "/readyz").status, 200)
        << redis_readiness(nodes.back().http).body << "\n"
        << all_logs();
  }

  SimRun sim(work.path(), nodes.front().devices, tokens, "max");
  EXPECT_EQ(sim.process().wait(60s), 0) << sim.log() << all_logs();
  const std::size_t total = DemoRace::get().total_reads();
  EXPECT_EQ(sim.acknowledged(), total) << sim.summary();
  // All on the owner of the slot; nothing on the members the nodes were pointed at.
  EXPECT_EQ(stream_reads(owner).size(), total);
  for (RedisServer* member : others)
    EXPECT_EQ(member->command({"DBSIZE"}).as_integer(), 0);
  for (const ServeNode& node : nodes) {
    EXPECT_NE(wait_engine_applied(node.http, total).find(std::to_string(total)), std::string::npos);
    const std::string differences = results_differ(node.http, sim.sent());
    EXPECT_TRUE(differences.empty()) << differences;
  }
}

}  // namespace
}  // namespace splitstream::testing
