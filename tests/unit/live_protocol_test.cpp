// The WebSocket subscription protocol and the live views, without sockets: client frames in,
// shapes, errors and messages out.
#include "push/live_protocol.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "api/rest_api.hpp"
#include "push/live_view.hpp"
#include "push/websocket_session.hpp"
#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

Event small_race() {
  return ten_k()
      .runner("1", "c1", "10k", Gender::male, "M35")
      .runner("2", "c2", "10k", Gender::female, "F40")
      .runner("3", "c3", "10k", Gender::male, "M35")
      .build();
}

class LiveProtocolTest : public ::testing::Test {
 protected:
  LiveProtocolTest() : event_(std::make_unique<Event>(small_race())), catalog_(*event_) {}

  std::variant<std::vector<SubscriptionShape>, LiveRequestError> resolve(const std::string& json) {
    auto parsed = parse_client_message(json, false);
    EXPECT_TRUE(std::holds_alternative<v1::ClientMessage>(parsed)) << json;
    return resolve_subscribe(catalog_, std::get<v1::ClientMessage>(parsed).subscribe(), limits_);
  }
  std::string error_code(const std::string& json) {
    auto r = resolve(json);
    return std::holds_alternative<LiveRequestError>(r) ? std::get<LiveRequestError>(r).code : "";
  }

  std::unique_ptr<Event> event_;
  LiveCatalog catalog_;
  LiveLimits limits_;
};

TEST_F(LiveProtocolTest, SubscriptionsResolveToSharedKeys) {
  auto r = resolve(R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k"}})");
  ASSERT_TRUE(std::holds_alternative<std::vector<SubscriptionShape>>(r));
  const auto& shapes = std::get<std::vector<SubscriptionShape>>(r);
  ASSERT_EQ(shapes.size(), 1u);
  EXPECT_EQ(shapes[0].key, "standings/10k/overall/0/10");  // default category and limit
  r = resolve(R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_RUNNERS","bibs":["1","3"]}})");
  const auto& runners = std::get<std::vector<SubscriptionShape>>(r);
  ASSERT_EQ(runners.size(), 2u);
  EXPECT_EQ(runners[0].key, "runner/1");
  EXPECT_EQ(runners[1].runner, 2u);
  r = resolve(
      R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_PASSINGS","timingPointId":"k5","limit":7}})");
  EXPECT_EQ(std::get<std::vector<SubscriptionShape>>(r)[0].key, "passings/k5");
  r = resolve(R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_MAP"}})");
  EXPECT_EQ(std::get<std::vector<SubscriptionShape>>(r)[0].key, "map/*");
}

TEST_F(LiveProtocolTest, BadRequestsNameWhatIsWrong) {
  EXPECT_EQ(error_code(R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_STANDINGS"}})"), "unknown_race");
  EXPECT_EQ(
      error_code(
          R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k","categoryId":"F35"}})"),
      "unknown_category");
  EXPECT_EQ(
      error_code(
          R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k","categoryId":"F40","limit":501}})"),
      "invalid_limit");
  EXPECT_EQ(error_code(R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_RUNNERS"}})"), "invalid_limit");
  EXPECT_EQ(error_code(R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_RUNNERS","bibs":["9"]}})"),
            "unknown_bib");
  EXPECT_EQ(error_code(R"({"subscribe":{}})"), "invalid_message");
  auto bad = parse_client_message("{\"subscribe\":", false);
  ASSERT_TRUE(std::holds_alternative<LiveRequestError>(bad));
  EXPECT_EQ(std::get<LiveRequestError>(bad).code, "invalid_message");
  bad = parse_client_message("\xff\xff", true);
  EXPECT_EQ(std::get<LiveRequestError>(bad).message, "not a Protobuf ClientMessage");
}

TEST_F(LiveProtocolTest, AConnectionHoldsAtMostItsLimitOfSubscriptions) {
  SubscriptionSet set(2);
  SubscriptionShape a, b, c;
  a.key = "a";
  b.key = "b";
  c.key = "c";
  EXPECT_TRUE(std::holds_alternative<std::vector<SubscriptionShape>>(set.add({a, b})));
  // The same again costs nothing; a third is refused and nothing is added.
  EXPECT_TRUE(std::holds_alternative<std::vector<SubscriptionShape>>(set.add({a})));
  auto refused = set.add({c});
  ASSERT_TRUE(std::holds_alternative<LiveRequestError>(refused));
  EXPECT_EQ(std::get<LiveRequestError>(refused).code, "too_many_subscriptions");
  EXPECT_FALSE(set.contains("c"));
  EXPECT_TRUE(set.remove("a"));
  EXPECT_FALSE(set.remove("a"));
  EXPECT_TRUE(std::holds_alternative<std::vector<SubscriptionShape>>(set.add({c})));
}

TEST(Subprotocol, ProtobufWinsThenJsonElseNone) {
  EXPECT_EQ(choose_subprotocol("splitstream.v1.json, splitstream.v1.protobuf"),
            LiveFormat::protobuf);
  EXPECT_EQ(choose_subprotocol(" splitstream.v1.json "), LiveFormat::json);
  EXPECT_EQ(choose_subprotocol("chat, superchat"), std::nullopt);
}

