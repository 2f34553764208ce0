// Impinj Speedway Connect POST bodies: the literal objects of Impinj's data integration article
// in each wrapping we accept, with hand-computed times.
//
// 2018-06-14T00:00:00Z is day 17696 of the epoch (17532 days to 2018-01-01, 151 for January to
// May, 13 more), 1'528'934'400 s; 00:15:54 adds 954 s: 1'528'935'354 s.
#include "adapters/impinj_reads.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace splitstream {
namespace {

constexpr std::int64_t kSecond = 1'528'935'354;  // 2018-06-14T00:15:54Z

// The three reads of the article, as it prints them.
const std::string kRead7 =
    R"({"antennaPort":7,"epc":"999908290000000000000004","firstSeenTimestamp":"2018-06-14T00:15:54.36879Z","peakRssi":-51,"isHeartBeat":false})";
const std::string kRead23 =
    R"({"antennaPort":23,"epc":"999908290000000000000003","firstSeenTimestamp":"2018-06-14T00:15:54.373293Z","peakRssi":-50,"isHeartBeat":false})";
const std::string kRead25 =
    R"({"antennaPort":25,"epc":"999908290000000000000001","firstSeenTimestamp":"2018-06-14T00:15:54.410799Z","peakRssi":-52,"isHeartBeat":false})";

const std::string kKey7 = "7/999908290000000000000004/1528935354368790";
const std::string kKey23 = "23/999908290000000000000003/1528935354373293";
const std::string kKey25 = "25/999908290000000000000001/1528935354410799";

ImpinjParseResult parse(std::string_view body, std::string_view content_type = "application/json",
                        const ImpinjLimits& limits = ImpinjLimits{},
                        const ImpinjBodyFormat& format = ImpinjBodyFormat{}) {
  return parse_impinj_body(body, content_type, limits, format);
}

std::vector<std::string> keys(const ImpinjParseResult& result) {
  std::vector<std::string> out;
  for (const DecoderRawRead& read : result.reads)
    out.push_back(read.key);
  return out;
}

// Percent-encodes everything but letters and digits, as a form post would.
std::string form_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

TEST(ImpinjReads, LiteralObjectFromTheArticle) {
  const ImpinjParseResult result = parse(kRead7);
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_TRUE(result.malformed.empty());
  EXPECT_EQ(result.heartbeats, 0u);
  EXPECT_EQ(result.reader_name, "");
  ASSERT_EQ(result.reads.size(), 1u);
  const DecoderRawRead& read = result.reads[0];
  EXPECT_EQ(read.key, kKey7);
  EXPECT_EQ(read.source, "7");
  EXPECT_EQ(read.chip, "999908290000000000000004");
  EXPECT_EQ(read.time.base, DecoderTimeBase::utc);
  EXPECT_EQ(read.time.ms, 1'528'935'354'368);  // .368790 s, truncated to the ms
  EXPECT_EQ(read.rssi_dbm, -51);
}

TEST(ImpinjReads, ObjectsOneAfterAnotherOnLinesOrPrettyPrinted) {
  const ImpinjParseResult lines = parse(kRead7 + "\n" + kRead23 + "\r\n" + kRead25 + "\n");
  ASSERT_FALSE(lines.error) << *lines.error;
  EXPECT_EQ(keys(lines), (std::vector<std::string>{kKey7, kKey23, kKey25}));

  // As the article prints them: each object over several lines, objects separated by a blank.
  const std::string pretty =
      "{\"antennaPort\":7,\n\"epc\":\"999908290000000000000004\",\n\"firstSeenTimestamp\":\n"
      "\"2018-06-14T00:15:54.36879Z\",\n\"peakRssi\":-51,\"isHeartBeat\":false}\n\n"
      "{\"antennaPort\":23,\n\"epc\":\"999908290000000000000003\",\n"
      "\"tid\":\"E28011002000564500000001\",\n\"firstSeenTimestamp\":\n"
      "\"2018-06-14T00:15:54.373293Z\",\n\"peakRssi\":-50,\"isHeartBeat\":false}\n";
  const ImpinjParseResult result = parse(pretty, "text/plain");
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_TRUE(result.malformed.empty());
  EXPECT_EQ(keys(result), (std::vector<std::string>{kKey7, kKey23}));
}

TEST(ImpinjReads, ArrayOfObjects) {
  const ImpinjParseResult result = parse("[" + kRead7 + "," + kRead23 + "," + kRead25 + "]");
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_EQ(keys(result), (std::vector<std::string>{kKey7, kKey23, kKey25}));
  EXPECT_EQ(result.reads[1].source, "23");
  EXPECT_EQ(result.reads[1].time.ms, 1'528'935'354'373);
  EXPECT_EQ(result.reads[2].rssi_dbm, -52);
}

TEST(ImpinjReads, ObjectWrappingAnArrayUnderEachDefaultKey) {
  for (const std::string key : {"tag_reads", "tagReads", "reads", "tags", "data"}) {
    const ImpinjParseResult result = parse(R"({"reader_name":"SpeedwayR-10-EF-25",")" + key +
                                           R"(":[)" + kRead7 + "," + kRead25 + "]}");
    ASSERT_FALSE(result.error) << key << ": " << *result.error;
    EXPECT_EQ(keys(result), (std::vector<std::string>{kKey7, kKey25})) << key;
    EXPECT_EQ(result.reader_name, "SpeedwayR-10-EF-25") << key;
  }
}

