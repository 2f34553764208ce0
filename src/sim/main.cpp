// splitstream-sim: rehearses a race against a Splitstream server as its timing devices would.
//
//   splitstream-sim event  --out DIR [--runners N] [--timing-points K] [--waves W] [--seed N]
//   splitstream-sim field  --event DIR --out DIR [--runners N] [--race-shares A,B,..] [--seed N]
//   splitstream-sim race   --event DIR [--seed N] [--capture P] [--raw-reads N] [play options]
//   splitstream-sim replay --event DIR --reads FILE [play options]
//
// With --protocol raceresult|ctp01|mylaps|impinj the reads are played as that vendor's hardware
// would, by the decoders of the event's decoders.json (sim/vendor_player).
//
// `event` writes a generated big-city marathon with its field; `field` copies an event directory
// with a generated field in place of its participants. `race` simulates the event's field
// (waves, pace spread, fatigue, dropouts, raw reads on a main and a backup line, missed reads)
// and plays it; `replay` plays a reads file (the CSV of `splitstream results`). Playing is over
// the device protocol: one TCP connection per device, each read when it falls due at X times
// real time (`max`: as fast as the server acknowledges), with the tokens of the server's
// secrets file, and faults on demand. Progress goes to stderr; a summary to stdout. Exit status 0
// when everything was written or acknowledged, 1 when a device was refused, the run was
// interrupted or an input has problems, 2 on bad arguments.
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/device_tokens.hpp"
#include "model/event_loader.hpp"
#include "results/reads_file.hpp"
#include "sim/device_player.hpp"
#include "sim/replay_plan.hpp"
#include "sim/vendor_player.hpp"
#include "synth/field.hpp"
#include "synth/synthetic_race.hpp"

