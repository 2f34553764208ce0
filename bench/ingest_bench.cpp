// Ingest end to end: reads acknowledged per second from device clients through `splitstream serve`
// into Redis, with Redis's own XADD rate and XRANGE rate (redis-benchmark) as the reference.
//
//   ingest_bench [--reads M] [--batch B] [--inflight W] [--devices N] [--event DIR]
//                [--splitstream PATH] [--redis-requests R] [--durability MODE] [--json FILE]
//
// It starts its own redis-server (appendonly yes, appendfsync everysec) on a free loopback port
// and `splitstream serve` on free ports against the demo event, streams M reads per device from N
// device threads (one per device of the event), checks that the stream holds every read exactly
// once, and stops everything it started. --durability (default local) is passed to the server:
// fsync starts Redis with appendfsync always, replicated also starts a replica of it (and checks
// that the replica holds every read too). See docs/benchmarks.md.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "ingest/frame_codec.hpp"
#include "splitstream/v1/device.pb.h"
#include "support/child_process.hpp"
#include "support/device_client.hpp"
#include "support/redis_server.hpp"

namespace {
using namespace splitstream::bench;

using namespace std::chrono_literals;
using splitstream::encode_frame;
using splitstream::test_support::RedisServer;
using splitstream::testing::DeviceClient;
using splitstream::testing::free_port;
using splitstream::testing::http_get;
namespace v1 = splitstream::v1;

constexpr std::int64_t kGun = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
const std::string kReadsKey = "{ev:pyongyang-2025}:reads";
const std::vector<std::string> kTimingPoints = {"stadium", "arch", "square", "mirae", "potong"};

struct Options {
  std::uint64_t reads = 100'000;  // per device
  std::uint64_t batch = 500;
  std::size_t inflight = 4;
  std::size_t devices = 10;
  std::uint64_t redis_requests = 200'000;
  std::string event = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";
  std::string splitstream;
  std::string durability = "local";
  std::string json;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "ingest_bench: " << error
            << "\nusage: ingest_bench [--reads M] [--batch B] [--inflight W] [--devices N]"
               " [--event DIR] [--splitstream PATH] [--redis-requests R]"
               " [--durability local|fsync|replicated] [--json FILE]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  o.splitstream = (self.parent_path() / "splitstream").string();
  auto number = [&](int& i) -> std::uint64_t {
    if (i + 1 >= argc) usage(std::string(argv[i]) + " needs a value");
    const std::string text = argv[++i];
    try {
      std::size_t used = 0;
      const unsigned long long v = std::stoull(text, &used);
      if (used != text.size() || v == 0) throw std::invalid_argument(text);
      return v;
    } catch (const std::exception&) {
      usage("not a positive number: " + text);
    }
  };
  auto text = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reads")
      o.reads = number(i);
    else if (arg == "--batch")
      o.batch = number(i);
    else if (arg == "--inflight")
      o.inflight = number(i);
    else if (arg == "--devices")
      o.devices = number(i);
    else if (arg == "--redis-requests")
      o.redis_requests = number(i);
    else if (arg == "--event")
      o.event = text(i);
    else if (arg == "--splitstream")
      o.splitstream = text(i);
    else if (arg == "--json")
      o.json = text(i);
    else if (arg == "--durability")
      o.durability = text(i);
    else if (arg.rfind("--", 0) != 0)
      o.splitstream = arg;
    else
      usage("unknown option " + arg);
  }
  if (o.batch > 10'000) usage("--batch is at most 10000 (the protocol's limit)");
  if (o.devices > 2 * kTimingPoints.size()) usage("the demo event has 10 devices");
  if (o.durability != "local" && o.durability != "fsync" && o.durability != "replicated")
    usage("--durability is local, fsync or replicated, not " + o.durability);
  return o;
}

std::string chip_code(std::uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "E2801160600002%010llX", static_cast<unsigned long long>(n));
  return buf;
}

struct DeviceResult {
  std::string id;
  std::uint64_t acked = 0;
  std::string error;
  std::vector<double> latencies_ms;  // one per batch
};

