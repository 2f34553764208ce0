// The durability modes with real processes (docs/redis.md, "Durability"): `splitstream serve`
// with --durability replicated against a primary and a live, stopped or killed replica;
// --durability fsync against Redis with and without `appendfsync always`; a standalone Redis
// killed with -9 while devices send and restarted from its append-only file. And the read logs
// of store/ in-process against a primary whose replica dies and comes back.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "splitstream/v1/read.pb.h"
#include "store/decoder_read_log.hpp"
#include "store/key_schema.hpp"
#include "store/read_log.hpp"
#include "store/redis_connection.hpp"
#include "store/replica_confirm.hpp"
#include "support/child_process.hpp"
#include "support/device_client.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr std::int64_t kGun = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
const std::string kReads = "{ev:pyongyang-2025}:reads";
const std::string kAdminToken = "durability-admin-token-0123456789";

// A primary whose replicas sync at once (no diskless-sync delay of 5 s to gather replicas).
RedisServer::Options primary_options(std::vector<std::string> more = {}) {
  RedisServer::Options o;
  o.extra_args = {"--repl-diskless-sync-delay", "0"};
  o.extra_args.insert(o.extra_args.end(), more.begin(), more.end());
  return o;
}

RedisServer::Options replica_options(const RedisServer& primary) {
  RedisServer::Options o;
  o.extra_args = {"--replicaof", "127.0.0.1", std::to_string(primary.port())};
  return o;
}

std::string info(const RedisServer& redis, const std::string& section) {
  return redis.command({"INFO", section}).as_string();
}

// The primary counts `n` replicas (0: none left).
bool replicas_connected(const RedisServer& primary, int n) {
  return info(primary, "replication").find("connected_slaves:" + std::to_string(n) + "\r\n") !=
         std::string::npos;
}

// Each replica's acknowledged offset (slaveN:...,offset=X,...) and the primary's own.
std::vector<std::int64_t> replica_offsets(const std::string& replication) {
  std::vector<std::int64_t> out;
  for (auto at = replication.find("\r\nslave"); at != std::string::npos;
       at = replication.find("\r\nslave", at + 1)) {
    const auto offset = replication.find(",offset=", at);
    if (offset != std::string::npos) out.push_back(std::stoll(replication.substr(offset + 8)));
  }
  return out;
}

std::int64_t primary_offset(const std::string& replication) {
  const auto at = replication.find("master_repl_offset:");
  return at == std::string::npos ? -1 : std::stoll(replication.substr(at + 19));
}

// Waits until the primary has `n` replicas that acknowledged a write made now. "state=online" is
// not enough: after a full sync the primary streams nothing to a replica until that replica's
// next REPLCONF ACK, up to a second later, and a WAIT meanwhile counts it out.
bool replicas_following(const RedisServer& primary, int n) {
  // Written once the replicas are past their full sync's start, so it reaches them streamed.
  const bool online = wait_until([&] {
    const std::string replication = info(primary, "replication");
    std::size_t count = 0;
    for (auto at = replication.find("state=online"); at != std::string::npos;
         at = replication.find("state=online", at + 1))
      ++count;
    return count == static_cast<std::size_t>(n);
  });
  if (!online) return false;
  primary.command({"INCR", "durability-test:probe"});
  const std::int64_t written = primary_offset(info(primary, "replication"));
  return wait_until([&] {
    const std::string replication = info(primary, "replication");
    const std::vector<std::int64_t> offsets = replica_offsets(replication);
    if (offsets.size() != static_cast<std::size_t>(n)) return false;
    for (std::int64_t offset : offsets)
      if (offset < written) return false;
    return true;
  });
}

std::int64_t xlen(const RedisServer& redis) {
  return redis.command({"XLEN", kReads}).as_integer();
}

