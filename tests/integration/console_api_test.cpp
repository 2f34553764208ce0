// The race director's console against a real `splitstream serve` and redis-server, fed the demo
// race by splitstream-sim: the overview counts what `splitstream results` says of the same
// reads, and overdue, sweep, cut-offs, review, unknown chips and expecting answer with what
// the end of the race holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/csv.hpp"
#include "engine/race_engine.hpp"
#include "results/reads_file.hpp"
#include "results/results_report.hpp"
#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/engine_harness.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
const std::string kEventDir = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";
const std::string kReads = kEventDir + "/reads.csv";
const std::string kAdminToken = "officials-token-0123456789";

// One row of `splitstream results --format csv`: the columns the console's counts rest on.
struct ResultRow {
  std::string race, bib, status, last_split, flags;
};

// What `splitstream results --format csv` prints for the demo reads, row by row.
std::vector<ResultRow> cli_results() {
  std::ifstream in(kReads);
  std::stringstream text;
  text << in.rdbuf();
  RaceEngine engine(DemoRace::get().event());
  apply_reads(engine, parse_reads_csv(text.str(), DemoRace::get().event()).reads);
  const std::string csv = results_csv(engine, ReportOptions{});
  CsvReader reader(csv);
  CsvRow row;
  std::string error;
  EXPECT_TRUE(reader.next(row, error));
  const CsvHeader header(row.fields);
  const auto column = [&](const char* name) { return *header.find(name); };
  std::vector<ResultRow> out;
  while (reader.next(row, error)) {
    out.push_back({row.fields[column("race")], row.fields[column("bib")],
                   row.fields[column("status")], row.fields[column("last_split")],
                   row.fields[column("flags")]});
  }
  return out;
}

TimeMs last_read_time() {
  TimeMs last = 0;
  for (const auto& [device, reads] : DemoRace::get().by_device()) {
    for (const FileRead& r : reads)
      last = std::max(last, r.time);
  }
  return last;
}

std::set<std::string> bibs_of(const json::array& runners) {
  std::set<std::string> out;
  for (const json::value& r : runners)
    out.insert(std::string(r.at("bib").as_string()));
  return out;
}

class ConsoleApiIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto tokens = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens);
    const auto admin = redis_.dir() / "admin-token";
    std::ofstream(admin) << kAdminToken << "\n";
    node_ = start_serve_node(redis_.port(), tokens, {"--admin-token-file", admin.string()});
    ChildProcess sim(SPLITSTREAM_BIN_DIR "/splitstream-sim",
                     {"replay", "--event", kEventDir, "--reads", kReads, "--server",
                      "127.0.0.1:" + std::to_string(node_.devices), "--device-tokens-file",
                      tokens.string(), "--speed", "max"});
    ASSERT_EQ(sim.wait(60s), 0);
    const std::string total = std::to_string(DemoRace::get().total_reads());
    ASSERT_NE(wait_engine_applied(node_.http, DemoRace::get().total_reads()).find(total),
              std::string::npos);
  }

  // As an official: the console is for them only.
  json::value get(const std::string& path) {
    const HttpResult r =
        http_send(node_.http, "GET", path, "", "Authorization: Bearer " + kAdminToken + "\r\n");
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.status == 200 ? json::parse(r.body) : json::value();
  }

  RedisServer redis_;
  ServeNode node_;
};

