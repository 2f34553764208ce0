#include "store/key_schema.hpp"

#include <gtest/gtest.h>

namespace splitstream {
namespace {

TEST(KeySchema, EveryKeyOfAnEventSharesItsHashTag) {
  const KeySchema keys("pyongyang-2025");
  EXPECT_EQ(keys.reads(), "{ev:pyongyang-2025}:reads");
  EXPECT_EQ(keys.device("stadium-main"), "{ev:pyongyang-2025}:dev:stadium-main");
  EXPECT_EQ(keys.device_pending("stadium-main"), "{ev:pyongyang-2025}:dev:stadium-main:pending");
  EXPECT_EQ(keys.runner("17"), "{ev:pyongyang-2025}:runner:17");
  EXPECT_EQ(keys.standings("marathon", "F"), "{ev:pyongyang-2025}:standings:marathon:F");
  EXPECT_EQ(keys.meta(), "{ev:pyongyang-2025}:meta");
  EXPECT_EQ(keys.checkpoint(), "{ev:pyongyang-2025}:checkpoint");
  // Redis Cluster hashes only what lies between the first '{' and the next '}'.
  for (const std::string& k : {keys.reads(), keys.runner("1"), keys.meta(), keys.checkpoint()}) {
    EXPECT_EQ(k.substr(0, k.find('}') + 1), "{ev:pyongyang-2025}");
  }
}

}  // namespace
}  // namespace splitstream
