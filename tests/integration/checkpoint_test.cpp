// Checkpoints end to end: real `splitstream serve` nodes on a real Redis, the demo race fed over
// the device protocol with officials' corrections between its reads. A node that loads the
// checkpoint another node wrote and replays only the stream after it answers exactly as a node
// that replayed the whole stream (--checkpoint-interval 0); a checkpoint that does not fit (not a
// checkpoint, or of a stream that lacks its entry) is ignored and the stream replayed.
#include <gtest/gtest.h>

#include <fstream>

#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;
const std::string kToken = "officials-token-0123456789";
const std::string kAuth = "Authorization: Bearer " + kToken + "\r\n";
const std::string kCheckpointKey = "{ev:pyongyang-2025}:checkpoint";
const std::string kStream = "{ev:pyongyang-2025}:reads";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
    admin_file_ = redis_.dir() / "admin-token";
    std::ofstream(admin_file_) << kToken << "\n";
  }

  ServeNode start_node(std::vector<std::string> extra, const std::string& log = "") {
    extra.insert(extra.end(), {"--admin-token-file", admin_file_.string()});
    return start_serve_node(redis_.port(), tokens_, extra, 0, 0,
                            SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025", log);
  }

  void correct(int port, const std::string& body) {
    const HttpResult r = http_send(port, "POST", "/api/v1/admin/corrections", body,
                                   kAuth + "Content-Type: application/json\r\n");
    ASSERT_EQ(r.status, 201) << body << ": " << r.body;
  }

  std::uint64_t stream_length() {
    return static_cast<std::uint64_t>(redis_.command({"XLEN", kStream}).as_integer());
  }

  // Until the node has applied every entry of the stream (reads and corrections).
  void wait_applied_all(int port) {
    const std::uint64_t entries = stream_length();
    EXPECT_TRUE(wait_until([&] { return reads_applied(port) == entries; }, 20s))
        << "applied " << reads_applied(port).value_or(0) << " of " << entries;
  }

  // What a node answers about the race, its officials' view included.
  static std::vector<std::pair<std::string, std::string>> answers(int port) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string path :
         {"/api/v1/results.csv?race=marathon", "/api/v1/results.csv?race=half",
          "/api/v1/results.csv?race=10k", "/api/v1/results.csv?race=5k",
          "/api/v1/standings/marathon?limit=500", "/api/v1/standings/half?category=F&limit=500",
          "/api/v1/passings?limit=500", "/api/v1/passings?timing_point=arch&limit=100",
          "/api/v1/leaders/marathon", "/api/v1/runners/1", "/api/v1/runners/2", "/api/v1/runners/5",
          "/api/v1/runners/120", "/api/v1/participants?q=Pak&limit=50"})
      out.emplace_back(path, http_get(port, path).body);
    for (const std::string path :
         {"/api/v1/admin/corrections", "/api/v1/console/unknown-chips", "/api/v1/console/review"})
      out.emplace_back(path, http_send(port, "GET", path, "", kAuth).body);
    const std::string ready = http_get(port, "/readyz").body;
    out.emplace_back("/readyz (engine)", ready.substr(ready.find("\"engine\"")));
    return out;
  }

  // Both nodes have applied the same entries; the passings they answer with follow at their
  // next publish (within --push-interval): wait for that, then compare.
  static void expect_same_answers(int port, int reference) {
    auto got = answers(port);
    auto expected = answers(reference);
    wait_until([&] {
      got = answers(port);
      expected = answers(reference);
      return got == expected;
    });
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_FALSE(expected[i].second.empty()) << expected[i].first;
      EXPECT_EQ(got[i].second, expected[i].second) << expected[i].first;
    }
  }

  RedisServer redis_;
  std::filesystem::path tokens_;
  std::filesystem::path admin_file_;
};