// One device: Hello, then `reads` reads in batches of `batch`, at most `inflight` unacked.
void run_device(int port, const std::string& id, const std::string& token, std::size_t index,
                const Options& o, std::barrier<>& start, DeviceResult& result) {
  result.id = id;
  // Encode every frame before the clock starts: the bench measures the server, not the client.
  std::vector<std::string> frames;
  std::vector<std::uint64_t> last_seq;
  for (std::uint64_t first = 1; first <= o.reads; first += o.batch) {
    const std::uint64_t last = std::min(o.reads, first + o.batch - 1);
    v1::DeviceMessage m;
    v1::ReadBatch* batch = m.mutable_batch();
    for (std::uint64_t seq = first; seq <= last; ++seq) {
      v1::Read* r = batch->add_reads();
      r->set_seq(seq);
      // Runners pass in bursts: 20,000 chips, each read by this mat ~every 5 s of race time.
      r->set_chip(chip_code((seq * 7919 + index * 104729) % 20'000));
      r->set_time_ms(kGun + static_cast<std::int64_t>(seq) * 250);
      if (seq % 3 == 0) r->set_rssi_dbm(-60 - static_cast<std::int32_t>(seq % 20));
    }
    frames.push_back(encode_frame(m));
    last_seq.push_back(last);
  }
  result.latencies_ms.reserve(frames.size());

  DeviceClient client(port);
  bool ok = client.connected() && client.hello(id, token);
  if (ok) {
    auto welcome = client.receive_reply();
    if (!welcome || !welcome->has_welcome()) {
      result.error = welcome ? "no Welcome: " + welcome->ShortDebugString() : "no Welcome";
      ok = false;
    } else if (welcome->welcome().acked_seq() != 0) {
      result.error = "Welcome.acked_seq is not 0 (Redis not empty?)";
      ok = false;
    }
  } else {
    result.error = "cannot connect or send Hello";
  }
  start.arrive_and_wait();
  if (!ok) return;

  std::deque<std::pair<std::size_t, Clock::time_point>> in_flight;  // frame index, sent at
  std::size_t next = 0;
  while (next < frames.size() || !in_flight.empty()) {
    while (next < frames.size() && in_flight.size() < o.inflight) {
      in_flight.emplace_back(next, Clock::now());
      if (!client.send_raw(frames[next])) {
        result.error = "send failed at batch " + std::to_string(next);
        return;
      }
      ++next;
    }
    auto reply = client.receive_reply();
    if (!reply || !reply->has_ack()) {
      result.error = reply ? "expected an Ack, got " + reply->ShortDebugString()
                           : "connection closed or 10 s without a reply";
      return;
    }
    const v1::Ack& ack = reply->ack();
    if (ack.rejected_size() > 0 || ack.gaps_size() > 0) {
      result.error = "unexpected rejected reads or gaps: " + ack.ShortDebugString();
      return;
    }
    const auto now = Clock::now();
    result.acked = std::max<std::uint64_t>(result.acked, ack.acked_seq());
    while (!in_flight.empty() && last_seq[in_flight.front().first] <= ack.acked_seq()) {
      result.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - in_flight.front().second).count());
      in_flight.pop_front();
    }
  }
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

// redis-benchmark's requests/s for one command, or 0 (with the output on stderr).
double redis_benchmark(int port, std::uint64_t requests, const std::string& command) {
  const std::string line = std::string(SPLITSTREAM_REDIS_BENCHMARK) + " -h 127.0.0.1 -p " +
                           std::to_string(port) + " -q -n " + std::to_string(requests) +
                           " -r 1000000 -P 16 " + command + " 2>&1";
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return 0;
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe))
    out.append(buf, n);
  ::pclose(pipe);
  // Progress lines end in \r; the final one reads "CMD: 123456.79 requests per second, ...".
  const auto at = out.rfind(" requests per second");
  if (at == std::string::npos) {
    std::cerr << "ingest_bench: cannot parse redis-benchmark output:\n" << out << "\n";
    return 0;
  }
  const auto colon = out.rfind(": ", at);
  return std::strtod(out.c_str() + colon + 2, nullptr);
}

