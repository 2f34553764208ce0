// The live gate on an injected wall clock: before a race's earliest gun the engine applies its
// reads (a crew member's test chip, runners lining up on the start mat) but no live subscription
// and no public REST answer shows them; the race opens at the first publish after the gun (the
// pipeline makes one due then); other races and `--live-gate off` show everything.
#include "push/live_gate.hpp"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/rest_api.hpp"
#include "pipeline/live_pipeline.hpp"
#include "push/push_hub.hpp"
#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

using namespace std::chrono_literals;

// Race 10k (gun kGun) and race "late" (gun an hour later, its wave B 50 minutes later: the race
// opens at wave B's gun, the earliest), both starting on the same mat.
constexpr TimeMs kLateGun = kGun + 60 * kMin;
constexpr TimeMs kLateOpens = kGun + 50 * kMin;

Event two_races() {
  EventBuilder b = ten_k();
  b.race("late", {{"start", "start", 0}, {"finish", "finish", 5000}}, kLateGun);
  b.wave("A", kLateGun).wave("B", kLateOpens);
  b.runner("1", "c1", "10k");
  b.runner("7", "c7", "late", Gender::female, "", "B");
  return b.build();
}

class RecordingViewer final : public LiveSubscriber {
 public:
  LiveFormat format() const override { return LiveFormat::protobuf; }
  void deliver(std::shared_ptr<const LiveFrame> frame) override {
    v1::LiveMessage m;
    EXPECT_TRUE(m.ParseFromString(std::string(frame->bytes(LiveFormat::protobuf))));
    messages.push_back(std::move(m));
  }
  // The messages since the last call, by subscription id (the last one of each).
  std::map<std::string, v1::LiveMessage> take() {
    std::map<std::string, v1::LiveMessage> out;
    for (v1::LiveMessage& m : messages)
      out[m.subscription()] = std::move(m);
    messages.clear();
    return out;
  }
  std::vector<v1::LiveMessage> messages;
};

std::vector<std::string> bibs(const v1::StandingsSnapshot& page) {
  std::vector<std::string> out;
  for (const v1::StandingsRow& row : page.rows())
    out.push_back(row.bib());
  return out;
}

std::vector<std::string> bibs(const v1::RunnerStateBatch& batch) {
  std::vector<std::string> out;
  for (const v1::RunnerState& r : batch.runners())
    out.push_back(r.bib());
  return out;
}

// "bib@split" for each passing.
std::vector<std::string> passings(const v1::PassingBatch& batch) {
  std::vector<std::string> out;
  for (const v1::Passing& p : batch.passings())
    out.push_back(p.bib() + "@" + p.split_id());
  return out;
}

// An engine and its hub on a wall clock the test sets; reads are stream entries 1, 2, ...
class GatedRace {
 public:
  explicit GatedRace(TimeMs now, bool gate = true)
      : now_ms(now),
        event_(std::make_unique<Event>(two_races())),
        catalog_(*event_),
        engine_(*event_),
        hub_(engine_, options(gate), [this] { return now_ms; }) {}
  GatedRace(const GatedRace&) = delete;
  GatedRace& operator=(const GatedRace&) = delete;

  void read(const std::string& timing_point, const std::string& chip, TimeMs time) {
    ++version_;
    hub_.note_applied(engine_.apply({*event_->find_timing_point(timing_point), chip, time}),
                      version_, time);
  }

  void subscribe(const std::shared_ptr<RecordingViewer>& viewer, v1::Subscribe s,
                 std::uint64_t since_version = 0) {
    auto shapes = resolve_subscribe(catalog_, s, LiveLimits{});
    ASSERT_TRUE(std::holds_alternative<std::vector<SubscriptionShape>>(shapes));
    hub_.subscribe(viewer, std::get<std::vector<SubscriptionShape>>(shapes), since_version, 50);
  }

  // A viewer of everything the race "late" and runner 7 show, and of the 10k's standings.
  std::shared_ptr<RecordingViewer> watch_everything() {
    auto viewer = std::make_shared<RecordingViewer>();
    for (const char* race : {"late", "10k"}) {
      v1::Subscribe s;
      s.set_kind(v1::SUBSCRIPTION_KIND_STANDINGS);
      s.set_race_id(race);
      subscribe(viewer, s);
    }
    v1::Subscribe passings;
    passings.set_kind(v1::SUBSCRIPTION_KIND_PASSINGS);
    subscribe(viewer, passings);
    v1::Subscribe runner;
    runner.set_kind(v1::SUBSCRIPTION_KIND_RUNNERS);
    runner.add_bibs("7");
    subscribe(viewer, runner);
    v1::Subscribe map;
    map.set_kind(v1::SUBSCRIPTION_KIND_MAP);
    subscribe(viewer, map);
    return viewer;
  }

