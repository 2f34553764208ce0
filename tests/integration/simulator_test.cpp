// splitstream-sim against a real `splitstream serve` and redis-server: the demo race's reads
// replayed over the device protocol give the server the same results as `splitstream results`
// on the same reads, also when the simulator is killed midway and started again.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "engine/race_engine.hpp"
#include "model/event_loader.hpp"
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

using namespace std::chrono_literals;
const std::string kEventDir = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";
const std::string kReads = kEventDir + "/reads.csv";

// What `splitstream results --race R --format csv` prints for a reads file, per race.
std::string expected_results(const std::string& race, const std::string& reads = kReads) {
  const Event& event = DemoRace::get().event();
  std::ifstream in(reads);
  std::stringstream text;
  text << in.rdbuf();
  RaceEngine engine(event);
  apply_reads(engine, parse_reads_csv(text.str(), event).reads);
  ReportOptions options;
  options.race = race;
  return results_csv(engine, options);
}

class SimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
    node_ = start_serve_node(redis_.port(), tokens_);
  }

  std::unique_ptr<ChildProcess> sim(const std::string& speed,
                                    const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"replay",
                                  "--event",
                                  kEventDir,
                                  "--reads",
                                  kReads,
                                  "--server",
                                  "127.0.0.1:" + std::to_string(node_.devices),
                                  "--device-tokens-file",
                                  tokens_.string(),
                                  "--speed",
                                  speed};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(SPLITSTREAM_BIN_DIR "/splitstream-sim", args);
  }

  void expect_results_equal_the_cli() {
    const std::string total = std::to_string(DemoRace::get().total_reads());
    // Every read applied exactly once: the stream holds no duplicate of a resent read.
    EXPECT_NE(wait_engine_applied(node_.http, DemoRace::get().total_reads()).find(total),
              std::string::npos);
    for (const char* race : {"marathon", "half", "10k", "5k"}) {
      const auto got = http_get(node_.http, std::string("/api/v1/results.csv?race=") + race);
      EXPECT_EQ(got.status, 200);
      EXPECT_EQ(got.body, expected_results(race)) << race;
    }
  }

  RedisServer redis_;
  std::filesystem::path tokens_;
  ServeNode node_;
};

TEST_F(SimulatorTest, AReplayAsFastAsPossibleGivesTheResultsOfTheReadsFile) {
  auto run = sim("max");
  EXPECT_EQ(run->wait(60s), 0);
  expect_results_equal_the_cli();
}

TEST_F(SimulatorTest, KilledMidwayAndStartedAgainItResumesWithoutLossOrDuplicates) {
  // The race (six and a half hours of reads) at x1000 takes 24 seconds: stopped once the server
  // has applied a quarter of the reads (about two seconds in), long before the end.
  const std::size_t total = DemoRace::get().total_reads();
  auto first = sim("1000");
  ASSERT_TRUE(wait_until([&] { return reads_applied(node_.http).value_or(0) >= total / 4; }))
      << "the first run delivered " << reads_applied(node_.http).value_or(0) << " reads";
  ASSERT_TRUE(first->running());
  first->signal(SIGKILL);
  first->wait(5s);
  const std::size_t midway = reads_applied(node_.http).value_or(0);
  EXPECT_LT(midway, total) << "the first run was meant to be cut short";
  // Started again, each device resumes after what the server acknowledged.
  auto second = sim("max");
  EXPECT_EQ(second->wait(60s), 0);
  expect_results_equal_the_cli();
}

