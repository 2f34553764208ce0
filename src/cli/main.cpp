// splitstream: the command line. `check` validates an event directory, `results` runs the race
// engine over a reads file, `serve` runs the live server, `synth-reads` writes the reads of a
// simulated race.
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/race_engine.hpp"
#include "model/event_loader.hpp"
#include "observe/log.hpp"
#include "results/reads_file.hpp"
#include "results/results_report.hpp"
#include "server/config.hpp"
#include "server/server.hpp"
#include "synth/synthetic_race.hpp"

namespace {

using namespace splitstream;

constexpr const char* kUsage = R"(splitstream: live tracking of running races from chip-timing reads

Usage:
  splitstream check --event DIR
      Validate an event directory; print every problem with file, line and field.
  splitstream results --event DIR --reads FILE [--format json|csv] [--at TIME]
                      [--race ID] [--category ID]
      Run the race engine over a reads file and print the standings. TIME is ISO 8601 with an
      offset (reads after it are left out). Malformed reads lines are reported and skipped.
  splitstream serve --event DIR [--http HOST:PORT] [--redis URL] ... (serve --help)
      Run the live server: reads from timing devices (the device port, or POST /api/v1/reads)
      stored in Redis; on the HTTP port live updates over WebSocket (/ws), the REST API
      (/api/v1/), officials' corrections (/api/v1/admin/, with an admin token), /healthz,
      /readyz, /metrics and the browser app (the map and the leaderboard).
  splitstream synth-reads --event DIR [--out FILE] [--seed N] [--target BIB=H:MM:SS ...]
      Write the reads of a simulated race of the event's participants (CSV).
  splitstream --help | --version

Exit status: 0 success, 1 the event or input has problems, 2 bad usage.
)";

struct Args {
  std::string command;
  std::map<std::string, std::vector<std::string>> options;

  std::optional<std::string> get(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
};

int usage_error(const std::string& message) {
  std::cerr << "splitstream: " << message << "\nRun 'splitstream --help' for usage.\n";
  return 2;
}

std::optional<Args> parse_args(int argc, char** argv, std::string& error) {
  Args args;
  if (argc < 2) {
    error = "no command given";
    return std::nullopt;
  }
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      error = "unexpected argument '" + a + "'";
      return std::nullopt;
    }
    std::string value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      error = "option " + a + " needs a value";
      return std::nullopt;
    }
    args.options[a.substr(2)].push_back(value);
  }
  return args;
}

bool check_known(const Args& args, std::initializer_list<const char*> known, std::string& error) {
  for (const auto& [name, values] : args.options) {
    bool ok = false;
    for (const char* k : known)
      ok = ok || name == k;
    if (!ok) {
      error = "unknown option --" + name + " for '" + args.command + "'";
      return false;
    }
  }
  return true;
}

std::optional<LoadedEvent> load_or_report(const Args& args) {
  auto dir = args.get("event");
  if (!dir) {
    std::cerr << "splitstream: --event DIR is required\n";
    return std::nullopt;
  }
  LoadedEvent loaded = load_event_dir(*dir);
  for (const Diagnostic& d : loaded.problems)
    std::cerr << d.to_string() << "\n";
  if (!loaded.ok()) {
    std::cerr << *dir << ": " << loaded.problems.size() << " problem"
              << (loaded.problems.size() == 1 ? "" : "s") << "\n";
    return std::nullopt;
  }
  return loaded;
}

int cmd_check(const Args& args) {
  auto loaded = load_or_report(args);
  if (!loaded) return 1;
  const Event& e = loaded->event;
  std::cout << e.id << ": OK: " << e.races.size() << " races, " << e.timing_points.size()
            << " timing points, " << e.devices.size() << " devices, " << e.participants.size()
            << " participants, " << loaded->decoders.size() << " decoders\n";
  for (const Race& race : e.races) {
    char line[200];
    std::snprintf(line, sizeof line, "  %-10s %9.1f m  %2zu splits  course %.1f m (%d lap%s)\n",
                  race.id.c_str(), race.distance_m, race.splits.size(), race.course.length_m(),
                  race.course.laps(), race.course.laps() == 1 ? "" : "s");
    std::cout << line;
  }
  return 0;
}