  HttpResponse get(const std::string& target) const {
    return handle_rest(HttpRequest{http::verb::get, target, 11},
                       RestContext{engine_, hub_, catalog_});
  }
  template <typename Message>
  Message get_proto(const std::string& target) const {
    const HttpResponse res = get(target);
    EXPECT_EQ(res.result(), http::status::ok) << target << ": " << res.body();
    Message m;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(res.body(), &m).ok()) << res.body();
    return m;
  }

  PushHub& hub() { return hub_; }
  RaceEngine& engine() { return engine_; }
  RunnerIndex runner(const std::string& bib) const { return event_->participant_by_bib.at(bib); }

  TimeMs now_ms;

 private:
  static PushHubOptions options(bool gate) {
    PushHubOptions o;
    o.live_gate = gate;
    return o;
  }

  std::unique_ptr<Event> event_;
  LiveCatalog catalog_;
  RaceEngine engine_;
  PushHub hub_;
  std::uint64_t version_ = 0;
};

TEST(LiveGate, ARaceOpensAtItsEarliestGunAndNeverWhenTheGateIsOff) {
  const Event event = two_races();
  const LiveGate gate(event, true);
  EXPECT_EQ(gate.opens_at(0), kGun);
  EXPECT_EQ(gate.opens_at(1), kLateOpens);  // wave B's gun, before the race's own
  EXPECT_TRUE(gate.closed(0, kGun - 1));
  EXPECT_FALSE(gate.closed(0, kGun));
  EXPECT_TRUE(gate.closed(1, kLateOpens - 1));
  EXPECT_FALSE(gate.closed(1, kLateOpens));
  const LiveGate off(event, false);
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.closed(1, kGun - 24 * 60 * kMin));
}

TEST(LiveGate, BeforeItsGunAReadAtTheStartReachesNoSubscriber) {
  GatedRace race(kGun + 10 * kMin);  // the 10k is running; "late" opens in 40 minutes
  auto viewer = race.watch_everything();
  std::map<std::string, v1::LiveMessage> m = viewer->take();
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m["standings/late/overall/0/10"].standings_snapshot().total(), 0u);
  EXPECT_EQ(m["runner/7"].runner().status(), v1::RUNNER_STATUS_NOT_STARTED);

  race.read("start", "c1", kGun + 5 * kSec);   // 1: the 10k's runner starts
  race.read("start", "c7", kGun + 10 * kMin);  // 2: runner 7 lines up on the start mat
  race.hub().publish();
  // The engine applied both reads.
  EXPECT_EQ(race.engine().status(race.runner("7")), RunnerStatus::running);
  m = viewer->take();
  // Only the 10k's runner shows: no frame for "late"'s page or runner 7.
  EXPECT_FALSE(m.contains("standings/late/overall/0/10"));
  EXPECT_FALSE(m.contains("runner/7"));
  EXPECT_EQ(m["standings/10k/overall/0/10"].standings_delta().upserted(0).bib(), "1");
  EXPECT_EQ(passings(m["passings/*"].passings()), (std::vector<std::string>{"1@start"}));
  EXPECT_EQ(bibs(m["map/*"].runner_states()), (std::vector<std::string>{"1"}));
  EXPECT_EQ(m.size(), 3u);

  // Nor is runner 7's passing kept, for a snapshot or a resume.
  ASSERT_EQ(race.hub().recent_passings(kNoIndex, 10).size(), 1u);
  EXPECT_EQ(race.hub().recent_passings(kNoIndex, 10)[0].bib(), "1");
  auto late = std::make_shared<RecordingViewer>();
  v1::Subscribe resume;
  resume.set_kind(v1::SUBSCRIPTION_KIND_PASSINGS);
  race.subscribe(late, resume, 1);
  EXPECT_EQ(late->take()["passings/*"].passings().passings_size(), 0);
  // A new viewer's snapshots hide it too.
  race.subscribe(late, [] {
    v1::Subscribe s;
    s.set_kind(v1::SUBSCRIPTION_KIND_STANDINGS);
    s.set_race_id("late");
    s.set_limit(5);
    return s;
  }());
  race.subscribe(late, [] {
    v1::Subscribe s;
    s.set_kind(v1::SUBSCRIPTION_KIND_MAP);
    s.set_race_id("late");
    return s;
  }());
  m = late->take();
  EXPECT_EQ(m["standings/late/overall/0/5"].standings_snapshot().total(), 0u);
  EXPECT_EQ(m["standings/late/overall/0/5"].standings_snapshot().rows_size(), 0);
  EXPECT_EQ(m["map/late"].runner_states().runners_size(), 0);
}