// How many stream entries each (device, seq) has (reads only: corrections have no device).
std::map<std::pair<std::string, std::uint64_t>, int> entries_by_read(const RedisServer& redis) {
  std::map<std::pair<std::string, std::uint64_t>, int> out;
  const RedisReply all = redis.command({"XRANGE", kReads, "-", "+"});
  for (const RedisReply& entry : all.elements()) {
    const auto& fields = entry.elements()[1].elements();
    std::string device;
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].as_string() == "d") device = fields[i + 1].as_string();
      if (fields[i].as_string() == "s") seq = std::stoull(fields[i + 1].as_string());
    }
    if (!device.empty()) ++out[{device, seq}];
  }
  return out;
}

v1::DeviceMessage batch(std::uint64_t first, std::uint64_t last) {
  v1::DeviceMessage m;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    v1::Read* r = m.mutable_batch()->add_reads();
    r->set_seq(seq);
    r->set_chip("CHIP" + std::to_string(seq));
    r->set_time_ms(kGun + static_cast<std::int64_t>(seq) * 1000);
  }
  return m;
}

// Hello; the Welcome's acked seq, or nullopt with the Error's text in `error`.
std::optional<std::uint64_t> open(DeviceClient& device, const std::string& id,
                                  std::string* error = nullptr) {
  if (!device.connected() || !device.hello(id, "tok-" + id)) return std::nullopt;
  auto reply = device.receive_reply();
  if (reply && reply->has_welcome()) return reply->welcome().acked_seq();
  if (error) *error = reply && reply->has_error() ? reply->error().text() : "closed";
  return std::nullopt;
}

std::filesystem::path write_tokens(const std::filesystem::path& dir) {
  const std::filesystem::path tokens = dir / "device-tokens";
  std::ofstream out(tokens);
  for (const char* tp : {"stadium", "arch", "square", "mirae"}) {
    for (const char* line : {"main", "backup"}) {
      const std::string id = std::string(tp) + "-" + line;
      out << id << " tok-" << id << "\n";
    }
  }
  return tokens;
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// --- replicated: serve, a primary and one replica ---------------------------------------------

class ReplicatedDurability : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = write_tokens(primary_.dir());
    admin_file_ = primary_.dir() / "admin-token";
    std::ofstream(admin_file_) << kAdminToken << "\n";
    ASSERT_TRUE(replicas_following(primary_, 1)) << info(primary_, "replication");
  }

  void start_node(int timeout_ms) {
    node_ = start_serve_node(
        primary_.port(), tokens_,
        {"--durability", "replicated", "--durability-replicas", "1", "--durability-timeout",
         std::to_string(timeout_ms), "--admin-token-file", admin_file_.string()});
    ASSERT_EQ(http_get(node_.http, "/readyz").status, 200) << http_get(node_.http, "/readyz").body;
  }

  HttpResult correct(const std::string& body) {
    return http_send(
        node_.http, "POST", "/api/v1/admin/corrections", body,
        "Authorization: Bearer " + kAdminToken + "\r\nContent-Type: application/json\r\n");
  }

  RedisServer primary_{primary_options()};
  RedisServer replica_{replica_options(primary_)};
  std::filesystem::path tokens_;
  std::filesystem::path admin_file_;
  ServeNode node_;
};

TEST_F(ReplicatedDurability, EveryAckedReadIsOnTheReplicaWhenTheAckArrives) {
  start_node(1000);
  DeviceClient device(node_.devices);
  ASSERT_EQ(open(device, "arch-main"), 0u);
  for (std::uint64_t first = 1; first <= 50; first += 10) {
    ASSERT_TRUE(device.send(batch(first, first + 9)));
    auto ack = device.receive_reply();
    ASSERT_TRUE(ack && ack->has_ack()) << (ack ? ack->DebugString() : "closed");
    ASSERT_EQ(ack->ack().acked_seq(), first + 9);
    // Asked at once, without waiting: WAIT returned only once the replica had applied them.
    EXPECT_EQ(xlen(replica_), static_cast<std::int64_t>(first + 9));
  }
  const auto on_replica = entries_by_read(replica_);
  ASSERT_EQ(on_replica.size(), 50u);
  for (std::uint64_t seq = 1; seq <= 50; ++seq)
    EXPECT_EQ((on_replica.count({"arch-main", seq})), 1u) << seq;
  // One WAIT per batch, one for the Hello's acked seq; none fell short.
  EXPECT_GE(metric(node_.http, "splitstream_redis_wait_seconds_count"), 6);
  EXPECT_EQ(metric(node_.http, "splitstream_redis_wait_unconfirmed_total"), 0);
}