TEST_F(Checkpoints, ANodeFromACheckpointAnswersAsANodeThatReplayedEverything) {
  const DemoRace& race = DemoRace::get();
  // Node A: most of the race and the officials' first corrections, then a checkpoint of it all.
  ServeNode a = start_node({"--checkpoint-interval", "1"});
  ASSERT_TRUE(race.feed_all(a.devices, 0.6));
  correct(a.http, R"({"kind":"set_status","bib":"1","status":"dsq","reason":"course cut"})");
  correct(a.http, R"({"kind":"move_chip","chip":"E28011606000020000001005","bib":"120"})");
  correct(a.http, R"({"kind":"void_reads","bib":"2","timing_point":"arch",)"
                  R"("from":"2025-04-06T08:00:00+09:00","to":"2025-04-06T12:00:00+09:00"})");
  const std::uint64_t at_checkpoint = stream_length();
  ASSERT_TRUE(wait_until(
      [&] { return metric(a.http, "splitstream_checkpoint_entries") == double(at_checkpoint); },
      20s));
  EXPECT_GE(metric(a.http, "splitstream_checkpoint_writes_total"), 1);
  a.process->signal(SIGTERM);  // its last checkpoint at stop holds no more than this one
  EXPECT_EQ(a.process->wait(10s), 0);
  ASSERT_TRUE(redis_.command({"EXISTS", kCheckpointKey}).as_integer() == 1);

  // Node C writes no checkpoint: the rest of the race and more corrections, after it.
  ServeNode c = start_node({"--checkpoint-interval", "0"});
  ASSERT_TRUE(race.feed_all(c.devices, 1.0));
  correct(c.http, R"({"kind":"set_status","bib":"1","status":"none"})");
  correct(c.http, R"({"kind":"add_read","bib":"5","timing_point":"arch",)"
                  R"("time":"2025-04-06T09:10:00+09:00"})");
  correct(c.http, R"({"kind":"set_status","bib":"3","status":"dnf"})");
  ASSERT_GT(stream_length(), at_checkpoint);

  // B loads A's checkpoint and replays the tail; D replays everything.
  const std::string log = (redis_.dir() / "b.log").string();
  ServeNode b = start_node({"--log-level", "info"}, log);
  ServeNode d = start_node({"--checkpoint-interval", "0"});
  wait_applied_all(b.http);
  wait_applied_all(c.http);
  wait_applied_all(d.http);
  EXPECT_TRUE(wait_until([&] {
    return read_file(log).find("checkpoint: loaded: " + std::to_string(at_checkpoint) +
                               " stream entries") != std::string::npos;
  })) << read_file(log);
  expect_same_answers(b.http, d.http);
  expect_same_answers(c.http, d.http);

  // Another correction, after B has loaded: every node takes it alike.
  correct(d.http, R"({"kind":"move_chip","chip":"E28011606000020000001005","bib":null})");
  wait_applied_all(b.http);
  wait_applied_all(d.http);
  expect_same_answers(b.http, d.http);
}

TEST_F(Checkpoints, OneThatDoesNotFitIsIgnoredAndTheStreamReplayed) {
  const DemoRace& race = DemoRace::get();
  ServeNode a = start_node({"--checkpoint-interval", "1"});
  ASSERT_TRUE(race.feed_all(a.devices, 0.5));
  const std::uint64_t entries = stream_length();
  ASSERT_TRUE(wait_until(
      [&] { return metric(a.http, "splitstream_checkpoint_entries") == double(entries); }, 20s));
  a.process->signal(SIGTERM);  // its last checkpoint at stop holds no more than this one
  EXPECT_EQ(a.process->wait(10s), 0);
  const std::string checkpoint = redis_.command({"GET", kCheckpointKey}).as_string();
  ASSERT_FALSE(checkpoint.empty());

  // Not a checkpoint at all.
  ASSERT_TRUE(redis_.command({"SET", kCheckpointKey, "not a checkpoint"}).is_status());
  const std::string garbage_log = (redis_.dir() / "garbage.log").string();
  ServeNode b = start_node({"--log-level", "info"}, garbage_log);
  wait_applied_all(b.http);
  EXPECT_NE(read_file(garbage_log).find("checkpoint: not loaded: replaying the whole stream"),
            std::string::npos)
      << read_file(garbage_log);
  ServeNode reference = start_node({"--checkpoint-interval", "0"});
  wait_applied_all(reference.http);
  expect_same_answers(b.http, reference.http);
  b.process.reset();  // it wrote a checkpoint of its own: the one below must stay A's

  // A checkpoint of a stream that lacks its last entry (a failover lost it): not this stream's.
  ASSERT_TRUE(redis_.command({"SET", kCheckpointKey, checkpoint}).is_status());
  const RedisReply last = redis_.command({"XREVRANGE", kStream, "+", "-", "COUNT", "1"});
  ASSERT_TRUE(last.is_array() && last.elements().size() == 1);
  const std::string last_id = last.elements()[0].elements()[0].as_string();
  ASSERT_EQ(redis_.command({"XDEL", kStream, last_id}).as_integer(), 1);
  const std::string lost_log = (redis_.dir() / "lost.log").string();
  ServeNode e = start_node({"--log-level", "info"}, lost_log);
  ServeNode f = start_node({"--checkpoint-interval", "0"});
  wait_applied_all(e.http);
  wait_applied_all(f.http);
  EXPECT_EQ(reads_applied(e.http), entries - 1);
  EXPECT_NE(read_file(lost_log).find("the stream lacks its entry " + last_id), std::string::npos)
      << read_file(lost_log);
  expect_same_answers(e.http, f.http);
}

}  // namespace
}  // namespace splitstream::testing
