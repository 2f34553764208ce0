// The durability modes' checks, on literal replies: the fsync probe (CONFIG GET) and the
// replicated mode's WAIT.
#include "store/durability.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace splitstream {
namespace {

using std::chrono::milliseconds;

DurabilityOptions mode(DurabilityMode m, int replicas = 1,
                       milliseconds timeout = milliseconds(1000)) {
  DurabilityOptions o;
  o.mode = m;
  o.replicas = replicas;
  o.wait_timeout = timeout;
  return o;
}

// CONFIG GET name -> ["name", "value"] (RESP2).
RedisReply config_reply(const std::string& name, const std::string& value) {
  return RedisReply::array({RedisReply::string(name), RedisReply::string(value)});
}

TEST(DurabilityProbe, LocalAndReplicatedSendNothing) {
  EXPECT_TRUE(durability_probe_commands(mode(DurabilityMode::local)).empty());
  EXPECT_TRUE(durability_probe_commands(mode(DurabilityMode::replicated)).empty());
  EXPECT_EQ(durability_probe_problem(mode(DurabilityMode::local), {}), std::nullopt);
  EXPECT_EQ(durability_probe_problem(mode(DurabilityMode::replicated), {}), std::nullopt);
}

TEST(DurabilityProbe, FsyncAsksForAppendonlyThenAppendfsync) {
  const std::vector<std::vector<std::string>> expected = {{"CONFIG", "GET", "appendonly"},
                                                          {"CONFIG", "GET", "appendfsync"}};
  EXPECT_EQ(durability_probe_commands(mode(DurabilityMode::fsync)), expected);
}

TEST(DurabilityProbe, FsyncIsKeptWithAppendonlyYesAndAppendfsyncAlways) {
  EXPECT_EQ(durability_probe_problem(
                mode(DurabilityMode::fsync),
                {config_reply("appendonly", "yes"), config_reply("appendfsync", "always")}),
            std::nullopt);
}

TEST(DurabilityProbe, FsyncNamesTheSettingRedisHasInstead) {
  EXPECT_EQ(durability_probe_problem(
                mode(DurabilityMode::fsync),
                {config_reply("appendonly", "yes"), config_reply("appendfsync", "everysec")}),
            "--durability fsync needs appendfsync always; Redis has everysec (set it in "
            "redis.conf or with CONFIG SET appendfsync always, or use --durability local)");
  EXPECT_EQ(durability_probe_problem(
                mode(DurabilityMode::fsync),
                {config_reply("appendonly", "no"), config_reply("appendfsync", "always")}),
            "--durability fsync needs appendonly yes and appendfsync always; Redis has appendonly "
            "no (set both in redis.conf or with CONFIG SET, or use --durability local)");
}

TEST(DurabilityProbe, ARefusedConfigGetNamesTheWayOut) {
  // Managed services rename or forbid CONFIG; an ACL user may lack it.
  const auto problem = durability_probe_problem(
      mode(DurabilityMode::fsync),
      {RedisReply::error("ERR unknown command 'CONFIG', with args beginning with: 'GET' "),
       RedisReply::error("ERR unknown command 'CONFIG', with args beginning with: 'GET' ")});
  EXPECT_EQ(problem,
            "--durability fsync checks appendonly and appendfsync with CONFIG GET, and Redis "
            "refused it (ERR unknown command 'CONFIG', with args beginning with: 'GET' ): use a "
            "Redis that allows CONFIG GET to this user, or --durability local");
  const auto noperm = durability_probe_problem(
      mode(DurabilityMode::fsync),
      {config_reply("appendonly", "yes"),
       RedisReply::error("NOPERM this user has no permissions to run the 'config|get' command")});
  ASSERT_TRUE(noperm);
  EXPECT_NE(noperm->find("NOPERM"), std::string::npos);
  EXPECT_NE(noperm->find("or --durability local"), std::string::npos);
}

TEST(DurabilityProbe, AReplyWithoutTheValueIsAProblem) {
  // CONFIG GET of a name Redis does not know answers an empty array.
  const auto problem = durability_probe_problem(
      mode(DurabilityMode::fsync), {RedisReply::array({}), config_reply("appendfsync", "always")});
  EXPECT_EQ(problem,
            "--durability fsync: CONFIG GET appendonly gave no value ([]): use a Redis that "
            "allows CONFIG GET to this user, or --durability local");
  EXPECT_EQ(
      durability_probe_problem(mode(DurabilityMode::fsync), {config_reply("appendonly", "yes")}),
      "--durability fsync: expected 2 replies to the CONFIG GET probe, got 1");
}

TEST(DurabilityProbe, ValuesCompareWithoutCase) {
  EXPECT_EQ(durability_probe_problem(
                mode(DurabilityMode::fsync),
                {config_reply("APPENDONLY", "Yes"), config_reply("appendfsync", "ALWAYS")}),
            std::nullopt);
}

TEST(DurabilityWait, TheCommandNamesReplicasAndTimeout) {
  EXPECT_EQ(wait_command(mode(DurabilityMode::replicated, 2, milliseconds(250))),
            (std::vector<std::string>{"WAIT", "2", "250"}));
  EXPECT_EQ(wait_command(mode(DurabilityMode::replicated)),
            (std::vector<std::string>{"WAIT", "1", "1000"}));
}

TEST(DurabilityWait, EnoughReplicasConfirm) {
  const DurabilityOptions two = mode(DurabilityMode::replicated, 2);
  EXPECT_EQ(wait_problem(two, RedisReply::integer(2)), std::nullopt);
  EXPECT_EQ(wait_problem(two, RedisReply::integer(3)), std::nullopt);  // more than asked for
}

TEST(DurabilityWait, TooFewReplicasInTimeIsAProblem) {
  EXPECT_EQ(wait_problem(mode(DurabilityMode::replicated), RedisReply::integer(0)),
            "replicated durability: 0 of 1 replicas confirmed the write within 1000 ms");
  EXPECT_EQ(
      wait_problem(mode(DurabilityMode::replicated, 3, milliseconds(50)), RedisReply::integer(2)),
      "replicated durability: 2 of 3 replicas confirmed the write within 50 ms");
}

TEST(DurabilityWait, AnErrorOrAnotherReplyIsAProblem) {
  // A replica answers WAIT with an error; a proxy might answer something else.
  EXPECT_EQ(wait_problem(mode(DurabilityMode::replicated),
                         RedisReply::error("ERR WAIT cannot be used with replica instances.")),
            "replicated durability: WAIT failed: ERR WAIT cannot be used with replica instances.");
  EXPECT_EQ(wait_problem(mode(DurabilityMode::replicated), RedisReply::string("1")),
            "replicated durability: WAIT gave \"1\", not a number");
}

}  // namespace
}  // namespace splitstream