TEST(ImpinjReads, WrapperKeysAreASetting) {
  const std::string body = R"({"events":[)" + kRead7 + "]}";
  // Not a default wrapper: the object is taken as a tag object, and it has no epc.
  const ImpinjParseResult by_default = parse(body);
  EXPECT_TRUE(by_default.reads.empty());
  EXPECT_EQ(by_default.malformed, (std::vector<std::string>{"tag object 0: missing epc"}));

  ImpinjBodyFormat format;
  format.wrapper_keys = {"events"};
  const ImpinjParseResult configured = parse(body, "application/json", ImpinjLimits{}, format);
  EXPECT_EQ(keys(configured), (std::vector<std::string>{kKey7}));
}

TEST(ImpinjReads, FormFieldCarryingTheJson) {
  const std::string body =
      "reader_name=SpeedwayR-10-EF-25&mac_address=" + form_encode("00:16:25:10:EF:25") +
      "&tag_reads=" + form_encode("[" + kRead7 + "," + kRead23 + "]");
  const ImpinjParseResult result = parse(body, "application/x-www-form-urlencoded; charset=UTF-8");
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_EQ(keys(result), (std::vector<std::string>{kKey7, kKey23}));
  EXPECT_EQ(result.reader_name, "SpeedwayR-10-EF-25");

  // The same form sent without its content type is recognised by its look.
  EXPECT_EQ(keys(parse(body, "")), (std::vector<std::string>{kKey7, kKey23}));

  // '+' is a space in a form: JSON whitespace, harmless.
  const ImpinjParseResult plus =
      parse("json=" + form_encode(kRead25).insert(3, "+"), "application/x-www-form-urlencoded");
  EXPECT_EQ(keys(plus), (std::vector<std::string>{kKey25}));
}

TEST(ImpinjReads, FormFieldNameIsASetting) {
  const std::string body = "hostname=finish-reader&field_values=" + form_encode(kRead7);
  const ImpinjParseResult by_default = parse(body, "application/x-www-form-urlencoded");
  ASSERT_TRUE(by_default.error);
  EXPECT_EQ(*by_default.error,
            "form body has no JSON field (looked for: tag_reads, json, data, reads)");
  EXPECT_TRUE(by_default.reads.empty());

  ImpinjBodyFormat format;
  format.form_json_fields = {"field_values"};
  const ImpinjParseResult configured =
      parse(body, "application/x-www-form-urlencoded", ImpinjLimits{}, format);
  ASSERT_FALSE(configured.error) << *configured.error;
  EXPECT_EQ(keys(configured), (std::vector<std::string>{kKey7}));
  EXPECT_EQ(configured.reader_name, "finish-reader");
}