TEST_F(SimulatorTest, WithEveryFaultOnTheServerAgreesWithTheResultsOfTheReadsSent) {
  // Raw duplicates, missed reads, a drifting clock, a backup line dark for an hour of the race
  // (its backlog sent after), every device dropping its line before every third ack: the
  // server's results equal `splitstream results` on the reads the devices sent, each read
  // applied once however often it was resent.
  const std::string sent = (redis_.dir() / "sent.csv").string();
  auto run = sim("20000", {"--duplicates", "0.3", "--miss", "0.05", "--clock-drift",
                           "arch-main=1500", "--offline", "arch-backup=30-90", "--reconnect-every",
                           "3", "--max-batch", "50", "--seed", "7", "--sent-reads", sent});
  EXPECT_EQ(run->wait(60s), 0);
  std::ifstream in(sent);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  const std::size_t reads = lines - 1;  // the header
  // About 1.3 x 0.95 of the 19,899 reads: more than the file, so duplicates were added.
  EXPECT_GT(reads, DemoRace::get().total_reads());
  EXPECT_NE(wait_engine_applied(node_.http, reads).find(std::to_string(reads)), std::string::npos);
  for (const char* race : {"marathon", "half", "10k", "5k"}) {
    const auto got = http_get(node_.http, std::string("/api/v1/results.csv?race=") + race);
    EXPECT_EQ(got.body, expected_results(race, sent)) << race;
  }
}

TEST_F(SimulatorTest, ARefusedDeviceOrAMissingTokenMakesTheExitStatusOne) {
  // The server refuses stadium-main (wrong token, ERROR_CODE_BAD_TOKEN): the other devices
  // play their reads, and the exit status says that not everything was delivered.
  {
    std::ofstream out(tokens_);
    for (const Device& d : DemoRace::get().event().devices)
      out << d.id << (d.id == "stadium-main" ? " wrong-token\n" : " tok-" + d.id + "\n");
  }
  auto refused = sim("max");
  EXPECT_EQ(refused->wait(30s), 1);
  // Without a token for a device, it does not start at all.
  std::ofstream(tokens_) << "stadium-main tok-stadium-main\n";
  auto missing = sim("max");
  EXPECT_EQ(missing->wait(20s), 1);
}

// `splitstream-sim race`: a generated field simulated and played through the live server.
class SimulatedRaceTest : public ::testing::Test {
 protected:
  std::optional<int> run_sim(const std::vector<std::string>& args,
                             std::chrono::seconds limit = 60s) {
    ChildProcess sim(SPLITSTREAM_BIN_DIR "/splitstream-sim", args);
    return sim.wait(limit);
  }

