// Fan-out per server CPU-second: Splitstream against a plain broadcast server on the npm
// package `ws` (bench/ws_broadcast.mjs), the same viewers, the same messages, the same load
// client, in one run.
//
//   fanout_bench [--viewers N] [--reads N] [--rate R] [--server-cpu C --client-cpu C]
//                [--node PATH] [--splitstream PATH] [--json FILE]
//
// 1. Splitstream: its own redis-server and `splitstream serve` on the demo event; N viewers
//    (Protobuf, all passings) and one recording viewer; the demo race's first `--reads` reads
//    through its 10 device lines at R reads/s. The window runs from the first read sent until
//    every viewer has every message the recorder got (and the recorder has had nothing new for
//    a second): the server's CPU (user + system, /proc) over that window.
// 2. `ws`: node bench/ws_broadcast.mjs, the same N viewers (the same client code), and the
//    recorded messages broadcast to all of them with the gaps they arrived with. The window
//    runs from the broadcast's start until every viewer has them all.
// Messages per server CPU-second, each, and their ratio. --server-cpu/--client-cpu pin the
// servers and the load client to one core each (sched_setaffinity). See docs/benchmarks.md.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "device_feed.hpp"
#include "splitstream/v1/live.pb.h"
#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/redis_server.hpp"
#include "viewer_load.hpp"

namespace {

using namespace splitstream::bench;
using splitstream::test_support::RedisServer;
using splitstream::testing::DemoRace;
using splitstream::testing::free_port;
using splitstream::testing::http_get;
using splitstream::testing::http_send;
namespace v1 = splitstream::v1;

struct Options {
  std::size_t viewers = 2000;
  std::size_t reads = 1000;
  double rate = 100;  // reads/s, all devices together
  int server_cpu = -1;
  int client_cpu = -1;
  std::string node = "node";
  std::string splitstream = SPLITSTREAM_BIN_DIR "/splitstream";
  std::string json;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "fanout_bench: " << problem
            << "\nusage: fanout_bench [--viewers N] [--reads N] [--rate R] [--server-cpu C "
               "--client-cpu C] [--node PATH] [--splitstream PATH] [--json FILE]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--viewers") {
      o.viewers = std::stoul(v);
    } else if (a == "--reads") {
      o.reads = std::stoul(v);
    } else if (a == "--rate") {
      o.rate = std::stod(v);
    } else if (a == "--server-cpu") {
      o.server_cpu = std::stoi(v);
    } else if (a == "--client-cpu") {
      o.client_cpu = std::stoi(v);
    } else if (a == "--node") {
      o.node = v;
    } else if (a == "--splitstream") {
      o.splitstream = v;
    } else if (a == "--json") {
      o.json = v;
    } else {
      usage("unknown option " + a);
    }
  }
  if (o.viewers == 0 || o.reads == 0 || o.rate <= 0) usage("sizes and the rate must be positive");
  if ((o.server_cpu < 0) != (o.client_cpu < 0)) usage("give both --server-cpu and --client-cpu");
  return o;
}

// `name` as found on PATH (as given when it holds a '/'): the child is started with execv.
std::string on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::filesystem::path candidate = std::filesystem::path(dirs.substr(0, colon)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return name;
}

// Waits until the viewers hold `wanted` messages in all; false after `timeout`.
bool wait_delivered(ViewerPool& pool, std::uint64_t wanted, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pool.stats().messages >= wanted) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

struct Run {
  std::uint64_t messages = 0;  // delivered to the N viewers (the recorder not counted)
  double window_s = 0;
  double server_cpu_s = 0;
  bool ok = false;
  double per_cpu_s() const {
    return server_cpu_s > 0 ? static_cast<double>(messages) / server_cpu_s : 0;
  }
};

std::vector<ViewerRequest> viewer_requests(std::size_t viewers, bool recorder) {
  v1::Subscribe all_passings;
  all_passings.set_kind(v1::SUBSCRIPTION_KIND_PASSINGS);
  all_passings.set_limit(1);
  std::vector<ViewerRequest> requests(viewers, subscribe_request(all_passings));
  if (recorder) {
    requests.push_back(subscribe_request(all_passings));
    requests.back().record = true;
  }
  return requests;
}

