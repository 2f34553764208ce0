#include "core/csv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace splitstream;

namespace {

struct Parsed {
  std::size_t line;
  std::vector<std::string> fields;
  std::string error;
};

std::vector<Parsed> read_all(std::string_view text) {
  CsvReader reader(text);
  CsvRow row;
  std::string error;
  std::vector<Parsed> rows;
  while (reader.next(row, error)) {
    rows.push_back({row.line, row.fields, error});
    if (rows.size() > 100) break;  // a reader that never ends
  }
  return rows;
}

using Fields = std::vector<std::string>;

}  // namespace

TEST(Csv, PlainRows) {
  const auto rows = read_all("a,b,c\n1,2,3\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[1].fields, (Fields{"1", "2", "3"}));
  EXPECT_TRUE(rows[1].error.empty());
}

TEST(Csv, LastLineWithoutNewlineAndEmptyFields) {
  const auto rows = read_all("a,,c\n,,");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "", "c"}));
  EXPECT_EQ(rows[1].fields, (Fields{"", "", ""}));
  EXPECT_EQ(rows[1].line, 2u);
}

TEST(Csv, QuotesDoubledQuotesAndQuotedCommas) {
  const auto rows = read_all("\"x,y\",\"he said \"\"hi\"\"\",\"\",\"\"\"\"\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"x,y", "he said \"hi\"", "", "\""}));
  EXPECT_TRUE(rows[0].error.empty());
}

TEST(Csv, QuotedLineBreaksKeepLineNumbers) {
  const auto rows = read_all("h1,h2\n\"multi\nline\",z\n\"three\nline\nfield\",w\nlast,row\n");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[1].line, 2u);  // the row's first line
  EXPECT_EQ(rows[1].fields, (Fields{"multi\nline", "z"}));
  EXPECT_EQ(rows[2].line, 4u);  // after the row spanning lines 2-3
  EXPECT_EQ(rows[2].fields, (Fields{"three\nline\nfield", "w"}));
  EXPECT_EQ(rows[3].line, 7u);
  EXPECT_EQ(rows[3].fields, (Fields{"last", "row"}));
}

TEST(Csv, CrLfLineEnds) {
  const auto rows = read_all("a,b\r\n\"q\",d\r\n\"x\r\ny\",e\r\nf,g");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(rows[1].fields, (Fields{"q", "d"}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].fields, (Fields{"x\r\ny", "e"}));  // inside quotes the text is kept
  EXPECT_EQ(rows[2].line, 3u);
  EXPECT_EQ(rows[3].fields, (Fields{"f", "g"}));
  EXPECT_EQ(rows[3].line, 5u);
}

TEST(Csv, ByteOrderMarkIsSkipped) {
  const auto rows = read_all(
      "\xEF\xBB\xBF"
      "bib,chip\n1,A\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{"bib", "chip"}));
  EXPECT_EQ(rows[0].line, 1u);
}

TEST(Csv, BlankLinesAreSkippedButCounted) {
  const auto rows = read_all("\n\na\n\r\n\nb\n\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"a"}));
  EXPECT_EQ(rows[1].line, 6u);
  EXPECT_EQ(rows[1].fields, (Fields{"b"}));
  EXPECT_TRUE(read_all("").empty());
  EXPECT_TRUE(read_all("\n\r\n\n").empty());
}

TEST(Csv, UnterminatedQuoteIsReported) {
  const auto rows = read_all("a,b\n1,\"open\n2,3\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].error.empty());
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[1].error, "unterminated quoted field");
  EXPECT_EQ(rows[1].fields[0], "1");
}

TEST(Csv, UnquotedFieldsAreTrimmedQuotedAreNot) {
  const auto rows = read_all("  a , b\t,\" c \",  \"d\"  ,e \r\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b", " c ", "d", "e"}));
  EXPECT_EQ(trim(" \tx y\t \r"), "x y");
  EXPECT_EQ(trim("   "), "");
}

TEST(Csv, HeaderLookup) {
  const CsvHeader header({"bib", " chip ", "race"});
  EXPECT_EQ(header.size(), 3u);
  EXPECT_EQ(header.find("bib"), 0u);
  EXPECT_EQ(header.find("chip"), 1u);  // header names are trimmed
  EXPECT_EQ(header.find("race"), 2u);
  EXPECT_FALSE(header.find("wave"));
  EXPECT_FALSE(header.find("Bib"));
}

TEST(Csv, EscapeQuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_escape("plain"), "plain");
  EXPECT_EQ(csv_escape(""), "");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_escape("cr\r"), "\"cr\r\"");
  // What is escaped reads back unchanged.
  const std::string awkward = "O\"Brien, \"Jr\"\nline";
  const auto rows = read_all(csv_escape(awkward) + ",x\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{awkward, "x"}));
}
