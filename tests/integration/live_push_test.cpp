// Live push end to end: real `splitstream serve` processes on a real Redis, the demo race fed
// through real device connections, real WebSocket viewers (JSON and Protobuf) and REST calls.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "engine/race_engine.hpp"
#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/engine_harness.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"
#include "support/ws_client.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;
const std::string kProto = "splitstream.v1.protobuf";
const std::string kJson = "splitstream.v1.json";

using Node = ServeNode;

class LivePush : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
  }

  Node start_node(const std::vector<std::string>& extra = {}) {
    return start_serve_node(redis_.port(), tokens_, extra);
  }

  RedisServer redis_;
  std::filesystem::path tokens_;
};

// Reads messages until `done` says so or the connection ends; false on the latter.
template <typename F>
bool receive_until(WsClient& client, F done) {
  for (;;) {
    auto m = client.receive();
    if (!m) return false;
    if (done(*m)) return true;
  }
}

TEST_F(LivePush, StandingsStartWithASnapshotThenDeltasChainByVersion) {
  Node node = start_node();
  WsClient viewer(node.http, "");  // no subprotocol: JSON
  ASSERT_TRUE(viewer.open()) << viewer.error().message();
  ASSERT_TRUE(viewer.send(subscribe_standings("10k", "overall", 5)));
  std::string raw;
  auto subscribed = viewer.receive(&raw);
  ASSERT_TRUE(subscribed && subscribed->has_subscribed()) << viewer.error().message() << raw;
  EXPECT_EQ(subscribed->subscribed().subscriptions(0), "standings/10k/overall/0/5");
  auto snapshot = viewer.receive();
  ASSERT_TRUE(snapshot && snapshot->has_standings_snapshot());
  EXPECT_EQ(snapshot->standings_snapshot().total(), 0u);
  // The whole race goes in; then the viewer applies what it was sent, the way a browser does.
  ASSERT_TRUE(DemoRace::get().feed_all(node.devices));
  wait_engine_applied(node.http, DemoRace::get().total_reads());
  const HttpResult r = http_get(node.http, "/api/v1/standings/10k?limit=5");
  v1::StandingsSnapshot rest;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &rest).ok()) << r.body;
  ASSERT_EQ(rest.rows_size(), 5);
  std::map<std::string, v1::StandingsRow> page;
  std::uint64_t version = snapshot->standings_snapshot().version();
  int deltas = 0;
  int snapshots = 0;
  auto same_as_rest = [&] {
    if (page.size() != static_cast<std::size_t>(rest.rows_size())) return false;
    for (const v1::StandingsRow& row : rest.rows()) {
      auto it = page.find(row.bib());
      if (it == page.end() || it->second.rank() != row.rank() ||
          it->second.gun_time_ms() != row.gun_time_ms()) {
        return false;
      }
    }
    return true;
  };
  while (!same_as_rest()) {
    auto m = viewer.receive();

    ASSERT_TRUE(m) << "the page never reached the REST standings: " << viewer.error().message()
                   << "; " << deltas << " deltas, " << snapshots << " snapshots, at version "
                   << version << ", REST at " << rest.version() << ", page " <<
        [&] {
          std::string out;
          for (const auto& [bib, row] : page)
            out += bib + "#" + std::to_string(row.rank()) + " ";
          return out;
        }() << "REST "
                   << rest.ShortDebugString();
    if (m->has_standings_snapshot()) {  // after coalescing, for a viewer that fell behind
      page.clear();
      for (const v1::StandingsRow& row : m->standings_snapshot().rows())
        page[row.bib()] = row;
      version = m->standings_snapshot().version();
      ++snapshots;
      continue;
    }
    ASSERT_TRUE(m->has_standings_delta()) << m->DebugString();
    const v1::StandingsDelta& d = m->standings_delta();
    ASSERT_EQ(d.from_version(), version) << "a gap or a duplicate";
    ASSERT_GT(d.to_version(), d.from_version());
    version = d.to_version();
    for (const std::string& bib : d.removed_bibs())
      page.erase(bib);
    for (const v1::StandingsRow& row : d.upserted())
      page[row.bib()] = row;
    ++deltas;
  }
  EXPECT_GT(deltas, 1);
  EXPECT_LE(version, rest.version());
}

