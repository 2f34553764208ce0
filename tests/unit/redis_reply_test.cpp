// The RESP glue without I/O: synthetic RESP bytes through hiredis's own reader (the parser the
// async connection uses), converted into RedisReply values.
#include "store/redis_reply.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/hiredis_reply.hpp"

namespace splitstream {
namespace {

using namespace std::string_literals;

struct Parsed {
  std::vector<RedisReply> replies;
  bool protocol_error = false;
};

// Feeds `bytes` to a hiredis reader in chunks ending at `cuts`, taking every complete reply
// after each chunk, as the async context does after each socket read.
Parsed parse(std::string_view bytes, const std::vector<std::size_t>& cuts = {}) {
  Parsed parsed;
  redisReader* reader = redisReaderCreate();
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (const std::size_t end : ends) {
    if (redisReaderFeed(reader, bytes.data() + from, end - from) != REDIS_OK) {
      parsed.protocol_error = true;
      break;
    }
    from = end;
    void* reply = nullptr;
    int status = REDIS_OK;
    while ((status = redisReaderGetReply(reader, &reply)) == REDIS_OK && reply != nullptr) {
      parsed.replies.push_back(convert_hiredis_reply(*static_cast<redisReply*>(reply)));
      freeReplyObject(reply);
    }
    if (status != REDIS_OK) {
      parsed.protocol_error = true;
      break;
    }
  }
  redisReaderFree(reader);
  return parsed;
}

RedisReply parse_one(std::string_view bytes) {
  Parsed parsed = parse(bytes);
  EXPECT_FALSE(parsed.protocol_error) << bytes;
  EXPECT_EQ(parsed.replies.size(), 1u) << bytes;
  return parsed.replies.empty() ? RedisReply::error("no reply") : parsed.replies.front();
}

RedisReply str(std::string bytes) {
  return RedisReply::string(std::move(bytes));
}
RedisReply num(std::int64_t value) {
  return RedisReply::integer(value);
}
RedisReply arr(std::vector<RedisReply> elements) {
  return RedisReply::array(std::move(elements));
}

TEST(RedisReply, EveryRespKindConverts) {
  EXPECT_EQ(parse_one("+OK\r\n"), RedisReply::status("OK"));
  EXPECT_EQ(parse_one("-WRONGTYPE Operation against a key\r\n"),
            RedisReply::error("WRONGTYPE Operation against a key"));
  EXPECT_EQ(parse_one(":42\r\n"), num(42));
  EXPECT_EQ(parse_one(":-7\r\n"), num(-7));
  EXPECT_EQ(parse_one(":9223372036854775807\r\n"), num(INT64_MAX));
  EXPECT_EQ(parse_one(":-9223372036854775808\r\n"), num(INT64_MIN));
  EXPECT_EQ(parse_one("$5\r\nhello\r\n"), str("hello"));
  EXPECT_EQ(parse_one("*0\r\n"), arr({}));

  const RedisReply error = parse_one("-ERR no such key\r\n");
  EXPECT_TRUE(error.is_error());
  EXPECT_EQ(error.as_string(), "ERR no such key");
  EXPECT_EQ(error.kind(), RedisReply::Kind::error);
}

TEST(RedisReply, NilBulkAndNilArrayAreNilButEmptyStringIsNot) {
  EXPECT_TRUE(parse_one("$-1\r\n").is_nil());
  EXPECT_TRUE(parse_one("*-1\r\n").is_nil());
  const RedisReply empty = parse_one("$0\r\n\r\n");
  EXPECT_TRUE(empty.is_string());
  EXPECT_EQ(empty.as_string(), "");
  EXPECT_NE(empty, RedisReply::nil());
}

TEST(RedisReply, BulkStringsAreBinarySafe) {
  // Embedded NUL, CR LF and a high byte inside the payload: only the length delimits it.
  const std::string payload = "a\0b\r\nc\xff"s;
  const RedisReply reply = parse_one("$7\r\n" + payload + "\r\n");
  ASSERT_TRUE(reply.is_string());
  EXPECT_EQ(reply.as_string().size(), 7u);
  EXPECT_EQ(reply.as_string(), payload);
  EXPECT_EQ(reply.debug_string(), R"("a\x00b\x0d\x0ac\xff")");
}

TEST(RedisReply, NestedArraysKeepTheirShapeAndOrder) {
  // What an EVAL returning {1, {"a", {false}}, "OK"} and friends look like on the wire.
  const RedisReply reply = parse_one(
      "*4\r\n"
      ":1\r\n"
      "*2\r\n$1\r\na\r\n*1\r\n$-1\r\n"
      "+OK\r\n"
      "*2\r\n-ERR inner\r\n*0\r\n");
  const RedisReply expected =
      arr({num(1), arr({str("a"), arr({RedisReply::nil()})}), RedisReply::status("OK"),
           arr({RedisReply::error("ERR inner"), arr({})})});
  EXPECT_EQ(reply, expected) << reply.debug_string();
  ASSERT_EQ(reply.elements().size(), 4u);
  EXPECT_EQ(reply.elements()[1].elements()[0].as_string(), "a");
  EXPECT_TRUE(reply.elements()[1].elements()[1].elements()[0].is_nil());
  EXPECT_EQ(reply.debug_string(), "[:1, [\"a\", [nil]], +OK, [-ERR inner, []]]");
}

TEST(RedisReply, DeepNestingWithinHiredisLimits) {
  // hiredis 0.14 accepts up to 7 levels of nested multi-bulk.
  const RedisReply reply = parse_one("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:5\r\n");
  RedisReply expected = num(5);
  for (int level = 0; level < 6; ++level)
    expected = arr({expected});
  EXPECT_EQ(reply, expected);
}

// A stream of replies of every kind, back to back, as a pipelined connection reads them.
const std::string kStream =
    "+OK\r\n"
    ":12345\r\n"
    "$-1\r\n"
    "$11\r\nbin\0ary\r\nxy\r\n"s
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    "*3\r\n$3\r\nfoo\r\n*2\r\n:-1\r\n$0\r\n\r\n*-1\r\n"
    "$0\r\n\r\n"
    "*0\r\n";

std::vector<RedisReply> stream_replies() {
  return {RedisReply::status("OK"),
          num(12345),
          RedisReply::nil(),
          str("bin\0ary\r\nxy"s),
          RedisReply::error("WRONGTYPE Operation against a key holding the wrong kind of value"),
          arr({str("foo"), arr({num(-1), str("")}), RedisReply::nil()}),
          str(""),
          arr({})};
}

TEST(RedisReply, StreamInOneChunk) {
  const Parsed parsed = parse(kStream);
  EXPECT_FALSE(parsed.protocol_error);
  EXPECT_EQ(parsed.replies, stream_replies());
}

TEST(RedisReply, StreamSplitAtEveryByteBoundary) {
  const std::vector<RedisReply> expected = stream_replies();
  for (std::size_t cut = 1; cut < kStream.size(); ++cut) {
    const Parsed parsed = parse(kStream, {cut});
    EXPECT_FALSE(parsed.protocol_error) << "cut at " << cut;
    EXPECT_EQ(parsed.replies, expected) << "cut at " << cut;
  }
}

TEST(RedisReply, StreamFedOneByteAtATime) {
  std::vector<std::size_t> cuts;
  for (std::size_t cut = 1; cut < kStream.size(); ++cut)
    cuts.push_back(cut);
  const Parsed parsed = parse(kStream, cuts);
  EXPECT_FALSE(parsed.protocol_error);
  EXPECT_EQ(parsed.replies, stream_replies());
}

TEST(RedisReply, ManyPipelinedRepliesStayInOrder) {
  std::string bytes;
  for (int i = 0; i < 10000; ++i)
    bytes += ":" + std::to_string(i) + "\r\n";
  const Parsed parsed = parse(bytes, {7, 4096, 4097, 30000});
  ASSERT_EQ(parsed.replies.size(), 10000u);
  for (int i = 0; i < 10000; ++i)
    ASSERT_EQ(parsed.replies[i], num(i)) << i;
}

TEST(RedisReply, ProtocolGarbageIsAReaderErrorNotAReply) {
  const Parsed parsed = parse("+OK\r\n?what\r\n");
  EXPECT_TRUE(parsed.protocol_error);
  EXPECT_EQ(parsed.replies, std::vector<RedisReply>{RedisReply::status("OK")});
}

TEST(RedisReply, ConvertsAHandBuiltTreeWithoutTouchingIt) {
  char text[] = "v";
  redisReply leaf{};
  leaf.type = REDIS_REPLY_STRING;
  leaf.str = text;
  leaf.len = 1;
  redisReply* children[] = {&leaf, nullptr};
  redisReply root{};
  root.type = REDIS_REPLY_ARRAY;
  root.elements = 2;
  root.element = children;
  EXPECT_EQ(convert_hiredis_reply(root), arr({str("v"), RedisReply::nil()}));
  EXPECT_EQ(root.element[0], &leaf);
  EXPECT_EQ(leaf.str, text);
}

TEST(RedisReply, AccessorsOnEveryKind) {
  EXPECT_EQ(num(17).as_integer(), 17);
  EXPECT_EQ(num(17).to_integer(), 17);
  EXPECT_EQ(str("123").to_integer(), 123);
  EXPECT_EQ(str("-5").to_integer(), -5);
  EXPECT_EQ(str("12a").to_integer(), std::nullopt);
  EXPECT_EQ(str("").to_integer(), std::nullopt);
  EXPECT_EQ(str("99999999999999999999").to_integer(), std::nullopt);
  EXPECT_EQ(RedisReply::status("5").to_integer(), std::nullopt);
  EXPECT_EQ(RedisReply::nil().to_integer(), std::nullopt);

  EXPECT_EQ(str("x").as_integer(), 0);
  EXPECT_EQ(num(3).as_string(), "");
  EXPECT_TRUE(num(3).elements().empty());
  EXPECT_TRUE(RedisReply().is_nil());
  EXPECT_EQ(RedisReply().debug_string(), "nil");
  EXPECT_EQ(num(-3).debug_string(), ":-3");
}

TEST(RedisReply, CopiesAreDeepAndIndependent) {
  RedisReply original = parse_one("*2\r\n$3\r\nabc\r\n*1\r\n:1\r\n");
  const RedisReply copy = original;
  original = RedisReply::nil();
  EXPECT_EQ(copy, arr({str("abc"), arr({num(1)})}));
  EXPECT_TRUE(original.is_nil());
}

}  // namespace
}  // namespace splitstream
