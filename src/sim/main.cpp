// splitstream-sim: plays a race to a Splitstream server as its timing devices would.
//
//   splitstream-sim replay --event DIR --reads FILE [--server HOST:PORT]
//       [--device-tokens-file FILE] [--speed X|max] [--max-batch N] [faults] [--sent-reads FILE]
//
// `replay` sends a reads file (the CSV of `splitstream results`) over the device protocol: one
// TCP connection per device of the event, each read when it falls due at X times real time
// (`max`: as fast as the server acknowledges), with the tokens of the server's secrets file.
// Faults on demand: raw duplicates, missed reads, a drifting device clock, a device offline for a
// while (its backlog sent when it is back), lines dropped before the ack (reconnect and resend).
// Progress goes to stderr; a summary to stdout. Exit status 0 when every read was acknowledged,
// 1 when a device was refused or the run was interrupted, 2 on bad arguments.
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
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

namespace {

using namespace splitstream;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: splitstream-sim replay --event DIR --reads FILE [--server HOST:PORT]\n"
    "           [--device-tokens-file FILE] [--speed X|max] [--max-batch N]\n"
    "\n"
    "  --event DIR               the event directory (its devices and timing points)\n"
    "  --reads FILE              reads CSV (timing_point,chip,time[,device,line])\n"
    "  --server HOST:PORT        the server's device port [127.0.0.1:7070]\n"
    "  --device-tokens-file FILE the devices' tokens, as the server reads them\n"
    "                            [SPLITSTREAM_DEVICE_TOKENS if set]\n"
    "  --speed X|max             X times real time, or as fast as acknowledged [60]\n"
    "  --max-batch N             reads per batch at most [500]\n"
    "faults (seeded, so a run can be repeated):\n"
    "  --duplicates P            share of reads a mat reports twice, 50-800 ms apart [0]\n"
    "  --miss P                  share of reads the mats never got [0]\n"
    "  --clock-drift DEV=MS      device DEV's clock gains MS milliseconds per hour (repeatable)\n"
    "  --offline DEV=FROM-TO     device DEV is off the network from minute FROM to minute TO\n"
    "                            after the first read; its backlog follows (repeatable;\n"
    "                            needs a --speed other than max)\n"
    "  --reconnect-every N       every device drops its line every N batches, before the\n"
    "                            ack, and resends what the server lacks (N >= 2)\n"
    "  --seed N                  the faults' random seed [1]\n"
    "  --sent-reads FILE         write the reads as sent (faults applied) as a reads CSV\n";

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
  std::string event_dir, reads_file, tokens_file;
  std::string host = "127.0.0.1";
  std::string port = "7070";
  double speed = 60;
  std::size_t max_batch = 500;
  FaultOptions faults;
  std::vector<std::pair<std::string, Outage>> outages;  // device, minutes after the first read
  std::uint32_t reconnect_every = 0;
  std::string sent_reads;
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

std::optional<Options> parse(int argc, char** argv, std::string& error) {
  Options o;
  if (argc < 2 || std::string(argv[1]) != "replay") {
    error = argc < 2 ? "no command" : "unknown command \"" + std::string(argv[1]) + "\"";
    return std::nullopt;
  }
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      error = flag + " needs a value";
      return std::nullopt;
    }
    const std::string value = argv[++i];
    if (flag == "--event") {
      o.event_dir = value;
    } else if (flag == "--reads") {
      o.reads_file = value;
    } else if (flag == "--device-tokens-file") {
      o.tokens_file = value;
    } else if (flag == "--server") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
        error = "--server wants HOST:PORT, got \"" + value + "\"";
        return std::nullopt;
      }
      o.host = value.substr(0, colon);
      o.port = value.substr(colon + 1);
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
  if (o.event_dir.empty() || o.reads_file.empty()) {
    error = "--event and --reads are required";
    return std::nullopt;
  }
  if (!o.outages.empty() && o.speed <= 0) {
    error = "--offline needs a --speed other than max (the outage is in race time)";
    return std::nullopt;
  }
  return o;
}

int replay(const Options& o) {
  LoadedEvent loaded = load_event_dir(o.event_dir);
  if (!loaded.ok()) {
    for (const Diagnostic& d : loaded.problems)
      std::cerr << d.to_string() << "\n";
    return 1;
  }
  const Event& event = loaded.event;
  const auto text = read_text(o.reads_file);
  if (!text) {
    std::cerr << "splitstream-sim: cannot read " << o.reads_file << "\n";
    return 1;
  }
  ReadsFile reads = parse_reads_csv(*text, event, o.reads_file);
  for (const Diagnostic& d : reads.problems)
    std::cerr << d.to_string() << "\n";
  if (!reads.problems.empty()) return 1;
  ReplayPlan plan;
  try {
    plan = make_replay_plan(reads.reads, event);
    apply_faults(plan, o.faults);
  } catch (const std::exception& e) {
    std::cerr << "splitstream-sim: " << o.reads_file << ": " << e.what() << "\n";
    return 1;
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
  if (!o.sent_reads.empty()) {
    std::ofstream out(o.sent_reads, std::ios::binary | std::ios::trunc);
    out << plan_to_csv(plan, event);
    if (!out.flush()) {
      std::cerr << "splitstream-sim: cannot write " << o.sent_reads << "\n";
      return 1;
    }
  }
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
  std::cerr << "splitstream-sim: replaying " << plan.total << " reads of " << o.reads_file << " on "
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
  std::cout << "replayed " << o.reads_file << ": " << acked << " of " << plan.total
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
    return replay(*options);
  } catch (const std::exception& e) {
    std::cerr << "splitstream-sim: " << e.what() << "\n";
    return 1;
  }
}