TEST_F(ReplicatedDurability, TheAckWaitsForAStoppedReplica) {
  start_node(10'000);
  DeviceClient device(node_.devices);
  ASSERT_EQ(open(device, "arch-main"), 0u);
  const std::string server_info = info(replica_, "server");
  const auto at = server_info.find("process_id:");
  ASSERT_NE(at, std::string::npos);
  const pid_t replica_pid = std::stoi(server_info.substr(at + 11));
  // The replica is frozen (SIGSTOP) while the batch is stored, and thawed 500 ms later.
  ASSERT_EQ(::kill(replica_pid, SIGSTOP), 0);
  std::atomic<std::int64_t> thawed_at{0};
  std::thread thaw([&] {
    std::this_thread::sleep_for(500ms);
    thawed_at = Clock::now().time_since_epoch().count();
    ::kill(replica_pid, SIGCONT);
  });
  ASSERT_TRUE(device.send(batch(1, 3)));
  auto ack = device.receive_reply();
  const std::int64_t acked_at = Clock::now().time_since_epoch().count();
  thaw.join();
  ASSERT_TRUE(ack && ack->has_ack()) << (ack ? ack->DebugString() : "closed");
  EXPECT_EQ(ack->ack().acked_seq(), 3u);
  EXPECT_GE(acked_at, thawed_at.load()) << "acknowledged while the replica could not hold it";
  EXPECT_EQ(xlen(replica_), 3);
}

TEST_F(ReplicatedDurability, WithTheReplicaDeadNothingIsAckedAndTheResendIsOnceItIsBack) {
  start_node(300);
  {
    DeviceClient device(node_.devices);
    ASSERT_EQ(open(device, "arch-main"), 0u);
    ASSERT_TRUE(device.send(batch(1, 3)));
    auto ack = device.receive_reply();
    ASSERT_TRUE(ack && ack->has_ack()) << (ack ? ack->DebugString() : "closed");
    ASSERT_EQ(ack->ack().acked_seq(), 3u);

    replica_.kill();
    ASSERT_TRUE(wait_until([&] { return replicas_connected(primary_, 0); }));
    ASSERT_TRUE(device.send(batch(4, 6)));
    auto refused = device.receive_reply();
    ASSERT_TRUE(refused && refused->has_error()) << (refused ? refused->DebugString() : "closed");
    EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_INTERNAL);
    EXPECT_NE(refused->error().text().find("server storage failure"), std::string::npos);
    EXPECT_NE(refused->error().text().find("0 of 1 replicas confirmed the write within 300 ms"),
              std::string::npos)
        << refused->error().text();
    EXPECT_FALSE(device.receive_reply()) << "the session ends after the Error";
  }
  // The primary holds the batch (not acknowledged); the device is not told so on a Hello either.
  EXPECT_EQ(xlen(primary_), 6);
  {
    DeviceClient again(node_.devices);
    std::string error;
    EXPECT_EQ(open(again, "arch-main", &error), std::nullopt);
    EXPECT_NE(error.find("replicas confirmed the write"), std::string::npos) << error;
  }
  EXPECT_GE(metric(node_.http, "splitstream_redis_wait_unconfirmed_total"), 2);
  // An official's correction is not answered 2xx either.
  const HttpResult correction = correct(R"({"kind":"set_status","bib":"1","status":"dnf"})");
  EXPECT_EQ(correction.status, 503) << correction.body;
  EXPECT_NE(correction.body.find("not confirmed"), std::string::npos) << correction.body;

  replica_.restart();
  ASSERT_TRUE(replicas_following(primary_, 1)) << info(primary_, "replication");
  // The device comes back and resends from its last Ack: 4..6 are stored once.
  DeviceClient device(node_.devices);
  std::string refusal;
  const auto welcome = open(device, "arch-main", &refusal);
  ASSERT_TRUE(welcome) << refusal;
  EXPECT_EQ(*welcome, 6u);  // the replica holds them now, so the Welcome may say so
  ASSERT_TRUE(device.send(batch(4, 6)));
  auto ack = device.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack()) << (ack ? ack->DebugString() : "closed");
  EXPECT_EQ(ack->ack().acked_seq(), 6u);
  for (const RedisServer* redis : {&primary_, &replica_}) {
    const auto entries = entries_by_read(*redis);
    EXPECT_EQ(entries.size(), 6u);
    for (std::uint64_t seq = 1; seq <= 6; ++seq)
      EXPECT_EQ((entries.count({"arch-main", seq})), 1u) << seq;
    EXPECT_EQ(xlen(*redis), 6 + 1);  // and the correction, recorded on the primary
  }
}

