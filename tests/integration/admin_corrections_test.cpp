// Officials' corrections end to end: real `splitstream serve` nodes on a real Redis, the demo race
// fed over the device protocol, corrections made over HTTP with the admin token (the official
// `admin`) on one node and seen on the other node's REST API, by its WebSocket viewers, in Redis,
// and after a restart. Officials of an officials file and their sessions: officials_test.cpp.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <optional>

#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"
#include "support/ws_client.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;
const std::string kToken = "officials-token-0123456789";
const std::string kAuth = "Authorization: Bearer " + kToken + "\r\n";

class AdminCorrections : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
    admin_file_ = redis_.dir() / "admin-token";
    std::ofstream(admin_file_) << kToken << "\n";
  }

  ServeNode start_node(std::vector<std::string> extra = {}, int http = 0, int devices = 0) {
    extra.insert(extra.end(), {"--admin-token-file", admin_file_.string()});
    return start_serve_node(redis_.port(), tokens_, extra, http, devices);
  }

  static HttpResult correct(int port, const std::string& body, const std::string& headers = kAuth) {
    return http_send(port, "POST", "/api/v1/admin/corrections", body,
                     headers + "Content-Type: application/json\r\n");
  }

  static v1::RunnerDetail runner(int port, const std::string& bib) {
    const HttpResult r = http_get(port, "/api/v1/runners/" + bib);
    v1::RunnerDetail detail;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &detail).ok()) << r.body;
    return detail;
  }

  static v1::StandingsSnapshot standings(int port, const std::string& race, int limit) {
    const HttpResult r =
        http_get(port, "/api/v1/standings/" + race + "?limit=" + std::to_string(limit));
    v1::StandingsSnapshot s;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &s).ok()) << r.body;
    return s;
  }

  // The first bib of a race's standings; "" while there is none.
  static std::string leader(int port, const std::string& race) {
    const v1::StandingsSnapshot s = standings(port, race, 1);
    return s.rows_size() > 0 ? s.rows(0).bib() : std::string();
  }

  RedisServer redis_;
  std::filesystem::path tokens_;
  std::filesystem::path admin_file_;
};

TEST_F(AdminCorrections, ADisqualificationOnOneNodeReachesTheOtherItsViewersAndRedis) {
  ServeNode a = start_node();
  ServeNode b = start_node();
  ASSERT_TRUE(DemoRace::get().feed_all(a.devices));
  ASSERT_NE(wait_engine_applied(b.http, DemoRace::get().total_reads()).find("reads applied"),
            std::string::npos);
  const v1::StandingsSnapshot before = standings(b.http, "marathon", 3);
  ASSERT_EQ(before.rows_size(), 3);
  const std::string winner = before.rows(0).bib();
  const std::string second = before.rows(1).bib();

  // A viewer on node B follows the winner.
  WsClient viewer(b.http, "splitstream.v1.json");
  ASSERT_TRUE(viewer.open());
  v1::ClientMessage follow;
  follow.mutable_subscribe()->set_kind(v1::SUBSCRIPTION_KIND_RUNNERS);
  follow.mutable_subscribe()->add_bibs(winner);
  ASSERT_TRUE(viewer.send(follow));
  ASSERT_TRUE(viewer.receive());  // subscribed
  auto snapshot = viewer.receive();
  ASSERT_TRUE(snapshot && snapshot->has_runner());
  EXPECT_EQ(snapshot->runner().status(), v1::RUNNER_STATUS_FINISHED);

  const HttpResult r =
      correct(a.http, R"({"kind":"set_status","bib":")" + winner +
                          R"(","status":"dsq","reason":"course cut at the arch"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"("applied":true)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("reason":"course cut at the arch")"), std::string::npos) << r.body;
  // Who made it: the admin token is the official `admin`.
  EXPECT_NE(r.body.find(R"("by":"admin")"), std::string::npos) << r.body;

  // Node A answered after applying it; node B follows the stream.
  EXPECT_EQ(runner(a.http, winner).status(), v1::RUNNER_STATUS_DSQ);
  EXPECT_TRUE(wait_until([&] { return leader(b.http, "marathon") == second; }));
  EXPECT_EQ(runner(b.http, winner).status(), v1::RUNNER_STATUS_DSQ);
  EXPECT_EQ(runner(b.http, winner).rank(), 0u);
  // The winner's finish may still be on its way to this viewer (pushed as node B applied the
  // last reads, after the snapshot was taken): it repeats the snapshot, then the DSQ follows.
  std::optional<v1::LiveMessage> update;
  for (int i = 0; i < 5; ++i) {
    update = viewer.receive();
    ASSERT_TRUE(update && update->has_runner()) << viewer.error().message();
    EXPECT_EQ(update->runner().bib(), winner);
    if (update->runner().status() != v1::RUNNER_STATUS_FINISHED) break;
  }
  EXPECT_EQ(update->runner().status(), v1::RUNNER_STATUS_DSQ);
  // The materialised state in Redis says so too.
  EXPECT_TRUE(wait_until([&] {
    const auto status = redis_.command({"HGET", "{ev:pyongyang-2025}:runner:" + winner, "status"});
    return status.is_string() && status.as_string() == "dsq";
  }));

  // The stream holds it, plainly, for `redis-cli XRANGE` at 3 a.m.
  const RedisReply last =
      redis_.command({"XREVRANGE", "{ev:pyongyang-2025}:reads", "+", "-", "COUNT", "1"});
  ASSERT_TRUE(last.is_array() && last.elements().size() == 1);
  const auto& fields = last.elements()[0].elements()[1].elements();
  ASSERT_GE(fields.size(), 6u);
  EXPECT_EQ(fields[0].as_string(), "k");
  EXPECT_EQ(fields[1].as_string(), "set_status");

  // Back in the race: the winner is first again.
  ASSERT_EQ(
      correct(a.http, R"({"kind":"set_status","bib":")" + winner + R"(","status":"none"})").status,
      201);
  EXPECT_TRUE(wait_until([&] { return leader(b.http, "marathon") == winner; }));

  // The log of corrections, on any node with the token, in stream order.
  const HttpResult list = http_send(b.http, "GET", "/api/v1/admin/corrections", "", kAuth);
  ASSERT_EQ(list.status, 200) << list.body;
  const auto dsq_at = list.body.find(R"("status":"dsq")");
  const auto none_at = list.body.find(R"("status":"none")");
  ASSERT_NE(dsq_at, std::string::npos) << list.body;
  ASSERT_NE(none_at, std::string::npos) << list.body;
  EXPECT_LT(dsq_at, none_at);
  EXPECT_NE(list.body.find(R"("total":2)"), std::string::npos) << list.body;
}

