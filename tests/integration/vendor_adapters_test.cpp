// Each vendor's hardware, as splitstream-sim plays it, into a real server and a real Redis: the
// demo race with faults (lines dropped, each vendor's own quirks), the server killed and started
// again mid-race; the server's results equal `splitstream results` on the reads the hardware
// sent, and nothing the hardware was told was stored is lost.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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
const std::filesystem::path kDemoDir = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";

struct Mat {
  const char* timing_point;
  const char* line;
};
// The demo event's timing points and lines.
const std::vector<Mat> kMats = {{"stadium", "main"}, {"stadium", "backup"}, {"arch", "main"},
                                {"arch", "backup"},  {"square", "main"},    {"square", "backup"},
                                {"mirae", "main"},   {"mirae", "backup"},   {"potong", "main"},
                                {"potong", "backup"}};

// The first line where two CSV texts differ, both versions (a whole results table is too long
// for a test log).
std::string first_difference(const std::string& got, const std::string& want) {
  std::istringstream a(got), b(want);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) return "no difference";
    if (la != lb || more_a != more_b)
      return "line " + std::to_string(line) + ":\n  server: " + la + "\n  wanted: " + lb;
  }
}

std::string target(const Mat& m) {
  return std::string(R"({"timing_point": ")") + m.timing_point + R"(", "line": ")" + m.line + "\"}";
}

