// The race's derived state in Redis (runner hashes, standings sorted sets, meta version) from a
// whole demo race fed through real device connections into real `splitstream serve` processes:
// equal to the engine's own result, after a SIGKILL mid-stream, with two nodes ingesting at once,
// and flushed by a graceful stop.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "engine/race_engine.hpp"
#include "model/event_loader.hpp"
#include "results/reads_file.hpp"
#include "store/key_schema.hpp"
#include "store/materialize_script.hpp"
#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/device_client.hpp"
#include "support/engine_harness.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;
constexpr std::size_t kBatch = DemoRace::kBatch;

// Field -> value of one runner hash, minus `version` (which depends on stream IDs).
using RunnerState = std::map<std::string, std::string>;
// Everything derived: runner hashes by bib, standings by key as bib -> score.
struct RaceState {
  std::map<std::string, RunnerState> runners;
  std::map<std::string, std::map<std::string, std::string>> standings;
  friend bool operator==(const RaceState&, const RaceState&) = default;
};

std::string describe_difference(const RaceState& a, const RaceState& b) {
  std::ostringstream out;
  out << a.runners.size() << " vs " << b.runners.size() << " runners, " << a.standings.size()
      << " vs " << b.standings.size() << " standings";
  for (const auto& [bib, fields] : a.runners) {
    auto it = b.runners.find(bib);
    if (it == b.runners.end() || it->second != fields) {
      out << "; first differing runner " << bib << ":";
      for (const auto& [f, v] : fields)
        out << ' ' << f << '=' << v;
      if (it != b.runners.end()) {
        out << " vs";
        for (const auto& [f, v] : it->second)
          out << ' ' << f << '=' << v;
      }
      break;
    }
  }
  for (const auto& [key, members] : a.standings) {
    auto it = b.standings.find(key);
    if (it == b.standings.end() || it->second != members) {
      out << "; first differing standings " << key;
      break;
    }
  }
  return out.str();
}

class RaceStateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const DemoRace& demo = DemoRace::get();
    ASSERT_FALSE(demo.by_device().empty());
    by_device_ = &demo.by_device();
    const Event& event = demo.event();
    // What the engine makes of every read: the state Redis must end up holding.
    expected_ = std::make_unique<RaceState>();
    RaceEngine engine(event);
    for (const auto& [device, list] : *by_device_)
      apply_reads(engine, list);
    const KeySchema keys(event.id);
    for (RunnerIndex i = 0; i < event.participants.size(); ++i) {
      const Participant& p = event.participants[i];
      RunnerState state;
      for (auto& [f, v] : runner_fields(engine, i, ""))
        if (f != "version") state[f] = v;
      expected_->runners[p.bib] = state;
      if (auto key = engine.standing_key(i)) {
        for (const std::string& c : RaceEngine::categories_of(p)) {
          expected_->standings[keys.standings(event.races[p.race].id, c)][p.bib] =
              std::to_string(static_cast<std::int64_t>(standing_score(*key)));
        }
      }
    }
  }

  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
  }

  static const Event& event() { return DemoRace::get().event(); }

  using Node = ServeNode;

  Node start_node(const RedisServer& redis, int http = 0, int devices = 0) {
    return start_serve_node(redis.port(), tokens_, {}, http, devices);
  }

  static v1::DeviceMessage batch_of(const std::string& device, std::size_t from, std::size_t to) {
    return DemoRace::get().batch(device, from, to);
  }
  static std::uint64_t feed(int port, const std::string& device, std::size_t until) {
    return DemoRace::get().feed(port, device, until);
  }
  static void feed_all(int port, double fraction = 1.0) {
    ASSERT_TRUE(DemoRace::get().feed_all(port, fraction));
  }

  // Waits until the materialised version is the stream's last ID.
  static bool wait_materialised(const RedisServer& redis) {
    const KeySchema keys(event().id);
    return wait_until(
        [&] {
          const RedisReply last =
              redis.command({"XREVRANGE", keys.reads(), "+", "-", "COUNT", "1"});
          const RedisReply version = redis.command({"HGET", keys.meta(), "version"});
          return last.is_array() && !last.elements().empty() && version.is_string() &&
                 last.elements()[0].elements()[0].as_string() == version.as_string();
        },
        20s);
  }

  static RaceState dump(const RedisServer& redis) {
    RaceState state;
    const KeySchema keys(event().id);
    for (const Participant& p : event().participants) {
      const RedisReply h = redis.command({"HGETALL", keys.runner(p.bib)});
      RunnerState fields;
      for (std::size_t i = 0; i + 1 < h.elements().size(); i += 2) {
        if (h.elements()[i].as_string() != "version")
          fields[h.elements()[i].as_string()] = h.elements()[i + 1].as_string();
      }
      if (!fields.empty()) state.runners[p.bib] = fields;
    }
    const RedisReply found = redis.command({"KEYS", keys.tag() + ":standings:*"});
    for (const RedisReply& key : found.elements()) {
      const RedisReply z = redis.command({"ZRANGE", key.as_string(), "0", "-1", "WITHSCORES"});
      auto& members = state.standings[key.as_string()];
      for (std::size_t i = 0; i + 1 < z.elements().size(); i += 2)
        members[z.elements()[i].as_string()] = z.elements()[i + 1].as_string();
    }
    return state;
  }

  // The expected state restricted to runners with a hash (those the stream mentions).
  static RaceState expected_touched() {
    RaceState e = *expected_;
    std::erase_if(e.runners,
                  [](const auto& kv) { return kv.second.at("status") == "not_started"; });
    return e;
  }

  inline static const std::map<std::string, std::vector<FileRead>>* by_device_ = nullptr;
  inline static std::unique_ptr<RaceState> expected_;
  RedisServer redis_;
  std::filesystem::path tokens_;
};

