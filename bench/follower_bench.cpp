// The stream follower's apply rate: how fast follow_stream reads a stream of reads from "0" until
// caught up (XREAD COUNT 10000, each reply turned into stream entries), with nothing else running.
//
//   follower_bench [--entries N] [--json FILE]
//
// It starts its own redis-server (no persistence) on a free loopback port, fills the stream
// {ev:bench}:reads with N entries (default 1,000,000) in the ingest script's field layout
// (d s tp c t l r; plain XADD through `redis-cli --pipe`), then times follow_stream on one
// RedisConnection on a one-thread io_context from "0" until it reports caught up: entries/s, the
// CPU seconds of this process (the follower) and of redis-server; then, in process, the CPU cost
// per entry of turning one 1,000-entry reply into stream entries with and without a reply tree.
// Prints one JSON line (and writes it to FILE). See docs/benchmarks.md, "Stream follower: reply
// parsing".
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "store/redis_connection.hpp"
#include "store/resp_reader.hpp"
#include "store/stream_follower.hpp"
#include "store/stream_reply.hpp"
#include "support/redis_server.hpp"
#include "support/resp_reference.hpp"

namespace {

using namespace splitstream::bench;
using splitstream::test_support::RedisServer;

const std::string kKey = "{ev:bench}:reads";
constexpr std::int64_t kGun = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
const std::vector<std::string> kTimingPoints = {"stadium", "arch", "square", "mirae", "potong"};

struct Options {
  std::uint64_t entries = 1'000'000;
  std::string json;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "follower_bench: " << error
            << "\nusage: follower_bench [--entries N] [--json FILE]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--entries") {
      try {
        std::size_t used = 0;
        o.entries = std::stoull(value, &used);
        if (used != value.size() || o.entries == 0) throw std::invalid_argument(value);
      } catch (const std::exception&) {
        usage("not a positive number: " + value);
      }
    } else if (arg == "--json") {
      o.json = value;
    } else {
      usage("unknown option " + arg);
    }
  }
  return o;
}

std::string chip_code(std::uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "E2801160600002%010llX", static_cast<unsigned long long>(n));
  return buf;
}