TEST(LiveGate, TheFirstPublishAfterTheGunSendsTheRaceAfresh) {
  GatedRace race(kGun + 10 * kMin);
  auto viewer = race.watch_everything();
  race.read("start", "c1", kGun + 5 * kSec);   // 1
  race.read("start", "c7", kGun + 10 * kMin);  // 2
  race.hub().publish();
  viewer->take();
  EXPECT_EQ(race.hub().until_gate_opens(), 40 * kMin);

  race.now_ms = kLateOpens - 1;
  race.hub().publish();
  EXPECT_TRUE(viewer->messages.empty());
  EXPECT_EQ(race.hub().until_gate_opens(), 1);

  // Wave B's gun: nothing else happens, and the race opens at the next publish.
  race.now_ms = kLateOpens;
  race.hub().publish();
  std::map<std::string, v1::LiveMessage> m = viewer->take();
  const v1::StandingsSnapshot& page = m["standings/late/overall/0/10"].standings_snapshot();
  EXPECT_EQ(page.total(), 1u);
  EXPECT_EQ(bibs(page), (std::vector<std::string>{"7"}));
  EXPECT_EQ(page.version(), 2u);
  EXPECT_EQ(m["runner/7"].runner().status(), v1::RUNNER_STATUS_RUNNING);
  EXPECT_EQ(m["runner/7"].runner().splits_size(), 1);
  EXPECT_EQ(bibs(m["map/*"].runner_states()), (std::vector<std::string>{"7"}));
  // The passing hidden before the gun stays unsent; the 10k's page did not change.
  EXPECT_FALSE(m.contains("passings/*"));
  EXPECT_FALSE(m.contains("standings/10k/overall/0/10"));
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(race.hub().until_gate_opens(), std::nullopt);

  // From now on the race is live like any other: deltas chain from the fresh page.
  race.read("finish", "c7", kLateOpens + 20 * kMin);  // 3
  race.hub().publish();
  m = viewer->take();
  EXPECT_EQ(m["standings/late/overall/0/10"].standings_delta().from_version(), 2u);
  EXPECT_EQ(passings(m["passings/*"].passings()), (std::vector<std::string>{"7@finish"}));
  EXPECT_EQ(m["runner/7"].runner().status(), v1::RUNNER_STATUS_FINISHED);
}

TEST(LiveGate, OffShowsEveryRaceAtOnce) {
  GatedRace race(kGun + 10 * kMin, false);
  auto viewer = race.watch_everything();
  viewer->take();
  race.read("start", "c7", kGun + 10 * kMin);  // 1
  race.hub().publish();
  std::map<std::string, v1::LiveMessage> m = viewer->take();
  EXPECT_EQ(m["standings/late/overall/0/10"].standings_delta().upserted(0).bib(), "7");
  EXPECT_EQ(passings(m["passings/*"].passings()), (std::vector<std::string>{"7@start"}));
  EXPECT_EQ(m["runner/7"].runner().splits_size(), 1);
  EXPECT_EQ(bibs(m["map/*"].runner_states()), (std::vector<std::string>{"7"}));
  EXPECT_EQ(race.hub().until_gate_opens(), std::nullopt);
  EXPECT_FALSE(race.hub().race_gated(1));
  EXPECT_EQ(race.get_proto<v1::StandingsSnapshot>("/api/v1/standings/late").total(), 1u);
}