// A passing comes again when a later read moves its time (the start takes its crossing's last
// read; a backup line's read may be earlier): the newest version of each is the one that counts.
struct PassingLog {
  std::set<std::string> messages;              // bib/split/time/version: each must come once
  std::map<std::string, std::int64_t> latest;  // bib/split -> time of the newest version
  std::map<std::string, std::uint64_t> latest_version;
  std::size_t duplicates = 0;

  void record(const v1::Passing& p) {
    const std::string key = p.bib() + "/" + p.split_id();
    if (!messages
             .insert(key + "/" + std::to_string(p.time_ms()) + "/" + std::to_string(p.version()))
             .second) {
      ++duplicates;
    }
    if (p.version() >= latest_version[key]) {
      latest_version[key] = p.version();
      latest[key] = p.time_ms();
    }
  }
};

// Every split time of the demo race as bib/split -> time, from a fresh engine.
std::map<std::string, std::int64_t> final_split_times() {
  const DemoRace& demo = DemoRace::get();
  RaceEngine engine(demo.event());
  for (const auto& [device, reads] : demo.by_device())
    apply_reads(engine, reads);
  std::map<std::string, std::int64_t> out;
  for (RunnerIndex i = 0; i < demo.event().participants.size(); ++i) {
    const Race& race = demo.event().races[demo.event().participants[i].race];
    const auto& times = engine.splits(i).times;
    for (std::size_t s = 0; s < times.size(); ++s)
      if (times[s] != kNoTime)
        out[demo.event().participants[i].bib + "/" + race.splits[s].id] = times[s];
  }
  return out;
}

TEST_F(LivePush, PassingsResumeAfterADroppedConnectionWithNoGapAndNoDuplicate) {
  Node node = start_node();
  const DemoRace& demo = DemoRace::get();
  PassingLog log;
  std::uint64_t last_version = 0;
  {
    WsClient viewer(node.http, kProto);
    ASSERT_TRUE(viewer.open());
    ASSERT_EQ(viewer.response_header("Sec-WebSocket-Protocol"), kProto);
    ASSERT_TRUE(viewer.send(subscribe_passings()));
    ASSERT_TRUE(viewer.receive()->has_subscribed());
    auto snapshot = viewer.receive();
    ASSERT_TRUE(snapshot && snapshot->has_passings() && snapshot->passings().snapshot());
    EXPECT_EQ(snapshot->passings().passings_size(), 0);
    last_version = snapshot->version();
    // Half the race while connected; take everything published up to the stream's length.
    ASSERT_TRUE(demo.feed_all(node.devices, 0.5));
    const auto stream_length = static_cast<std::uint64_t>(
        redis_.command({"XLEN", "{ev:pyongyang-2025}:reads"}).as_integer());
    ASSERT_TRUE(receive_until(viewer, [&](const v1::LiveMessage& m) {
      EXPECT_TRUE(m.has_passings());
      EXPECT_GT(m.version(), last_version);
      for (const v1::Passing& p : m.passings().passings())
        log.record(p);
      last_version = m.version();
      return m.version() >= stream_length;
    }));
  }
  // Disconnected while the rest of the race is ingested.
  ASSERT_TRUE(demo.feed_all(node.devices));
  wait_engine_applied(node.http, demo.total_reads());
  WsClient viewer(node.http, kProto);
  ASSERT_TRUE(viewer.open());
  ASSERT_TRUE(viewer.send(subscribe_passings("", last_version)));
  ASSERT_TRUE(viewer.receive()->has_subscribed());
  auto replay = viewer.receive();
  ASSERT_TRUE(replay && replay->has_passings());
  EXPECT_FALSE(replay->passings().snapshot()) << "a resume within the kept passings replays them";
  for (const v1::Passing& p : replay->passings().passings()) {
    EXPECT_GT(p.version(), last_version);
    log.record(p);
  }
  // Passings applied but not yet published when it subscribed come with the next update.
  for (std::uint64_t version = replay->version(); version < demo.total_reads();) {
    auto m = viewer.receive();
    ASSERT_TRUE(m && m->has_passings());
    EXPECT_GT(m->version(), version);
    version = m->version();
    for (const v1::Passing& p : m->passings().passings())
      log.record(p);
  }
  EXPECT_EQ(log.duplicates, 0u);
  EXPECT_EQ(log.latest, final_split_times());
}