// Fills the stream through `redis-cli --pipe` (RESP written here); false with the reason on
// stderr.
bool fill(const RedisServer& redis, std::uint64_t entries) {
  const std::string output = (redis.dir() / "pipe.out").string();
  const std::string line = std::string(SPLITSTREAM_REDIS_CLI) + " -p " +
                           std::to_string(redis.port()) + " --pipe > " + output + " 2>&1";
  FILE* pipe = ::popen(line.c_str(), "w");
  if (pipe == nullptr) {
    std::cerr << "follower_bench: cannot run redis-cli\n";
    return false;
  }
  std::string chunk;
  std::vector<std::string> args(17);
  for (std::uint64_t n = 0; n < entries; ++n) {
    // Ten devices (a main and a backup line at five mats), each with its own sequence.
    const std::uint64_t device = n % 10;
    const std::string& mat = kTimingPoints[device / 2];
    args = {"XADD",
            kKey,
            "*",
            "d",
            mat + (device % 2 == 0 ? "-main" : "-backup"),
            "s",
            std::to_string(n / 10 + 1),
            "tp",
            mat,
            "c",
            chip_code((n * 7919) % 20'000),
            "t",
            std::to_string(kGun + static_cast<std::int64_t>(n) * 25),
            "l",
            device % 2 == 0 ? "main" : "backup",
            "r",
            n % 3 == 0 ? "-" + std::to_string(60 + n % 20) : ""};
    splitstream::append_resp_command(chunk, args);
    if (chunk.size() > (1u << 20) || n + 1 == entries) {
      if (std::fwrite(chunk.data(), 1, chunk.size(), pipe) != chunk.size()) break;
      chunk.clear();
    }
  }
  const int status = ::pclose(pipe);
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  // redis-cli --pipe ends with "errors: 0, replies: N".
  const std::string expected = "errors: 0, replies: " + std::to_string(entries);
  if (status != 0 || text.str().find(expected) == std::string::npos) {
    std::cerr << "follower_bench: redis-cli --pipe failed (status " << status << "):\n"
              << text.str() << "\n";
    return false;
  }
  return true;
}

struct Followed {
  std::uint64_t entries = 0;
  std::uint64_t batches = 0;
  std::int64_t time_sum = 0;  // so that nothing read goes unused
  std::string last_id;
  double wall_s = 0;
  double cpu_s = 0;
};

Followed follow(std::uint16_t port) {
  boost::asio::io_context io;
  splitstream::RedisOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.command_timeout = std::chrono::seconds(60);
  auto redis = splitstream::RedisConnection::create(io.get_executor(), options);
  Followed out;
  boost::asio::co_spawn(io, redis->run(), boost::asio::detached);
  const auto t0 = Clock::now();
  const double cpu0 = self_cpu_seconds();
  boost::asio::co_spawn(
      io,
      splitstream::follow_stream(
          redis, kKey,
          splitstream::handle_at_once(
              [&](std::vector<splitstream::StreamEntry>& entries, bool caught_up) {
                ++out.batches;
                out.entries += entries.size();
                for (const splitstream::StreamEntry& e : entries)
                  out.time_sum += e.time_ms;
                if (!entries.empty()) out.last_id = entries.back().id;
                if (caught_up) {
                  out.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
                  out.cpu_s = self_cpu_seconds() - cpu0;
                  redis->stop();
                }
              })),
      boost::asio::detached);
  io.run();
  return out;
}

// In process, no socket: CPU microseconds per entry to turn one XREAD reply's bytes into stream
// entries, through a RedisReply tree (build_resp_reply, then parse_stream_entry on each entry)
// and straight from the bytes (parse_xread_reply); both after scan_resp_reply.
struct ParseCost {
  double tree_us = 0;
  double direct_us = 0;
};

ParseCost parse_cost(const std::string& raw) {
  constexpr int kRounds = 200;
  ParseCost cost;
  std::vector<splitstream::StreamEntry> entries;
  std::string last_id;
  std::size_t received = 0;
  for (int pass = 0; pass < 2; ++pass) {
    const double cpu0 = self_cpu_seconds();
    for (int i = 0; i < kRounds; ++i) {
      entries.clear();
      const std::string_view reply =
          std::string_view(raw).substr(0, splitstream::scan_resp_reply(raw).length);
      if (pass == 0) {
        splitstream::testing::xread_entries_from_tree(splitstream::build_resp_reply(reply), entries,
                                                      last_id, received);
      } else {
        splitstream::parse_xread_reply(reply, entries, last_id, received);
      }
    }
    const double us = (self_cpu_seconds() - cpu0) * 1e6 /
                      static_cast<double>(kRounds * std::max<std::size_t>(entries.size(), 1));
    (pass == 0 ? cost.tree_us : cost.direct_us) = us;
  }
  return cost;
}

// The one-minute load average: other work on the machine moves these figures.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "null" : one;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  RedisServer::Options redis_options;
  redis_options.append_only = false;
  RedisServer redis(redis_options);

  const auto fill_start = Clock::now();
  if (!fill(redis, o.entries)) return 1;
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  const auto length = static_cast<std::uint64_t>(redis.command({"XLEN", kKey}).as_integer());
  const std::string last_id = redis.command({"XREVRANGE", kKey, "+", "-", "COUNT", "1"})
                                  .elements()
                                  .at(0)
                                  .elements()
                                  .at(0)
                                  .as_string();

  const std::string info_before = redis.command({"INFO", "cpu"}).as_string();
  const Followed followed = follow(redis.port());
  const std::string info_after = redis.command({"INFO", "cpu"}).as_string();
  const double redis_cpu_s =
      info_field(info_after, "used_cpu_sys") + info_field(info_after, "used_cpu_user") -
      info_field(info_before, "used_cpu_sys") - info_field(info_before, "used_cpu_user");

  // The first 1,000 entries as XREAD gives them, for the in-process parse cost.
  const splitstream::RedisReply first =
      redis.command({"XREAD", "COUNT", "1000", "STREAMS", kKey, "0"});
  const ParseCost parse = parse_cost(splitstream::testing::to_resp(first));

  const bool ok =
      length == o.entries && followed.entries == o.entries && followed.last_id == last_id;
  if (!ok) {
    std::cerr << "follower_bench: stream holds " << length << ", followed " << followed.entries
              << " up to " << followed.last_id << " (last " << last_id << ")\n";
  }
  const double per_s =
      followed.wall_s > 0 ? static_cast<double>(followed.entries) / followed.wall_s : 0;
  std::ostringstream json;
  json << "{\"entries\": " << followed.entries << ", \"handler_calls\": " << followed.batches
       << ", \"fill_s\": " << fill_s << ", \"wall_s\": " << followed.wall_s
       << ", \"entries_per_s\": " << per_s << ", \"follower_cpu_s\": " << followed.cpu_s
       << ", \"follower_cpu_us_per_entry\": "
       << (followed.entries > 0 ? followed.cpu_s * 1e6 / static_cast<double>(followed.entries) : 0)
       << ", \"redis_cpu_s\": " << redis_cpu_s
       << ", \"parse_us_per_entry\": {\"tree\": " << parse.tree_us
       << ", \"direct\": " << parse.direct_us << "}"
       << ", \"load_average_at_end\": " << load_average() << ", \"ok\": " << (ok ? "true" : "false")
       << "}";
  std::cout << json.str() << std::endl;
  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << json.str() << "\n";
    if (!out) {
      std::cerr << "follower_bench: cannot write " << o.json << "\n";
      return 1;
    }
  }
  return ok ? 0 : 1;
}
