// The console's JSON (api/console_api) over an engine fed a small race by hand: each endpoint's
// whole answer, hand-computed, and the errors that name a bad query parameter.
#include "api/console_api.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "engine/corrections.hpp"
#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

namespace json = boost::json;

constexpr TimeMs kNow = kGun + 3000 * kSec;  // 08:50:00 local

// The 10 km in waves A (08:00) and B (08:10), with cut-offs at 5k (0:25:00) and the finish
// (0:45:00), and a runner without a wave.
Event cutoff_race() {
  EventBuilder b = ten_k();
  b.wave("A", kGun).wave("B", kGun + 600 * kSec);
  b.runner("1", "c1", "10k", Gender::male, "", "A")
      .runner("2", "c2", "10k", Gender::female, "", "A")
      .runner("3", "c3", "10k", Gender::male, "", "B")
      .runner("4", "c4", "10k");
  Event event = b.build();
  event.races[0].splits[1].cutoff = 1500 * kSec;
  event.races[0].splits[2].cutoff = 2700 * kSec;
  return event;
}

class ConsoleApiTest : public ::testing::Test {
 protected:
  ConsoleApiTest()
      : race_(std::make_unique<EngineHarness>(cutoff_race())),
        context_{race_->engine(), race_->event(), 9 * 60, [] { return kNow; }, {}} {
    // 1: finished after the finish's cut-off; a stray read at 5k voided.
    race_->read("start", "c1", kGun);
    race_->read("k5", "c1", kGun + 1250 * kSec);
    race_->read("k5", "c1", kGun + 2000 * kSec);
    race_->read("finish", "c1", kGun + 2800 * kSec);
    Correction stray;
    stray.kind = CorrectionKind::void_reads;
    stray.bib = "1";
    stray.timing_point = "k5";
    stray.from = kGun + 1990 * kSec;
    stray.to = kGun + 2010 * kSec;
    EXPECT_FALSE(race_->correct(stray).error);
    // 2: at 5k after its cut-off, 3.125 m/s.
    race_->read("start", "c2", kGun);
    race_->read("k5", "c2", kGun + 1600 * kSec);
    // 3 (wave B): a 5k read 100 s after its start is implausible (50 m/s); 2.8 m/s by default.
    race_->read("start", "c3", kGun + 600 * kSec);
    race_->read("k5", "c3", kGun + 700 * kSec);
    // 4: never seen. A chip nobody holds, read at 5k.
    race_->read("k5", "zz", kGun + 1000 * kSec);
  }

  HttpResponse request(const std::string& target, http::verb method = http::verb::get) const {
    const HttpRequest req{method, target, 11};
    return handle_console(req, context_);
  }

  json::value get(const std::string& path) const {
    const HttpResponse res = request(path);
    EXPECT_EQ(res.result(), http::status::ok) << path << ": " << res.body();
    EXPECT_EQ(res[http::field::content_type], "application/json");
    return json::parse(res.body());
  }

  // The 400's message, after checking the status and the code.
  std::string bad_parameter(const std::string& path) const {
    const HttpResponse res = request(path);
    EXPECT_EQ(res.result(), http::status::bad_request) << path;
    const json::value body = json::parse(res.body());
    EXPECT_EQ(body.at("error").at("code"), "invalid_parameter") << path;
    return std::string(body.at("error").at("message").as_string());
  }

  std::unique_ptr<EngineHarness> race_;
  ConsoleContext context_;
};

TEST_F(ConsoleApiTest, OverviewCountsTheRaceAndEachWave) {
  EXPECT_EQ(get("/api/v1/console/overview"), json::parse(R"({"now_ms":1743897000000,"races":[
    {"race":"10k","name":"10k","gun_ms":1743894000000,"entered":4,"started":3,"on_course":2,
     "finished":1,"dnf":0,"dsq":0,"dns":1,"not_yet_seen":0,"waves":[
      {"wave":"A","gun_ms":1743894000000,"entered":2,"started":2,"on_course":1,"finished":1,
       "dnf":0,"dsq":0,"dns":0,"not_yet_seen":0},
      {"wave":"B","gun_ms":1743894600000,"entered":1,"started":1,"on_course":1,"finished":0,
       "dnf":0,"dsq":0,"dns":0,"not_yet_seen":0}]}]})"));
  // At 08:16:40 (now_ms) runner 4's 30 minutes are not up.
  const json::value early = get("/api/v1/console/overview?now_ms=1743895000000");
  EXPECT_EQ(early.at("now_ms"), 1743895000000);
  EXPECT_EQ(early.at("races").at(0).at("dns"), 0);
  EXPECT_EQ(early.at("races").at(0).at("not_yet_seen"), 1);
}