TEST_F(ReplicatedDurability, WithTheReplicaDeadManyDevicesAreRefusedTogetherNotInTurn) {
  start_node(1000);
  const std::vector<std::string> ids = {"stadium-main", "stadium-backup", "arch-main",
                                        "arch-backup",  "square-main",    "square-backup",
                                        "mirae-main",   "mirae-backup"};
  std::vector<std::unique_ptr<DeviceClient>> devices;
  for (const std::string& id : ids) {
    devices.push_back(std::make_unique<DeviceClient>(node_.devices));
    ASSERT_EQ(open(*devices.back(), id), 0u) << id;
  }
  replica_.kill();
  ASSERT_TRUE(wait_until([&] { return replicas_connected(primary_, 0); }));
  const double waits_before = metric(node_.http, "splitstream_redis_wait_seconds_count");
  // Every device sends a batch at once. A WAIT holds the connection: one per batch in turn would
  // take 8 timeouts (and outlast the command timeout, dropping the connection); the batches
  // that queue behind one WAIT share the next.
  const auto sent = Clock::now();
  for (const auto& device : devices)
    ASSERT_TRUE(device->send(batch(1, 5)));
  for (std::size_t i = 0; i < devices.size(); ++i) {
    auto reply = devices[i]->receive_reply();
    ASSERT_TRUE(reply && reply->has_error())
        << ids[i] << ": " << (reply ? reply->DebugString() : "closed");
    EXPECT_NE(reply->error().text().find("replicas confirmed the write"), std::string::npos);
  }
  const auto took = Clock::now() - sent;
  EXPECT_LT(took, 5s) << std::chrono::duration<double>(took).count() << " s";
  EXPECT_LE(metric(node_.http, "splitstream_redis_wait_seconds_count") - waits_before, 4);
  EXPECT_GE(metric(node_.http, "splitstream_redis_wait_unconfirmed_total"), 8);
  EXPECT_EQ(http_get(node_.http, "/readyz").status, 200) << "the connection stayed up";
  EXPECT_EQ(xlen(primary_), 8 * 5);  // stored on the primary, acknowledged to no device
}

// --- fsync: the probe (the lead's transport runs it after connecting) --------------------------