namespace {

using namespace splitstream;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: splitstream-sim event  --out DIR [--runners N] [--timing-points K] [--waves W]\n"
    "                              [--seed N]\n"
    "       splitstream-sim field  --event DIR --out DIR [--runners N] [--race-shares A,B,..]\n"
    "                              [--seed N]\n"
    "       splitstream-sim race   --event DIR [--seed N] [--capture P] [--raw-reads N]\n"
    "                              [--dnf P] [--dns P] [play options]\n"
    "       splitstream-sim replay --event DIR --reads FILE [play options]\n"
    "\n"
    "event: writes DIR/event.json, DIR/courses/marathon.geojson and DIR/participants.csv: a\n"
    "generated city marathon, one main and one backup line per timing point, waves 10 min apart\n"
    "  --runners N               the field [60000]\n"
    "  --timing-points K         mats from start to finish [12]\n"
    "  --waves W                 waves, runners seeded by pace [4]\n"
    "field: copies the event directory to DIR with a generated field as its participants\n"
    "  --runners N               the field [1000]\n"
    "  --race-shares A,B,..      share of the field per race, in event order [by distance]\n"
    "race: simulates the event's participants and plays the reads their chips make\n"
    "  --capture P               chance that one line reads a chip crossing it [0.99]\n"
    "  --raw-reads N             raw reads per line and crossing, 1 to N [3]\n"
    "  --dnf P                   share of starters who drop out [0.03]\n"
    "  --dns P                   share of the field who never start [0.02]\n"
    "  --seed N                  the race's (and the faults') random seed [1]\n"
    "replay: plays a reads file\n"
    "  --reads FILE              reads CSV (timing_point,chip,time[,device,line])\n"
    "play options:\n"
    "  --server HOST:PORT        the server's device port [127.0.0.1:7070]\n"
    "  --device-tokens-file FILE the devices' tokens, as the server reads them\n"
    "                            [SPLITSTREAM_DEVICE_TOKENS if set]\n"
    "  --speed X|max             X times real time, or as fast as acknowledged [60]\n"
    "  --max-batch N             reads per batch at most [500]\n"
    "  --sent-reads FILE         write the reads as sent (faults applied) as a reads CSV\n"
    "  --protocol P              native (the device protocol), or play the event's decoders\n"
    "                            (decoders.json) as their hardware: raceresult (the sim is the\n"
    "                            decoder the server dials), ctp01, mylaps (it connects to their\n"
    "                            ports) or impinj (it posts to --http) [native]\n"
    "  --http HOST:PORT          impinj: the server's HTTP address [127.0.0.1:8080]\n"
    "faults (seeded, so a run can be repeated):\n"
    "  --duplicates P            share of reads a mat reports twice, 50-800 ms apart [0]\n"
    "  --miss P                  share of reads the mats never got [0]\n"
    "  --clock-drift DEV=MS      device DEV's clock gains MS milliseconds per hour (repeatable)\n"
    "  --offline DEV=FROM-TO     device DEV is off the network from minute FROM to minute TO\n"
    "                            after the first read; its backlog follows (repeatable;\n"
    "                            needs a --speed other than max)\n"
    "  --reconnect-every N       every device drops its line every N batches, before the\n"
    "                            ack, and resends what the server lacks (N >= 2); with\n"
    "                            --protocol: the line drops after every N reads the\n"
    "                            server got\n"
    "  --new-file-at MIN         raceresult: the decoder opens a new passing file MIN minutes\n"
    "                            after the first read (its numbering restarts at 1); with\n"
    "                            --http, only once the node shows the current file stored\n"
    "  --resend-storm            mylaps: the exporter resends everything unacknowledged\n"
    "                            every second, not every 20 s\n";

int usage_error(const std::string& message) {
  std::cerr << "splitstream-sim: " << message << "\n" << kUsage;
  return 2;
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string clock_text(TimeMs t, int utc_offset_minutes) {
  const std::int64_t local = t / 1000 + utc_offset_minutes * 60;
  const std::int64_t day = ((local % 86400) + 86400) % 86400;
  char text[16];
  std::snprintf(text, sizeof text, "%02d:%02d:%02d", static_cast<int>(day / 3600),
                static_cast<int>(day / 60 % 60), static_cast<int>(day % 60));
  return text;
}

struct Options {
  std::string command;
  std::string event_dir, reads_file, tokens_file, out_dir;
  std::optional<std::size_t> runners;
  std::size_t timing_points = 12;
  std::size_t waves = 4;
  std::vector<double> race_shares;
  double capture = 0.99;
  std::size_t raw_reads = 3;
  double dnf = 0.03;
  double dns = 0.02;
  std::string host = "127.0.0.1";
  std::string port = "7070";
  double speed = 60;
  std::size_t max_batch = 500;
  FaultOptions faults;
  std::vector<std::pair<std::string, Outage>> outages;  // device, minutes after the first read
  std::uint32_t reconnect_every = 0;
  std::string sent_reads;
  std::optional<DecoderProtocolKind> protocol;  // nullopt: the native device protocol
  std::string http_host = "127.0.0.1";
  std::string http_port = "8080";
  double new_file_at_minutes = 0;
  bool resend_storm = false;
};

std::optional<double> number(const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "HOST:PORT" into its parts; false with `error` naming the flag when it is not that.
bool split_host_port(const std::string& flag, const std::string& value, std::string& host,
                     std::string& port, std::string& error) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    error = flag + " wants HOST:PORT, got \"" + value + "\"";
    return false;
  }
  host = value.substr(0, colon);
  port = value.substr(colon + 1);
  return true;
}

std::optional<Options> parse(int argc, char** argv, std::string& error) {
  Options o;
  o.command = argc < 2 ? "" : argv[1];
  if (o.command != "event" && o.command != "field" && o.command != "race" &&
      o.command != "replay") {
    error = argc < 2 ? "no command" : "unknown command \"" + o.command + "\"";
    return std::nullopt;
  }
  auto whole = [&](const std::string& flag, const std::string& value, std::size_t lo,
                   std::size_t hi) -> std::optional<std::size_t> {
    std::size_t n = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || n < lo || n > hi) {
      error = flag + " wants a whole number from " + std::to_string(lo) + " to " +
              std::to_string(hi) + ", got \"" + value + "\"";
      return std::nullopt;
    }
    return n;
  };
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--resend-storm") {
      o.resend_storm = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = flag + " needs a value";
      return std::nullopt;
    }
    const std::string value = argv[++i];
    if (flag == "--event") {
      o.event_dir = value;
    } else if (flag == "--out") {
      o.out_dir = value;
    } else if (flag == "--runners") {
      o.runners = whole(flag, value, 1, 1'000'000);
      if (!o.runners) return std::nullopt;
    } else if (flag == "--timing-points") {
      const auto n = whole(flag, value, 2, 50);
      if (!n) return std::nullopt;
      o.timing_points = *n;
    } else if (flag == "--waves") {
      const auto n = whole(flag, value, 0, 20);
      if (!n) return std::nullopt;
      o.waves = *n;
    } else if (flag == "--raw-reads") {
      const auto n = whole(flag, value, 1, 20);
      if (!n) return std::nullopt;
      o.raw_reads = *n;
    } else if (flag == "--race-shares") {
      std::istringstream parts(value);
      for (std::string part; std::getline(parts, part, ',');) {
        const auto v = number(part);
        if (!v || *v < 0) {
          error = "--race-shares wants numbers from 0 separated by commas, got \"" + value + "\"";
          return std::nullopt;
        }
        o.race_shares.push_back(*v);
      }
    } else if (flag == "--capture" || flag == "--dnf" || flag == "--dns") {
      const auto v = number(value);
      if (!v || *v < 0 || *v > 1 || (flag == "--capture" && *v == 0)) {
        error = flag + " wants a share from 0 to 1" + (flag == "--capture" ? " (not 0)" : "") +
                ", got \"" + value + "\"";
        return std::nullopt;
      }
      (flag == "--capture" ? o.capture : flag == "--dnf" ? o.dnf : o.dns) = *v;
    } else if (flag == "--reads") {
      o.reads_file = value;
    } else if (flag == "--device-tokens-file") {
      o.tokens_file = value;
    } else if (flag == "--server") {
      if (!split_host_port(flag, value, o.host, o.port, error)) return std::nullopt;
    } else if (flag == "--speed") {
      if (value == "max") {
        o.speed = 0;
      } else {
        try {
          std::size_t used = 0;
          o.speed = std::stod(value, &used);
          if (used != value.size() || !(o.speed > 0) || o.speed > 1e6) throw std::exception();
        } catch (const std::exception&) {
          error = "--speed wants a positive number or \"max\", got \"" + value + "\"";
          return std::nullopt;
        }
      }
    } else if (flag == "--duplicates" || flag == "--miss") {
      const auto v = number(value);
      if (!v || *v < 0 || *v > 1) {
        error = flag + " wants a share from 0 to 1, got \"" + value + "\"";
        return std::nullopt;
      }
      (flag == "--miss" ? o.faults.miss_rate : o.faults.duplicate_rate) = *v;
    } else if (flag == "--clock-drift") {
      const auto eq = value.find('=');
      const auto v = eq == std::string::npos ? std::nullopt : number(value.substr(eq + 1));
      if (!v || eq == 0) {
        error = "--clock-drift wants DEVICE=MS_PER_HOUR, got \"" + value + "\"";
        return std::nullopt;
      }
      o.faults.clock_drift_ms_per_hour.emplace_back(value.substr(0, eq), *v);
    } else if (flag == "--offline") {
      const auto eq = value.find('=');
      const auto dash = value.find('-', eq == std::string::npos ? 0 : eq + 1);
      std::optional<double> from, to;
      if (eq != std::string::npos && eq > 0 && dash != std::string::npos) {
        from = number(value.substr(eq + 1, dash - eq - 1));
        to = number(value.substr(dash + 1));
      }
      if (!from || !to || *from < 0 || *to <= *from) {
        error = "--offline wants DEVICE=FROM-TO in minutes, FROM < TO, got \"" + value + "\"";
        return std::nullopt;
      }
      o.outages.push_back(
          {value.substr(0, eq),
           {static_cast<TimeMs>(*from * 60'000), static_cast<TimeMs>(*to * 60'000)}});
    } else if (flag == "--reconnect-every" || flag == "--seed") {
      std::uint64_t n = 0;
      const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
      if (r.ec != std::errc{} || r.ptr != value.data() + value.size() ||
          (flag == "--reconnect-every" && (n < 2 || n > 1'000'000))) {
        error = flag + (flag == "--seed" ? " wants a number" : " wants 2 or more") + ", got \"" +
                value + "\"";
        return std::nullopt;
      }
      if (flag == "--seed") {
        o.faults.seed = n;
      } else {
        o.reconnect_every = static_cast<std::uint32_t>(n);
      }
    } else if (flag == "--protocol") {
      if (value != "native") {
        o.protocol = parse_decoder_protocol(value);
        if (!o.protocol) {
          error =
              "--protocol wants native, raceresult, ctp01, mylaps or impinj, got \"" + value + "\"";
          return std::nullopt;
        }
      }
    } else if (flag == "--http") {
      if (!split_host_port(flag, value, o.http_host, o.http_port, error)) return std::nullopt;
    } else if (flag == "--new-file-at") {
      const auto v = number(value);
      if (!v || *v <= 0) {
        error = "--new-file-at wants minutes after the first read (> 0), got \"" + value + "\"";
        return std::nullopt;
      }
      o.new_file_at_minutes = *v;
    } else if (flag == "--sent-reads") {
      o.sent_reads = value;
    } else if (flag == "--max-batch") {
      const auto r = std::from_chars(value.data(), value.data() + value.size(), o.max_batch);
      if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || o.max_batch == 0 ||
          o.max_batch > 10000) {
        error = "--max-batch wants 1-10000, got \"" + value + "\"";
        return std::nullopt;
      }
    } else {
      error = "unknown option " + flag;
      return std::nullopt;
    }
  }
  const bool plays = o.command == "race" || o.command == "replay";
  if (o.command == "event" && (o.out_dir.empty() || !o.event_dir.empty())) {
    error = "event: --out DIR is required (and --event is not taken)";
    return std::nullopt;
  }
  if (o.command == "field" && (o.out_dir.empty() || o.event_dir.empty())) {
    error = "field: --event DIR and --out DIR are required";
    return std::nullopt;
  }
  if (plays && (o.event_dir.empty() || (o.command == "replay") != !o.reads_file.empty())) {
    error = o.command == "replay" ? "replay: --event and --reads are required"
                                  : "race: --event is required (and --reads is not taken)";
    return std::nullopt;
  }
  if (plays && (o.runners || !o.out_dir.empty() || !o.race_shares.empty())) {
    error = o.command + ": --runners, --out and --race-shares belong to event and field";
    return std::nullopt;
  }
  if (!o.outages.empty() && o.speed <= 0) {
    error = "--offline needs a --speed other than max (the outage is in race time)";
    return std::nullopt;
  }
  return o;
}