// Waits until the primary streams to a replica that acknowledged a write made after its sync
// began: until then a WAIT would count it out (the first ACK after a full sync can come a second
// late).
bool replica_following(const RedisServer& primary, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto replication = [&] { return primary.command({"INFO", "replication"}).as_string(); };
  while (replication().find("state=online") == std::string::npos) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  primary.command({"INCR", "bench:probe"});
  const double written = info_field(replication(), "master_repl_offset");
  for (;;) {
    const std::string text = replication();
    const auto slave = text.find("slave0:");
    if (slave != std::string::npos && info_field(text.substr(slave), ",offset") >= written)
      return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// A histogram's _sum or _count on the server's /metrics, or 0.
double metric_value(int http_port, const std::string& series) {
  const std::string text = http_get(http_port, "/metrics").body;
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!std::filesystem::exists(o.splitstream)) usage("no splitstream binary at " + o.splitstream);

  RedisServer::Options redis_options;
  redis_options.append_only = true;
  redis_options.extra_args = {"--appendfsync", o.durability == "fsync" ? "always" : "everysec",
                              "--repl-diskless-sync-delay", "0"};
  RedisServer redis(redis_options);
  // --durability replicated: one replica, as persistent as the primary.
  std::optional<RedisServer> replica;
  if (o.durability == "replicated") {
    RedisServer::Options replica_options;
    replica_options.extra_args = {"--appendfsync", "everysec", "--replicaof", "127.0.0.1",
                                  std::to_string(redis.port())};
    replica.emplace(replica_options);
    if (!replica_following(redis, 30s)) {
      std::cerr << "ingest_bench: the replica did not start following the primary\n";
      return 1;
    }
  }

  // Tokens for every device of the demo event, in Redis's temp dir (removed with it).
  std::vector<std::pair<std::string, std::string>> devices;
  for (const std::string& line : {std::string("main"), std::string("backup")}) {
    for (const std::string& tp : kTimingPoints)
      devices.emplace_back(tp + "-" + line, "bench-token-" + tp + "-" + line);
  }
  std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) {
    // main and backup of a mat next to each other, mats in course order
    const auto mat = [](const std::string& id) {
      return std::find(kTimingPoints.begin(), kTimingPoints.end(), id.substr(0, id.find('-'))) -
             kTimingPoints.begin();
    };
    return mat(a.first) != mat(b.first) ? mat(a.first) < mat(b.first) : a.first > b.first;
  });
  const std::filesystem::path tokens = redis.dir() / "device-tokens";
  {
    std::ofstream out(tokens);
    for (const auto& [id, token] : devices)
      out << id << ' ' << token << '\n';
  }
  std::filesystem::permissions(
      tokens, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  devices.resize(o.devices);

  const int http_port = free_port();
  const int device_port = free_port();
  Server server({o.splitstream, "serve", "--event", o.event, "--redis",
                 "redis://127.0.0.1:" + std::to_string(redis.port()), "--http",
                 "127.0.0.1:" + std::to_string(http_port), "--devices",
                 "127.0.0.1:" + std::to_string(device_port), "--device-tokens-file",
                 tokens.string(), "--log-level", "error",
                 // Every load client is on 127.0.0.1, like clients behind a balancer.
                 "--http-connections-per-address", "0", "--device-connections-per-address", "0",
                 "--durability", o.durability});
  {
    const bool ready = wait_ready(server, http_port, 30s);
    if (!ready) {
      std::cerr << "ingest_bench: splitstream serve did not become ready (/readyz)\n";
      return 1;
    }
  }

  // Run.
  std::vector<DeviceResult> results(devices.size());
  std::barrier start(static_cast<std::ptrdiff_t>(devices.size() + 1));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    threads.emplace_back(run_device, device_port, devices[i].first, devices[i].second, i,
                         std::cref(o), std::ref(start), std::ref(results[i]));
  }
  const std::string info_before = redis.command({"INFO", "cpu"}).as_string();
  const std::string replica_info_before =
      replica ? replica->command({"INFO", "cpu"}).as_string() : std::string();
  const double server_cpu_before = process_cpu_seconds(server.pid());
  const double self_cpu_before = self_cpu_seconds();
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (std::thread& t : threads)
    t.join();
  const double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double server_cpu_s = process_cpu_seconds(server.pid()) - server_cpu_before;
  const double self_cpu_s = self_cpu_seconds() - self_cpu_before;
  const std::string info_after = redis.command({"INFO", "cpu"}).as_string();
  const std::string replica_info_after =
      replica ? replica->command({"INFO", "cpu"}).as_string() : std::string();
  const double replica_cpu_s = info_field(replica_info_after, "used_cpu_sys") +
                               info_field(replica_info_after, "used_cpu_user") -
                               info_field(replica_info_before, "used_cpu_sys") -
                               info_field(replica_info_before, "used_cpu_user");
  const double redis_cpu_s =
      info_field(info_after, "used_cpu_sys") + info_field(info_after, "used_cpu_user") -
      info_field(info_before, "used_cpu_sys") - info_field(info_before, "used_cpu_user");
  const std::string commandstats = redis.command({"INFO", "commandstats"}).as_string();
  const auto evalsha_at = commandstats.find("cmdstat_evalsha:");
  const std::string evalsha =
      evalsha_at == std::string::npos ? "" : commandstats.substr(evalsha_at, 200);
  const double evalsha_calls = info_field(evalsha, "calls");
  const double evalsha_usec = info_field(evalsha, ",usec");
  const auto xread_at = commandstats.find("cmdstat_xread:");
  const std::string xread = xread_at == std::string::npos ? "" : commandstats.substr(xread_at, 200);
  const double xread_calls = info_field(xread, "calls");
  const double xread_usec = info_field(xread, ",usec");
  // --durability replicated: the WAITs the server sent and how long they took, from its metrics.
  const double wait_count = metric_value(http_port, "splitstream_redis_wait_seconds_count");
  const double wait_mean_ms =
      wait_count > 0
          ? 1000 * metric_value(http_port, "splitstream_redis_wait_seconds_sum") / wait_count
          : 0.0;
  const double wait_unconfirmed =
      metric_value(http_port, "splitstream_redis_wait_unconfirmed_total");

  // Results and correctness.
  bool ok = true;
  std::uint64_t acked = 0;
  std::vector<double> latencies;
  for (const DeviceResult& r : results) {
    acked += r.acked;
    latencies.insert(latencies.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    if (!r.error.empty()) {
      std::cerr << "ingest_bench: device " << r.id << ": " << r.error << "\n";
      ok = false;
    } else if (r.acked != o.reads) {
      std::cerr << "ingest_bench: device " << r.id << " acked " << r.acked << " of " << o.reads
                << "\n";
      ok = false;
    }
  }
  const std::uint64_t sent = o.reads * devices.size();
  const auto stream_length =
      static_cast<std::uint64_t>(redis.command({"XLEN", kReadsKey}).as_integer());
  if (stream_length != sent) {
    std::cerr << "ingest_bench: XLEN " << kReadsKey << " is " << stream_length << ", sent " << sent
              << "\n";
    ok = false;
  }
  std::int64_t replica_length = -1;
  if (replica) {
    replica_length = replica->command({"XLEN", kReadsKey}).as_integer();
    if (replica_length != static_cast<std::int64_t>(stream_length)) {
      std::cerr << "ingest_bench: the replica's XLEN is " << replica_length << ", the primary's "
                << stream_length << "\n";
      ok = false;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  const double p50 = percentile(latencies, 0.50);
  const double p99 = percentile(latencies, 0.99);
  const double max = latencies.empty() ? 0 : latencies.back();
  const double reads_per_s = static_cast<double>(acked) / wall_s;

  // Redis's own rate for what one read costs inside the ingest script, on the same server.
  const int server_exit = server.stop();
  const double xadd_per_s =
      redis_benchmark(redis.port(), o.redis_requests,
                      "XADD '{ev:bench}:s' '*' d x s 1 tp arch c __rand_int__ t 1743894000000 l "
                      "main r ''");
  // The follower's share: every node reads each read back from the stream, 1,000 per XREAD.
  // XRANGE of the first 1,000 entries of the stream the run filled costs Redis the same.
  const double xrange_per_s = redis_benchmark(redis.port(), o.redis_requests / 100,
                                              "XRANGE '{ev:pyongyang-2025}:reads' - + COUNT 1000");
  const double xrange_entries_per_s = xrange_per_s * 1000;
  const double both_per_s = xadd_per_s > 0 && xrange_entries_per_s > 0
                                ? 1.0 / (1.0 / xadd_per_s + 1.0 / xrange_entries_per_s)
                                : 0;
  const double ratio = xadd_per_s > 0 ? reads_per_s / xadd_per_s : 0;
  if (replica) replica->stop();
  redis.stop();

  std::printf(
      "ingest_bench: %zu devices x %llu reads, batches of %llu, %zu in flight, durability %s\n"
      "  reads acked        %llu (stream holds %llu, sent %llu)\n"
      "  wall time          %.3f s\n"
      "  acked reads/s      %.0f\n"
      "  ack latency ms     p50 %.2f  p99 %.2f  max %.2f  (%zu batches)\n"
      "  cpu s during run   splitstream %.2f  redis %.2f  replica %.2f  bench clients %.2f\n"
      "  redis EVALSHA      %.0f calls, %.1f us per call (%.2f us per read)\n"
      "  redis XREAD        %.0f calls, %.2f us per read followed\n"
      "  redis-benchmark    XADD %.0f/s  XRANGE 1000 %.0f/s (%.0f entries/s)  both %.0f/s\n"
      "  ratio              %.3f of XADD, %.3f of XADD + reading it back\n"
      "  WAIT (replicated)  %.0f calls, %.3f ms mean, %.0f not confirmed; replica XLEN %lld\n"
      "  server exit        %d\n"
      "  result             %s\n",
      devices.size(), static_cast<unsigned long long>(o.reads),
      static_cast<unsigned long long>(o.batch), o.inflight, o.durability.c_str(),
      static_cast<unsigned long long>(acked), static_cast<unsigned long long>(stream_length),
      static_cast<unsigned long long>(sent), wall_s, reads_per_s, p50, p99, max, latencies.size(),
      server_cpu_s, redis_cpu_s, replica_cpu_s, self_cpu_s, evalsha_calls,
      evalsha_calls > 0 ? evalsha_usec / evalsha_calls : 0.0,
      stream_length > 0 ? evalsha_usec / static_cast<double>(stream_length) : 0.0, xread_calls,
      stream_length > 0 ? xread_usec / static_cast<double>(stream_length) : 0.0, xadd_per_s,
      xrange_per_s, xrange_entries_per_s, both_per_s, ratio,
      both_per_s > 0 ? reads_per_s / both_per_s : 0.0, wait_count, wait_mean_ms, wait_unconfirmed,
      static_cast<long long>(replica_length), server_exit, ok ? "OK" : "FAILED");

  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << "{\"durability\": \"" << o.durability << "\", \"devices\": " << devices.size()
        << ", \"reads_per_device\": " << o.reads << ", \"batch\": " << o.batch
        << ", \"inflight\": " << o.inflight << ", \"reads_acked\": " << acked
        << ", \"stream_length\": " << stream_length << ", \"wall_s\": " << wall_s
        << ", \"acked_reads_per_s\": " << reads_per_s << ", \"ack_latency_ms\": {\"p50\": " << p50
        << ", \"p99\": " << p99 << ", \"max\": " << max
        << "}, \"cpu_s\": {\"splitstream\": " << server_cpu_s << ", \"redis\": " << redis_cpu_s
        << ", \"redis_replica\": " << replica_cpu_s << ", \"bench\": " << self_cpu_s
        << "}, \"redis_evalsha_calls\": " << evalsha_calls
        << ", \"redis_evalsha_usec\": " << evalsha_usec << ", \"redis_xadd_per_s\": " << xadd_per_s
        << ", \"redis_xread_calls\": " << xread_calls << ", \"redis_xread_usec\": " << xread_usec
        << ", \"redis_xrange_1000_per_s\": " << xrange_per_s
        << ", \"redis_xadd_and_read_back_per_s\": " << both_per_s
        << ", \"ratio_to_xadd\": " << ratio << ", \"ratio_to_xadd_and_read_back\": "
        << (both_per_s > 0 ? reads_per_s / both_per_s : 0.0)
        << ", \"redis_wait_calls\": " << wait_count << ", \"redis_wait_mean_ms\": " << wait_mean_ms
        << ", \"redis_wait_unconfirmed\": " << wait_unconfirmed
        << ", \"replica_stream_length\": " << replica_length
        << ", \"ok\": " << (ok ? "true" : "false") << "}\n";
    if (!out) {
      std::cerr << "ingest_bench: cannot write " << o.json << "\n";
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
