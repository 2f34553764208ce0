// What the Redis fault tests share: the demo race played by splitstream-sim (its summary kept),
// the reads in the event's Redis stream by (device, seq), the results `splitstream results`
// gives for the reads the simulator sent, and a node's Redis readiness check.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/race_engine.hpp"
#include "results/reads_file.hpp"
#include "results/results_report.hpp"
#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/engine_harness.hpp"
#include "support/redis_server.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {

inline const std::string kDemoEventDir = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";
inline const std::string kDemoReadsKey = "{ev:pyongyang-2025}:reads";

inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last `lines` lines of a log, headed by its name, for failure messages.
inline std::string log_lines(const std::filesystem::path& path, std::size_t lines = 30) {
  std::istringstream in(file_text(path));
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);)
    all.push_back(line);
  std::string out = "--- " + path.filename().string() + " (last lines)\n";
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += all[i] + "\n";
  return out;
}

// `splitstream-sim replay` of the demo race's reads to a device port, its summary (stdout) and
// its log (stderr) in `dir`, the reads as sent in dir/sent.csv.
class SimRun {
 public:
  SimRun(const std::filesystem::path& dir, int devices_port, const std::filesystem::path& tokens,
         const std::string& speed)
      : dir_(dir) {
    std::string command = std::string("exec " SPLITSTREAM_BIN_DIR "/splitstream-sim replay") +
                          " --event " + kDemoEventDir + " --reads " + kDemoEventDir +
                          "/reads.csv --server 127.0.0.1:" + std::to_string(devices_port) +
                          " --device-tokens-file " + tokens.string() + " --speed " + speed +
                          " --sent-reads " + sent().string() + " >" + (dir_ / "sim.out").string() +
                          " 2>" + (dir_ / "sim.log").string();
    process_ = std::make_unique<ChildProcess>("/bin/sh", std::vector<std::string>{"-c", command});
  }

  ChildProcess& process() { return *process_; }
  std::filesystem::path sent() const { return dir_ / "sent.csv"; }
  std::string summary() const { return file_text(dir_ / "sim.out"); }
  std::string log() const { return log_lines(dir_ / "sim.log"); }

  // The reads the devices were told were stored, from "played ...: N of M reads acknowledged".
  std::optional<std::uint64_t> acknowledged() const {
    const std::string text = summary();
    const auto of = text.find(" of ");
    const auto colon = text.rfind(": ", of);
    if (of == std::string::npos || colon == std::string::npos) return std::nullopt;
    try {
      return std::stoull(text.substr(colon + 2, of - colon - 2));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> process_;
};

// Every read in the event's stream by (device, seq), with how many entries hold it.
inline std::map<std::pair<std::string, std::uint64_t>, int> stream_reads(
    const test_support::RedisServer& redis) {
  std::map<std::pair<std::string, std::uint64_t>, int> out;
  const RedisReply entries = redis.command({"XRANGE", kDemoReadsKey, "-", "+"});
  for (const RedisReply& entry : entries.elements()) {
    if (entry.elements().size() != 2) continue;
    const auto& fields = entry.elements()[1].elements();
    std::string device;
    std::optional<std::int64_t> seq;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].as_string() == "d") device = fields[i + 1].as_string();
      if (fields[i].as_string() == "s") seq = fields[i + 1].to_integer();
    }
    if (device.empty() || !seq) continue;  // a correction, not a read
    ++out[{device, static_cast<std::uint64_t>(*seq)}];
  }
  return out;
}

// The first line where two CSV texts differ, both versions.
inline std::string first_difference(const std::string& got, const std::string& want) {
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

// What `splitstream results --race R --format csv` prints for a reads file, per race of the
// demo event.
inline std::map<std::string, std::string> demo_results_of(const std::filesystem::path& reads) {
  const Event& event = DemoRace::get().event();
  const ReadsFile file = parse_reads_csv(file_text(reads), event);
  RaceEngine engine(event);
  apply_reads(engine, file.reads);
  std::map<std::string, std::string> out;
  for (const Race& race : event.races) {
    ReportOptions options;
    options.race = race.id;
    out[race.id] = results_csv(engine, options);
  }
  return out;
}

// Empty when the node's results (waited for up to 15 s: the last reads may still be on their way
// through the stream) equal those of `reads` for every race; else what differs.
inline std::string results_differ(int http_port, const std::filesystem::path& reads) {
  std::string out;
  for (const auto& [race, csv] : demo_results_of(reads)) {
    std::string got;
    const bool same = wait_until(
        [&] {
          got = http_get(http_port, "/api/v1/results.csv?race=" + race).body;
          return got == csv;
        },
        std::chrono::seconds(15));
    if (!same) out += race + ": " + first_difference(got, csv) + "\n";
  }
  return out;
}

// A node's /readyz: its status, the whole body, and the Redis check's detail.
struct RedisReadiness {
  int status = 0;
  std::string body;
  std::string detail;
};

inline RedisReadiness redis_readiness(int http_port) {
  RedisReadiness out;
  const HttpResult r = http_get(http_port, "/readyz");
  out.status = r.status;
  out.body = r.body;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) return out;
  const auto* detail = v.as_object().if_contains("checks");
  if (detail && detail->is_object()) detail = detail->as_object().if_contains("redis");
  if (detail && detail->is_object()) detail = detail->as_object().if_contains("detail");
  if (detail && detail->is_string()) out.detail = std::string(detail->as_string());
  return out;
}

}  // namespace splitstream::testing