std::optional<LoadedEvent> load_event_and_decoders(const std::string& dir) {
  LoadedEvent loaded = load_event_dir(dir);
  for (const Diagnostic& d : loaded.problems)
    std::cerr << d.to_string() << "\n";
  if (!loaded.ok()) return std::nullopt;
  return loaded;
}

std::optional<Event> load_event(const std::string& dir) {
  auto loaded = load_event_and_decoders(dir);
  if (!loaded) return std::nullopt;
  return std::move(loaded->event);
}

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) {
    std::cerr << "splitstream-sim: cannot write " << path.string() << "\n";
    return false;
  }
  return true;
}

// What a written event directory holds, as the server will see it.
int check_written(const std::string& dir) {
  const auto event = load_event(dir);
  if (!event) {
    std::cerr << "splitstream-sim: the event written to " << dir << " does not load (a bug)\n";
    return 1;
  }
  std::size_t waves = 0;
  for (const Race& race : event->races)
    waves += race.waves.size();
  std::cout << "wrote " << dir << ": " << event->name << ", " << event->participants.size()
            << " runners in " << event->races.size() << " race"
            << (event->races.size() == 1 ? "" : "s") << " (" << waves << " waves), "
            << event->timing_points.size() << " timing points, " << event->devices.size()
            << " devices\n";
  return 0;
}