TEST_F(AdminCorrections, VoidRestoreAddAndMoveChipChangeTheStandingsEverywhere) {
  ServeNode a = start_node();
  ASSERT_TRUE(DemoRace::get().feed_all(a.devices));
  wait_engine_applied(a.http, DemoRace::get().total_reads());
  ServeNode b = start_node();
  const v1::StandingsSnapshot tenk = standings(a.http, "10k", 2);
  ASSERT_EQ(tenk.rows_size(), 2);
  const std::string first = tenk.rows(0).bib();
  const std::string second = tenk.rows(1).bib();
  const v1::RunnerDetail detail = runner(a.http, first);
  ASSERT_EQ(detail.status(), v1::RUNNER_STATUS_FINISHED);
  const v1::Passing& finish = detail.splits(detail.splits_size() - 1);
  ASSERT_EQ(finish.split_id(), "finish");
  const std::int64_t t = finish.time_ms();
  const std::string window = R"(","timing_point":")" + finish.timing_point_id() + R"(","from":)" +
                             std::to_string(t - 2000) + R"(,"to":)" + std::to_string(t + 2000) +
                             "}";

  // The finish read was a spectator with the chip: void it.
  HttpResult r = correct(a.http, R"({"kind":"void_reads","bib":")" + first + window);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(wait_until([&] {
    return runner(b.http, first).status() == v1::RUNNER_STATUS_RUNNING &&
           leader(b.http, "10k") == second;
  }));
  // Taken back.
  r = correct(a.http, R"({"kind":"restore_reads","bib":")" + first + window);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(wait_until([&] { return leader(b.http, "10k") == first; }));

  // A finish entered by hand, a minute later than the voided one: second place now.
  r = correct(a.http, R"({"kind":"void_reads","bib":")" + first + window);
  ASSERT_EQ(r.status, 201) << r.body;
  r = correct(a.http, R"({"kind":"add_read","bib":")" + first + R"(","timing_point":")" +
                          finish.timing_point_id() + R"(","time":)" + std::to_string(t + 60'000) +
                          R"(,"reason":"video"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(wait_until([&] {
    const v1::RunnerDetail d = runner(b.http, first);
    return d.status() == v1::RUNNER_STATUS_FINISHED && d.splits_size() > 0 &&
           d.splits(d.splits_size() - 1).time_ms() == t + 60'000;
  }));

  // The second runner's chip goes to nobody (a spare chip, not theirs): they have no reads.
  const Participant* p = DemoRace::get().event().find_bib(second);
  ASSERT_NE(p, nullptr);
  r = correct(a.http, R"({"kind":"move_chip","chip":")" + p->chips.front() + R"(","bib":null})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(
      wait_until([&] { return runner(b.http, second).status() == v1::RUNNER_STATUS_NOT_STARTED; }));
  r = correct(a.http, R"({"kind":"move_chip","chip":")" + p->chips.front() + R"(","bib":")" +
                          second + R"("})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(
      wait_until([&] { return runner(b.http, second).status() == v1::RUNNER_STATUS_FINISHED; }));

  // A node started now replays reads and corrections alike to the same state.
  ServeNode c = start_node();
  const v1::RunnerDetail replayed = runner(c.http, first);
  ASSERT_GT(replayed.splits_size(), 0);
  EXPECT_EQ(replayed.splits(replayed.splits_size() - 1).time_ms(), t + 60'000);
  EXPECT_EQ(runner(c.http, second).status(), v1::RUNNER_STATUS_FINISHED);
}

