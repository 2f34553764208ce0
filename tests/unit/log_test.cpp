// The logging facade's two line formats, with hand-written expected lines.
#include "observe/log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace splitstream::log {
namespace {

TEST(Log, TextLinesPutFieldsAfterTheMessageQuotingWhereNeeded) {
  EXPECT_EQ(format_line(Format::text, "2025-04-06T00:00:00.000Z", Level::info, "devices",
                        "device connected",
                        {{"device", "arch-main"}, {"remote", "10.0.0.7"}, {"note", "two words"}}),
            "2025-04-06T00:00:00.000Z info devices: device connected device=arch-main "
            "remote=10.0.0.7 note=\"two words\"");
  EXPECT_EQ(format_line(Format::text, "T", Level::warn, "redis", "lost", {{"error", ""}}),
            "T warn redis: lost error=\"\"");
}

TEST(Log, JsonLinesAreOneObjectWithEveryField) {
  const std::string line =
      format_line(Format::json, "2025-04-06T00:00:00.000Z", Level::error, "http",
                  "a \"quoted\"\nmessage", {{"remote", "::1"}, {"count", "3"}});
  EXPECT_EQ(line, R"({"time":"2025-04-06T00:00:00.000Z","level":"error","component":"http",)"
                  R"("message":"a \"quoted\"\nmessage","remote":"::1","count":"3"})");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_TRUE(boost::json::parse(line).is_object());
}

TEST(Log, LevelsFilter) {
  Level l = Level::info;
  EXPECT_TRUE(parse_level("warn", l));
  EXPECT_EQ(l, Level::warn);
  EXPECT_FALSE(parse_level("verbose", l));
  set_level(Level::warn);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::error));
  set_level(Level::info);
}

}  // namespace
}  // namespace splitstream::log