TEST(LiveGate, PublicRestAnswersHideTheRaceUntilItsGun) {
  GatedRace race(kGun + 10 * kMin);
  race.read("start", "c1", kGun + 5 * kSec);   // 1
  race.read("start", "c7", kGun + 10 * kMin);  // 2
  race.read("k5", "c1", kGun + 20 * kMin);     // 3
  race.hub().publish();
  EXPECT_TRUE(race.hub().race_gated(1));
  EXPECT_FALSE(race.hub().race_gated(0));

  v1::StandingsSnapshot page = race.get_proto<v1::StandingsSnapshot>("/api/v1/standings/late");
  EXPECT_EQ(page.race_id(), "late");
  EXPECT_EQ(page.total(), 0u);
  EXPECT_EQ(page.rows_size(), 0);
  EXPECT_EQ(page.version(), 3u);
  EXPECT_EQ(race.get_proto<v1::StandingsSnapshot>("/api/v1/standings/late?category=F").total(), 0u);
  const v1::RunnerDetail seven = race.get_proto<v1::RunnerDetail>("/api/v1/runners/7");
  EXPECT_EQ(seven.bib(), "7");
  EXPECT_EQ(seven.race_id(), "late");
  EXPECT_EQ(seven.status(), v1::RUNNER_STATUS_NOT_STARTED);
  EXPECT_EQ(seven.splits_size(), 0);
  EXPECT_EQ(seven.rank(), 0u);
  EXPECT_EQ(seven.state().status(), v1::RUNNER_STATUS_NOT_STARTED);
  EXPECT_EQ(race.get_proto<v1::PassingBatch>("/api/v1/leaders/late").passings_size(), 0);
  EXPECT_EQ(passings(race.get_proto<v1::PassingBatch>("/api/v1/passings")),
            (std::vector<std::string>{"1@5k", "1@start"}));
  EXPECT_NE(race.get("/api/v1/participants?q=7").body().find(R"("status":"not_started")"),
            std::string::npos);
  // The results list the 10k's runner and nobody of "late".
  const std::string csv = race.get("/api/v1/results.csv").body();
  EXPECT_NE(csv.find("\n10k,1,1,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("\nlate,"), std::string::npos) << csv;
  const std::string late_csv = race.get("/api/v1/results.csv?race=late").body();
  EXPECT_EQ(std::count(late_csv.begin(), late_csv.end(), '\n'), 1) << late_csv;  // the header

  // The 10k is unaffected.
  page = race.get_proto<v1::StandingsSnapshot>("/api/v1/standings/10k");
  EXPECT_EQ(page.total(), 1u);
  EXPECT_EQ(page.rows(0).bib(), "1");
  EXPECT_EQ(race.get_proto<v1::RunnerDetail>("/api/v1/runners/1").splits_size(), 2);
  EXPECT_EQ(race.get_proto<v1::PassingBatch>("/api/v1/leaders/10k").passings_size(), 2);

  // REST answers by the clock of the request: at the gun, "late" shows.
  race.now_ms = kLateOpens;
  page = race.get_proto<v1::StandingsSnapshot>("/api/v1/standings/late");
  EXPECT_EQ(bibs(page), (std::vector<std::string>{"7"}));
  EXPECT_EQ(race.get_proto<v1::RunnerDetail>("/api/v1/runners/7").splits_size(), 1);
  EXPECT_EQ(race.get_proto<v1::PassingBatch>("/api/v1/leaders/late").passings_size(), 1);
  EXPECT_NE(race.get("/api/v1/results.csv?race=late").body().find("\nlate,1,7,"),
            std::string::npos);
  EXPECT_NE(race.get("/api/v1/participants?q=7").body().find(R"("status":"running")"),
            std::string::npos);
}

// The pipeline makes a publish due at the gun of a hidden race (at least every second), so the
// race opens with no read coming in.
TEST(LiveGate, ThePipelinePublishesAtTheGun) {
  class NoSink final : public DerivedStateSink {
   public:
    void runner_changed(RunnerIndex) override {}
    void applied_up_to(std::string, std::uint64_t, bool) override {}
    bool idle() const override { return true; }
  } sink;
  CorrectionLog corrections;
  GatedRace race(kLateOpens - 3 * kSec);
  LivePipeline::Clock::time_point steady{1h};
  LivePipeline pipeline(
      race.engine(), race.hub(), sink, corrections, LivePipelineOptions{50ms},
      [&] { return steady; }, [&] { return race.now_ms; });
  // Three seconds before the gun: the gate is looked at in a second.
  EXPECT_EQ(pipeline.publish_due(), steady + 1s);
  auto viewer = race.watch_everything();
  viewer->take();
  StreamEntry entry;
  entry.id = "1000-0";
  entry.timing_point = "start";
  entry.chip = "c7";
  entry.time_ms = kLateOpens - 3 * kSec;
  pipeline.apply({entry}, true);
  EXPECT_TRUE(viewer->messages.empty());  // published at once, and hidden
  EXPECT_EQ(pipeline.publish_due(), steady + 1s);

  steady += 1s;
  race.now_ms += kSec;
  pipeline.publish_if_due();
  EXPECT_TRUE(viewer->messages.empty());
  EXPECT_EQ(pipeline.publish_due(), steady + 1s);

  // Less than a second before the gun: due at the gun.
  steady += 1500ms;
  race.now_ms += 1500;
  pipeline.publish_if_due();
  EXPECT_TRUE(viewer->messages.empty());
  EXPECT_EQ(pipeline.publish_due(), steady + 500ms);
  steady += 500ms;
  race.now_ms += 500;
  pipeline.publish_if_due();
  std::map<std::string, v1::LiveMessage> m = viewer->take();
  EXPECT_EQ(bibs(m["standings/late/overall/0/10"].standings_snapshot()),
            (std::vector<std::string>{"7"}));
  EXPECT_EQ(pipeline.publish_due(), std::nullopt);  // nothing hidden, nothing waiting
}

}  // namespace
}  // namespace splitstream::testing