TEST_F(ConsoleApiTest, OverdueListsWhoIsLateAtTheirNextSplit) {
  // 3 started at 08:10:00 and was due at 5k 1785.714 s later (5000 m at 2.8 m/s); 2 is due at
  // the finish at 08:53:20 (5000 m more at 3.125 m/s): not overdue yet.
  const json::value expected = json::parse(R"({"now_ms":1743897000000,"margin_s":300,"runners":[
    {"bib":"3","name":"3 Runner","race":"10k","last_split":"start","last_seen_ms":1743894600000,
     "last_timing_point":"start","last_place":3,"next_split":"5k","expected_ms":1743896385714,
     "overdue_ms":614286}]})");
  EXPECT_EQ(get("/api/v1/console/overdue"), expected);
  EXPECT_EQ(get("/api/v1/console/overdue?race=10k&margin_s=300"), expected);
  EXPECT_EQ(get("/api/v1/console/overdue?margin_s=615").at("runners").as_array().size(), 0u);
  EXPECT_EQ(get("/api/v1/console/overdue?margin_s=614").at("runners").as_array().size(), 1u);
  EXPECT_NE(bad_parameter("/api/v1/console/overdue?margin_s=5m").find("margin_s"),
            std::string::npos);
  EXPECT_NE(bad_parameter("/api/v1/console/overdue?margin_s=-1").find("margin_s"),
            std::string::npos);
  EXPECT_EQ(bad_parameter("/api/v1/console/overdue?race=42k"),
            "race: the event has no race \"42k\"");
}

TEST_F(ConsoleApiTest, SweepListsWhoIsStillOutBehindASplitOrCountsEachSplit) {
  // 3 is held 25 m short of 5k: 5025 m to the finish at 2.8 m/s; 2 has 625 m at 3.125 m/s.
  EXPECT_EQ(get("/api/v1/console/sweep?race=10k&split=finish"), json::parse(R"({
    "now_ms":1743897000000,"race":"10k","split":"finish","timing_point":"finish","passed":1,
    "expected":2,"runners":[
      {"bib":"3","name":"3 Runner","last_split":"start","last_seen_ms":1743894600000,
       "eta_ms":1743898794642},
      {"bib":"2","name":"2 Runner","last_split":"5k","last_seen_ms":1743895600000,
       "eta_ms":1743897200000}]})"));
  EXPECT_EQ(get("/api/v1/console/sweep?race=10k"), json::parse(R"({"race":"10k","splits":[
    {"split":"start","timing_point":"start","passed":3,"still_out":0},
    {"split":"5k","timing_point":"k5","passed":2,"still_out":1},
    {"split":"finish","timing_point":"finish","passed":1,"still_out":2}]})"));
  EXPECT_EQ(bad_parameter("/api/v1/console/sweep?split=finish"),
            "race is required (a race id of the event)");
  EXPECT_EQ(bad_parameter("/api/v1/console/sweep?race=10k&split=k5"),
            "split: race \"10k\" has no split \"k5\"");
}

TEST_F(ConsoleApiTest, CutoffsPerSplitAndWave) {
  EXPECT_EQ(get("/api/v1/console/cutoffs"), json::parse(R"({"now_ms":1743897000000,"cutoffs":[
    {"race":"10k","split":"5k","wave":"A","cutoff_ms":1743895500000,"passed":2,"passed_late":1,
     "projected_to_miss":[]},
    {"race":"10k","split":"5k","wave":"B","cutoff_ms":1743896100000,"passed":0,"passed_late":0,
     "projected_to_miss":[{"bib":"3","name":"3 Runner","eta_ms":1743897008928,
                           "last_split":"start"}]},
    {"race":"10k","split":"5k","wave":null,"cutoff_ms":1743895500000,"passed":0,
     "passed_late":0,"projected_to_miss":[]},
    {"race":"10k","split":"finish","wave":"A","cutoff_ms":1743896700000,"passed":1,
     "passed_late":1,"projected_to_miss":[{"bib":"2","name":"2 Runner",
                                           "eta_ms":1743897200000,"last_split":"5k"}]},
    {"race":"10k","split":"finish","wave":"B","cutoff_ms":1743897300000,"passed":0,
     "passed_late":0,"projected_to_miss":[{"bib":"3","name":"3 Runner",
                                           "eta_ms":1743898794642,"last_split":"start"}]},
    {"race":"10k","split":"finish","wave":null,"cutoff_ms":1743896700000,"passed":0,
     "passed_late":0,"projected_to_miss":[]}]})"));
  EXPECT_EQ(get("/api/v1/console/cutoffs?race=10k").at("cutoffs").as_array().size(), 6u);
  EXPECT_EQ(bad_parameter("/api/v1/console/cutoffs?race=half"),
            "race: the event has no race \"half\"");
}