// Splitstream: the messages the recorder got (arrival, bytes) and the run's figures.
Run run_splitstream(const Options& o,
                    std::vector<std::pair<Clock::time_point, std::string>>& recorded) {
  Run run;
  RedisServer redis;
  const DemoRace& demo = DemoRace::get();
  const std::filesystem::path tokens = redis.dir() / "device-tokens";
  demo.write_tokens(tokens);
  const int http_port = free_port();
  const int device_port = free_port();
  auto server = start_on(o.server_cpu,
                         {o.splitstream,
                          "serve",
                          "--event",
                          SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025",
                          "--redis",
                          "redis://127.0.0.1:" + std::to_string(redis.port()),
                          "--http",
                          "127.0.0.1:" + std::to_string(http_port),
                          "--devices",
                          "127.0.0.1:" + std::to_string(device_port),
                          "--device-tokens-file",
                          tokens.string(),
                          "--log-level",
                          "error",
                          "--http-connections-per-address",
                          "0",
                          "--device-connections-per-address",
                          "0",
                          "--max-viewers",
                          std::to_string(o.viewers + 100)},
                         o.client_cpu);
  if (!wait_ready(*server, http_port, 30s)) {
    std::cerr << "fanout_bench: splitstream serve did not become ready\n";
    return run;
  }
  StreamClock clock(demo.total_reads());
  const auto requests = viewer_requests(o.viewers, true);
  ViewerPool viewers;
  if (viewers.open(http_port, requests, clock) != requests.size()) {
    std::cerr << "fanout_bench: not every viewer subscribed to splitstream\n";
    return run;
  }
  // The first `reads` reads of the race, in its order, through the device lines.
  const std::size_t lines = demo.by_device().size();
  const double cpu_before = process_cpu_seconds(server->pid());
  const auto start = Clock::now();
  const bool fed = feed_devices(demo, device_port, o.rate, 5, (o.reads + lines - 1) / lines);
  // Until the recorder has had nothing new for a second and every viewer has what it has.
  std::uint64_t last = 0;
  auto quiet_since = Clock::now();
  for (const auto deadline = Clock::now() + 60s; Clock::now() < deadline;) {
    const ViewerStats now = viewers.stats();
    if (now.recorded.size() != last) {
      last = now.recorded.size();
      quiet_since = Clock::now();
    }
    if (Clock::now() - quiet_since > 1s && now.messages >= last * (requests.size())) break;
    std::this_thread::sleep_for(20ms);
  }
  const ViewerStats final_stats = viewers.stats();
  // The window ends when the last message arrived; the quiet second after it is not counted.
  run.window_s = std::chrono::duration<double>(quiet_since - start).count();
  run.server_cpu_s = process_cpu_seconds(server->pid()) - cpu_before;
  recorded = final_stats.recorded;
  run.messages = final_stats.messages - recorded.size();
  run.ok = fed && !recorded.empty() && run.messages == recorded.size() * o.viewers;
  server->stop();
  viewers.stop();
  return run;
}

