#include "store/redis_handshake.hpp"

#include <gtest/gtest.h>

namespace splitstream {
namespace {

using Commands = std::vector<std::vector<std::string>>;

RedisReply ok() {
  return RedisReply::status("OK");
}
RedisReply pong() {
  return RedisReply::status("PONG");
}
RedisReply bulk(std::string s) {
  return RedisReply::string(std::move(s));
}

TEST(RedisHandshake, PlainConnectionOnlyPings) {
  EXPECT_EQ(redis_handshake_commands(RedisOptions{}), (Commands{{"PING"}}));
  EXPECT_EQ(redis_handshake_problem(RedisOptions{}, "127.0.0.1:6379", {pong()}), std::nullopt);
}

TEST(RedisHandshake, AuthSelectRoleThenPing) {
  RedisOptions o;
  o.username = "timing";
  o.password = "pw-secret";
  o.database = 3;
  o.sentinels.push_back(RedisAddress{"127.0.0.1", 26379});
  o.primary_name = "race";
  EXPECT_EQ(redis_handshake_commands(o),
            (Commands{{"AUTH", "timing", "pw-secret"}, {"SELECT", "3"}, {"ROLE"}, {"PING"}}));
  const RedisReply master = RedisReply::array({bulk("master"), RedisReply::integer(0)});
  EXPECT_EQ(redis_handshake_problem(o, "h:1", {ok(), ok(), master, pong()}), std::nullopt);

  o.username.clear();
  EXPECT_EQ(redis_handshake_commands(o).front(), (std::vector<std::string>{"AUTH", "pw-secret"}));
}

TEST(RedisHandshake, RefusedPasswordNamesTheUserNeverThePassword) {
  RedisOptions o;
  o.username = "timing";
  o.password = "pw-secret";
  const auto problem = redis_handshake_problem(
      o, "10.0.0.5:6380",
      {RedisReply::error("WRONGPASS invalid username-password pair or user is disabled."), pong()});
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "Redis at 10.0.0.5:6380 refused user timing: WRONGPASS invalid username-password pair "
            "or user is disabled.");
  EXPECT_EQ(problem->find("pw-secret"), std::string::npos);
}

TEST(RedisHandshake, MissingPasswordIsSaidPlainly) {
  const auto problem = redis_handshake_problem(
      RedisOptions{}, "h:6379", {RedisReply::error("NOAUTH Authentication required.")});
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "Redis at h:6379 wants a password: give one in the URL or with --redis-password-file");
}

TEST(RedisHandshake, MissingPasswordIsSaidPlainlyWhicheverStepAnswersFirst) {
  // SELECT (a database), ROLE (Sentinel), the fsync probe: each answers NOAUTH before PING.
  RedisOptions o;
  o.database = 2;
  o.sentinels.push_back(RedisAddress{"s", 26379});
  o.primary_name = "m";
  o.durability.mode = DurabilityMode::fsync;
  const std::size_t steps = redis_handshake_commands(o).size();
  ASSERT_EQ(steps, 5u);  // SELECT, ROLE, CONFIG GET appendonly, CONFIG GET appendfsync, PING
  const std::vector<RedisReply> replies(steps,
                                        RedisReply::error("NOAUTH Authentication required."));
  const auto problem = redis_handshake_problem(o, "h:6379", replies);
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "Redis at h:6379 wants a password: give one in the URL or with --redis-password-file");
}

TEST(RedisHandshake, ASentinelsPrimaryThatIsAReplicaIsRefused) {
  RedisOptions o;
  o.sentinels.push_back(RedisAddress{"127.0.0.1", 26379});
  o.primary_name = "race";
  const RedisReply replica =
      RedisReply::array({bulk("slave"), bulk("127.0.0.1"), RedisReply::integer(6379)});
  const auto problem = redis_handshake_problem(o, "127.0.0.1:6380", {replica, pong()});
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "Redis at 127.0.0.1:6380, named the primary race by the sentinels, is a slave (a "
            "failover is under way)");
}

TEST(RedisHandshake, TooFewRepliesIsAProblem) {
  RedisOptions o;
  o.password = "x";
  EXPECT_TRUE(redis_handshake_problem(o, "h:1", {ok()}));
}

TEST(RedisHandshake, SentinelReplyGivesThePrimary) {
  const RedisReply reply = RedisReply::array({bulk("10.1.2.3"), bulk("6380")});
  const auto address = sentinel_primary_address(reply);
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "10.1.2.3");
  EXPECT_EQ(address->port, 6380);
  EXPECT_FALSE(sentinel_primary_address(RedisReply::nil()));
  EXPECT_FALSE(sentinel_primary_address(RedisReply::error("ERR no such master")));
  EXPECT_FALSE(sentinel_primary_address(RedisReply::array({bulk("h"), bulk("0")})));
  EXPECT_FALSE(sentinel_primary_address(RedisReply::array({bulk("h"), bulk("70000")})));
  RedisOptions o;
  o.primary_name = "race";
  EXPECT_EQ(sentinel_primary_command(o),
            (std::vector<std::string>{"SENTINEL", "get-master-addr-by-name", "race"}));
}

TEST(RedisHandshake, MovedNamesTheOwner) {
  auto moved = parse_moved_error("MOVED 3999 127.0.0.1:7002", "127.0.0.1");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->host, "127.0.0.1");
  EXPECT_EQ(moved->port, 7002);
  moved = parse_moved_error("MOVED 3999 :7003", "10.0.0.9");  // same host, Redis 7 style
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->host, "10.0.0.9");
  EXPECT_EQ(moved->port, 7003);
  moved = parse_moved_error("MOVED 1 [::1]:7004", "x");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->host, "::1");
  EXPECT_FALSE(parse_moved_error("MOVEDX 1 h:1", "x"));
  EXPECT_FALSE(parse_moved_error("MOVED 1 h:0", "x"));
  EXPECT_FALSE(parse_moved_error("MOVED 1", "x"));
  EXPECT_FALSE(parse_moved_error("ASK 1 h:1", "x"));
}

TEST(RedisHandshake, RerouteOnlyWhereAnotherServerShouldAnswer) {
  EXPECT_TRUE(reroute_reason("MOVED 1 h:2", false));
  EXPECT_FALSE(reroute_reason("READONLY You can't write against a read only replica.", false));
  EXPECT_EQ(reroute_reason("READONLY You can't write against a read only replica.", true),
            "the server is no longer the primary: READONLY You can't write against a read only "
            "replica.");
  EXPECT_TRUE(reroute_reason("UNBLOCKED force unblock from blocking operation", true));
  EXPECT_TRUE(reroute_reason("MASTERDOWN Link with MASTER is down", true));
  EXPECT_FALSE(reroute_reason("ERR unknown command", true));
  EXPECT_FALSE(reroute_reason("NOSCRIPT No matching script", true));
}

}  // namespace
}  // namespace splitstream
