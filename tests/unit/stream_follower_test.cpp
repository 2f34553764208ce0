#include "store/stream_follower.hpp"

#include <gtest/gtest.h>

namespace splitstream {
namespace {

RedisReply entry(const std::string& id, const std::vector<std::string>& fields) {
  std::vector<RedisReply> values;
  for (const std::string& f : fields)
    values.push_back(RedisReply::string(f));
  return RedisReply::array({RedisReply::string(id), RedisReply::array(std::move(values))});
}

TEST(StreamEntry, ParsesTheFieldsTheIngestScriptWrites) {
  const auto e = parse_stream_entry(
      entry("1743894001000-0", {"d", "arch-main", "s", "17", "tp", "arch", "c", "E200", "t",
                                "1743894000250", "l", "backup", "r", "-51"}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, "1743894001000-0");
  EXPECT_EQ(e->device, "arch-main");
  EXPECT_EQ(e->seq, 17u);
  EXPECT_EQ(e->timing_point, "arch");
  EXPECT_EQ(e->chip, "E200");
  EXPECT_EQ(e->time_ms, 1743894000250);
  EXPECT_EQ(e->line, "backup");
}

TEST(StreamEntry, RefusesEntriesTheEngineCannotApply) {
  EXPECT_FALSE(parse_stream_entry(entry("1-0", {"tp", "arch", "c", "E200"})));        // no time
  EXPECT_FALSE(parse_stream_entry(entry("1-0", {"tp", "arch", "c", "", "t", "5"})));  // no chip
  EXPECT_FALSE(parse_stream_entry(entry("1-0", {"c", "E200", "t", "5"})));            // no mat
  EXPECT_FALSE(parse_stream_entry(entry("1-0", {"tp", "a", "c", "E", "t", "5x"})));   // bad time
  EXPECT_FALSE(parse_stream_entry(entry("1-0", {"tp", "a", "c", "E", "t", "5", "s", "-"})));
  EXPECT_FALSE(parse_stream_entry(RedisReply::string("1-0")));
  EXPECT_FALSE(parse_stream_entry(RedisReply::array({RedisReply::string("1-0")})));
}

}  // namespace
}  // namespace splitstream