// The `ws` server: the recorded messages to the same number of viewers.
Run run_ws(const Options& o, const std::vector<std::pair<Clock::time_point, std::string>>& recorded,
           const std::filesystem::path& dir) {
  Run run;
  // The messages for the broadcast: per message, the gap before it in microseconds and its
  // length (both 32-bit little endian), then its bytes.
  const std::filesystem::path file = dir / "fanout-messages.bin";
  {
    std::ofstream out(file, std::ios::binary);
    for (std::size_t i = 0; i < recorded.size(); ++i) {
      const auto gap = i == 0 ? Clock::duration::zero() : recorded[i].first - recorded[i - 1].first;
      const auto gap_us = static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(gap).count());
      const auto size = static_cast<std::uint32_t>(recorded[i].second.size());
      out.write(reinterpret_cast<const char*>(&gap_us), 4);
      out.write(reinterpret_cast<const char*>(&size), 4);
      out << recorded[i].second;
    }
  }
  const int port = free_port();
  auto server = start_on(
      o.server_cpu,
      {on_path(o.node), SPLITSTREAM_SOURCE_DIR "/bench/ws_broadcast.mjs", std::to_string(port)},
      o.client_cpu);
  const auto up_deadline = Clock::now() + 30s;
  while (http_get(port, "/readyz").status != 200) {
    if (Clock::now() > up_deadline || !server->running()) {
      std::cerr << "fanout_bench: the ws server did not start (npm ci in bench/?)\n";
      return run;
    }
    std::this_thread::sleep_for(50ms);
  }
  StreamClock clock(1);
  const auto requests = viewer_requests(o.viewers, false);
  ViewerPool viewers;
  if (viewers.open(port, requests, clock) != requests.size()) {
    std::cerr << "fanout_bench: not every viewer subscribed to the ws server\n";
    return run;
  }
  const double cpu_before = process_cpu_seconds(server->pid());
  const auto start = Clock::now();
  const auto answer = http_send(port, "POST", "/broadcast", file.string());
  const std::uint64_t wanted = recorded.size() * o.viewers;
  const bool delivered = answer.status == 200 && wait_delivered(viewers, wanted, 60s);
  run.window_s = std::chrono::duration<double>(Clock::now() - start).count();
  run.server_cpu_s = process_cpu_seconds(server->pid()) - cpu_before;
  run.messages = viewers.stats().messages;
  run.ok = delivered && run.messages == wanted;
  server->stop();
  viewers.stop();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!std::filesystem::exists(o.splitstream)) usage("no splitstream binary at " + o.splitstream);
  const std::size_t open_files = raise_open_file_limit();
  if (open_files < o.viewers + 64) {
    std::cerr << "fanout_bench: open-file limit " << open_files << " is too low for " << o.viewers
              << " viewers\n";
    return 2;
  }
  pin_to(o.client_cpu);
  std::vector<std::pair<Clock::time_point, std::string>> recorded;
  const Run ours = run_splitstream(o, recorded);
  std::size_t bytes = 0;
  for (const auto& r : recorded)
    bytes += r.second.size();
  const double average =
      recorded.empty() ? 0 : static_cast<double>(bytes) / static_cast<double>(recorded.size());
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("fanout_bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Run theirs = ours.ok ? run_ws(o, recorded, dir) : Run{};
  std::filesystem::remove_all(dir);
  const double ratio = theirs.per_cpu_s() > 0 ? ours.per_cpu_s() / theirs.per_cpu_s() : 0;
  const bool ok = ours.ok && theirs.ok;
  std::printf(
      "fanout_bench: %zu viewers, %zu messages each (%.0f B average), cores %s\n"
      "  splitstream  %llu messages in %.2f s, server CPU %.2f s: %.0f messages per CPU-second\n"
      "  ws (Node)    %llu messages in %.2f s, server CPU %.2f s: %.0f messages per CPU-second\n"
      "  ratio        %.2f\n"
      "  result       %s\n",
      o.viewers, recorded.size(), average,
      o.server_cpu < 0
          ? "shared"
          : ("server " + std::to_string(o.server_cpu) + ", client " + std::to_string(o.client_cpu))
                .c_str(),
      static_cast<unsigned long long>(ours.messages), ours.window_s, ours.server_cpu_s,
      ours.per_cpu_s(), static_cast<unsigned long long>(theirs.messages), theirs.window_s,
      theirs.server_cpu_s, theirs.per_cpu_s(), ratio, ok ? "OK" : "FAILED");
  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << "{\"viewers\": " << o.viewers << ", \"messages_each\": " << recorded.size()
        << ", \"average_bytes\": " << average << ", \"server_cpu\": " << o.server_cpu
        << ", \"client_cpu\": " << o.client_cpu
        << ", \"splitstream\": {\"messages\": " << ours.messages
        << ", \"window_s\": " << ours.window_s << ", \"server_cpu_s\": " << ours.server_cpu_s
        << ", \"per_cpu_s\": " << ours.per_cpu_s()
        << "}, \"ws\": {\"messages\": " << theirs.messages << ", \"window_s\": " << theirs.window_s
        << ", \"server_cpu_s\": " << theirs.server_cpu_s
        << ", \"per_cpu_s\": " << theirs.per_cpu_s() << "}, \"ratio\": " << ratio
        << ", \"ok\": " << (ok ? "true" : "false") << "}\n";
  }
  return ok ? 0 : 1;
}