class VendorAdaptersTest : public ::testing::Test {
 protected:
  // The demo event with a decoders.json for `protocol` (the vendor's own names for the mats).
  void write_event(const std::string& protocol) {
    std::filesystem::copy(kDemoDir, event_dir_, std::filesystem::copy_options::recursive);
    std::filesystem::remove(event_dir_ / "reads.csv");
    std::ostringstream json;
    json << R"({"decoders": [)";
    if (protocol == "raceresult") {
      // A decoder (one box) per mat, each dialled by the server.
      for (std::size_t i = 0; i < kMats.size(); ++i) {
        const std::string id = std::string("rr-") + kMats[i].timing_point + "-" + kMats[i].line;
        decoder_ids_.push_back(id);
        json << (i ? "," : "") << R"({"id": ")" << id
             << R"(", "protocol": "raceresult", "dial": "127.0.0.1:)" << free_port()
             << R"(", "timing_point": ")" << kMats[i].timing_point << R"(", "line": ")"
             << kMats[i].line << "\"}";
      }
    } else {
      decoder_ids_.push_back(protocol + "-1");
      json << R"({"id": ")" << decoder_ids_.back() << R"(", "protocol": ")" << protocol << "\"";
      if (protocol != "impinj") json << R"(, "listen": "127.0.0.1:)" << free_port() << "\"";
      json << R"(, "sources": {)";
      for (std::size_t i = 0; i < kMats.size(); ++i) {
        // MYLAPS locations hold spaces and '=' ("21Km = 2Km"); Impinj names antenna ports.
        std::string name = std::string(kMats[i].timing_point) + " = " + kMats[i].line;
        if (protocol == "ctp01") name = std::string(kMats[i].timing_point) + "-" + kMats[i].line;
        if (protocol == "impinj") name = std::to_string(i + 1);
        json << (i ? "," : "") << "\"" << name << "\": " << target(kMats[i]);
      }
      json << "}}";
    }
    json << "]}";
    std::ofstream(event_dir_ / "decoders.json") << json.str();
    LoadedEvent loaded = load_event_dir(event_dir_);
    ASSERT_TRUE(loaded.ok()) << loaded.problems.front().to_string();
    ASSERT_EQ(loaded.decoders.size(), decoder_ids_.size());
    event_ = std::move(loaded.event);
    std::ofstream tokens(tokens_);
    for (const Device& d : event_.devices)
      tokens << d.id << " tok-" << d.id << "\n";
    for (const std::string& id : decoder_ids_)
      tokens << id << " tok-" << id << "\n";
  }

  void start_node(int http = 0, int devices = 0) {
    // Each start appends to the log: a failure shows both runs.
    node_ = start_serve_node(
        redis_.port(), tokens_, {"--log-level", "info"}, http, devices, event_dir_.string(),
        (redis_.dir() / ("serve" + std::to_string(++starts_) + ".log")).string());
  }

  std::unique_ptr<ChildProcess> sim(const std::string& protocol,
                                    const std::vector<std::string>& extra) {
    std::vector<std::string> args{"replay",
                                  "--event",
                                  event_dir_.string(),
                                  "--reads",
                                  (kDemoDir / "reads.csv").string(),
                                  "--protocol",
                                  protocol,
                                  "--http",
                                  "127.0.0.1:" + std::to_string(node_.http),
                                  "--device-tokens-file",
                                  tokens_.string(),
                                  "--sent-reads",
                                  sent_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(SPLITSTREAM_BIN_DIR "/splitstream-sim", args,
                                          (redis_.dir() / "sim.log").string());
  }

  // What `splitstream results` prints for the reads the hardware sent, per race.
  std::map<std::string, std::string> expected_results() {
    std::ifstream in(sent_);
    std::stringstream text;
    text << in.rdbuf();
    const ReadsFile sent = parse_reads_csv(text.str(), event_);
    EXPECT_TRUE(sent.problems.empty());
    EXPECT_GT(sent.reads.size(), event_.participants.size());
    RaceEngine engine(event_);
    apply_reads(engine, sent.reads);
    std::map<std::string, std::string> out;
    for (const Race& race : event_.races) {
      ReportOptions options;
      options.race = race.id;
      out[race.id] = results_csv(engine, options);
    }
    return out;
  }

  // Waits until the server's results equal those of the reads sent (the last reads may still
  // be on their way through the stream when the sim exits).
  void expect_server_results_equal_results_of_sent() {
    const auto expected = expected_results();
    for (const auto& [race, csv] : expected) {
      std::string got;
      const bool same = wait_until(
          [&] {
            got = http_get(node_.http, "/api/v1/results.csv?race=" + race).body;
            return got == csv;
          },
          15s);
      EXPECT_TRUE(same) << race << ": the server's results differ from those of the reads sent; "
                        << first_difference(got, csv) << "\n"
                        << (same ? "" : witness_says(race, csv));
    }
  }

  // For a failure message: whether a node that replays the whole stream (no checkpoint, no
  // decoders) agrees with the reads sent, which tells a stream that lacks reads from a node
  // that did not apply what the stream holds.
  std::string witness_says(const std::string& race, const std::string& expected_csv) {
    const std::filesystem::path dir = redis_.dir() / "witness-event";
    std::error_code ignored;
    std::filesystem::copy(event_dir_, dir, std::filesystem::copy_options::recursive, ignored);
    std::filesystem::remove(dir / "decoders.json", ignored);
    const ServeNode witness =
        start_serve_node(redis_.port(), tokens_, {"--checkpoint-interval", "0"}, 0, 0, dir.string(),
                         (redis_.dir() / "witness.log").string());
    const std::string csv = http_get(witness.http, "/api/v1/results.csv?race=" + race).body;
    if (csv == expected_csv)
      return "a node replaying the whole stream agrees with the reads sent: the stream holds them";
    return "a node replaying the whole stream differs too: " + first_difference(csv, expected_csv);
  }

  // The sim's output and the last lines of each server's log, for a failure message.
  std::string log_tail() {
    std::string out;
    for (int i = 0; i <= starts_; ++i) {
      const std::string name = i == 0 ? "sim.log" : "serve" + std::to_string(i) + ".log";
      std::ifstream in(redis_.dir() / name);
      std::vector<std::string> lines;
      for (std::string line; std::getline(in, line);)
        lines.push_back(line);
      out += "--- " + name + " (last lines)\n";
      for (std::size_t k = lines.size() > 25 ? lines.size() - 25 : 0; k < lines.size(); ++k)
        out += lines[k] + "\n";
    }
    return out;
  }

  // The race at x3000 (about 8 s), the server killed with SIGKILL once it holds a quarter of
  // the reads and started again on the same ports; the sim goes on and finishes.
  void play_with_a_server_crash(const std::string& protocol,
                                const std::vector<std::string>& faults) {
    write_event(protocol);
    start_node();
    std::vector<std::string> args = faults;
    args.insert(args.end(), {"--speed", "3000"});
    auto run = sim(protocol, args);
    const std::size_t quarter = DemoRace::get().total_reads() / 4;
    ASSERT_TRUE(wait_until([&] { return reads_applied(node_.http).value_or(0) >= quarter; }, 30s))
        << "the server got " << reads_applied(node_.http).value_or(0) << " reads\n"
        << log_tail();
    ASSERT_TRUE(run->running()) << "the race was meant to be under way\n" << log_tail();
    const int http = node_.http;
    const int devices = node_.devices;
    node_.process->signal(SIGKILL);
    node_.process->wait(5s);
    start_node(http, devices);
    EXPECT_EQ(run->wait(90s), 0) << log_tail();
    expect_server_results_equal_results_of_sent();
  }

  RedisServer redis_;
  std::filesystem::path event_dir_ = redis_.dir() / "event";
  std::filesystem::path tokens_ = redis_.dir() / "device-tokens";
  std::filesystem::path sent_ = redis_.dir() / "sent.csv";
  std::vector<std::string> decoder_ids_;
  int starts_ = 0;
  Event event_;
  ServeNode node_;
};