TEST_F(RaceStateTest, MaterialisedStateIsTheEnginesResult) {
  Node node = start_node(redis_);
  feed_all(node.devices);
  ASSERT_TRUE(wait_materialised(redis_));
  const RaceState got = dump(redis_);
  const RaceState want = expected_touched();
  EXPECT_GT(got.runners.size(), event().participants.size() / 2);
  EXPECT_GE(got.standings.size(), 4u * 3u);  // four races, overall and both genders at least
  EXPECT_TRUE(got == want) << describe_difference(got, want);
  // The marathon winner (pinned at 2:12:11 in the demo reads) leads its standings.
  const KeySchema keys(event().id);
  const RedisReply leader =
      redis_.command({"ZRANGE", keys.standings("marathon", "overall"), "0", "0"});
  ASSERT_EQ(leader.elements().size(), 1u);
  const RedisReply time =
      redis_.command({"HGET", keys.runner(leader.elements()[0].as_string()), "time_ms"});
  EXPECT_NEAR(std::stod(time.as_string()), (2 * 3600 + 12 * 60 + 11) * 1000.0, 1000.0);
}

// The script on its own: a write labelled with an older stream position changes nothing.
TEST_F(RaceStateTest, AnOlderVersionNeverOverwritesANewerOne) {
  const KeySchema keys(event().id);
  const auto& [device, reads] = *by_device_->begin();
  RaceEngine engine(event());
  const FileRead& first = reads.front();
  apply_read(engine, first);
  const RunnerIndex runner = event().participant_by_chip.at(first.chip);
  const std::vector<RunnerIndex> runners{runner};
  auto write = [&](const std::string& version) {
    std::vector<std::string> command{"EVAL", std::string(materialize_script())};
    append_materialize_args(command, engine, keys, runners, version, 1);
    return redis_.command(command);
  };
  const std::string bib = event().participants[runner].bib;
  EXPECT_EQ(write("100-5").as_integer(), 1);
  EXPECT_EQ(write("100-4").as_integer(), 0);
  EXPECT_EQ(write("99-9").as_integer(), 0);
  EXPECT_EQ(redis_.command({"HGET", keys.runner(bib), "version"}).as_string(), "100-5");
  // Numeric, not text: 100-10 is newer than 100-5.
  EXPECT_EQ(write("100-10").as_integer(), 1);
  EXPECT_EQ(redis_.command({"HGET", keys.runner(bib), "version"}).as_string(), "100-10");
  EXPECT_EQ(redis_.command({"HGET", keys.meta(), "version"}).as_string(), "100-10");
  EXPECT_EQ(
      redis_
          .command({"ZCARD",
                    keys.standings(event().races[event().participants[runner].race].id, "overall")})
          .as_integer(),
      1);
}

