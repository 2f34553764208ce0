#include "core/time.hpp"

#include <gtest/gtest.h>

using namespace splitstream;

TEST(Time, ParsesOffsetsAndMilliseconds) {
  // 2025-04-06T08:03:12.250+09:00 is 2025-04-05T23:03:12.250Z.
  // Days from 1970-01-01 to 2025-04-05: 20183.
  const TimeMs expected = 20183LL * 86'400'000 + (23 * 3600 + 3 * 60 + 12) * 1000LL + 250;
  EXPECT_EQ(parse_iso8601("2025-04-06T08:03:12.250+09:00"), expected);
  EXPECT_EQ(parse_iso8601("2025-04-05T23:03:12.250Z"), expected);
  EXPECT_EQ(parse_iso8601("2025-04-05T23:03:12.25Z"), expected);
  EXPECT_EQ(parse_iso8601("2025-04-05T23:03:12.250999Z"), expected);  // truncated to the ms
  EXPECT_EQ(parse_iso8601("2025-04-05T18:33:12.250-04:30"), expected);
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), 0);
}

TEST(Time, RejectsBadTimes) {
  EXPECT_FALSE(parse_iso8601("2025-04-06T08:03:12"));  // no offset
  EXPECT_EQ(parse_iso8601("2025-04-06T08:03:12", 540), parse_iso8601("2025-04-06T08:03:12+09:00"));
  EXPECT_FALSE(parse_iso8601("2025-02-29T08:00:00Z"));  // not a leap year
  EXPECT_TRUE(parse_iso8601("2024-02-29T08:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2025-04-06T24:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2025-04-06T08:00:00+9"));
  EXPECT_FALSE(parse_iso8601("2025-04-06 08:00"));
  EXPECT_FALSE(parse_iso8601("2025-04-06T08:00:00.Z"));
  EXPECT_FALSE(parse_iso8601(""));
}

TEST(Time, FormatsRoundTrip) {
  const TimeMs t = *parse_iso8601("2025-04-06T08:03:12.250+09:00");
  EXPECT_EQ(format_iso8601(t, 540), "2025-04-06T08:03:12.250+09:00");
  EXPECT_EQ(format_iso8601(t, 0), "2025-04-05T23:03:12.250Z");
  EXPECT_EQ(format_iso8601(-1, 0), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_duration(2 * 3600000 + 12 * 60000 + 11000), "2:12:11.000");
  EXPECT_EQ(format_duration(-1500), "-0:00:01.500");
  EXPECT_EQ(parse_utc_offset("+09:00"), 540);
  EXPECT_EQ(parse_utc_offset("-0330"), -210);
  EXPECT_EQ(parse_utc_offset("Z"), 0);
  EXPECT_FALSE(parse_utc_offset("+25:00"));
}
