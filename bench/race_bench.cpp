// The whole race: a generated big-city marathon (60,000 runners, 12 timing points, a main and
// a backup line at each) played by `splitstream-sim race` as fast as the server acknowledges,
// with raw duplicates, while WebSocket viewers watch.
//
//   race_bench [--runners N] [--timing-points K] [--viewers V] [--duplicates P]
//              [--speed X|max] [--splitstream PATH] [--sim PATH] [--json FILE]
//
// It starts its own redis-server (append-only) and `splitstream serve` on the generated event,
// opens V viewers as the pages would (75% follow three runners, 20% watch the top 20 of the
// leaderboard, 5% the race's map feed), then runs the simulator. An observer follows the Redis
// stream and notes when Redis wrote each read (the entry ID's time); a viewer message's latency is
// its arrival minus that moment for the read its version names. At the end the server's results
// must equal the results of the reads the simulator sent (computed here, in process). Then two
// nodes start on the finished race, one after the other: one loads the checkpoint and one replays
// the whole stream; how long each takes to be ready, and whether each answers as the first node.
// See docs/benchmarks.md.
#include <fcntl.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "engine/race_engine.hpp"
#include "model/event_loader.hpp"
#include "results/reads_file.hpp"
#include "results/results_report.hpp"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "synth/synthetic_race.hpp"
#include "viewer_load.hpp"

namespace {

using namespace splitstream::bench;
using splitstream::test_support::RedisServer;
using splitstream::testing::free_port;
using splitstream::testing::http_get;
namespace asio = boost::asio;
namespace v1 = splitstream::v1;
namespace fs = std::filesystem;

struct Options {
  std::size_t runners = 60'000;
  std::size_t timing_points = 12;
  std::size_t viewers = 1'000;
  double duplicates = 0.05;
  std::string speed = "max";
  std::string splitstream = SPLITSTREAM_BIN_DIR "/splitstream";
  std::string sim = SPLITSTREAM_BIN_DIR "/splitstream-sim";
  std::string json;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "race_bench: " << problem
            << "\nusage: race_bench [--runners N] [--timing-points K] [--viewers V] "
               "[--duplicates P]\n                  [--speed X|max] [--splitstream PATH] [--sim "
               "PATH] [--json "
               "FILE]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    try {
      if (a == "--runners") {
        o.runners = std::stoul(v);
      } else if (a == "--timing-points") {
        o.timing_points = std::stoul(v);
      } else if (a == "--viewers") {
        o.viewers = std::stoul(v);
      } else if (a == "--speed") {
        if (v != "max" && !(std::stod(v) > 0)) usage("--speed wants a positive number or max");
        o.speed = v;
      } else if (a == "--duplicates") {
        o.duplicates = std::stod(v);
      } else if (a == "--splitstream") {
        o.splitstream = v;
      } else if (a == "--sim") {
        o.sim = v;
      } else if (a == "--json") {
        o.json = v;
      } else {
        usage("unknown option " + a);
      }
    } catch (const std::exception&) {
      usage("bad value for " + a + ": " + v);
    }
  }
  if (o.runners == 0 || o.timing_points < 2) usage("--runners and --timing-points too small");
  return o;
}