int write_city_event(const Options& o) {
  CityMarathonOptions city;
  city.timing_points = o.timing_points;
  city.waves = o.waves;
  Event event = make_city_marathon(city);
  FieldOptions field;
  field.runners = o.runners.value_or(60'000);
  field.seed = o.faults.seed;
  event.participants = generate_field(event, field);
  const std::filesystem::path dir(o.out_dir);
  if (!write_file(dir / "event.json", event_json(event, {"courses/marathon.geojson"})) ||
      !write_file(dir / "courses" / "marathon.geojson", course_geojson(event.races.front())) ||
      !write_file(dir / "participants.csv", participants_csv(event, event.participants)))
    return 1;
  return check_written(o.out_dir);
}

int write_field(const Options& o) {
  const auto event = load_event(o.event_dir);
  if (!event) return 1;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::equivalent(o.event_dir, o.out_dir, ec)) {
    std::cerr << "splitstream-sim: field: --out must not be the event directory itself\n";
    return 1;
  }
  FieldOptions field;
  field.runners = o.runners.value_or(1000);
  field.seed = o.faults.seed;
  field.race_shares = o.race_shares;
  std::vector<Participant> participants;
  try {
    participants = generate_field(*event, field);
  } catch (const std::invalid_argument& e) {
    std::cerr << "splitstream-sim: field: " << e.what() << "\n";
    return 1;
  }
  // Everything but the field and its reads: event.json, the courses.
  fs::create_directories(o.out_dir, ec);
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(o.event_dir)) {
    const fs::path relative = fs::relative(entry.path(), o.event_dir);
    if (relative == "participants.csv" || relative == "reads.csv") continue;
    const fs::path target = fs::path(o.out_dir) / relative;
    if (entry.is_directory()) {
      fs::create_directories(target, ec);
    } else if (entry.is_regular_file()) {
      fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) {
      std::cerr << "splitstream-sim: cannot copy " << entry.path().string() << ": " << ec.message()
                << "\n";
      return 1;
    }
  }
  if (!write_file(fs::path(o.out_dir) / "participants.csv", participants_csv(*event, participants)))
    return 1;
  return check_written(o.out_dir);
}