TEST(StandingsDiff, UpsertsChangedRowsAndRemovesLeavers) {
  EngineHarness race(small_race());
  const RaceEngine& engine = race.engine();
  race.read("k5", "c1", kGun + 20 * kMin);
  race.read("k5", "c2", kGun + 21 * kMin);
  const v1::StandingsSnapshot before = make_standings(engine, 0, "overall", 0, 2, 5);
  ASSERT_EQ(before.rows_size(), 2);
  EXPECT_EQ(before.rows(0).bib(), "1");
  EXPECT_EQ(before.rows(1).gap_ms(), 1 * kMin);
  // Runner 3 finishes: first; runner 2 drops off the two-row page; runner 1 moves to 2nd.
  race.read("finish", "c3", kGun + 40 * kMin);
  const v1::StandingsSnapshot after = make_standings(engine, 0, "overall", 0, 2, 9);
  const auto delta = diff_standings(before, after);
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->from_version(), 5u);
  EXPECT_EQ(delta->to_version(), 9u);
  EXPECT_EQ(delta->total(), 3u);
  ASSERT_EQ(delta->upserted_size(), 2);
  EXPECT_EQ(delta->upserted(0).bib(), "3");
  EXPECT_EQ(delta->upserted(0).rank(), 1u);
  EXPECT_EQ(delta->upserted(1).bib(), "1");
  EXPECT_EQ(delta->upserted(1).rank(), 2u);
  ASSERT_EQ(delta->removed_bibs_size(), 1);
  EXPECT_EQ(delta->removed_bibs(0), "2");
  // Nothing changed: no delta.
  EXPECT_FALSE(diff_standings(after, make_standings(engine, 0, "overall", 0, 2, 12)));
}

TEST(StandingsRowView, ProjectsTheFinishAndCountsPlacesGainedAtTheLastSplit) {
  EngineHarness race(small_race());
  const RaceEngine& engine = race.engine();
  race.read("start", "c1", kGun);
  race.read("start", "c2", kGun);
  race.read("k5", "c1", kGun + 20 * kMin);
  race.read("k5", "c2", kGun + 21 * kMin);
  v1::StandingsSnapshot page = make_standings(engine, 0, "overall", 0, 2, 1);
  ASSERT_EQ(page.rows_size(), 2);
  // 5 km in 20 minutes from the start, 5 km to go at the same speed: 40 minutes.
  EXPECT_NEAR(static_cast<double>(page.rows(0).projected_finish_ms()), 40.0 * kMin, 2.0);
  EXPECT_NEAR(static_cast<double>(page.rows(1).projected_finish_ms()), 42.0 * kMin, 2.0);
  // The start does not count as an earlier place.
  EXPECT_EQ(page.rows(0).rank_change(), 0);
  // Runner 2 (2nd at 5 km) finishes first, runner 1 a minute later.
  race.read("finish", "c2", kGun + 40 * kMin);
  race.read("finish", "c1", kGun + 41 * kMin);
  page = make_standings(engine, 0, "overall", 0, 2, 2);
  ASSERT_EQ(page.rows_size(), 2);
  EXPECT_EQ(page.rows(0).bib(), "2");
  EXPECT_EQ(page.rows(0).rank_change(), 1);
  EXPECT_EQ(page.rows(0).projected_finish_ms(), 40 * kMin);  // the real finish time
  EXPECT_EQ(page.rows(1).bib(), "1");
  EXPECT_EQ(page.rows(1).rank_change(), -1);
  EXPECT_EQ(page.rows(1).projected_finish_ms(), 41 * kMin);
  // The leader at each split: runner 1 at 5 km, runner 2 at the finish.
  const v1::PassingBatch leaders = make_split_leaders(engine, 0);
  ASSERT_EQ(leaders.passings_size(), 3);
  EXPECT_EQ(leaders.passings(1).split_id(), "5k");
  EXPECT_EQ(leaders.passings(1).bib(), "1");
  EXPECT_EQ(leaders.passings(1).rank(), 1u);
  EXPECT_EQ(leaders.passings(2).split_id(), "finish");
  EXPECT_EQ(leaders.passings(2).bib(), "2");
  EXPECT_EQ(leaders.passings(2).gun_time_ms(), 40 * kMin);
  EXPECT_EQ(leaders.passings(2).name(), race.event().participants[1].display_name());
}

TEST(RunnerStateView, CarriesWhatTheMapProjectsFrom) {
  EngineHarness race(small_race());
  const RaceEngine& engine = race.engine();
  race.read("start", "c1", kGun);
  race.read("k5", "c1", kGun + 25 * kMin);
  const v1::RunnerState s = make_runner_state(engine, 0);
  EXPECT_EQ(s.status(), v1::RUNNER_STATUS_RUNNING);
  EXPECT_EQ(s.last_split_index(), 1u);
  EXPECT_EQ(s.last_split_time_ms(), kGun + 25 * kMin);
  EXPECT_EQ(s.distance_m(), 5000);
  EXPECT_EQ(s.next_split_distance_m(), 10000);
  EXPECT_NEAR(s.speed_mps(), 5000.0 / 1500.0, 1e-3);  // 5 km in 25 min
  const v1::RunnerDetail d = make_runner_detail(engine, 0, kGun + 30 * kMin);
  EXPECT_EQ(d.rank(), 1u);
  EXPECT_EQ(d.category_rank(), 1u);
  ASSERT_EQ(d.splits_size(), 2);
  ASSERT_EQ(d.etas_size(), 1);
  EXPECT_EQ(d.etas(0).split_id(), "finish");
  // 5 km more at 3.33 m/s after the 25-minute split: 50 minutes.
  EXPECT_NEAR(static_cast<double>(d.etas(0).time_ms()), static_cast<double>(kGun + 50 * kMin),
              2000.0);
}

TEST(Query, DecodesPercentAndPlus) {
  const auto q = parse_query("q=Kim+Il%20Sung&limit=5&empty=&flag");
  EXPECT_EQ(q.at("q"), "Kim Il Sung");
  EXPECT_EQ(q.at("limit"), "5");
  EXPECT_EQ(q.at("empty"), "");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(parse_query("bad=%zz").at("bad"), "%zz");
}

}  // namespace
}  // namespace splitstream::testing