TEST_F(LivePush, AReadIngestedOnOneNodeReachesAViewerOnAnother) {
  Node ingest = start_node({"--roles", "ingest"});
  Node viewers = start_node({"--roles", "push"});
  // A push-only node has no device port and no ingest route; an ingest-only node no /ws.
  EXPECT_FALSE(DeviceClient(viewers.devices).connected());
  EXPECT_EQ(http_get(ingest.http, "/api/v1/event").status, 404);
  WsClient viewer(viewers.http, kJson);
  ASSERT_TRUE(viewer.open());
  ASSERT_TRUE(viewer.send(subscribe_passings("stadium")));
  ASSERT_TRUE(viewer.receive()->has_subscribed());
  ASSERT_TRUE(viewer.receive()->passings().snapshot());
  const DemoRace& demo = DemoRace::get();
  ASSERT_EQ(demo.feed(ingest.devices, "stadium-main", 50), 50u);
  auto m = viewer.receive();
  ASSERT_TRUE(m && m->has_passings()) << viewer.error().message();
  ASSERT_GT(m->passings().passings_size(), 0);
  for (const v1::Passing& p : m->passings().passings())
    EXPECT_EQ(p.timing_point_id(), "stadium");
}

TEST_F(LivePush, AStalledViewerIsShedAndTheOthersGetEverything) {
  Node node = start_node({"--viewer-queue-bytes", "262144", "--viewer-socket-buffer", "8192"});
  // A viewer that subscribes to everything and then never reads, with a tiny receive buffer.
  WsClient stalled(node.http, kJson, "", 2048);
  ASSERT_TRUE(stalled.open());
  v1::ClientMessage map;
  map.mutable_subscribe()->set_kind(v1::SUBSCRIPTION_KIND_MAP);
  ASSERT_TRUE(stalled.send(map));
  ASSERT_TRUE(stalled.send(subscribe_passings()));
  ASSERT_TRUE(stalled.send(subscribe_standings("marathon", "overall", 100)));
  WsClient healthy(node.http, kProto);
  ASSERT_TRUE(healthy.open());
  ASSERT_TRUE(healthy.send(subscribe_passings()));
  const std::map<std::string, std::int64_t> expected = final_split_times();
  PassingLog log;
  std::jthread reader([&] {
    while (auto m = healthy.receive()) {
      if (m->has_passings() && !m->passings().snapshot()) {
        for (const v1::Passing& p : m->passings().passings())
          log.record(p);
      }
      if (log.latest == expected) break;
    }
  });
  ASSERT_TRUE(DemoRace::get().feed_all(node.devices));
  reader.join();
  EXPECT_EQ(log.duplicates, 0u);
  EXPECT_EQ(log.latest, expected);
  // The stalled viewer was closed: reading now drains what the kernel held, then the close
  // frame with its reason (or, when its last frame could not be written before the close
  // timeout, the end of the connection).
  while (auto m = stalled.receive()) {
  }
  EXPECT_FALSE(stalled.timed_out()) << "the stalled viewer is still open";
  if (stalled.closed_by_server()) {
    EXPECT_NE(stalled.close_reason().find("too slow"), std::string::npos) << stalled.close_reason();
  }
}