TEST(FsyncDurability, ANodeAgainstRedisWithEverysecIsNotReadyAndSaysWhy) {
  RedisServer redis(primary_options({"--appendfsync", "everysec"}));
  const auto tokens = write_tokens(redis.dir());
  const std::string log = (redis.dir() / "serve.log").string();
  ServeNode node =
      start_serve_node(redis.port(), tokens, {"--durability", "fsync", "--log-level", "info"}, 0, 0,
                       SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025", log);
  const std::string problem = "--durability fsync needs appendfsync always; Redis has everysec";
  std::string readyz;
  EXPECT_TRUE(wait_until([&] {
    const HttpResult r = http_get(node.http, "/readyz");
    readyz = r.body;
    return r.status == 503 && r.body.find(problem) != std::string::npos;
  })) << readyz;
  EXPECT_TRUE(wait_until([&] { return file_text(log).find(problem) != std::string::npos; }))
      << file_text(log);
  EXPECT_NE(http_get(node.http, "/readyz").status, 200);
}

TEST(FsyncDurability, ANodeAgainstRedisWithAlwaysIsReady) {
  RedisServer redis(primary_options({"--appendfsync", "always"}));
  const auto tokens = write_tokens(redis.dir());
  ServeNode node = start_serve_node(redis.port(), tokens, {"--durability", "fsync"});
  EXPECT_EQ(http_get(node.http, "/readyz").status, 200) << http_get(node.http, "/readyz").body;
}

// --- fsync: a crash mid-race -------------------------------------------------------------------

// A device as the protocol asks (docs/device-protocol.md): it keeps every read until an Ack or
// Welcome covers it, never resends one that was covered, reconnects after every failure.
struct CrashDevice {
  CrashDevice(std::string device, std::uint64_t count) : id(std::move(device)), reads(count) {}

  const std::string id;
  const std::uint64_t reads;
  std::atomic<std::uint64_t> told{0};        // the highest acked_seq it was told (dropped so far)
  std::atomic<std::uint64_t> last_acked{0};  // the latest Ack's acked_seq
  std::atomic<std::uint64_t> failures{0};    // sessions ended by an Error or a closed connection
  std::atomic<bool> gave_up{false};
  std::string problem;  // why it gave up; read after the thread ended

  bool finished() const { return last_acked >= reads || gave_up; }

  void fail(std::string why) {
    problem = std::move(why);
    gave_up = true;
  }

  void run(int port, const std::atomic<bool>& stop) {
    while (!stop && last_acked < reads) {
      DeviceClient device(port);
      const auto welcome = open(device, id);
      if (!welcome) {
        ++failures;
        std::this_thread::sleep_for(50ms);  // a device's reconnect delay, not a wait for a test
        continue;
      }
      if (*welcome < told) {
        return fail("Welcome says " + std::to_string(*welcome) + " after an Ack of " +
                    std::to_string(told) + ": acknowledged reads were lost");
      }
      told = *welcome;
      last_acked = *welcome;
      std::uint64_t next = *welcome + 1;
      while (!stop && last_acked < reads) {
        const std::uint64_t last = std::min(reads, next + 9);
        if (!device.send(batch(next, last))) break;
        auto reply = device.receive_reply();
        if (!reply || !reply->has_ack()) break;
        const std::uint64_t acked = reply->ack().acked_seq();
        if (acked < told) {
          return fail("an Ack says " + std::to_string(acked) + " after one of " +
                      std::to_string(told));
        }
        told = acked;
        last_acked = acked;
        next = last + 1;
      }
      if (last_acked < reads) ++failures;
    }
  }
};

TEST(FsyncDurability, RedisKilledMidRaceAndRestartedFromItsAofLosesNoAcknowledgedRead) {
  RedisServer redis(primary_options({"--appendfsync", "always"}));
  const auto tokens = write_tokens(redis.dir());
  ServeNode node = start_serve_node(redis.port(), tokens, {"--durability", "fsync"});
  ASSERT_EQ(http_get(node.http, "/readyz").status, 200);
  constexpr std::uint64_t kReadsEach = 3000;
  std::vector<std::unique_ptr<CrashDevice>> devices;
  for (const char* id : {"stadium-main", "arch-main", "square-main", "mirae-main"})
    devices.push_back(std::make_unique<CrashDevice>(id, kReadsEach));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (const auto& d : devices)
    threads.emplace_back(&CrashDevice::run, d.get(), node.devices, std::cref(stop));
  // Kill -9 while every device is mid-stream, then start Redis again from its AOF.
  const bool under_way = wait_until(
      [&] {
        for (const auto& d : devices)
          if (d->told < 200) return false;
        return true;
      },
      30s);
  std::uint64_t told_before_kill = 0;
  if (under_way) {
    redis.kill();
    for (const auto& d : devices)
      told_before_kill += d->told;
    redis.restart();
  }
  const bool done = wait_until(
      [&] {
        for (const auto& d : devices)
          if (!d->finished()) return false;
        return true;
      },
      60s);
  stop = true;
  for (std::thread& t : threads)
    t.join();
  ASSERT_TRUE(under_way) << "the devices never got going";
  ASSERT_TRUE(done) << "devices still sending after 60 s";
  EXPECT_LT(told_before_kill, 4 * kReadsEach) << "Redis was killed after the devices finished";
  const auto entries = entries_by_read(redis);
  std::uint64_t failures = 0;
  for (const auto& d : devices) {
    EXPECT_EQ(d->problem, "") << d->id;
    failures += d->failures;
    for (std::uint64_t seq = 1; seq <= d->reads; ++seq) {
      const auto it = entries.find({d->id, seq});
      ASSERT_TRUE(it != entries.end() && it->second == 1)
          << d->id << " seq " << seq << " is in the stream "
          << (it == entries.end() ? 0 : it->second) << " times";
    }
  }
  EXPECT_EQ(entries.size(), 4 * kReadsEach);
  EXPECT_GT(failures, 0u) << "no device noticed the crash";
}

// --- the read logs in-process: a connection with --durability replicated ---------------------

// One connection on an io_context run by the test's thread, step by step.
class InProcess {
 public:
  InProcess(std::uint16_t port, DurabilityOptions durability) {
    RedisOptions options;
    options.port = port;
    options.durability = durability;
    redis_ = RedisConnection::create(ioc_.get_executor(), options);
    asio::co_spawn(ioc_, redis_->run(), asio::detached);
  }
  ~InProcess() {
    redis_->stop();
    ioc_.run_for(5s);
  }

  // Runs `task` (and the connection) until it completes.
  template <typename T>
  T run(asio::awaitable<T> task) {
    std::optional<T> out;
    asio::co_spawn(ioc_, std::move(task), [&out](std::exception_ptr error, T value) {
      if (error) std::rethrow_exception(error);
      out.emplace(std::move(value));
    });
    while (!out)
      ioc_.run_one();
    return std::move(*out);
  }

  const std::shared_ptr<RedisConnection>& redis() const { return redis_; }

 private:
  asio::io_context ioc_;
  std::shared_ptr<RedisConnection> redis_;
};

DurabilityOptions replicated(std::chrono::milliseconds timeout) {
  DurabilityOptions o;
  o.mode = DurabilityMode::replicated;
  o.replicas = 1;
  o.wait_timeout = timeout;
  return o;
}

std::vector<v1::Read> device_reads(std::uint64_t first, std::uint64_t last) {
  std::vector<v1::Read> out;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    v1::Read r;
    r.set_seq(seq);
    r.set_device_id("arch-main");
    r.set_timing_point_id("arch");
    r.set_chip("CHIP" + std::to_string(seq));
    r.set_time_ms(kGun + static_cast<std::int64_t>(seq) * 1000);
    out.push_back(std::move(r));
  }
  return out;
}