int cmd_results(const Args& args) {
  std::string error;
  if (!check_known(args, {"event", "reads", "format", "at", "race", "category"}, error))
    return usage_error(error);
  const std::string format = args.get("format").value_or("json");
  if (format != "json" && format != "csv") return usage_error("--format must be json or csv");
  auto reads_path = args.get("reads");
  if (!reads_path) return usage_error("--reads FILE is required");
  std::optional<TimeMs> at;
  if (auto a = args.get("at")) {
    at = parse_iso8601(*a);
    if (!at) return usage_error("--at: bad time '" + *a + "' (ISO 8601 with an offset)");
  }
  auto loaded = load_or_report(args);
  if (!loaded) return 1;
  const Event& event = loaded->event;
  ReportOptions report;
  report.race = args.get("race").value_or("");
  if (!report.race.empty() && !event.find_race(report.race))
    return usage_error("--race: unknown race '" + report.race + "'");
  report.category = args.get("category").value_or(std::string(RaceEngine::kOverall));
  auto text = read_text_file(*reads_path);
  if (!text) {
    std::cerr << "splitstream: cannot read " << *reads_path << "\n";
    return 1;
  }
  const std::string file_name = std::filesystem::path(*reads_path).filename().string();
  ReadsFile reads = parse_reads_csv(*text, event, file_name);
  for (const Diagnostic& d : reads.problems)
    std::cerr << d.to_string() << "\n";
  if (!reads.problems.empty()) {
    std::cerr << file_name << ": " << reads.problems.size() << " malformed line"
              << (reads.problems.size() == 1 ? "" : "s") << " skipped\n";
  }
  RaceEngine engine(event);
  for (const FileRead& r : reads.reads) {
    if (at && r.time > *at) continue;
    engine.apply({r.timing_point, r.chip, r.time});
  }
  if (format == "json") {
    std::cout << boost::json::serialize(results_json(engine, report)) << "\n";
  } else {
    std::cout << results_csv(engine, report);
  }
  return 0;
}

int cmd_synth(const Args& args) {
  std::string error;
  if (!check_known(args, {"event", "out", "seed", "target"}, error)) return usage_error(error);
  auto loaded = load_or_report(args);
  if (!loaded) return 1;
  SynthOptions options;
  options.unknown_chip_reads = 6;
  if (auto seed = args.get("seed")) options.seed = std::stoull(*seed);
  if (auto it = args.options.find("target"); it != args.options.end()) {
    for (const std::string& t : it->second) {
      const auto eq = t.find('=');
      auto d = eq == std::string::npos ? std::nullopt
                                       : parse_iso8601("1970-01-01T0" + t.substr(eq + 1) + "Z");
      if (!d) return usage_error("--target must look like BIB=H:MM:SS, not '" + t + "'");
      options.target_finish[t.substr(0, eq)] = *d;
    }
  }
  const std::vector<FileRead> reads = synthesize_reads(loaded->event, options);
  std::string out = reads_csv_header();
  for (const FileRead& r : reads)
    out += to_csv_line(r, loaded->event);
  if (auto path = args.get("out")) {
    std::ofstream f(*path, std::ios::binary);
    f << out;
    if (!f) {
      std::cerr << "splitstream: cannot write " << *path << "\n";
      return 1;
    }
    std::cerr << "wrote " << reads.size() << " reads to " << *path << "\n";
  } else {
    std::cout << out;
  }
  return 0;
}

int cmd_serve(int argc, char** argv) {
  const std::vector<std::string> args(argv + 2, argv + argc);
  const ConfigResult parsed = parse_server_config(
      args,
      [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
      },
      [](const std::string& path) { return read_text_file(path); });
  if (parsed.help) {
    std::cout << server_config_help();
    return 0;
  }
  for (const std::string& e : parsed.errors)
    std::cerr << "splitstream serve: " << e << "\n";
  if (!parsed.errors.empty()) return 2;
  log::Level level = log::Level::info;
  log::parse_level(parsed.config.log_level, level);
  log::set_level(level);
  log::set_format(parsed.config.log_format == "json" ? log::Format::json : log::Format::text);
  Args event_args;
  event_args.options["event"].push_back(parsed.config.event_dir);
  auto loaded = load_or_report(event_args);
  if (!loaded) return 1;
  return run_server(parsed.config, loaded->event, loaded->decoders);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
                      !std::strcmp(argv[1], "help"))) {
      std::cout << kUsage;
      return 0;
    }
    if (argc >= 2 && !std::strcmp(argv[1], "--version")) {
      std::cout << "splitstream 0.1.0\n";
      return 0;
    }
    if (argc >= 2 && !std::strcmp(argv[1], "serve")) return cmd_serve(argc, argv);
    std::string error;
    auto args = parse_args(argc, argv, error);
    if (!args) return usage_error(error);
    if (args->command == "check") {
      if (!check_known(*args, {"event"}, error)) return usage_error(error);
      return cmd_check(*args);
    }
    if (args->command == "results") return cmd_results(*args);
    if (args->command == "synth-reads") return cmd_synth(*args);
    return usage_error("unknown command '" + args->command + "'");
  } catch (const std::exception& e) {
    std::cerr << "splitstream: " << e.what() << "\n";
    return 1;
  }
}
