// How a node shows its Redis in /readyz and its start-up log: where, never the password.
#include "server/redis_status.hpp"

#include <gtest/gtest.h>

namespace splitstream {
namespace {

RedisOptions with_password() {
  RedisOptions o;
  o.host = "10.0.0.5";
  o.username = "timing";
  o.password = "S3cr3t-pw";
  return o;
}

TEST(RedisStatus, ReadinessDetailNamesTheRedisAndWhyItIsNotConnected) {
  const RedisOptions o = with_password();
  EXPECT_EQ(redis_readiness_detail(o, true, ""), "redis://timing@10.0.0.5:6379 connected");
  EXPECT_EQ(redis_readiness_detail(o, false, ""), "redis://timing@10.0.0.5:6379 not connected");
  EXPECT_EQ(redis_readiness_detail(o, false, "WRONGPASS invalid username-password pair"),
            "redis://timing@10.0.0.5:6379 not connected: WRONGPASS invalid username-password "
            "pair");
  RedisOptions tls = o;
  tls.tls.enabled = true;
  tls.database = 2;
  EXPECT_EQ(redis_readiness_detail(tls, false, "TLS handshake failed: certificate verify failed"),
            "rediss://timing@10.0.0.5:6379/2 not connected: TLS handshake failed: certificate "
            "verify failed");
  for (const bool connected : {true, false}) {
    EXPECT_EQ(redis_readiness_detail(o, connected, "x").find("S3cr3t"), std::string::npos);
    EXPECT_EQ(redis_readiness_detail(tls, connected, "").find("S3cr3t"), std::string::npos);
  }
}

TEST(RedisStatus, ReadinessDetailWithSentinels) {
  RedisOptions o = with_password();
  o.sentinels = {{"10.0.0.1", 26379}, {"::1", 26380}};
  o.primary_name = "mymaster";
  EXPECT_EQ(redis_readiness_detail(o, false, "sentinels: none knows primary mymaster"),
            "sentinel primary mymaster via 10.0.0.1:26379,[::1]:26380 not connected: sentinels: "
            "none knows primary mymaster");
}

TEST(RedisStatus, DurabilityInWords) {
  DurabilityOptions d;
  EXPECT_EQ(describe_durability(d), "local");
  d.mode = DurabilityMode::fsync;
  EXPECT_EQ(describe_durability(d), "fsync");
  d.mode = DurabilityMode::replicated;
  EXPECT_EQ(describe_durability(d), "replicated: 1 replica within 1000 ms");
  d.replicas = 2;
  d.wait_timeout = std::chrono::milliseconds(250);
  EXPECT_EQ(describe_durability(d), "replicated: 2 replicas within 250 ms");
}

}  // namespace
}  // namespace splitstream
