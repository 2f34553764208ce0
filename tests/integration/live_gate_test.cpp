// The live gate end to end: a real `splitstream serve` on a real Redis, on a copy of the demo
// event whose 10k starts an hour from now (the other races' guns stay in 2025). Reads at the
// start mat, fed through a real device connection, are applied by the engine, but the 10k's
// public standings, passings and runner stay empty for REST and WebSocket viewers, while the
// marathon shows as usual; with `--live-gate off` the 10k shows too.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/key_schema.hpp"
#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/device_client.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"
#include "support/ws_client.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kDemoDir = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";
constexpr TimeMs kMarathonGun = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00

// The first runner of a race in the demo event.
const Participant& first_runner_of(const std::string& race) {
  const Event& event = DemoRace::get().event();
  const RaceIndex index = event.race_by_id.at(race);
  for (const Participant& p : event.participants) {
    if (p.race == index) return p;
  }
  throw std::runtime_error("no runner in " + race);
}

class LiveGateServe : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
    // The demo event with the 10k's gun an hour from now.
    fs::copy(kDemoDir, event_dir_, fs::copy_options::recursive);
    fs::remove(event_dir_ / "reads.csv");
    std::ifstream in(event_dir_ / "event.json");
    std::stringstream text;
    text << in.rdbuf();
    json::value event = json::parse(text.str());
    for (json::value& race : event.at("races").as_array()) {
      if (race.at("id").as_string() == "10k")
        race.as_object()["gun_time"] = format_iso8601(ten_k_gun_, 9 * 60);
    }
    std::ofstream(event_dir_ / "event.json", std::ios::trunc) << json::serialize(event);
  }

  ServeNode start_node(const std::vector<std::string>& extra = {}) {
    return start_serve_node(redis_.port(), tokens_, extra, 0, 0, event_dir_.string());
  }

  // At the stadium (every race's start): the 10k runner's chip now (lining up, an hour before
  // their gun), then the marathon runner's chip 3 s after the marathon's gun. True when acked.
  bool feed_start_reads(int devices_port) {
    DeviceClient device(devices_port);
    device.hello("stadium-main", "tok-stadium-main");
    const auto welcome = device.receive_reply();
    if (!welcome || !welcome->has_welcome()) return false;
    v1::DeviceMessage batch;
    v1::Read* lining_up = batch.mutable_batch()->add_reads();
    lining_up->set_seq(1);
    lining_up->set_chip(ten_k_.chips.front());
    lining_up->set_timing_point_id("stadium");
    lining_up->set_time_ms(wall_clock_now());
    v1::Read* started = batch.mutable_batch()->add_reads();
    started->set_seq(2);
    started->set_chip(marathon_.chips.front());
    started->set_timing_point_id("stadium");
    started->set_time_ms(kMarathonGun + 3'000);
    device.send(batch);
    const auto ack = device.receive_reply();
    return ack && ack->has_ack() && ack->ack().acked_seq() == 2;
  }

  RedisServer redis_;
  fs::path tokens_;
  fs::path event_dir_ = redis_.dir() / "event";
  const TimeMs ten_k_gun_ = wall_clock_now() + 3'600'000;
  const Participant& ten_k_ = first_runner_of("10k");
  const Participant& marathon_ = first_runner_of("marathon");
};

v1::ClientMessage subscribe_runner(const std::string& bib) {
  v1::ClientMessage m;
  m.mutable_subscribe()->set_kind(v1::SUBSCRIPTION_KIND_RUNNERS);
  m.mutable_subscribe()->add_bibs(bib);
  return m;
}

template <typename Message>
Message rest(int port, const std::string& path) {
  const HttpResult r = http_get(port, path);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  Message m;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &m).ok()) << r.body;
  return m;
}