TEST_F(AdminCorrections, AnUndoTakesACorrectionBackEverywhereAndTheLogShowsItsEffect) {
  ServeNode a = start_node();
  ASSERT_TRUE(DemoRace::get().feed_all(a.devices));
  wait_engine_applied(a.http, DemoRace::get().total_reads());
  ServeNode b = start_node();
  const std::string first = leader(a.http, "10k");
  ASSERT_FALSE(first.empty());

  HttpResult r = correct(a.http, R"({"kind":"set_status","bib":")" + first +
                                     R"(","status":"dnf","reason":"medical tent"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = boost::json::parse(r.body).at("id").as_string().c_str();
  EXPECT_TRUE(wait_until([&] { return leader(b.http, "10k") != first; }));

  // The log on the other node: what it did to the runner.
  HttpResult log;
  ASSERT_TRUE(wait_until([&] {
    log = http_send(b.http, "GET", "/api/v1/admin/corrections?bib=" + first, "", kAuth);
    return log.body.find(id) != std::string::npos;
  })) << log.body;
  const auto record = boost::json::parse(log.body).at("corrections").as_array().back();
  const auto& effect = record.at("effect").at("runners").as_array().at(0);
  EXPECT_EQ(effect.at("bib").as_string(), first);
  EXPECT_EQ(effect.at("before").at("status").as_string(), "finished");
  EXPECT_EQ(effect.at("before").at("rank").as_int64(), 1);
  EXPECT_EQ(effect.at("after").at("status").as_string(), "dnf");
  EXPECT_TRUE(record.at("undone_by").is_null());

  // Undone from the other node: back in first place everywhere.
  r = http_send(b.http, "POST", "/api/v1/admin/corrections/" + id + "/undo", "", kAuth);
  ASSERT_EQ(r.status, 201) << r.body;
  const auto undo = boost::json::parse(r.body);
  EXPECT_EQ(undo.at("correction").at("status").as_string(), "none");
  EXPECT_TRUE(wait_until([&] { return leader(a.http, "10k") == first; }));
  ASSERT_TRUE(wait_until([&] {
    log = http_send(a.http, "GET", "/api/v1/admin/corrections?kind=set_status", "", kAuth);
    return log.body.find("\"undone_by\":\"" + std::string(undo.at("id").as_string()) + "\"") !=
           std::string::npos;
  })) << log.body;

  // Twice is refused; an unknown id is not found; neither records anything.
  r = http_send(a.http, "POST", "/api/v1/admin/corrections/" + id + "/undo", "", kAuth);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("was undone already by"), std::string::npos) << r.body;
  r = http_send(a.http, "POST", "/api/v1/admin/corrections/1-0/undo", "", kAuth);
  EXPECT_EQ(r.status, 404) << r.body;

  // Exported as CSV: the header and both corrections.
  const HttpResult csv =
      http_send(a.http, "GET", "/api/v1/admin/corrections?format=csv", "", kAuth);
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(csv.headers.find("text/csv"), std::string::npos) << csv.headers;
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 3) << csv.body;
  EXPECT_EQ(csv.body.rfind("id,recorded_at,by,kind,bib,", 0), 0u) << csv.body;
}

TEST_F(AdminCorrections, RefusedRequestsSayWhatIsWrongAndRecordNothing) {
  ServeNode node = start_node({"--max-admin-body", "1024"});
  const std::string dnf = R"({"kind":"set_status","bib":"1","status":"dnf"})";
  HttpResult r = correct(node.http, dnf, "");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.headers.find("WWW-Authenticate: Bearer"), std::string::npos) << r.headers;
  r = correct(node.http, dnf, "Authorization: Bearer not-the-token\r\n");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("sign in: no official has this token"), std::string::npos) << r.body;
  r = correct(node.http, "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("not JSON"), std::string::npos) << r.body;
  r = correct(node.http, R"({"kind":"set_status","bib":"1","status":"dnf","bibb":"2"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"(field \"bibb\" is not part of a set_status correction)"),
            std::string::npos)
      << r.body;
  r = correct(node.http, R"({"kind":"set_status","bib":"no-such-bib","status":"dnf"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find(R"(unknown bib \"no-such-bib\")"), std::string::npos) << r.body;
  r = correct(node.http, R"({"kind":"set_status","bib":"1","status":"dnf","reason":")" +
                             std::string(2000, 'x') + R"("})");
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("request body over 1024 bytes for /api/v1/admin/corrections"),
            std::string::npos)
      << r.body;
  r = http_send(node.http, "DELETE", "/api/v1/admin/corrections", "", kAuth);
  EXPECT_EQ(r.status, 405);
  // Viewers' API stays read-only.
  r = http_send(node.http, "POST", "/api/v1/runners/1", "{}");
  EXPECT_EQ(r.status, 405);
  // Nothing reached the stream.
  EXPECT_EQ(redis_.command({"XLEN", "{ev:pyongyang-2025}:reads"}).to_integer().value_or(-1), 0);

  // A node without an admin token keeps the endpoints off.
  ServeNode closed = start_serve_node(redis_.port(), tokens_);
  r = correct(closed.http, dnf);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("admin_disabled"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace splitstream::testing