TEST(ImpinjReads, HeartbeatsAreCountedNotRead) {
  const ImpinjParseResult only = parse(R"({"isHeartBeat":true,"hostname":"speedway-1"})");
  ASSERT_FALSE(only.error) << *only.error;
  EXPECT_EQ(only.heartbeats, 1u);
  EXPECT_TRUE(only.reads.empty());
  EXPECT_TRUE(only.malformed.empty());
  EXPECT_EQ(only.reader_name, "speedway-1");

  // A heartbeat with the read fields present but empty, between two reads.
  const ImpinjParseResult mixed = parse(
      kRead7 + "\n" + R"({"antennaPort":0,"epc":"","firstSeenTimestamp":"","isHeartBeat":true})" +
      "\n" + kRead23);
  EXPECT_EQ(mixed.heartbeats, 1u);
  EXPECT_EQ(keys(mixed), (std::vector<std::string>{kKey7, kKey23}));
  EXPECT_TRUE(mixed.malformed.empty());
}

TEST(ImpinjReads, MicrosecondTimestamps) {
  // The same instant as a number of microseconds.
  const ImpinjParseResult number = parse(
      R"({"antennaPort":7,"epc":"999908290000000000000004","firstSeenTimestamp":1528935354368790})");
  ASSERT_EQ(number.reads.size(), 1u);
  EXPECT_EQ(number.reads[0].key, kKey7);
  EXPECT_EQ(number.reads[0].time.ms, 1'528'935'354'368);
  EXPECT_FALSE(number.reads[0].rssi_dbm);

  EXPECT_EQ(parse_impinj_timestamp_us("2018-06-14T00:15:54.36879Z"), kSecond * 1'000'000 + 368'790);
  EXPECT_EQ(parse_impinj_timestamp_us("2018-06-14T00:15:54Z"), kSecond * 1'000'000);
  EXPECT_EQ(parse_impinj_timestamp_us("2018-06-14T00:15:54.5Z"), kSecond * 1'000'000 + 500'000);
  // Digits past the microsecond are truncated.
  EXPECT_EQ(parse_impinj_timestamp_us("2018-06-14T00:15:54.123456789Z"),
            kSecond * 1'000'000 + 123'456);
  // An offset is honoured: 02:15:54+02:00 is 00:15:54Z.
  EXPECT_EQ(parse_impinj_timestamp_us("2018-06-14T02:15:54.000001+02:00"), kSecond * 1'000'000 + 1);
  EXPECT_EQ(parse_impinj_timestamp_us("1970-01-01T00:00:00Z"), 0);

  EXPECT_FALSE(parse_impinj_timestamp_us("2018-06-14T00:15:54.36879"));  // no zone
  EXPECT_FALSE(parse_impinj_timestamp_us("2018-02-29T00:00:00Z"));       // 2018 is no leap year
  EXPECT_FALSE(parse_impinj_timestamp_us("2018-06-14T24:00:00Z"));
  EXPECT_FALSE(parse_impinj_timestamp_us("1969-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_impinj_timestamp_us("2018-06-14T00:15:54.Z"));
  EXPECT_FALSE(parse_impinj_timestamp_us("2018-06-14T00:15:54.1234567890Z"));
  EXPECT_FALSE(parse_impinj_timestamp_us(""));
}

TEST(ImpinjReads, MalformedObjectsAmongGoodOnes) {
  const std::string body =
      "[" + kRead7 + "," + R"({"antennaPort":3,"firstSeenTimestamp":"2018-06-14T00:15:54Z"},)" +
      R"({"antennaPort":3,"epc":"AB12","firstSeenTimestamp":"2018-13-01T00:00:00Z"},)" +
      R"({"antennaPort":3,"epc":"XYZ","firstSeenTimestamp":1},)" +
      R"({"antennaPort":"3","epc":"AB12","firstSeenTimestamp":1},)" +
      R"({"antennaPort":3,"epc":"AB12","firstSeenTimestamp":1,"peakRssi":"-51"},)" +
      R"({"antennaPort":3,"epc":"AB12","firstSeenTimestamp":-5},)" +
      R"({"antennaPort":3,"epc":"AB12","firstSeenTimestamp":1,"isHeartBeat":"no"},)" +
      R"("999908290000000000000004",)" + kRead23 + "]";
  const ImpinjParseResult result = parse(body);
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_EQ(keys(result), (std::vector<std::string>{kKey7, kKey23}));
  const std::vector<std::string> expected = {
      "tag object 1: missing epc",
      "tag object 2: firstSeenTimestamp: expected an ISO 8601 UTC time like "
      "\"2018-06-14T00:15:54.36879Z\", got \"2018-13-01T00:00:00Z\"",
      "tag object 3: epc: expected 1 to 128 hex digits, got \"XYZ\"",
      "tag object 4: antennaPort: expected an integer 0-65535, got a string",
      "tag object 5: peakRssi: expected a number, got a string",
      "tag object 6: firstSeenTimestamp: expected an ISO time or microseconds since 1970, got -5",
      "tag object 7: isHeartBeat: expected true or false, got a string",
      "tag object 8: expected an object, got a string",
  };
  EXPECT_EQ(result.malformed, expected);
}

TEST(ImpinjReads, UnparsableLineAmongGoodLines) {
  const ImpinjParseResult result =
      parse(kRead7 + "\n" + R"({"antennaPort":7 "epc":"99"})" + "\n" + kRead23 + "\n");
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_EQ(keys(result), (std::vector<std::string>{kKey7, kKey23}));
  ASSERT_EQ(result.malformed.size(), 1u);
  EXPECT_EQ(result.malformed[0].rfind("tag object 1: not valid JSON (", 0), 0u)
      << result.malformed[0];

  // A broken first line does not make the body "not JSON" when the rest parses.
  const ImpinjParseResult first_broken = parse("{\"antennaPort\":7 \"epc\"}\n" + kRead25);
  EXPECT_EQ(keys(first_broken), (std::vector<std::string>{kKey25}));
  EXPECT_EQ(first_broken.malformed.size(), 1u);
}

TEST(ImpinjReads, MaxReadsRefusesTheBody) {
  ImpinjLimits limits;
  limits.max_reads = 2;
  const ImpinjParseResult two = parse("[" + kRead7 + "," + kRead23 + "]", "", limits);
  EXPECT_FALSE(two.error);
  EXPECT_EQ(two.reads.size(), 2u);

  const ImpinjParseResult three =
      parse(kRead7 + "\n" + kRead23 + "\n" + kRead25, "application/json", limits);
  ASSERT_TRUE(three.error);
  EXPECT_EQ(*three.error, "more than 2 tag objects in one body");
  EXPECT_TRUE(three.reads.empty());
  EXPECT_TRUE(three.malformed.empty());

  // Heartbeats and malformed objects count too: each is work.
  const ImpinjParseResult with_heartbeat =
      parse(R"([{"isHeartBeat":true},{},)" + kRead7 + "]", "application/json", limits);
  EXPECT_TRUE(with_heartbeat.error);
}

TEST(ImpinjReads, DepthAndBodyLimits) {
  ImpinjLimits limits;
  limits.max_depth = 2;  // wrapper, array, object is 3
  const ImpinjParseResult deep = parse(R"({"tag_reads":[)" + kRead7 + "]}", "", limits);
  ASSERT_TRUE(deep.error);
  EXPECT_EQ(deep.error->rfind("body is not JSON: ", 0), 0u) << *deep.error;
  EXPECT_EQ(keys(parse("[" + kRead7 + "]", "", limits)), (std::vector<std::string>{kKey7}));

  limits = ImpinjLimits{};
  limits.max_body_bytes = kRead7.size() - 1;
  const ImpinjParseResult big = parse(kRead7, "", limits);
  ASSERT_TRUE(big.error);
  EXPECT_EQ(*big.error, "body of 135 bytes is over the limit of 134");
}

TEST(ImpinjReads, NotJsonIsOneError) {
  // Speedway Connect's key-value output is not JSON either, though it starts with a number.
  for (const std::string body : {"hello world", "<tag_reads/>", "\x01\x02",
                                 "7,999908290000000000000004,,1528935354368790"}) {
    const ImpinjParseResult result = parse(body);
    ASSERT_TRUE(result.error) << body;
    EXPECT_EQ(*result.error, "body is not JSON: it does not start with '{' or '['");
    EXPECT_TRUE(result.reads.empty());
    EXPECT_TRUE(result.malformed.empty());
  }
  for (const std::string body : {"{\"antennaPort\":7,", "[{]", "[1,]"}) {
    const ImpinjParseResult result = parse(body);
    ASSERT_TRUE(result.error) << body;
    EXPECT_EQ(result.error->rfind("body is not JSON: not valid JSON (", 0), 0u) << *result.error;
  }
  const ImpinjParseResult empty = parse(" \r\n");
  ASSERT_TRUE(empty.error);
  EXPECT_EQ(*empty.error, "body is empty");
  const ImpinjParseResult empty_field = parse("tag_reads=&reader_name=x", "");
  ASSERT_TRUE(empty_field.error);
  EXPECT_EQ(*empty_field.error, "form field tag_reads is empty");
}

TEST(ImpinjReads, SameReadPostedTwiceHasTheSameKey) {
  const ImpinjParseResult first = parse(kRead7);
  const ImpinjParseResult again = parse("[" + kRead23 + "," + kRead7 + "]");
  ASSERT_EQ(first.reads.size(), 1u);
  ASSERT_EQ(again.reads.size(), 2u);
  EXPECT_EQ(first.reads[0].key, again.reads[1].key);

  // The same tag a microsecond later, or on another antenna, is another read.
  const ImpinjParseResult later = parse(
      R"({"antennaPort":7,"epc":"999908290000000000000004","firstSeenTimestamp":"2018-06-14T00:15:54.368791Z"})");
  const ImpinjParseResult other_port = parse(
      R"({"antennaPort":8,"epc":"999908290000000000000004","firstSeenTimestamp":"2018-06-14T00:15:54.36879Z"})");
  EXPECT_EQ(later.reads.at(0).key, "7/999908290000000000000004/1528935354368791");
  EXPECT_EQ(other_port.reads.at(0).key, "8/999908290000000000000004/1528935354368790");
}

TEST(ImpinjReads, PeakRssiRoundsToWholeDbm) {
  const ImpinjParseResult result =
      parse(R"({"antennaPort":1,"epc":"AB","firstSeenTimestamp":0,"peakRssi":-50.6})");
  ASSERT_EQ(result.reads.size(), 1u);
  EXPECT_EQ(result.reads[0].rssi_dbm, -51);
  EXPECT_EQ(result.reads[0].key, "1/AB/0");
}

TEST(ImpinjReads, FormatterWritesTheArticlesObjectAndRoundTrips) {
  ImpinjTagRead read;
  read.antenna_port = 7;
  read.epc = "999908290000000000000004";
  read.first_seen_us = kSecond * 1'000'000 + 368'790;
  read.peak_rssi = -51;
  const std::string text = format_impinj_read(read);
  EXPECT_EQ(text, kRead7);

  const ImpinjParseResult back = parse(text + "\n" + format_impinj_heartbeat() + "\n");
  ASSERT_EQ(back.reads.size(), 1u);
  EXPECT_EQ(back.reads[0].key, kKey7);
  EXPECT_EQ(back.reads[0].rssi_dbm, -51);
  EXPECT_EQ(back.heartbeats, 1u);

  EXPECT_EQ(format_impinj_timestamp_us(kSecond * 1'000'000), "2018-06-14T00:15:54Z");
  EXPECT_EQ(format_impinj_timestamp_us(kSecond * 1'000'000 + 373'293),
            "2018-06-14T00:15:54.373293Z");
  EXPECT_EQ(format_impinj_timestamp_us(1), "1970-01-01T00:00:00.000001Z");
  for (const std::int64_t us : {std::int64_t{0}, std::int64_t{999'999}, kSecond * 1'000'000 + 10}) {
    EXPECT_EQ(parse_impinj_timestamp_us(format_impinj_timestamp_us(us)), us);
  }
}

}  // namespace
}  // namespace splitstream