TEST_F(LiveGateServe, ReadsBeforeTheGunAreAppliedButShowNothingOfTheRace) {
  ServeNode node = start_node();
  WsClient viewer(node.http, "splitstream.v1.json");
  ASSERT_TRUE(viewer.open()) << viewer.error().message();
  // Subscription ids, in the order the hub builds each publish's frames: passings/*,
  // runner/<10k bib>, standings/10k/..., standings/marathon/...
  ASSERT_TRUE(viewer.send(subscribe_passings()));
  ASSERT_TRUE(viewer.send(subscribe_runner(ten_k_.bib)));
  ASSERT_TRUE(viewer.send(subscribe_standings("10k", "overall", 10)));
  ASSERT_TRUE(viewer.send(subscribe_standings("marathon", "overall", 10)));
  int snapshots = 0;
  while (snapshots < 4) {
    auto m = viewer.receive();
    ASSERT_TRUE(m) << viewer.error().message();
    if (m->has_subscribed()) continue;
    ++snapshots;
    if (m->has_standings_snapshot()) {
      EXPECT_EQ(m->standings_snapshot().total(), 0u);
    }
  }

  ASSERT_TRUE(feed_start_reads(node.devices));
  // The engine applied both: the /readyz count, the metric and the runner's state in Redis
  // (which only officials and operators see).
  const std::string two = "\"detail\":\"2 reads applied";
  EXPECT_EQ(wait_engine_applied(node.http, 2), two);
  EXPECT_EQ(metric(node.http, "splitstream_engine_applied_total"), 2.0);
  const std::string state_key = KeySchema("pyongyang-2025").runner(ten_k_.bib);
  EXPECT_TRUE(wait_until(
      [&] {
        return redis_.command({"HGET", state_key, "status"}).as_string() == "running";
      },
      10s, 20ms))
      << redis_.command({"HGET", state_key, "status"}).as_string();

  // The viewer hears of the marathon runner, and of nothing of the 10k before (a 10k frame of the
  // same publish would come first).
  bool marathon_row = false;
  while (!marathon_row) {
    auto m = viewer.receive();
    ASSERT_TRUE(m) << "the marathon runner never showed: " << viewer.error().message();
    ASSERT_NE(m->subscription(), "standings/10k/overall/0/10") << m->DebugString();
    ASSERT_NE(m->subscription(), "runner/" + ten_k_.bib) << m->DebugString();
    for (const v1::Passing& p : m->passings().passings())
      ASSERT_EQ(p.race_id(), "marathon") << m->DebugString();
    for (const v1::StandingsRow& row : m->standings_delta().upserted())
      marathon_row = marathon_row || row.bib() == marathon_.bib;
  }

  // REST: the marathon as usual, the 10k empty.
  v1::StandingsSnapshot page = rest<v1::StandingsSnapshot>(node.http, "/api/v1/standings/10k");
  EXPECT_EQ(page.total(), 0u);
  EXPECT_EQ(page.rows_size(), 0);
  page = rest<v1::StandingsSnapshot>(node.http, "/api/v1/standings/marathon");
  EXPECT_EQ(page.total(), 1u);
  ASSERT_EQ(page.rows_size(), 1);
  EXPECT_EQ(page.rows(0).bib(), marathon_.bib);
  const auto runner = rest<v1::RunnerDetail>(node.http, "/api/v1/runners/" + ten_k_.bib);
  EXPECT_EQ(runner.status(), v1::RUNNER_STATUS_NOT_STARTED);
  EXPECT_EQ(runner.splits_size(), 0);
  EXPECT_EQ(rest<v1::RunnerDetail>(node.http, "/api/v1/runners/" + marathon_.bib).splits_size(), 1);
  const auto passings = rest<v1::PassingBatch>(node.http, "/api/v1/passings");
  ASSERT_EQ(passings.passings_size(), 1);
  EXPECT_EQ(passings.passings(0).bib(), marathon_.bib);
  EXPECT_EQ(rest<v1::PassingBatch>(node.http, "/api/v1/leaders/10k").passings_size(), 0);
  const std::string csv = http_get(node.http, "/api/v1/results.csv?race=10k").body;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1) << csv;  // the header only
}

TEST_F(LiveGateServe, OffTheSameReadsShowAtOnce) {
  ServeNode node = start_node({"--live-gate", "off"});
  WsClient viewer(node.http, "splitstream.v1.protobuf");
  ASSERT_TRUE(viewer.open()) << viewer.error().message();
  ASSERT_TRUE(viewer.send(subscribe_standings("10k", "overall", 10)));
  ASSERT_TRUE(feed_start_reads(node.devices));
  bool ten_k_row = false;
  while (!ten_k_row) {
    auto m = viewer.receive();
    ASSERT_TRUE(m) << "the 10k runner never showed: " << viewer.error().message();
    // A delta, or the first snapshot when the subscription was served after the read applied.
    for (const v1::StandingsRow& row : m->standings_delta().upserted())
      ten_k_row = ten_k_row || row.bib() == ten_k_.bib;
    for (const v1::StandingsRow& row : m->standings_snapshot().rows())
      ten_k_row = ten_k_row || row.bib() == ten_k_.bib;
  }
  const auto page = rest<v1::StandingsSnapshot>(node.http, "/api/v1/standings/10k");
  ASSERT_EQ(page.rows_size(), 1);
  EXPECT_EQ(page.rows(0).bib(), ten_k_.bib);
}

}  // namespace
}  // namespace splitstream::testing