TEST_F(LivePush, AViewerThatStopsReadingIsShedByTimeWithLittleQueued) {
  // The byte and frame limits far away: only the stall cut-off (1 s) can close it.
  Node node = start_node({"--viewer-queue-bytes", "1073741824", "--viewer-socket-buffer", "4096",
                          "--viewer-stall-timeout", "1000"});
  WsClient stalled(node.http, kJson, "", 2048);
  ASSERT_TRUE(stalled.open());
  v1::ClientMessage map;
  map.mutable_subscribe()->set_kind(v1::SUBSCRIPTION_KIND_MAP);
  ASSERT_TRUE(stalled.send(map));
  ASSERT_TRUE(stalled.send(subscribe_passings()));
  WsClient healthy(node.http, kProto);
  ASSERT_TRUE(healthy.open());
  ASSERT_TRUE(healthy.send(subscribe_passings()));
  const std::map<std::string, std::int64_t> expected = final_split_times();
  PassingLog log;
  std::jthread reader([&] {
    while (auto m = healthy.receive()) {
      if (m->has_passings() && !m->passings().snapshot()) {
        for (const v1::Passing& p : m->passings().passings())
          log.record(p);
      }
      if (log.latest == expected) break;
    }
  });
  ASSERT_TRUE(DemoRace::get().feed_all(node.devices));
  // Shed by time: its queue is far from the limits.
  EXPECT_TRUE(wait_until([&] {
    return metric(node.http, "splitstream_ws_viewers_shed_total") >= 1;
  })) << "the stalled viewer is still connected";
  reader.join();
  EXPECT_EQ(log.duplicates, 0u);
  EXPECT_EQ(log.latest, expected);
  while (auto m = stalled.receive()) {
  }
  EXPECT_FALSE(stalled.timed_out()) << "the stalled viewer is still open";
  if (stalled.closed_by_server()) {
    EXPECT_NE(stalled.close_reason().find("has waited"), std::string::npos)
        << stalled.close_reason();
  }
}

// The server's side of RFC 6455 on the wire, in literal bytes: the handshake's accept key, a
// pong for a ping, and a frame that breaks the protocol closed with 1002 and what was wrong.
TEST_F(LivePush, TheWireSpeaksRfc6455AndNamesAProtocolError) {
  Node node = start_node();
  const int fd = connect_loopback(node.http);
  ASSERT_GE(fd, 0);
  auto send_all = [&](const std::string& bytes) {
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  };
  // Reads until `wanted` bytes came (or the socket's 10 s timeout).
  std::string in;
  auto read_at_least = [&](std::size_t wanted) {
    char buffer[4096];
    while (in.size() < wanted) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      in.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  };
  ASSERT_TRUE(
      send_all("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n"));
  while (in.find("\r\n\r\n") == std::string::npos)
    ASSERT_TRUE(read_at_least(in.size() + 1));
  const std::string head = in.substr(0, in.find("\r\n\r\n") + 4);
  in.erase(0, head.size());
  EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos)
      << head;
  // A masked ping "hi" (mask 01 02 03 04): the pong carries "hi", unmasked.
  ASSERT_TRUE(send_all(std::string("\x89\x82\x01\x02\x03\x04", 6) + "\x69\x6b"));
  ASSERT_TRUE(read_at_least(4));
  EXPECT_EQ(in.substr(0, 4), std::string("\x8a\x02hi", 4));
  in.erase(0, 4);
  // An unmasked text frame: the close frame says 1002 and why, then the connection ends.
  ASSERT_TRUE(send_all(std::string("\x81\x02{}", 4)));
  ASSERT_TRUE(read_at_least(4));
  EXPECT_EQ(static_cast<unsigned char>(in[0]), 0x88u);
  const std::size_t length = static_cast<unsigned char>(in[1]);
  ASSERT_TRUE(read_at_least(2 + length));
  EXPECT_EQ(in.substr(2, 2), std::string("\x03\xea", 2));  // 1002
  EXPECT_NE(in.substr(4, length - 2).find("must be masked"), std::string::npos) << in.substr(4);
  char rest[64];
  EXPECT_EQ(::recv(fd, rest, sizeof rest, 0), 0) << "still open after the protocol error";
  ::close(fd);
  // A version other than 13: 426 with the version the server speaks.
  const auto old = http_exchange(
      node.http,
      "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  EXPECT_EQ(old.status, 426);
  EXPECT_NE(old.body.find("unsupported_websocket_version"), std::string::npos) << old.body;
}