  // Writes the tokens of the event in `dir` and starts a node serving it.
  Event serve(const std::filesystem::path& dir) {
    LoadedEvent loaded = load_event_dir(dir);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.problems.front().to_string());
    tokens_ = redis_.dir() / "device-tokens";
    std::ofstream out(tokens_);
    for (const Device& d : loaded.event.devices)
      out << d.id << " tok-" << d.id << "\n";
    out.close();
    node_ = start_serve_node(redis_.port(), tokens_, {}, 0, 0, dir.string());
    return std::move(loaded.event);
  }

  std::vector<std::string> race_args(const std::filesystem::path& dir,
                                     const std::vector<std::string>& extra) {
    std::vector<std::string> args{"race",
                                  "--event",
                                  dir.string(),
                                  "--server",
                                  "127.0.0.1:" + std::to_string(node_.devices),
                                  "--device-tokens-file",
                                  tokens_.string(),
                                  "--sent-reads",
                                  sent_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // The server's results per race equal `splitstream results` on the reads the devices sent.
  void expect_server_results_equal_results_of_sent(const Event& event) {
    std::ifstream in(sent_);
    std::stringstream text;
    text << in.rdbuf();
    const ReadsFile sent = parse_reads_csv(text.str(), event);
    ASSERT_TRUE(sent.problems.empty());
    ASSERT_GT(sent.reads.size(), event.participants.size());
    RaceEngine engine(event);
    apply_reads(engine, sent.reads);
    EXPECT_NE(
        wait_engine_applied(node_.http, sent.reads.size()).find(std::to_string(sent.reads.size())),
        std::string::npos);
    for (const Race& race : event.races) {
      ReportOptions options;
      options.race = race.id;
      const auto got = http_get(node_.http, "/api/v1/results.csv?race=" + race.id);
      EXPECT_EQ(got.status, 200);
      EXPECT_EQ(got.body, results_csv(engine, options)) << race.id;
    }
  }

  RedisServer redis_;
  std::filesystem::path tokens_;
  std::filesystem::path sent_ = redis_.dir() / "sent.csv";
  ServeNode node_;
};

TEST_F(SimulatedRaceTest, AGeneratedCityMarathonWithFaultsGivesTheResultsOfTheReadsSent) {
  const auto dir = redis_.dir() / "city";
  ASSERT_EQ(run_sim({"event", "--out", dir.string(), "--runners", "1500", "--timing-points", "6",
                     "--waves", "3", "--seed", "5"}),
            0);
  const Event event = serve(dir);
  ASSERT_EQ(event.participants.size(), 1500u);
  ASSERT_EQ(event.timing_points.size(), 6u);
  ASSERT_EQ(event.races.front().waves.size(), 3u);
  // As fast as acknowledged, with raw duplicates on top of the mats' own, missed reads, a
  // drifting finish clock and every line dropped before every fifth ack.
  EXPECT_EQ(run_sim(race_args(dir, {"--speed", "max", "--seed", "5", "--duplicates", "0.2",
                                    "--miss", "0.02", "--clock-drift", "finish-main=3000",
                                    "--reconnect-every", "5", "--max-batch", "200"})),
            0);
  expect_server_results_equal_results_of_sent(event);
  // Finishers, dropouts on the way and runners who never started: a race, not a procession.
  const auto results = http_get(node_.http, "/api/v1/results.csv?race=marathon").body;
  EXPECT_NE(results.find("finished"), std::string::npos);
  EXPECT_NE(results.find("not_started"), std::string::npos);
}

TEST_F(SimulatedRaceTest, AFieldForTheDemoEventWithADeviceOfflineGivesTheResultsOfTheReadsSent) {
  const auto dir = redis_.dir() / "pyongyang";
  ASSERT_EQ(run_sim({"field", "--event", SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025", "--out",
                     dir.string(), "--runners", "800", "--race-shares", "4,3,2,1"}),
            0);
  const Event event = serve(dir);
  ASSERT_EQ(event.participants.size(), 800u);
  // The stadium's backup line dark for an hour of the race, its backlog sent when it is back;
  // a main and a backup line at every mat.
  EXPECT_EQ(run_sim(race_args(dir, {"--speed", "20000", "--offline", "stadium-backup=20-80",
                                    "--raw-reads", "2", "--capture", "0.97"})),
            0);
  expect_server_results_equal_results_of_sent(event);
}

TEST_F(SimulatedRaceTest, BadArgumentsAreNamed) {
  // Runs the simulator with its stderr in a file; the exit status and what it said.
  auto run = [&](const std::string& args, std::string& said) {
    const auto err = redis_.dir() / "stderr.txt";
    ChildProcess sh("/bin/sh", {"-c", std::string("exec " SPLITSTREAM_BIN_DIR "/splitstream-sim ") +
                                          args + " 2>" + err.string()});
    const auto status = sh.wait(10s);
    std::ifstream in(err);
    std::stringstream text;
    text << in.rdbuf();
    said = text.str();
    return status;
  };
  std::string said;
  EXPECT_EQ(run("event --runners 10", said), 2);
  EXPECT_NE(said.find("--out DIR is required"), std::string::npos) << said;
  EXPECT_EQ(run("race --event " + kEventDir + " --reads " + kReads, said), 2);
  EXPECT_NE(said.find("--reads is not taken"), std::string::npos) << said;
  EXPECT_EQ(run("event --out " + (redis_.dir() / "x").string() + " --timing-points 1", said), 2);
  EXPECT_NE(said.find("--timing-points wants a whole number from 2 to 50"), std::string::npos)
      << said;
  EXPECT_EQ(run("field --event " + kEventDir + " --out " + (redis_.dir() / "y").string() +
                    " --race-shares 1,2",
                said),
            1);
  EXPECT_NE(said.find("race shares: 2 given for 4 races"), std::string::npos) << said;
}

}  // namespace
}  // namespace splitstream::testing