// Plays the plan as the event's vendor decoders of o.protocol (decoders.json).
int play_vendors(const Options& o, const Event& event, const std::vector<DecoderConfig>& decoders,
                 const ReplayPlan& plan, const std::string& source) {
  std::vector<VendorPlan> plans;
  try {
    plans = make_vendor_plans(plan, event, decoders, *o.protocol);
  } catch (const std::exception& e) {
    std::cerr << "splitstream-sim: " << e.what() << "\n";
    return 1;
  }
  if (*o.protocol == DecoderProtocolKind::impinj) {
    // A reader reports EPCs: hex digits. Reads of other chip codes cannot be played as Impinj.
    std::size_t left_out = 0, kept = 0;
    for (VendorPlan& p : plans) {
      const auto not_epc = [](const VendorRead& r) {
        return r.chip.empty() || !std::all_of(r.chip.begin(), r.chip.end(), [](char c) {
                 return std::isxdigit(static_cast<unsigned char>(c)) != 0;
               });
      };
      const auto end = std::remove_if(p.reads.begin(), p.reads.end(), not_epc);
      left_out += static_cast<std::size_t>(p.reads.end() - end);
      p.reads.erase(end, p.reads.end());
      kept += p.reads.size();
    }
    if (kept == 0) {
      std::cerr << "splitstream-sim: no chip is an EPC (hex digits): nothing an Impinj reader "
                   "could report\n";
      return 1;
    }
    if (left_out > 0) {
      std::cerr << "splitstream-sim: " << left_out
                << " reads of chips that are no EPC (hex digits) left out: an Impinj reader "
                   "cannot report them\n";
    }
  }
  DeviceTokens tokens;
  if (*o.protocol == DecoderProtocolKind::impinj) {
    Diagnostics problems =
        o.tokens_file.empty() ? tokens.add_from_environment() : tokens.add_from_file(o.tokens_file);
    for (const Diagnostic& d : problems)
      std::cerr << d.to_string() << "\n";
    if (!problems.empty()) return 1;
  }
  std::vector<VendorPlayOptions> options(plans.size());
  for (std::size_t i = 0; i < plans.size(); ++i) {
    VendorPlayOptions& p = options[i];
    p.common.max_batch = o.max_batch;
    p.common.reconnect_every = o.reconnect_every;
    p.http_host = o.http_host;
    p.http_port = o.http_port;
    p.resend_storm = o.resend_storm;
    p.seed = o.faults.seed;
    if (o.new_file_at_minutes > 0)
      p.new_file_at = plan.first + static_cast<TimeMs>(o.new_file_at_minutes * 60'000);
    for (const auto& [device, window] : o.outages) {
      if (device == plans[i].decoder->id)
        p.common.outages.push_back({plan.first + window.from, plan.first + window.to});
    }
    if (*o.protocol == DecoderProtocolKind::impinj) {
      const auto token = tokens.token_of(plans[i].decoder->id);
      if (!token) {
        std::cerr << "splitstream-sim: no token for decoder \"" << plans[i].decoder->id << "\"\n";
        return 1;
      }
      p.token = *token;
    }
  }
  for (const auto& [device, window] : o.outages) {
    const bool known = std::any_of(plans.begin(), plans.end(),
                                   [&](const VendorPlan& v) { return v.decoder->id == device; });
    if (!known) {
      std::cerr << "splitstream-sim: --offline: no reads from decoder \"" << device << "\"\n";
      return 1;
    }
  }
  asio::io_context ioc(1);
  const ReplayClock clock(plan.first, o.speed);
  const Clock::time_point start = Clock::now();
  std::vector<PlayerStats> stats(plans.size());
  std::size_t finished = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    asio::co_spawn(ioc, play_vendor(plans[i], clock, start, options[i], stats[i]),
                   [&](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         std::cerr << "splitstream-sim: " << ex.what() << "\n";
                       }
                     }
                     if (++finished == plans.size()) ioc.stop();
                   });
  }
  bool interrupted = false;
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    ioc.stop();
  });
  std::cerr << "splitstream-sim: playing " << plan.total << " reads of " << source << " as "
            << plans.size() << " " << to_string(*o.protocol) << " decoder"
            << (plans.size() == 1 ? "" : "s") << "\n";
  ioc.run();
  std::uint64_t delivered = 0, sent = 0, connects = 0, dropped = 0, dark = 0;
  bool refused = false;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    delivered += stats[i].acked;
    sent += stats[i].sent;
    connects += stats[i].connects;
    dropped += stats[i].dropped_lines;
    dark += stats[i].outages;
    if (stats[i].gave_up || !stats[i].done) {
      refused = refused || stats[i].gave_up;
      std::cerr << "splitstream-sim: decoder " << plans[i].decoder->id
                << (stats[i].gave_up ? " refused: " : " unfinished: ") << stats[i].last_error
                << "\n";
    }
  }
  const bool all_done =
      std::all_of(stats.begin(), stats.end(), [](const PlayerStats& s) { return s.done; });
  std::cout
      << "played " << source << " as " << to_string(*o.protocol) << ": " << delivered << " of "
      << plan.total << " reads delivered (" << sent << " handed over) by " << plans.size()
      << " decoders, " << connects << " connections (" << dropped << " lines dropped on purpose, "
      << dark << " outages), in "
      << static_cast<double>(
             std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()) /
             1000.0
      << " s" << (interrupted ? " (interrupted)" : "") << "\n";
  return all_done && !refused && !interrupted ? 0 : 1;
}