TEST_F(LivePush, BadSubscriptionsGetClearErrorsAndTheConnectionStays) {
  Node node = start_node({"--allowed-origins", "https://live.example.org"});
  WsClient viewer(node.http, kJson, "https://live.example.org");
  ASSERT_TRUE(viewer.open());
  struct Case {
    std::string text, code;
  };
  const std::vector<Case> cases = {
      {"{not json", "invalid_message"},
      {"{}", "invalid_message"},
      {R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"ultra"}})", "unknown_race"},
      {R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k","categoryId":"W99"}})",
       "unknown_category"},
      {R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k","limit":100000}})",
       "invalid_limit"},
      {R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_PASSINGS","timingPointId":"moon"}})",
       "unknown_timing_point"},
      {R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_RUNNERS","bibs":["no-such-bib"]}})",
       "unknown_bib"},
      {R"({"unsubscribe":{"subscription":"standings/x"}})", "unknown_subscription"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(viewer.send_text(c.text));
    auto m = viewer.receive();
    ASSERT_TRUE(m && m->has_error()) << c.text;
    EXPECT_EQ(m->error().code(), c.code) << c.text << " -> " << m->error().message();
    EXPECT_FALSE(m->error().message().empty());
  }
  // Still open and serving.
  ASSERT_TRUE(viewer.send(subscribe_standings("half", "", 3)));
  EXPECT_TRUE(viewer.receive()->has_subscribed());
  // Refused at the handshake: a foreign Origin, a subprotocol we do not speak.
  WsClient foreign(node.http, kJson, "https://evil.example.com");
  EXPECT_FALSE(foreign.open());
  EXPECT_EQ(foreign.response_status(), 403);
  WsClient unknown(node.http, "chat.v2");
  EXPECT_FALSE(unknown.open());
  EXPECT_EQ(unknown.response_status(), 400);
  // Plain GET on /ws.
  EXPECT_EQ(http_get(node.http, "/ws").status, 426);
}