// A RACE RESULT-like batch: reads with identities, and the file's cursor raised to `cursor`.
DecoderBatchToStore decoder_batch(std::uint64_t first, std::uint64_t last) {
  DecoderBatchToStore batch;
  for (std::uint64_t id = first; id <= last; ++id) {
    v1::Read r;
    r.set_seq(1000 + id);
    r.set_device_id("rr-arch");
    r.set_timing_point_id("arch");
    r.set_chip("CHIP" + std::to_string(id));
    r.set_time_ms(kGun + static_cast<std::int64_t>(id) * 1000);
    batch.reads.push_back(std::move(r));
  }
  batch.cursors.emplace_back("cursor:1", last);
  return batch;
}

TEST(ReplicatedReadLogs, AWriteTheReplicaDoesNotConfirmIsAnErrorAndSoIsWhatItMoved) {
  RedisServer primary(primary_options());
  RedisServer replica(replica_options(primary));
  ASSERT_TRUE(replicas_following(primary, 1)) << info(primary, "replication");
  InProcess node(primary.port(), replicated(200ms));
  ASSERT_TRUE(node.run(node.redis()->wait_connected(5s)));
  const KeySchema keys("pyongyang-2025");
  ReadLog reads(node.redis(), keys);
  DecoderReadLog decoders(node.redis(), keys);

  const ReadLogResult stored = node.run(reads.append("arch-main", kGun, device_reads(1, 2), {}));
  ASSERT_FALSE(stored.error) << stored.detail;
  EXPECT_EQ(stored.ingest.acked_seq, 2u);
  const DecoderStoreResult decoded =
      node.run(decoders.append("rr-arch", kGun, decoder_batch(1, 2)));
  ASSERT_FALSE(decoded.error) << decoded.detail;
  EXPECT_EQ(decoded.appended, 2u);
  EXPECT_EQ(xlen(replica), 4);
  EXPECT_EQ(replica.command({"HGET", keys.decoder("rr-arch"), "cursor:1"}).as_string(), "2");

  replica.kill();
  ASSERT_TRUE(wait_until([&] { return replicas_connected(primary, 0); }));
  const ReadLogResult unconfirmed =
      node.run(reads.append("arch-main", kGun, device_reads(3, 3), {}));
  EXPECT_EQ(unconfirmed.error, make_error_code(DurabilityErrc::unconfirmed));
  EXPECT_EQ(unconfirmed.detail,
            "replicated durability: 0 of 1 replicas confirmed the write within 200 ms");
  const DecoderStoreResult decoder_unconfirmed =
      node.run(decoders.append("rr-arch", kGun, decoder_batch(3, 3)));
  EXPECT_EQ(decoder_unconfirmed.error, make_error_code(DurabilityErrc::unconfirmed));
  EXPECT_EQ(xlen(primary), 6);  // stored on the primary all the same
  // What those batches moved (the acked seq, the cursor) is not handed out either.
  EXPECT_EQ(node.run(reads.acked_seq("arch-main")).error,
            make_error_code(DurabilityErrc::unconfirmed));
  const auto [load_error, hash] = node.run(decoders.load("rr-arch"));
  EXPECT_EQ(load_error, make_error_code(DurabilityErrc::unconfirmed));
  EXPECT_TRUE(hash.empty());

  replica.restart();
  ASSERT_TRUE(replicas_following(primary, 1)) << info(primary, "replication");
  const ReadLogResult acked = node.run(reads.acked_seq("arch-main"));
  ASSERT_FALSE(acked.error) << acked.detail;
  EXPECT_EQ(acked.ingest.acked_seq, 3u);
  const auto [error, fields] = node.run(decoders.load("rr-arch"));
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(fields.at("cursor:1"), "3");
  // The resends are duplicates, now confirmed.
  const DecoderStoreResult resent = node.run(decoders.append("rr-arch", kGun, decoder_batch(3, 3)));
  ASSERT_FALSE(resent.error) << resent.detail;
  EXPECT_EQ(resent.duplicates, 1u);
  EXPECT_EQ(xlen(replica), 6);
}

TEST(ReplicatedReadLogs, TheLocalModeSendsNoWait) {
  RedisServer redis;
  InProcess node(redis.port(), DurabilityOptions{});
  ASSERT_TRUE(node.run(node.redis()->wait_connected(5s)));
  ReadLog reads(node.redis(), KeySchema("pyongyang-2025"));
  const ReadLogResult stored = node.run(reads.append("arch-main", kGun, device_reads(1, 2), {}));
  ASSERT_FALSE(stored.error) << stored.detail;
  ASSERT_FALSE(node.run(reads.acked_seq("arch-main")).error);
  const std::string stats = info(redis, "commandstats");
  EXPECT_NE(stats.find("cmdstat_evalsha:"), std::string::npos);
  EXPECT_EQ(stats.find("cmdstat_wait:"), std::string::npos);
  EXPECT_EQ(stats.find("cmdstat_eval:"), std::string::npos);
}

}  // namespace
}  // namespace splitstream::testing