// --sent-reads: the plan as played (faults applied), as a reads file.
bool write_sent_reads(const Options& o, const ReplayPlan& plan, const Event& event) {
  if (o.sent_reads.empty()) return true;
  std::ofstream out(o.sent_reads, std::ios::binary | std::ios::trunc);
  out << plan_to_csv(plan, event);
  if (!out.flush()) {
    std::cerr << "splitstream-sim: cannot write " << o.sent_reads << "\n";
    return false;
  }
  return true;
}

// The resolution of the vendor's time stamps: CTP01 writes hundredths.
void round_to_protocol(ReplayPlan& plan, std::optional<DecoderProtocolKind> protocol) {
  if (protocol != DecoderProtocolKind::ctp01) return;
  for (DevicePlan& device : plan.devices)
    for (PlannedRead& read : device.reads)
      read.time -= ((read.time % 10) + 10) % 10;
}

int play(const Options& o) {
  const auto loaded = load_event_and_decoders(o.event_dir);
  if (!loaded) return 1;
  const Event& event = loaded->event;
  std::vector<FileRead> file_reads;
  std::string source = o.reads_file;
  if (o.command == "replay") {
    const auto text = read_text(o.reads_file);
    if (!text) {
      std::cerr << "splitstream-sim: cannot read " << o.reads_file << "\n";
      return 1;
    }
    ReadsFile reads = parse_reads_csv(*text, event, o.reads_file);
    for (const Diagnostic& d : reads.problems)
      std::cerr << d.to_string() << "\n";
    if (!reads.problems.empty()) return 1;
    file_reads = std::move(reads.reads);
  } else {
    SynthOptions synth;
    synth.seed = o.faults.seed;
    synth.capture_rate = o.capture;
    synth.max_raw_reads = static_cast<int>(o.raw_reads);
    synth.dnf_rate = o.dnf;
    synth.dns_rate = o.dns;
    synth.seeded_waves = true;
    file_reads = synthesize_reads(event, synth);
    source = "the race of " + std::to_string(event.participants.size()) + " runners";
  }
  ReplayPlan plan;
  try {
    plan = make_replay_plan(file_reads, event);
    apply_faults(plan, o.faults);
    round_to_protocol(plan, o.protocol);
  } catch (const std::exception& e) {
    std::cerr << "splitstream-sim: " << source << ": " << e.what() << "\n";
    return 1;
  }
  file_reads.clear();
  file_reads.shrink_to_fit();
  if (o.protocol) {
    if (!write_sent_reads(o, plan, event)) return 1;
    return play_vendors(o, event, loaded->decoders, plan, source);
  }
  // Outages per device, in race time.
  std::map<std::string, std::vector<Outage>, std::less<>> outages;
  for (const auto& entry : o.outages) {
    const std::string& device = entry.first;  // not a structured binding: lambdas capture it
    const Outage& window = entry.second;
    const bool known = std::any_of(plan.devices.begin(), plan.devices.end(),
                                   [&](const DevicePlan& d) { return d.device_id == device; });
    if (!known) {
      std::cerr << "splitstream-sim: --offline: no reads from device \"" << device << "\"\n";
      return 1;
    }
    outages[device].push_back({plan.first + window.from, plan.first + window.to});
  }
  if (!write_sent_reads(o, plan, event)) return 1;
  DeviceTokens tokens;
  Diagnostics token_problems =
      o.tokens_file.empty() ? tokens.add_from_environment() : tokens.add_from_file(o.tokens_file);
  for (const Diagnostic& d : token_problems)
    std::cerr << d.to_string() << "\n";
  if (!token_problems.empty()) return 1;
  for (const DevicePlan& d : plan.devices) {
    if (!tokens.token_of(d.device_id)) {
      std::cerr << "splitstream-sim: no token for device \"" << d.device_id << "\" ("
                << (o.tokens_file.empty() ? "SPLITSTREAM_DEVICE_TOKENS" : o.tokens_file) << ")\n";
      return 1;
    }
  }

  asio::io_context ioc(1);
  boost::system::error_code resolve_error;
  asio::ip::tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(o.host, o.port, resolve_error);
  if (resolve_error || endpoints.empty()) {
    std::cerr << "splitstream-sim: cannot resolve " << o.host << ":" << o.port << ": "
              << resolve_error.message() << "\n";
    return 1;
  }
  const asio::ip::tcp::endpoint server = *endpoints.begin();
  const ReplayClock clock(plan.first, o.speed);
  const Clock::time_point start = Clock::now();
  std::vector<PlayerStats> stats(plan.devices.size());
  std::size_t finished = 0;
  std::vector<PlayerOptions> players(plan.devices.size());
  for (std::size_t i = 0; i < plan.devices.size(); ++i) {
    PlayerOptions& player = players[i];
    player.max_batch = o.max_batch;
    player.reconnect_every = o.reconnect_every;
    if (auto it = outages.find(plan.devices[i].device_id); it != outages.end())
      player.outages = it->second;
    asio::co_spawn(ioc,
                   play_device(plan.devices[i], *tokens.token_of(plan.devices[i].device_id), server,
                               clock, start, player, stats[i]),
                   [&](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         std::cerr << "splitstream-sim: " << ex.what() << "\n";
                       }
                     }
                     if (++finished == plan.devices.size()) ioc.stop();
                   });
  }
  bool interrupted = false;
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    ioc.stop();
  });

  // Progress: the race clock, reads sent and acknowledged, devices online.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const int utc_offset = event.utc_offset_minutes;
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  };
  auto progress_line = [&] {
    std::uint64_t sent = 0, acked = 0;
    std::size_t online = 0;
    for (const PlayerStats& s : stats) {
      sent += s.sent;
      acked += s.acked;
      online += s.online ? 1 : 0;
    }
    const TimeMs race = clock.as_fast_as_possible()
                            ? plan.last
                            : std::min(plan.last, clock.race_time(elapsed_ms()));
    std::ostringstream line;
    line << "race clock " << clock_text(race, utc_offset) << "  reads sent " << sent << ", acked "
         << acked << " of " << plan.total << "  devices online " << online << "/" << stats.size();
    return line.str();
  };
  asio::steady_timer ticker(ioc);
  std::function<void()> tick = [&] {
    ticker.expires_after(std::chrono::seconds(tty ? 1 : 5));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      std::cerr << (tty ? "\r" : "") << progress_line() << (tty ? "  " : "\n") << std::flush;
      tick();
    });
  };
  std::cerr << "splitstream-sim: playing " << plan.total << " reads of " << source << " on "
            << plan.devices.size() << " devices to " << o.host << ":" << o.port
            << (clock.as_fast_as_possible() ? " as fast as possible"
                                            : " at x" + std::to_string(o.speed).substr(0, 6))
            << "\n";
  tick();
  ioc.run();
  if (tty) std::cerr << "\r" << progress_line() << "\n";

  std::uint64_t acked = 0, sent = 0, rejected = 0, connects = 0, dark = 0, dropped = 0;
  bool refused = false;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    acked += stats[i].acked;
    sent += stats[i].sent;
    rejected += stats[i].rejected;
    connects += stats[i].connects;
    dark += stats[i].outages;
    dropped += stats[i].dropped_lines;
    if (stats[i].gave_up) {
      refused = true;
      std::cerr << "splitstream-sim: device " << plan.devices[i].device_id
                << " refused: " << stats[i].last_error << "\n";
    }
  }
  std::cout << "played " << source << ": " << acked << " of " << plan.total
            << " reads acknowledged (" << sent << " sent, " << rejected << " rejected) on "
            << stats.size() << " devices, " << (connects - stats.size()) << " reconnects ("
            << dropped << " lines dropped on purpose, " << dark << " outages), in "
            << static_cast<double>(elapsed_ms()) / 1000.0 << " s"
            << (interrupted ? " (interrupted)" : "") << "\n";
  return acked == plan.total && !refused && !interrupted ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  std::string error;
  auto options = parse(argc, argv, error);
  if (!options) return usage_error(error);
  try {
    if (options->command == "event") return write_city_event(*options);
    if (options->command == "field") return write_field(*options);
    return play(*options);
  } catch (const std::exception& e) {
    std::cerr << "splitstream-sim: " << e.what() << "\n";
    return 1;
  }
}