TEST_F(ConsoleApiIntegration, AfterTheReplayTheConsoleAgreesWithTheResults) {
  const std::vector<ResultRow> results = cli_results();
  ASSERT_EQ(results.size(), DemoRace::get().event().participants.size());
  const std::string at = "now_ms=" + std::to_string(last_read_time());

  // Overview on the server's clock (a year and more after the race): every runner never seen
  // is a DNS, and each count is the results' statuses.
  const json::value overview = get("/api/v1/console/overview");
  ASSERT_EQ(overview.at("races").as_array().size(), 4u);
  for (const json::value& race : overview.at("races").as_array()) {
    const std::string id(race.at("race").as_string());
    std::map<std::string, std::int64_t> status;
    std::int64_t entered = 0, started = 0;
    for (const ResultRow& row : results) {
      if (row.race != id) continue;
      ++entered;
      ++status[row.status];
      if (!row.last_split.empty()) ++started;
    }
    EXPECT_EQ(race.at("entered").to_number<std::int64_t>(), entered) << id;
    EXPECT_EQ(race.at("started").to_number<std::int64_t>(), started) << id;
    EXPECT_EQ(race.at("on_course").to_number<std::int64_t>(), status["running"]) << id;
    EXPECT_EQ(race.at("finished").to_number<std::int64_t>(), status["finished"]) << id;
    EXPECT_EQ(race.at("dnf").to_number<std::int64_t>(), status["dnf"]) << id;
    EXPECT_EQ(race.at("dsq").to_number<std::int64_t>(), status["dsq"]) << id;
    EXPECT_EQ(race.at("dns").to_number<std::int64_t>(), status["not_started"]) << id;
    EXPECT_EQ(race.at("not_yet_seen").to_number<std::int64_t>(), 0) << id;
    // The waves of the half add up to the race.
    std::int64_t in_waves = 0;
    for (const json::value& wave : race.at("waves").as_array())
      in_waves += wave.at("entered").to_number<std::int64_t>();
    EXPECT_EQ(in_waves, id == "half" ? entered : 0) << id;
  }
  // A replay of the 2025 race: the console's clock is the race clock, the latest read's time
  // (--console-clock auto).
  EXPECT_EQ(overview.at("now_ms").to_number<std::int64_t>(), last_read_time());

  // At the last read, every runner still running stopped long before: all overdue, and the
  // marathon's two are what its sweep behind the finish and its cut-offs show.
  std::set<std::string> running, marathon_running, flagged;
  for (const ResultRow& row : results) {
    if (row.status == "running") running.insert(row.bib);
    if (row.status == "running" && row.race == "marathon") marathon_running.insert(row.bib);
    if (!row.flags.empty()) flagged.insert(row.bib);
  }
  ASSERT_FALSE(running.empty());
  const json::value overdue = get("/api/v1/console/overdue?margin_s=300&" + at);
  const json::array& late = overdue.at("runners").as_array();
  EXPECT_EQ(bibs_of(late), running);
  for (std::size_t i = 0; i < late.size(); ++i) {
    EXPECT_GT(late[i].at("overdue_ms").to_number<std::int64_t>(), 300'000);
    EXPECT_EQ(late[i].at("expected_ms").to_number<std::int64_t>() +
                  late[i].at("overdue_ms").to_number<std::int64_t>(),
              last_read_time());
    if (i > 0) {
      EXPECT_GE(late[i - 1].at("overdue_ms").to_number<std::int64_t>(),
                late[i].at("overdue_ms").to_number<std::int64_t>());
    }
  }
  EXPECT_EQ(bibs_of(get("/api/v1/console/overdue?race=marathon&" + at).at("runners").as_array()),
            marathon_running);

  const json::value sweep = get("/api/v1/console/sweep?race=marathon&split=finish&" + at);
  EXPECT_EQ(sweep.at("passed"), 138);
  EXPECT_EQ(sweep.at("expected").to_number<std::size_t>(), marathon_running.size());
  EXPECT_EQ(bibs_of(sweep.at("runners").as_array()), marathon_running);
  for (const json::value& r : sweep.at("runners").as_array())
    EXPECT_GE(r.at("eta_ms").to_number<std::int64_t>(), last_read_time());
  const json::value splits = get("/api/v1/console/sweep?race=marathon&" + at);
  ASSERT_EQ(splits.at("splits").as_array().size(), 21u);
  EXPECT_EQ(splits.at("splits").at(20).at("still_out").to_number<std::size_t>(),
            marathon_running.size());

  // The demo's cut-offs: 5 marathon runners finished after 6:00:00, and the two still out
  // have missed it.
  const json::value cutoffs = get("/api/v1/console/cutoffs?" + at);
  ASSERT_EQ(cutoffs.at("cutoffs").as_array().size(), 5u);
  const json::value& finish = cutoffs.at("cutoffs").at(2);
  EXPECT_EQ(finish.at("race"), "marathon");
  EXPECT_EQ(finish.at("split"), "finish");
  EXPECT_TRUE(finish.at("wave").is_null());
  EXPECT_EQ(finish.at("passed"), 138);
  EXPECT_EQ(finish.at("passed_late"), 5);
  EXPECT_EQ(bibs_of(finish.at("projected_to_miss").as_array()), marathon_running);

  // Each running runner is expected at the stadium, where every race ends.
  const json::value expecting = get("/api/v1/console/expecting?" + at);
  EXPECT_EQ(expecting.at("timing_points").at(0).at("timing_point"), "stadium");
  EXPECT_EQ(expecting.at("timing_points").at(0).at("expected").to_number<std::size_t>(),
            running.size());

  // Without corrections the review queue is the flagged runners of the results, each with its
  // reads.
  const json::value review = get("/api/v1/console/review");
  EXPECT_EQ(bibs_of(review.at("runners").as_array()), flagged);
  for (const json::value& r : review.at("runners").as_array()) {
    EXPECT_FALSE(r.at("flags").as_array().empty()) << r.at("bib");
    EXPECT_FALSE(r.at("reads").as_array().empty()) << r.at("bib");
  }

  // Unknown chips: those the engine keeps aside for the same reads.
  RaceEngine engine(DemoRace::get().event());
  for (const auto& [device, reads] : DemoRace::get().by_device())
    apply_reads(engine, reads);
  std::set<std::string> unknown;
  for (const UnknownChipInfo& u : engine.unknown_chips())
    unknown.insert(u.chip);
  std::set<std::string> listed;
  const json::value chips = get("/api/v1/console/unknown-chips");
  for (const json::value& chip : chips.at("chips").as_array()) {
    listed.insert(std::string(chip.at("chip").as_string()));
    EXPECT_FALSE(chip.at("reads").as_array().empty());
  }
  EXPECT_EQ(listed, unknown);

  // An official voids bib 1's first read at the arch (08:02:43): bib 1 joins the review queue
  // with the window, the read voided and used for no split.
  const HttpResult voided =
      http_send(node_.http, "POST", "/api/v1/admin/corrections",
                R"({"kind":"void_reads","bib":"1","timing_point":"arch",)"
                R"("from":"2025-04-06T08:02:00+09:00","to":"2025-04-06T08:03:30+09:00"})",
                "Authorization: Bearer " + kAdminToken + "\r\nContent-Type: application/json\r\n");
  EXPECT_TRUE(voided.status == 201 || voided.status == 202) << voided.body;
  json::value one;
  ASSERT_TRUE(wait_until([&] {
    const json::value queue = get("/api/v1/console/review");
    for (const json::value& r : queue.at("runners").as_array()) {
      if (r.at("bib") == "1") one = r;
    }
    return one.is_object();
  })) << "bib 1 never reached the review queue";
  const TimeMs from = 1'743'894'120'000;  // 08:02:00+09:00
  EXPECT_EQ(one.at("voids"), json::parse(R"([{"timing_point":"arch","from_ms":1743894120000,)"
                                         R"("to_ms":1743894210000}])"));
  std::size_t in_window = 0;
  for (const json::value& read : one.at("reads").as_array()) {
    const TimeMs t = read.at("time_ms").to_number<std::int64_t>();
    const bool inside = read.at("timing_point") == "arch" && t >= from && t <= from + 90'000;
    EXPECT_EQ(read.at("voided").as_bool(), inside) << read;
    if (inside) {
      ++in_window;
      EXPECT_TRUE(read.at("used_for").is_null()) << read;
    }
  }
  EXPECT_GT(in_window, 0u);
  EXPECT_TRUE(one.at("splits").at(1).at("time_ms").is_null()) << one.at("splits").at(1);

  // A bad parameter is named; an unknown console path is a JSON 404.
  const std::string auth = "Authorization: Bearer " + kAdminToken + "\r\n";
  const HttpResult bad = http_send(node_.http, "GET", "/api/v1/console/sweep?race=ultra", "", auth);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("race: the event has no race \\\"ultra\\\""), std::string::npos)
      << bad.body;
  EXPECT_EQ(http_send(node_.http, "GET", "/api/v1/console/nothing", "", auth).status, 404);

  // Spectators are refused: the console is for signed-in officials.
  const HttpResult anonymous = http_get(node_.http, "/api/v1/console/overview");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
}

}  // namespace
}  // namespace splitstream::testing