TEST_F(ConsoleApiTest, ReviewShowsFlagsSplitsEveryReadAndVoids) {
  EXPECT_EQ(get("/api/v1/console/review"), json::parse(R"J({"runners":[
    {"bib":"1","name":"1 Runner","race":"10k","status":"finished","flags":[],
     "splits":[
      {"split":"start","timing_point":"start","time_ms":1743894000000,"gun_time_ms":0,"rank":1},
      {"split":"5k","timing_point":"k5","time_ms":1743895250000,"gun_time_ms":1250000,"rank":1},
      {"split":"finish","timing_point":"finish","time_ms":1743896800000,"gun_time_ms":2800000,
       "rank":1}],
     "reads":[
      {"timing_point":"start","time_ms":1743894000000,"chip":"c1","voided":false,
       "used_for":"start"},
      {"timing_point":"k5","time_ms":1743895250000,"chip":"c1","voided":false,"used_for":"5k"},
      {"timing_point":"k5","time_ms":1743896000000,"chip":"c1","voided":true,"used_for":null},
      {"timing_point":"finish","time_ms":1743896800000,"chip":"c1","voided":false,
       "used_for":"finish"}],
     "voids":[{"timing_point":"k5","from_ms":1743895990000,"to_ms":1743896010000}]},
    {"bib":"3","name":"3 Runner","race":"10k","status":"running",
     "flags":[{"kind":"implausible_split","from":"start","to":"5k",
               "text":"5k at 08:11:40 is too soon: 50.0 m/s from start (the race allows 10.0)"}],
     "splits":[
      {"split":"start","timing_point":"start","time_ms":1743894600000,"gun_time_ms":0,"rank":3},
      {"split":"5k","timing_point":"k5","time_ms":null,"gun_time_ms":null,"rank":null},
      {"split":"finish","timing_point":"finish","time_ms":null,"gun_time_ms":null,"rank":null}],
     "reads":[
      {"timing_point":"start","time_ms":1743894600000,"chip":"c3","voided":false,
       "used_for":"start"},
      {"timing_point":"k5","time_ms":1743894700000,"chip":"c3","voided":false,"used_for":null}],
     "voids":[]}]})J"));
}

TEST_F(ConsoleApiTest, UnknownChipsAndWhatEachTimingPointExpects) {
  EXPECT_EQ(get("/api/v1/console/unknown-chips"), json::parse(R"({"chips":[
    {"chip":"zz","reads":[{"timing_point":"k5","time_ms":1743895000000}],
     "first_seen_ms":1743895000000,"last_seen_ms":1743895000000}]})"));
  // 2 has the finish ahead, 3 the 5k and the finish.
  EXPECT_EQ(get("/api/v1/console/expecting"), json::parse(R"({"now_ms":1743897000000,
    "timing_points":[{"timing_point":"start","expected":0},{"timing_point":"k5","expected":1},
                     {"timing_point":"finish","expected":2}]})"));
}

TEST_F(ConsoleApiTest, UnknownPathsMethodsAndTimesAreRefused) {
  const HttpResponse missing = request("/api/v1/console/leaderboard");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(json::parse(missing.body()).at("error").at("code"), "not_found");
  EXPECT_EQ(request("/api/v1/console/").result(), http::status::not_found);
  const HttpResponse post = request("/api/v1/console/overview", http::verb::post);
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
  EXPECT_EQ(request("/api/v1/console/review", http::verb::head).result(), http::status::ok);
  EXPECT_NE(bad_parameter("/api/v1/console/overview?now_ms=yesterday").find("now_ms"),
            std::string::npos);
}

TEST(ConsoleClock, TheRaceClockForAReplayOfAPastRaceTheWallClockLive) {
  constexpr TimeMs kHour = 3'600'000;
  const TimeMs wall = 1'796'352'000'000;
  // Live: the latest read a minute old, or none yet: the wall clock.
  EXPECT_EQ(console_now(ConsoleClock::automatic, wall, wall - 60'000), wall);
  EXPECT_EQ(console_now(ConsoleClock::automatic, wall, 0), wall);
  EXPECT_EQ(console_now(ConsoleClock::automatic, wall, wall - 6 * kHour), wall);
  // A replay of last year's race: its reads' time.
  EXPECT_EQ(console_now(ConsoleClock::automatic, wall, wall - 6 * kHour - 1), wall - 6 * kHour - 1);
  // Forced either way.
  EXPECT_EQ(console_now(ConsoleClock::wall, wall, wall - 400 * 24 * kHour), wall);
  EXPECT_EQ(console_now(ConsoleClock::race, wall, wall - 60'000), wall - 60'000);
  EXPECT_EQ(console_now(ConsoleClock::race, wall, 0), wall);  // no read yet
}

}  // namespace
}  // namespace splitstream::testing