TEST_F(VendorAdaptersTest, RaceResultDecodersDialledWithANewFileAndDroppedLinesThroughACrash) {
  // Every decoder drops the line after every 150 passings, and opens a new passing file an hour
  // into the race: the server fetches each gap, and the new file from its first passing.
  // One decoder is off the network for half an hour of the race; its backlog follows.
  play_with_a_server_crash(
      "raceresult", {"--reconnect-every", "150", "--new-file-at", "60", "--duplicates", "0.1",
                     "--offline", "rr-arch-main=30-60", "--seed", "3"});
}

TEST_F(VendorAdaptersTest, Ctp01SoftwareConnectingWithDroppedLinesThroughACrash) {
  play_with_a_server_crash(
      "ctp01", {"--reconnect-every", "700", "--offline", "ctp01-1=40-55", "--seed", "4"});
}

TEST_F(VendorAdaptersTest, MylapsExporterWithResendStormsThroughACrash) {
  // Unacknowledged messages come back all the time, re-batched under new numbers, out of order.
  play_with_a_server_crash("mylaps", {"--resend-storm", "--reconnect-every", "900", "--seed", "5"});
}

TEST_F(VendorAdaptersTest, ImpinjPostsThroughACrash) {
  play_with_a_server_crash("impinj", {"--max-batch", "100", "--duplicates", "0.1", "--seed", "6"});
}

TEST_F(VendorAdaptersTest, TheCrewSeesEachDecoderAndItsCounters) {
  write_event("mylaps");
  start_node();
  auto run = sim("mylaps", {"--speed", "max"});
  ASSERT_EQ(run->wait(60s), 0) << log_tail();
  expect_server_results_equal_results_of_sent();
  const std::string devices = http_get(node_.http, "/api/v1/devices").body;
  EXPECT_NE(devices.find("\"id\":\"mylaps-1\""), std::string::npos) << devices;
  EXPECT_NE(devices.find("\"protocol\":\"mylaps\""), std::string::npos) << devices;
  EXPECT_NE(devices.find("\"unknown_locations\":0"), std::string::npos) << devices;
  const double stored = metric(
      node_.http, "splitstream_decoder_reads_total{decoder=\"mylaps-1\",protocol=\"mylaps\"}");
  EXPECT_GT(stored, 0);
  // Its presence, as this node (holding it) published it: the exporter has gone, the port
  // listens; every read it stored counted, under this node's default name.
  boost::json::value presence;
  EXPECT_TRUE(wait_until([&] {
    const boost::json::value body =
        boost::json::parse(http_get(node_.http, "/api/v1/devices").body);
    presence = body.at("decoders").at(0).at("presence");
    return presence.is_object() && presence.at("state") == "listening" &&
           presence.at("reads_total").to_number<double>() == stored;
  })) << boost::json::serialize(presence);
  EXPECT_TRUE(presence.at("node").as_string().ends_with(":" + std::to_string(node_.http)))
      << boost::json::serialize(presence);
  // Impinj reads posted for a decoder that is no Impinj reader are refused, naming it.
  const auto refused = http_send(node_.http, "POST", "/api/v1/impinj/mylaps-1?token=x", "{}");
  EXPECT_EQ(refused.status, 404);
  EXPECT_NE(refused.body.find("no impinj decoder"), std::string::npos) << refused.body;
}

}  // namespace
}  // namespace splitstream::testing