TEST_F(LivePush, OversizedMessagesAndDeadViewersAreClosed) {
  Node node = start_node({"--ws-idle-timeout", "2"});
  // Over the 16 KiB client message limit: closed (1009, message too big, when the close frame
  // reaches the client before the socket goes).
  WsClient big(node.http, kJson);
  ASSERT_TRUE(big.open());
  ASSERT_TRUE(big.send_text(std::string(20'000, ' ')));
  EXPECT_FALSE(big.receive());
  EXPECT_TRUE(big.error()) << "still open after an oversized message";
  // A viewer that answers nothing (not even the pings) is dropped after the idle timeout; one
  // that keeps reading answers the pings and stays.
  WsClient dead(node.http, kJson);
  WsClient alive(node.http, kJson);
  ASSERT_TRUE(dead.open() && alive.open());
  ASSERT_TRUE(alive.send(subscribe_passings()));
  ASSERT_TRUE(alive.receive()->has_subscribed());
  ASSERT_TRUE(alive.receive()->passings().snapshot());
  std::optional<v1::LiveMessage> update;
  // Reads (and so answers pings) until the first passings arrive.
  std::jthread reader([&] { update = alive.receive(); });
  // The server pings a viewer silent for half the idle timeout and drops it if it is still
  // silent at the next tick; a second ping means it heard the answer to the first. So once the
  // dead viewer is gone (only `alive` is counted) and `alive` had its second ping, `alive` has
  // outlived the point where it would have been dropped too.
  EXPECT_TRUE(wait_until([&] {
    return metric(node.http, "splitstream_ws_viewers_connected") == 1 &&
           alive.pings_received() >= 2;
  })) << "viewers connected: "
      << metric(node.http, "splitstream_ws_viewers_connected")
      << ", pings to the reading viewer: " << alive.pings_received();
  // The server closed it: reading finds the end at once (no 10 s timeout).
  EXPECT_FALSE(dead.receive()) << "still open after the idle timeout";
  EXPECT_FALSE(dead.timed_out());
  ASSERT_TRUE(DemoRace::get().feed_all(node.devices, 0.2));
  reader.join();
  ASSERT_TRUE(update) << "the reading viewer was dropped: " << alive.error().message();
  EXPECT_TRUE(update->has_passings());
}

TEST_F(LivePush, TheRestApiAnswersFromTheEngine) {
  Node node = start_node();
  ASSERT_TRUE(DemoRace::get().feed_all(node.devices));
  wait_engine_applied(node.http, DemoRace::get().total_reads());
  HttpResult r = http_get(node.http, "/api/v1/event");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("id":"marathon")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("type":"LineString")"), std::string::npos);
  r = http_get(node.http, "/api/v1/standings/marathon?limit=3");
  ASSERT_EQ(r.status, 200);
  v1::StandingsSnapshot standings;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &standings).ok()) << r.body;
  ASSERT_EQ(standings.rows_size(), 3);
  EXPECT_EQ(standings.rows(0).rank(), 1u);
  EXPECT_EQ(standings.rows(0).status(), v1::RUNNER_STATUS_FINISHED);
  // The marathon winner was pinned at 2:12:11 in the demo reads.
  EXPECT_NEAR(static_cast<double>(standings.rows(0).gun_time_ms()), 7'931'000.0, 1000.0);
  r = http_get(node.http, "/api/v1/runners/" + standings.rows(0).bib());
  ASSERT_EQ(r.status, 200);
  v1::RunnerDetail runner;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &runner).ok()) << r.body;
  EXPECT_EQ(runner.rank(), 1u);
  EXPECT_GT(runner.splits_size(), 5);
  r = http_get(node.http, "/api/v1/passings?timing_point=square&limit=4");
  ASSERT_EQ(r.status, 200);
  v1::PassingBatch passings;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &passings).ok());
  ASSERT_EQ(passings.passings_size(), 4);
  for (const v1::Passing& p : passings.passings())
    EXPECT_EQ(p.timing_point_id(), "square");
  r = http_get(node.http, "/api/v1/participants?q=" + standings.rows(0).bib());
  EXPECT_NE(r.body.find("\"bib\":\"" + standings.rows(0).bib() + "\""), std::string::npos);
  r = http_get(node.http, "/api/v1/results.csv?race=10k");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.rfind("race,rank,bib", 0), 0u) << r.body.substr(0, 80);
  r = http_get(node.http, "/api/v1/devices");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("id":"stadium-main")"), std::string::npos) << r.body;
  // Errors name what is wrong.
  EXPECT_EQ(http_get(node.http, "/api/v1/standings/ultra").status, 404);
  EXPECT_NE(http_get(node.http, "/api/v1/standings/10k?limit=x").body.find("limit"),
            std::string::npos);
  EXPECT_EQ(http_get(node.http, "/api/v1/runners/none").status, 404);
  EXPECT_EQ(http_get(node.http, "/api/v1/nothing").status, 404);
}

}  // namespace
}  // namespace splitstream::testing