TEST_F(RaceStateTest, ServerKilledMidStreamEndsWithTheStandingsOfAnUninterruptedRun) {
  // Uninterrupted, into its own Redis.
  RedisServer uninterrupted_redis;
  {
    Node node = start_node(uninterrupted_redis);
    feed_all(node.devices);
    ASSERT_TRUE(wait_materialised(uninterrupted_redis));
  }
  // Killed: half the race, then a batch sent and the server killed before its ack.
  Node node = start_node(redis_);
  feed_all(node.devices, 0.5);
  {
    const auto& [device, reads] = *by_device_->begin();
    DeviceClient client(node.devices);
    client.hello(device, "tok-" + device);
    auto welcome = client.receive_reply();
    ASSERT_TRUE(welcome && welcome->has_welcome());
    const std::size_t from = welcome->welcome().acked_seq();
    client.send(batch_of(device, from, std::min(from + kBatch, reads.size())));
    node.process->signal(SIGKILL);
    node.process->wait(5s);
  }
  node = start_node(redis_, node.http, node.devices);
  // Every device reconnects and resends from its acked seq.
  feed_all(node.devices);
  ASSERT_TRUE(wait_materialised(redis_));
  const RaceState killed = dump(redis_);
  const RaceState whole = dump(uninterrupted_redis);
  EXPECT_TRUE(killed == whole) << describe_difference(killed, whole);
  EXPECT_TRUE(killed == expected_touched()) << describe_difference(killed, expected_touched());
  // Nothing counted twice: the stream holds each read once.
  std::size_t total = 0;
  for (const auto& [device, reads] : *by_device_)
    total += reads.size();
  EXPECT_EQ(redis_.command({"XLEN", KeySchema(event().id).reads()}).as_integer(),
            static_cast<std::int64_t>(total));
}

TEST_F(RaceStateTest, TwoNodesIngestingAtOnceAgree) {
  Node a = start_node(redis_);
  Node b = start_node(redis_);
  // Main lines into node A, backup lines into node B, at the same time.
  std::vector<std::thread> feeders;
  std::atomic<int> failures{0};
  for (const auto& [device, reads] : *by_device_) {
    const int port = device.ends_with("-backup") ? b.devices : a.devices;
    feeders.emplace_back([&, port, device = device, n = reads.size()] {
      if (feed(port, device, n) != n) ++failures;
    });
  }
  for (std::thread& t : feeders)
    t.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(wait_materialised(redis_));
  const RaceState got = dump(redis_);
  EXPECT_TRUE(got == expected_touched()) << describe_difference(got, expected_touched());
  // Both engines applied every read.
  const auto total = static_cast<std::uint64_t>(
      redis_.command({"XLEN", KeySchema(event().id).reads()}).as_integer());
  for (const Node* n : {&a, &b}) {
    const std::string body = wait_engine_applied(n->http, total);
    EXPECT_NE(body.find(std::to_string(total) + " reads applied"), std::string::npos) << body;
  }
}

TEST_F(RaceStateTest, StoppingAnswersDevicesAndLeavesTheStateWritten) {
  Node node = start_node(redis_);
  const auto& [device, reads] = *by_device_->begin();
  DeviceClient client(node.devices);
  client.hello(device, "tok-" + device);
  auto welcome = client.receive_reply();
  ASSERT_TRUE(welcome && welcome->has_welcome());
  client.send(batch_of(device, 0, kBatch));
  auto ack = client.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack());
  EXPECT_EQ(ack->ack().acked_seq(), kBatch);
  node.process->signal(SIGTERM);
  // The connected device is told why it is being closed.
  auto bye = client.receive_reply();
  ASSERT_TRUE(bye && bye->has_error());
  EXPECT_EQ(bye->error().code(), v1::ERROR_CODE_SHUTTING_DOWN);
  EXPECT_FALSE(client.receive());
  EXPECT_EQ(node.process->wait(10s), 0);
  // Written out before the exit, not by a later start.
  const KeySchema keys(event().id);
  const RedisReply last = redis_.command({"XREVRANGE", keys.reads(), "+", "-", "COUNT", "1"});
  ASSERT_FALSE(last.elements().empty());
  EXPECT_EQ(redis_.command({"HGET", keys.meta(), "version"}).as_string(),
            last.elements()[0].elements()[0].as_string());
  EXPECT_EQ(redis_.command({"HGET", keys.meta(), "reads_applied"}).as_string(),
            std::to_string(kBatch));
}

}  // namespace
}  // namespace splitstream::testing