// Runs a program to its end with stdout and stderr in files; its exit status.
int run(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, STDOUT_FILENO);
    ::dup2(e, STDERR_FILENO);
    std::vector<std::string> all = args;
    std::vector<char*> argv;
    for (std::string& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string text_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What each viewer asks for: 5% the race's map feed, 20% the top 20 of the leaderboard, the
// rest three runners each (the bibs drawn from the field).
std::vector<ViewerRequest> viewer_requests(std::size_t viewers, const splitstream::Event& event) {
  splitstream::SplitMix64 rng(11);
  std::vector<ViewerRequest> requests;
  for (std::size_t i = 0; i < viewers; ++i) {
    v1::Subscribe s;
    s.set_race_id(event.races.front().id);
    if (i % 20 == 0) {
      s.set_kind(v1::SUBSCRIPTION_KIND_MAP);
    } else if (i % 20 <= 4) {
      s.set_kind(v1::SUBSCRIPTION_KIND_STANDINGS);
      s.set_limit(20);
    } else {
      s.set_kind(v1::SUBSCRIPTION_KIND_RUNNERS);
      s.clear_race_id();
      for (int b = 0; b < 3; ++b)
        s.add_bibs(event.participants[rng.below(event.participants.size())].bib);
    }
    requests.push_back(subscribe_request(s));
  }
  return requests;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  for (const std::string& bin : {o.splitstream, o.sim})
    if (!fs::exists(bin)) usage("no binary at " + bin);
  const std::size_t open_files = raise_open_file_limit();
  if (open_files < 2 * o.viewers + 256) {
    std::cerr << "race_bench: open-file limit " << open_files << " is too low for " << o.viewers
              << " viewers\n";
    return 2;
  }

  RedisServer::Options redis_options;
  redis_options.append_only = true;
  redis_options.extra_args = {"--appendfsync", "everysec"};
  RedisServer redis(redis_options);
  const fs::path dir = redis.dir() / "event";
  const fs::path log = redis.dir();

  // The event, written by the simulator.
  const auto generate_start = Clock::now();
  if (run({o.sim, "event", "--out", dir.string(), "--runners", std::to_string(o.runners),
           "--timing-points", std::to_string(o.timing_points)},
          log / "event.out", log / "event.err") != 0) {
    std::cerr << "race_bench: splitstream-sim event failed:\n" << text_of(log / "event.err");
    return 1;
  }
  const double generate_s = std::chrono::duration<double>(Clock::now() - generate_start).count();
  splitstream::LoadedEvent loaded = splitstream::load_event_dir(dir);
  if (!loaded.ok()) {
    std::cerr << "race_bench: the generated event does not load\n";
    return 1;
  }
  const splitstream::Event& event = loaded.event;
  const fs::path tokens = log / "device-tokens";
  {
    std::ofstream out(tokens);
    for (const splitstream::Device& d : event.devices)
      out << d.id << " tok-" << d.id << "\n";
  }

  const int http_port = free_port();
  const int device_port = free_port();
  const auto serve_start = Clock::now();
  Server server({o.splitstream, "serve", "--event", dir.string(), "--redis",
                 "redis://127.0.0.1:" + std::to_string(redis.port()), "--http",
                 "127.0.0.1:" + std::to_string(http_port), "--devices",
                 "127.0.0.1:" + std::to_string(device_port), "--device-tokens-file",
                 tokens.string(), "--log-level", "error",
                 // Every load client is on 127.0.0.1, like clients behind a balancer.
                 "--http-connections-per-address", "0", "--device-connections-per-address", "0",
                 "--max-viewers", std::to_string(o.viewers + 100)});
  if (!wait_ready(server, http_port, 60s)) {
    std::cerr << "race_bench: splitstream serve did not become ready\n";
    return 1;
  }
  const double ready_s = std::chrono::duration<double>(Clock::now() - serve_start).count();
  const double rss_ready = process_rss_bytes(server.pid());

  // Viewers, 500 at a time.
  const std::vector<ViewerRequest> requests = viewer_requests(o.viewers, event);
  // Room for every read: two lines, up to three raw reads each, duplicates on top.
  StreamClock clock(o.runners * o.timing_points * 8 + 100'000);
  ViewerPool viewers;
  const std::size_t subscribed = viewers.open(http_port, requests, clock);
  const double rss_viewers = process_rss_bytes(server.pid());

  // The observer: when Redis wrote each read into the stream.
  const std::string stream = "{ev:" + event.id + "}:reads";
  StreamObserver observer(redis, stream, clock);

  // The race, as fast as the server acknowledges (or at --speed X).
  const fs::path sent = log / "sent.csv";
  const double server_cpu_before = process_cpu_seconds(server.pid());
  const auto race_start = Clock::now();
  const int sim_exit =
      run({o.sim, "race", "--event", dir.string(), "--server",
           "127.0.0.1:" + std::to_string(device_port), "--device-tokens-file", tokens.string(),
           "--speed", o.speed, "--duplicates", std::to_string(o.duplicates), "--seed", "1",
           "--sent-reads", sent.string()},
          log / "sim.out", log / "sim.err");
  const double played_s = std::chrono::duration<double>(Clock::now() - race_start).count();
  // Reads sent: the lines of the sent file after its header.
  std::size_t sent_reads = 0;
  {
    std::ifstream in(sent);
    for (std::string line; std::getline(in, line);)
      ++sent_reads;
    sent_reads = sent_reads > 0 ? sent_reads - 1 : 0;
  }
  // Until the engine has applied every read (the stream holds each once).
  const std::string applied = "\"detail\":\"" + std::to_string(sent_reads) + " reads applied";
  const auto apply_deadline = Clock::now() + 120s;
  bool all_applied = false;
  while (Clock::now() < apply_deadline) {
    if (http_get(http_port, "/readyz").body.find(applied) != std::string::npos) {
      all_applied = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  const double applied_s = std::chrono::duration<double>(Clock::now() - race_start).count();
  std::this_thread::sleep_for(2s);  // the last pushes
  const double server_cpu_s = process_cpu_seconds(server.pid()) - server_cpu_before;
  const double server_peak = process_status_bytes(server.pid(), "VmHWM");
  const double server_rss_end = process_rss_bytes(server.pid());
  const std::string memory_info = redis.command({"INFO", "memory"}).as_string();
  const std::string server_info = redis.command({"INFO", "server"}).as_string();
  const auto redis_pid = static_cast<pid_t>(info_field(server_info, "process_id"));
  const double redis_peak = process_status_bytes(redis_pid, "VmHWM");
  const double redis_used_peak = info_field(memory_info, "used_memory_peak");
  const std::size_t stream_length =
      static_cast<std::size_t>(redis.command({"XLEN", stream}).as_integer());
  observer.stop();
  const ViewerStats final_stats = viewers.final_stats(clock);
  viewers.stop();

  // The server's results against the results of the reads sent.
  bool results_equal = false;
  std::size_t finishers = 0;
  std::string expected;
  {
    const splitstream::ReadsFile reads =
        splitstream::parse_reads_csv(text_of(sent), event, sent.string());
    splitstream::RaceEngine engine(event);
    for (const splitstream::FileRead& r : reads.reads)
      engine.apply({r.timing_point, r.chip, r.time});
    splitstream::ReportOptions report;
    report.race = event.races.front().id;
    expected = splitstream::results_csv(engine, report);
    const auto got = http_get(http_port, "/api/v1/results.csv?race=" + report.race);
    results_equal = reads.problems.empty() && got.status == 200 && got.body == expected;
    for (std::size_t at = expected.find(",finished,"); at != std::string::npos;
         at = expected.find(",finished,", at + 1))
      ++finishers;
  }

  // Nodes started after the race: how long until each is ready, and whether its state equals
  // the first node's, which applied every read as it came. One loads the checkpoint the first
  // node wrote and replays the stream after it; the other (--checkpoint-interval 0) replays
  // the whole stream, as every node did before checkpoints.
  const std::string race_id = event.races.front().id;
  const std::vector<std::string> compared = {"/api/v1/results.csv?race=" + race_id,
                                             "/api/v1/passings?limit=500",
                                             "/api/v1/standings/" + race_id + "?limit=500"};
  struct LateNode {
    bool ready = false;
    bool equal = false;
    double ready_s = 0;
    double rss = 0;
  };
  const auto start_late_node = [&](const std::vector<std::string>& extra) {
    LateNode node;
    const int port = free_port();
    std::vector<std::string> args = {o.splitstream,
                                     "serve",
                                     "--event",
                                     dir.string(),
                                     "--redis",
                                     "redis://127.0.0.1:" + std::to_string(redis.port()),
                                     "--http",
                                     "127.0.0.1:" + std::to_string(port),
                                     "--devices",
                                     "127.0.0.1:" + std::to_string(free_port()),
                                     "--device-tokens-file",
                                     tokens.string(),
                                     "--log-level",
                                     "error"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto start = Clock::now();
    Server late(args);
    node.ready = wait_ready(late, port, 300s);
    node.ready_s = std::chrono::duration<double>(Clock::now() - start).count();
    node.rss = process_rss_bytes(late.pid());
    // Its last passings follow its last batch within the push interval: a few tries.
    const auto deadline = Clock::now() + 5s;
    while (node.ready && !node.equal && Clock::now() < deadline) {
      node.equal = http_get(port, compared.front()).body == expected;
      for (const std::string& path : compared) {
        const auto first = http_get(http_port, path);
        node.equal = node.equal && first.status == 200 && first.body == http_get(port, path).body;
      }
      if (!node.equal) std::this_thread::sleep_for(50ms);
    }
    if (!node.equal) std::cerr << "race_bench: a late node differs from the first\n";
    late.stop();
    return node;
  };
  // The first node's checkpoint of the whole race (written once the stream pauses for 2 s).
  const std::string checkpoint_line =
      "splitstream_checkpoint_entries " + std::to_string(sent_reads) + "\n";
  const auto checkpoint_deadline = Clock::now() + 30s;
  bool checkpointed = false;
  while (!checkpointed && Clock::now() < checkpoint_deadline) {
    checkpointed = http_get(http_port, "/metrics").body.find(checkpoint_line) != std::string::npos;
    if (!checkpointed) std::this_thread::sleep_for(100ms);
  }
  if (!checkpointed) std::cerr << "race_bench: the first node wrote no checkpoint of the race\n";
  const LateNode late = start_late_node({});
  const LateNode late_replay = start_late_node({"--checkpoint-interval", "0"});
  const int server_exit = server.stop();

  const double reads_per_s = static_cast<double>(sent_reads) / played_s;
  const bool ok = sim_exit == 0 && all_applied && stream_length == sent_reads &&
                  subscribed == o.viewers && results_equal && final_stats.messages > 0 &&
                  checkpointed && late.ready && late.equal && late_replay.ready &&
                  late_replay.equal;
  std::printf(
      "race_bench: %zu runners, %zu timing points, %zu devices, %zu viewers, duplicates %.2f, "
      "speed %s\n"
      "  event generated      %.1f s; server ready in %.1f s (%.0f MB)\n"
      "  viewers subscribed   %zu of %zu (%zu failed); server %.0f MB with them\n"
      "  race played          %zu reads sent in %.1f s (%.0f reads/s), all applied after %.1f s\n"
      "  stream               %zu entries (= reads sent: %s)\n"
      "  results              %zu finishers; equal to the results of the reads sent: %s\n"
      "  server CPU           %.1f s\n"
      "  peak memory          server %.0f MB (%.0f MB at the end), redis-server %.0f MB "
      "(used_memory_peak %.0f MB)\n"
      "  messages delivered   %llu, %.1f MB\n"
      "  latency ms (written in Redis -> viewer)  p50 %.1f  p99 %.1f  max %.1f  (%llu samples, "
      "%llu naming an entry never seen)\n"
      "  late nodes           ready in %.1f s (%.0f MB) from the checkpoint, %.1f s (%.0f MB) "
      "replaying the stream; state equal: %s\n"
      "  simulator exit %d, server exit %d\n"
      "  result               %s\n",
      o.runners, event.timing_points.size(), event.devices.size(), o.viewers, o.duplicates,
      o.speed.c_str(), generate_s, ready_s, rss_ready / 1e6, subscribed, o.viewers,
      final_stats.failed, rss_viewers / 1e6, sent_reads, played_s, reads_per_s, applied_s,
      stream_length, stream_length == sent_reads ? "yes" : "NO", finishers,
      results_equal ? "yes" : "NO", server_cpu_s, server_peak / 1e6, server_rss_end / 1e6,
      redis_peak / 1e6, redis_used_peak / 1e6,
      static_cast<unsigned long long>(final_stats.messages),
      static_cast<double>(final_stats.bytes) / 1e6, final_stats.latency.percentile(0.5),
      final_stats.latency.percentile(0.99), final_stats.latency.max(),
      static_cast<unsigned long long>(final_stats.latency.count()),
      static_cast<unsigned long long>(final_stats.unseen), late.ready_s, late.rss / 1e6,
      late_replay.ready_s, late_replay.rss / 1e6, late.equal && late_replay.equal ? "yes" : "NO",
      sim_exit, server_exit, ok ? "OK" : "FAILED");
  if (sim_exit != 0) std::cerr << text_of(log / "sim.err");
  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << "{\"runners\": " << o.runners << ", \"timing_points\": " << event.timing_points.size()
        << ", \"devices\": " << event.devices.size() << ", \"viewers\": " << o.viewers
        << ", \"subscribed\": " << subscribed << ", \"duplicates\": " << o.duplicates
        << ", \"speed\": \"" << o.speed << "\""
        << ", \"reads_sent\": " << sent_reads << ", \"stream_entries\": " << stream_length
        << ", \"played_s\": " << played_s << ", \"applied_s\": " << applied_s
        << ", \"reads_per_s\": " << reads_per_s << ", \"finishers\": " << finishers
        << ", \"results_equal\": " << (results_equal ? "true" : "false")
        << ", \"server_ready_s\": " << ready_s << ", \"server_cpu_s\": " << server_cpu_s
        << ", \"late_node_ready_s\": " << late.ready_s
        << ", \"late_node_replaying_ready_s\": " << late_replay.ready_s
        << ", \"late_nodes_equal\": " << (late.equal && late_replay.equal ? "true" : "false")
        << ", \"server_peak_rss_bytes\": " << server_peak
        << ", \"redis_peak_rss_bytes\": " << redis_peak
        << ", \"redis_used_memory_peak_bytes\": " << redis_used_peak
        << ", \"messages\": " << final_stats.messages
        << ", \"message_bytes\": " << final_stats.bytes
        << ", \"latency_ms\": {\"p50\": " << final_stats.latency.percentile(0.5)
        << ", \"p99\": " << final_stats.latency.percentile(0.99)
        << ", \"max\": " << final_stats.latency.max()
        << ", \"samples\": " << final_stats.latency.count()
        << "}, \"ok\": " << (ok ? "true" : "false") << "}\n";
  }
  return ok ? 0 : 1;
}
