// Live push under load: thousands of WebSocket viewers on loopback follow the passings while
// the demo race's reads stream in through device connections.
//
//   push_bench [--viewers N] [--stalled N] [--rate R] [--server-cpu C --client-cpu C]
//              [--splitstream PATH] [--json FILE]
//
// It starts its own redis-server and `splitstream serve` on free loopback ports against the
// demo event, opens N viewers (Protobuf subprotocol, each subscribed to all passings), measures
// the server's resident memory before and after they connect (memory per idle connection),
// then streams the demo race's 19,900 reads through its 10 device lines at R reads/s in all.
// An observer follows the Redis stream and notes when Redis wrote each read (the entry ID's time,
// just before the device's ack); each viewer message's latency is its arrival minus that moment
// for the read its version names. --stalled N adds N viewers that subscribe and then never read
// (a 4 KiB receive buffer): the run then also reports the server's peak memory and how long
// after the first read the last of them was still connected. --server-cpu and --client-cpu pin
// redis-server and splitstream to one core and this tool (viewers, devices, observer) to
// another. See docs/benchmarks.md.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
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
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace v1 = splitstream::v1;

struct Options {
  std::size_t viewers = 20'000;
  std::size_t stalled = 0;
  int server_cpu = -1;
  int client_cpu = -1;
  double rate = 1000;  // reads/s, all devices together
  std::string splitstream = SPLITSTREAM_BIN_DIR "/splitstream";
  std::string json;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "push_bench: " << problem
            << "\nusage: push_bench [--viewers N] [--stalled N] [--rate R] [--server-cpu C "
               "--client-cpu C] [--splitstream PATH] [--json FILE]\n";
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
    } else if (a == "--server-cpu") {
      o.server_cpu = std::stoi(v);
    } else if (a == "--client-cpu") {
      o.client_cpu = std::stoi(v);
    } else if (a == "--stalled") {
      o.stalled = std::stoul(v);
    } else if (a == "--rate") {
      o.rate = std::stod(v);
    } else if (a == "--splitstream") {
      o.splitstream = v;
    } else if (a == "--json") {
      o.json = v;
    } else {
      usage("unknown option " + a);
    }
  }
  if (o.viewers == 0 || o.rate <= 0) usage("--viewers and --rate must be positive");
  if ((o.server_cpu < 0) != (o.client_cpu < 0)) usage("give both --server-cpu and --client-cpu");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!std::filesystem::exists(o.splitstream)) usage("no splitstream binary at " + o.splitstream);
  // Two sockets per viewer (ours and the server's), inherited by the server.
  const std::size_t open_files = raise_open_file_limit();
  if (open_files < o.viewers + o.stalled + 64) {
    std::cerr << "push_bench: open-file limit " << open_files << " is too low for " << o.viewers
              << " viewers\n";
    return 2;
  }

  pin_to(o.server_cpu);  // redis-server and splitstream start on the server's core
  RedisServer::Options redis_options;
  redis_options.append_only = true;
  redis_options.extra_args = {"--appendfsync", "everysec"};
  RedisServer redis(redis_options);
  const DemoRace& demo = DemoRace::get();
  const std::filesystem::path tokens = redis.dir() / "device-tokens";
  demo.write_tokens(tokens);
  const int http_port = free_port();
  const int device_port = free_port();
  Server server({o.splitstream, "serve", "--event", SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025",
                 "--redis", "redis://127.0.0.1:" + std::to_string(redis.port()), "--http",
                 "127.0.0.1:" + std::to_string(http_port), "--devices",
                 "127.0.0.1:" + std::to_string(device_port), "--device-tokens-file",
                 tokens.string(), "--log-level", "error",
                 // Every load client is on 127.0.0.1, like clients behind a balancer.
                 "--http-connections-per-address", "0", "--device-connections-per-address", "0",
                 "--max-viewers", std::to_string(o.viewers + o.stalled + 100)});
  pin_to(o.client_cpu);
  if (!wait_ready(server, http_port, 30s)) {
    std::cerr << "push_bench: splitstream serve did not become ready\n";
    return 1;
  }
  const double rss_before = process_rss_bytes(server.pid());

  // Viewers: one client thread, connecting in waves so the listen backlog never overflows.
  const std::size_t total_reads = demo.total_reads();
  StreamClock clock(total_reads);
  // Every passing, with the smallest snapshot.
  v1::Subscribe all_passings;
  all_passings.set_kind(v1::SUBSCRIPTION_KIND_PASSINGS);
  all_passings.set_limit(1);
  const ViewerRequest request = subscribe_request(all_passings);
  ViewerPool viewers;
  const auto connect_start = Clock::now();
  const std::vector<ViewerRequest> requests(o.viewers, request);
  viewers.open(http_port, requests, clock);
  const double connect_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
  std::this_thread::sleep_for(2s);  // idle: let allocations settle
  const double rss_idle = process_rss_bytes(server.pid());
  const auto subscribed = viewers.stats().subscribed;
  const std::size_t stalled_subscribed =
      o.stalled > 0 ? viewers.open_stalled(http_port, request, o.stalled) : 0;

  // With stalled viewers: the server's memory, and when the last stalled one was let go.
  std::atomic<bool> watching{true};
  std::atomic<double> rss_peak{process_rss_bytes(server.pid())};
  std::atomic<double> stalled_gone_s{-1};
  const auto watch_start = Clock::now();
  std::thread watcher([&] {
    while (watching.load()) {
      rss_peak = std::max(rss_peak.load(), process_rss_bytes(server.pid()));
      if (o.stalled > 0 && stalled_gone_s.load() < 0) {
        const std::string m = http_get(http_port, "/metrics").body;
        const auto at = m.find("\nsplitstream_ws_viewers_connected ");
        if (at != std::string::npos &&
            std::strtod(m.c_str() + at + 34, nullptr) <= static_cast<double>(subscribed)) {
          stalled_gone_s = std::chrono::duration<double>(Clock::now() - watch_start).count();
        }
      }
      std::this_thread::sleep_for(100ms);
    }
  });

  // The observer: when Redis wrote each read into the stream.
  StreamObserver observer(redis, "{ev:pyongyang-2025}:reads", clock, total_reads);

  // Devices: the demo race's reads, every line at once, paced to the rate in all.
  const double server_cpu_before = process_cpu_seconds(server.pid());
  const auto feed_start = Clock::now();
  const bool fed = feed_devices(demo, device_port, o.rate, 10);
  const double feed_s = std::chrono::duration<double>(Clock::now() - feed_start).count();
  // Let the last updates arrive.
  std::this_thread::sleep_for(2s);
  const double server_cpu_s = process_cpu_seconds(server.pid()) - server_cpu_before;
  const double rss_busy = process_rss_bytes(server.pid());
  observer.stop();
  watching = false;
  watcher.join();
  const ViewerStats final_stats = viewers.final_stats(clock);
  const int server_exit = server.stop();
  viewers.stop();

  const double per_connection =
      subscribed > 0 ? (rss_idle - rss_before) / static_cast<double>(subscribed) : 0;
  const double delivered_per_s = static_cast<double>(final_stats.messages) / (feed_s + 2.0);
  const bool ok =
      fed && subscribed == o.viewers && stalled_subscribed == o.stalled && final_stats.messages > 0;
  std::printf(
      "push_bench: %zu viewers (passings, Protobuf), %zu reads at %.0f reads/s\n"
      "  viewers subscribed   %zu of %zu (%zu failed) in %.1f s\n"
      "  server memory        %.1f MB before, %.1f MB idle with viewers, %.1f MB after the race\n"
      "  per idle connection  %.1f KB\n"
      "  feed                 %.1f s, server CPU %.1f s\n"
      "  messages delivered   %llu (%.0f/s over the feed + 2 s), %.1f MB\n"
      "  latency ms (written in Redis -> viewer)  p50 %.1f  p99 %.1f  max-bucket %.1f  (%llu "
      "samples, %llu naming an entry never seen)\n"
      "  cores                %s\n"
      "  stalled viewers      %zu subscribed, all gone %.1f s after they subscribed, as the feed "
      "began (-1: not)\n"
      "  server peak memory   %.1f MB\n"
      "  server exit          %d\n"
      "  result               %s\n",
      o.viewers, total_reads, o.rate, subscribed, o.viewers, final_stats.failed, connect_s,
      rss_before / 1e6, rss_idle / 1e6, rss_busy / 1e6, per_connection / 1024.0, feed_s,
      server_cpu_s, static_cast<unsigned long long>(final_stats.messages), delivered_per_s,
      static_cast<double>(final_stats.bytes) / 1e6, final_stats.latency.percentile(0.5),
      final_stats.latency.percentile(0.99), final_stats.latency.percentile(0.99999),
      static_cast<unsigned long long>(final_stats.latency.count()),
      static_cast<unsigned long long>(final_stats.unseen),
      o.server_cpu < 0 ? "shared"
                       : ("server and redis on " + std::to_string(o.server_cpu) +
                          ", this tool on " + std::to_string(o.client_cpu))
                             .c_str(),
      stalled_subscribed, stalled_gone_s.load(), rss_peak.load() / 1e6, server_exit,
      ok ? "OK" : "FAILED");
  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << "{\"viewers\": " << o.viewers << ", \"subscribed\": " << subscribed
        << ", \"reads\": " << total_reads << ", \"rate\": " << o.rate
        << ", \"rss_before_bytes\": " << rss_before << ", \"rss_idle_bytes\": " << rss_idle
        << ", \"rss_after_bytes\": " << rss_busy
        << ", \"bytes_per_idle_connection\": " << per_connection << ", \"feed_s\": " << feed_s
        << ", \"server_cpu_s\": " << server_cpu_s << ", \"messages\": " << final_stats.messages
        << ", \"messages_per_s\": " << delivered_per_s
        << ", \"latency_ms\": {\"p50\": " << final_stats.latency.percentile(0.5)
        << ", \"p99\": " << final_stats.latency.percentile(0.99)
        << "}, \"server_cpu\": " << o.server_cpu << ", \"client_cpu\": " << o.client_cpu
        << ", \"stalled\": " << stalled_subscribed
        << ", \"stalled_gone_s\": " << stalled_gone_s.load()
        << ", \"rss_peak_bytes\": " << rss_peak.load() << ", \"ok\": " << (ok ? "true" : "false")
        << "}\n";
  }
  return ok ? 0 : 1;
}
