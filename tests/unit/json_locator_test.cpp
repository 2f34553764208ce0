#include "core/json_locator.hpp"

#include <gtest/gtest.h>

using namespace splitstream;

namespace {

constexpr const char* kDoc = R"json({
  "id": "x",
  "races": [
    {"id": "a"},
    {
      "id": "b",
      "splits": [
        {
          "timing_point": "tp",
          "distance_m": 0
        }
      ],
      "tags": ["p", "q",
        "r"]
    }
  ],
  "escaped": "a \"quoted\" } value"
}
)json";

}  // namespace

TEST(JsonLocator, LinesOfNestedPaths) {
  const JsonLocator loc(kDoc);
  ASSERT_TRUE(loc.ok()) << loc.error();
  EXPECT_EQ(loc.line_of("id"), 2u);
  EXPECT_EQ(loc.line_of("races"), 3u);
  EXPECT_EQ(loc.line_of("races[0]"), 4u);
  EXPECT_EQ(loc.line_of("races[0].id"), 4u);
  EXPECT_EQ(loc.line_of("races[1]"), 5u);
  EXPECT_EQ(loc.line_of("races[1].id"), 6u);
  EXPECT_EQ(loc.line_of("races[1].splits"), 7u);
  EXPECT_EQ(loc.line_of("races[1].splits[0]"), 8u);
  EXPECT_EQ(loc.line_of("races[1].splits[0].timing_point"), 9u);
  EXPECT_EQ(loc.line_of("races[1].splits[0].distance_m"), 10u);
  EXPECT_EQ(loc.line_of("races[1].tags[1]"), 13u);
  EXPECT_EQ(loc.line_of("races[1].tags[2]"), 14u);
  EXPECT_EQ(loc.line_of("escaped"), 17u);
}

TEST(JsonLocator, FallsBackToTheEnclosingPath) {
  const JsonLocator loc(kDoc);
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc.line_of("races[1].splits[0].read_rule"), 8u);
  EXPECT_EQ(loc.line_of("races[1].waves[2].id"), 5u);
  EXPECT_EQ(loc.line_of("races[7]"), 3u);
  EXPECT_EQ(loc.line_of("devices[0].id"), 1u);
  EXPECT_EQ(loc.line_of(""), 1u);
}

TEST(JsonLocator, MissingComma) {
  const JsonLocator loc("{\n  \"a\": 1\n  \"b\": 2\n}\n");
  EXPECT_FALSE(loc.ok());
  EXPECT_EQ(loc.error_line(), 3u);  // where the next key is, as other parsers report it
  EXPECT_NE(loc.error().find("','"), std::string::npos) << loc.error();
  const JsonLocator in_array("[\n  1,\n  2\n  3\n]");
  EXPECT_FALSE(in_array.ok());
  EXPECT_EQ(in_array.error_line(), 4u);
}

TEST(JsonLocator, UnterminatedString) {
  const JsonLocator broken_line("{\n  \"a\": 1,\n  \"b\": \"abc\n}\n");
  EXPECT_FALSE(broken_line.ok());
  EXPECT_EQ(broken_line.error_line(), 3u);
  const JsonLocator at_end("{\n\n  \"a\": \"abc");
  EXPECT_FALSE(at_end.ok());
  EXPECT_EQ(at_end.error_line(), 3u);
  EXPECT_EQ(at_end.error(), "unterminated string");
}

TEST(JsonLocator, TrailingGarbage) {
  const JsonLocator loc("{\"a\": 1}\n\n  x\n");
  EXPECT_FALSE(loc.ok());
  EXPECT_EQ(loc.error_line(), 3u);
  EXPECT_EQ(loc.error(), "unexpected text after the JSON value");
}

TEST(JsonLocator, OtherSyntaxErrors) {
  const JsonLocator no_colon("{\n  \"a\" 1\n}");
  EXPECT_FALSE(no_colon.ok());
  EXPECT_EQ(no_colon.error_line(), 2u);
  const JsonLocator unclosed("{\n  \"a\": [1,\n  2\n");
  EXPECT_FALSE(unclosed.ok());
  EXPECT_EQ(unclosed.error_line(), 4u);
  const JsonLocator bare_key("{\n  a: 1\n}");
  EXPECT_FALSE(bare_key.ok());
  EXPECT_EQ(bare_key.error_line(), 2u);
  EXPECT_FALSE(JsonLocator("").ok());
  EXPECT_TRUE(JsonLocator("  [ ]  \n").ok());
}

TEST(JsonLocator, BadLiteralsAndNumbers) {
  // Boost.JSON rejects these too; the locator must find them to give their line.
  for (const char* bad : {"tru", "True", "nul", "22x6", "01", "-", "1.", ".5", "1e", "+1", "NaN"}) {
    const JsonLocator loc(std::string("{\n  \"a\": 1,\n  \"b\": ") + bad + "\n}");
    EXPECT_FALSE(loc.ok()) << bad;
    EXPECT_EQ(loc.error_line(), 3u) << bad;
  }
  for (const char* good : {"true", "false", "null", "0", "-0", "12", "-3.25", "1e5", "2.5E-3"}) {
    const JsonLocator loc(std::string("{\n  \"a\": 1,\n  \"b\": ") + good + "\n}");
    EXPECT_TRUE(loc.ok()) << good << ": " << loc.error();
  }
}

TEST(JsonLocator, BadEscapesAndControlCharacters) {
  EXPECT_TRUE(JsonLocator(R"({"a": "q\"\\\/\b\f\n\r\t\u00e9"})").ok());
  const JsonLocator bad_escape("{\n  \"a\": \"\\q\"\n}");
  EXPECT_FALSE(bad_escape.ok());
  EXPECT_EQ(bad_escape.error_line(), 2u);
  const JsonLocator bad_unicode("{\n\n  \"a\": \"\\u00g9\"\n}");
  EXPECT_FALSE(bad_unicode.ok());
  EXPECT_EQ(bad_unicode.error_line(), 3u);
  const JsonLocator tab("{\n  \"a\": \"x\ty\"\n}");
  EXPECT_FALSE(tab.ok());
  EXPECT_EQ(tab.error_line(), 2u);
}
