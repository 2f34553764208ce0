#include "store/resp_reader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace splitstream {
namespace {

using namespace std::string_literals;
using Kind = RedisReply::Kind;

RespScanResult scan(std::string_view data, const RespLimits& limits = {}) {
  return scan_resp_reply(data, limits);
}

// Scans `data`, expecting one complete reply of all its bytes; its tree.
RedisReply complete(std::string_view data) {
  const RespScanResult result = scan(data);
  EXPECT_EQ(result.status, RespScan::complete) << result.error;
  EXPECT_EQ(result.length, data.size());
  EXPECT_EQ(result.error, "");
  return build_resp_reply(data);
}

std::string malformed(std::string_view data, const RespLimits& limits = {}) {
  const RespScanResult result = scan(data, limits);
  EXPECT_EQ(result.status, RespScan::malformed)
      << "for " << RedisReply::string(std::string(data)).debug_string();
  EXPECT_EQ(result.length, 0u);
  return result.error;
}

RedisReply str(std::string s) {
  return RedisReply::string(std::move(s));
}

// ---- every type ---------------------------------------------------------------------------

TEST(RespReader, ReadsEveryRespTwoType) {
  EXPECT_EQ(complete("+OK\r\n"), RedisReply::status("OK"));
  EXPECT_EQ(complete("+\r\n"), RedisReply::status(""));
  EXPECT_EQ(complete("-ERR unknown command 'FOO'\r\n"),
            RedisReply::error("ERR unknown command 'FOO'"));
  EXPECT_EQ(complete(":0\r\n"), RedisReply::integer(0));
  EXPECT_EQ(complete(":42\r\n"), RedisReply::integer(42));
  EXPECT_EQ(complete(":-7\r\n"), RedisReply::integer(-7));
  EXPECT_EQ(complete(":9223372036854775807\r\n"), RedisReply::integer(INT64_MAX));
  EXPECT_EQ(complete(":-9223372036854775808\r\n"), RedisReply::integer(INT64_MIN));
  EXPECT_EQ(complete("$5\r\nhello\r\n"), str("hello"));
  EXPECT_EQ(complete("$0\r\n\r\n"), str(""));
  EXPECT_EQ(complete("*0\r\n"), RedisReply::array({}));
  EXPECT_EQ(complete("*3\r\n$1\r\na\r\n:1\r\n+x\r\n"),
            RedisReply::array({str("a"), RedisReply::integer(1), RedisReply::status("x")}));
}

TEST(RespReader, NilBulkStringAndNilArrayAreNil) {
  EXPECT_EQ(complete("$-1\r\n"), RedisReply::nil());
  EXPECT_EQ(complete("*-1\r\n"), RedisReply::nil());
  EXPECT_TRUE(complete("*-1\r\n").is_nil());
  EXPECT_EQ(complete("*2\r\n$-1\r\n*-1\r\n"),
            RedisReply::array({RedisReply::nil(), RedisReply::nil()}));
}

TEST(RespReader, NestedArrays) {
  // An XREAD reply: [[key, [[id, [field, value]]]]].
  const std::string xread =
      "*1\r\n*2\r\n$8\r\n{ev:x}:r\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$2\r\ntp\r\n$4\r\narch\r\n";
  EXPECT_EQ(
      complete(xread),
      RedisReply::array({RedisReply::array(
          {str("{ev:x}:r"), RedisReply::array({RedisReply::array(
                                {str("1-0"), RedisReply::array({str("tp"), str("arch")})})})})}));
  EXPECT_EQ(complete("*2\r\n*0\r\n*1\r\n*1\r\n:5\r\n"),
            RedisReply::array({RedisReply::array({}),
                               RedisReply::array({RedisReply::array({RedisReply::integer(5)})})}));
}

TEST(RespReader, BulkStringsAreBinarySafe) {
  const std::string bytes = "a\r\nb\0c\r\n*2\r\n"s;  // CRLF, NUL and a RESP header inside
  ASSERT_EQ(bytes.size(), 12u);
  const std::string reply = "*2\r\n$12\r\n" + bytes + "\r\n$2\r\n\r\n\r\n";
  EXPECT_EQ(complete(reply), RedisReply::array({str(bytes), str("\r\n")}));
}

TEST(RespReader, ScansOnlyTheFirstReply) {
  const RespScanResult result = scan("+OK\r\n:1\r\n$3\r\nab");
  EXPECT_EQ(result.status, RespScan::complete);
  EXPECT_EQ(result.length, 5u);
  EXPECT_EQ(build_resp_reply("+OK\r\n:1\r\n"), RedisReply::status("OK"));
  const std::string two = "*1\r\n:1\r\n*1\r\n:2\r\n";
  EXPECT_EQ(scan(two).length, 8u);
}

// ---- incomplete ------------------------------------------------------------------------------

const std::vector<std::string>& sample_replies() {
  static const std::vector<std::string> replies = {
      "+OK\r\n",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
      ":1743894000250\r\n",
      ":-1\r\n",
      "$-1\r\n",
      "*-1\r\n",
      "$0\r\n\r\n",
      "$10\r\n0123\r\n\r\n89\r\n",
      "*0\r\n",
      "*3\r\n*-1\r\n*2\r\n$1\r\n\r\r\n:7\r\n*1\r\n*0\r\n",
      "*1\r\n*2\r\n$8\r\n{ev:x}:r\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$1\r\nd\r\n$1\r\nx\r\n$1\r\n"
      "t\r\n$2\r\n12\r\n*2\r\n$3\r\n2-0\r\n*0\r\n",
  };
  return replies;
}

TEST(RespReader, IncompleteUntilTheLastByteAtEverySplit) {
  for (const std::string& reply : sample_replies()) {
    for (std::size_t cut = 0; cut < reply.size(); ++cut) {
      const RespScanResult result = scan(std::string_view(reply).substr(0, cut));
      EXPECT_EQ(result.status, RespScan::incomplete)
          << reply << " cut at " << cut << ": " << result.error;
      EXPECT_EQ(result.length, 0u);
    }
    const RespScanResult whole = scan(reply);
    EXPECT_EQ(whole.status, RespScan::complete) << reply;
    EXPECT_EQ(whole.length, reply.size());
  }
}

TEST(RespReader, ResumableScannerFedByteByByte) {
  for (const std::string& reply : sample_replies()) {
    RespScanner scanner;
    for (std::size_t cut = 0; cut < reply.size(); ++cut) {
      EXPECT_EQ(scanner.scan(std::string_view(reply).substr(0, cut)).status, RespScan::incomplete)
          << reply << " cut at " << cut;
    }
    const RespScanResult whole = scanner.scan(reply + "+next\r\n");
    EXPECT_EQ(whole.status, RespScan::complete) << reply;
    EXPECT_EQ(whole.length, reply.size());
    // After a complete reply it starts afresh: the next reply at the start of the buffer.
    const RespScanResult next = scanner.scan("+next\r\n");
    EXPECT_EQ(next.status, RespScan::complete);
    EXPECT_EQ(next.length, 7u);
  }
}

TEST(RespReader, ResumableScannerInChunksAgreesWithOneScan) {
  std::string all;
  for (const std::string& reply : sample_replies())
    all += reply;
  for (std::size_t chunk : {2u, 3u, 7u, 64u}) {
    RespScanner scanner;
    std::string buffer;
    std::vector<std::size_t> lengths;
    for (std::size_t at = 0; at < all.size(); at += chunk) {
      buffer += all.substr(at, chunk);
      for (;;) {
        const RespScanResult result = scanner.scan(buffer);
        ASSERT_NE(result.status, RespScan::malformed) << result.error;
        if (result.status == RespScan::incomplete) break;
        lengths.push_back(result.length);
        buffer.erase(0, result.length);
      }
    }
    EXPECT_EQ(buffer, "");
    ASSERT_EQ(lengths.size(), sample_replies().size()) << "chunk " << chunk;
    for (std::size_t i = 0; i < lengths.size(); ++i)
      EXPECT_EQ(lengths[i], sample_replies()[i].size());
  }
}

TEST(RespReader, IncompleteAfterAPartialReplyIsDroppedByReset) {
  RespScanner scanner;
  EXPECT_EQ(scanner.scan("*2\r\n:1\r\n").status, RespScan::incomplete);
  scanner.reset();  // a new connection: the next reply starts at byte 0
  const RespScanResult result = scanner.scan(":5\r\n");
  EXPECT_EQ(result.status, RespScan::complete);
  EXPECT_EQ(result.length, 4u);
}

// ---- malformed -------------------------------------------------------------------------------

TEST(RespReader, UnknownTypeBytesAreMalformed) {
  EXPECT_EQ(malformed("%1\r\n+a\r\n+b\r\n"),
            "RESP: unknown reply type byte 0x25 '%' at offset 0 (RESP2 has + - : $ *)");
  EXPECT_EQ(malformed("*2\r\n:1\r\n_\r\n"),
            "RESP: unknown reply type byte 0x5f '_' at offset 8 (RESP2 has + - : $ *)");
  EXPECT_EQ(malformed("\r\n"),
            "RESP: unknown reply type byte 0x0d at offset 0 (RESP2 has + - : $ *)");
  EXPECT_EQ(malformed(" OK"),
            "RESP: unknown reply type byte 0x20 at offset 0 (RESP2 has + - : $ *)");
  // RESP3's types: malformed at once, before the rest arrives.
  for (const char* resp3 : {"_", "#", ",", "(", "=", "~", ">", "|", "!"})
    EXPECT_NE(malformed(resp3).find("unknown reply type byte"), std::string::npos) << resp3;
}

TEST(RespReader, BadIntegersAreMalformed) {
  EXPECT_EQ(malformed(":12a\r\n"), "RESP: bad integer at offset 0");
  EXPECT_EQ(malformed(":\r\n"), "RESP: bad integer at offset 0");
  EXPECT_EQ(malformed(":-\r\n"), "RESP: bad integer at offset 0");
  EXPECT_EQ(malformed(":+1\r\n"), "RESP: bad integer at offset 0");
  EXPECT_EQ(malformed(": 1\r\n"), "RESP: bad integer at offset 0");
  EXPECT_EQ(malformed(":1\rx"), "RESP: bad integer at offset 0");
  EXPECT_EQ(malformed(":1\n"), "RESP: bad integer at offset 0");
  EXPECT_EQ(malformed("*1\r\n:1.5\r\n"), "RESP: bad integer at offset 4");
  EXPECT_EQ(malformed(":9223372036854775808\r\n"), "RESP: integer out of range at offset 0");
  EXPECT_EQ(malformed(":-9223372036854775809\r\n"), "RESP: integer out of range at offset 0");
  // The 20th digit is out of range before its line ends.
  EXPECT_EQ(malformed(":12345678901234567890"), "RESP: integer out of range at offset 0");
}

TEST(RespReader, BadLengthsAreMalformed) {
  EXPECT_EQ(malformed("$-2\r\n"), "RESP: bad bulk string length at offset 0");
  EXPECT_EQ(malformed("$x\r\n"), "RESP: bad bulk string length at offset 0");
  EXPECT_EQ(malformed("$\r\n"), "RESP: bad bulk string length at offset 0");
  EXPECT_EQ(malformed("$3\nabc\r\n"), "RESP: bad bulk string length at offset 0");
  EXPECT_EQ(malformed("$99999999999999999999\r\n"), "RESP: bad bulk string length at offset 0");
  EXPECT_EQ(malformed("*-2\r\n"), "RESP: bad array length at offset 0");
  EXPECT_EQ(malformed("*1x\r\n"), "RESP: bad array length at offset 0");
  EXPECT_EQ(malformed("*1\r\n*\r\n"), "RESP: bad array length at offset 4");
}

TEST(RespReader, MissingCrlfIsMalformed) {
  EXPECT_EQ(malformed("$3\r\nabcd\r\n"),
            "RESP: missing CRLF after the bulk string of 3 bytes at offset 7");
  EXPECT_EQ(malformed("$3\r\nabc\rX"),
            "RESP: missing CRLF after the bulk string of 3 bytes at offset 7");
  EXPECT_EQ(malformed("$0\r\n\n"),
            "RESP: missing CRLF after the bulk string of 0 bytes at offset 4");
  EXPECT_EQ(malformed("+OK\rX"), "RESP: missing CRLF after the status line at offset 3");
  EXPECT_EQ(malformed("*1\r\n-ERR\r\r\n"), "RESP: missing CRLF after the error line at offset 8");
}

TEST(RespReader, MalformedStaysMalformedUntilReset) {
  RespScanner scanner;
  EXPECT_EQ(scanner.scan("*2\r\n:x").status, RespScan::malformed);
  const RespScanResult again = scanner.scan("+OK\r\n");
  EXPECT_EQ(again.status, RespScan::malformed);
  EXPECT_EQ(again.error, "RESP: bad integer at offset 4");
  scanner.reset();
  EXPECT_EQ(scanner.scan("+OK\r\n").status, RespScan::complete);
}

// ---- limits ------------------------------------------------------------------------------------

TEST(RespReader, BulkLengthOverTheLimitIsMalformedBeforeThePayload) {
  RespLimits limits;
  limits.max_bulk = 4;
  EXPECT_EQ(scan("$4\r\nabcd\r\n", limits).status, RespScan::complete);
  EXPECT_EQ(malformed("$5\r\n", limits),
            "RESP: bulk string of 5 bytes over the limit of 4 at offset 0");
  EXPECT_EQ(malformed("*2\r\n:1\r\n$1000\r\n", limits),
            "RESP: bulk string of 1000 bytes over the limit of 4 at offset 8");
  // The default: 512 MiB.
  EXPECT_EQ(scan("$536870912\r\n").status, RespScan::incomplete);
  EXPECT_EQ(malformed("$536870913\r\n"),
            "RESP: bulk string of 536870913 bytes over the limit of 536870912 at offset 0");
}

TEST(RespReader, StatusAndErrorLinesLongerThanTheBulkLimitAreMalformed) {
  RespLimits limits;
  limits.max_bulk = 4;
  EXPECT_EQ(scan("+abcd\r\n", limits).status, RespScan::complete);
  EXPECT_EQ(scan("+abcd", limits).status, RespScan::incomplete);
  EXPECT_EQ(malformed("+abcde", limits),
            "RESP: status line longer than the limit of 4 bytes at offset 0");
  EXPECT_EQ(malformed("-abcde\r\n", limits),
            "RESP: error line longer than the limit of 4 bytes at offset 0");
}

TEST(RespReader, TooManyElementsIsMalformed) {
  RespLimits limits;
  limits.max_elements = 2;
  EXPECT_EQ(scan("*2\r\n:1\r\n:2\r\n", limits).status, RespScan::complete);
  EXPECT_EQ(malformed("*3\r\n", limits),
            "RESP: array of 3 elements over the limit of 2 at offset 0");
  EXPECT_EQ(malformed("*1\r\n*9\r\n", limits),
            "RESP: array of 9 elements over the limit of 2 at offset 4");
  EXPECT_EQ(malformed("*16777217\r\n"),
            "RESP: array of 16777217 elements over the limit of 16777216 at offset 0");
}

std::string nested(int depth, const std::string& inner) {
  std::string out;
  for (int i = 0; i < depth; ++i)
    out += "*1\r\n";
  return out + inner;
}

TEST(RespReader, NestingDeeperThanTheLimitIsMalformed) {
  RespLimits limits;
  limits.max_depth = 2;
  EXPECT_EQ(scan(nested(2, ":1\r\n"), limits).status, RespScan::complete);
  EXPECT_EQ(scan(nested(2, "*-1\r\n"), limits).status, RespScan::complete);  // nil: no nesting
  EXPECT_EQ(malformed(nested(2, "*0\r\n"), limits),
            "RESP: arrays nested deeper than 2 at offset 8");
  EXPECT_EQ(malformed(nested(3, ":1\r\n"), limits),
            "RESP: arrays nested deeper than 2 at offset 8");
  // Side by side is not deeper.
  EXPECT_EQ(scan("*3\r\n*1\r\n:1\r\n*1\r\n:2\r\n*0\r\n", limits).status, RespScan::complete);

  EXPECT_EQ(scan(nested(16, ":1\r\n")).status, RespScan::complete);  // the default: 16
  EXPECT_EQ(malformed(nested(17, ":1\r\n")), "RESP: arrays nested deeper than 16 at offset 64");
  limits.max_depth = 1000;  // acts as 64
  EXPECT_EQ(scan(nested(64, ":1\r\n"), limits).status, RespScan::complete);
  EXPECT_EQ(malformed(nested(65, ":1\r\n"), limits),
            "RESP: arrays nested deeper than 64 at offset 256");
  limits.max_depth = 0;  // no arrays at all
  EXPECT_EQ(malformed("*0\r\n", limits), "RESP: arrays nested deeper than 0 at offset 0");
  EXPECT_EQ(scan("*-1\r\n", limits).status, RespScan::complete);
}

TEST(RespReader, BuildsTheDeepestReplyTheScannerLetsThrough) {
  RespLimits limits;
  limits.max_depth = 64;
  const std::string reply = nested(64, ":1\r\n");
  ASSERT_EQ(scan(reply, limits).status, RespScan::complete);
  RedisReply tree = build_resp_reply(reply);
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(tree.is_array());
    RedisReply inner = tree.elements().at(0);
    tree = std::move(inner);
  }
  EXPECT_EQ(tree, RedisReply::integer(1));
}

// ---- build and cursor --------------------------------------------------------------------------

TEST(RespReader, BuildOnBytesThatAreNotOneReplyGivesAnErrorReply) {
  for (const char* bad : {"", "+OK", "$3\r\nab\r\n", "*2\r\n:1\r\n", "%0\r\n", "*99\r\n:1\r\n"}) {
    const RedisReply reply = build_resp_reply(bad);
    EXPECT_TRUE(reply.is_error()) << bad;
    EXPECT_EQ(reply.as_string(), "malformed RESP reply (not one complete reply)");
  }
}

TEST(RespReader, CursorWalksDepthFirstAndSkipsWholeElements) {
  const std::string reply = "*3\r\n*2\r\n:1\r\n*1\r\n+a\r\n$2\r\nxy\r\n-E\r\n";
  RespCursor cursor(reply);
  RespValue value;
  ASSERT_TRUE(cursor.next(value));
  EXPECT_EQ(value.kind, Kind::array);
  EXPECT_EQ(value.elements, 3u);
  ASSERT_TRUE(cursor.next(value));  // the inner array's header
  EXPECT_EQ(value.elements, 2u);
  ASSERT_TRUE(cursor.skip(value.elements));  // :1 and [+a]
  ASSERT_TRUE(cursor.next(value));
  EXPECT_EQ(value.kind, Kind::string);
  EXPECT_EQ(value.text, "xy");
  ASSERT_TRUE(cursor.next(value));
  EXPECT_EQ(value.kind, Kind::error);
  EXPECT_EQ(value.text, "E");
  EXPECT_EQ(cursor.offset(), reply.size());
  EXPECT_FALSE(cursor.next(value));  // past the end
  EXPECT_TRUE(cursor.failed());
}

TEST(RespReader, CursorRefusesCountsTheBytesCannotHold) {
  RespCursor cursor("*1000000\r\n:1\r\n");
  RespValue value;
  EXPECT_FALSE(cursor.next(value));
  RespCursor truncated("$5\r\nab\r\n");
  EXPECT_FALSE(truncated.next(value));
}

// ---- commands ----------------------------------------------------------------------------------

TEST(RespReader, AppendsCommandsAsArraysOfBulkStrings) {
  std::string out = "kept";
  append_resp_command(out, {"SET", "k", "v"});
  EXPECT_EQ(out, "kept*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  out.clear();
  const std::string binary = "a\r\n\0b"s;
  append_resp_command(out, {"XADD", binary, ""});
  EXPECT_EQ(out, "*3\r\n$4\r\nXADD\r\n$5\r\na\r\n\0b\r\n$0\r\n\r\n"s);
  // What it writes reads back as the same strings.
  EXPECT_EQ(complete(out), RedisReply::array({str("XADD"), str(binary), str("")}));
  out.clear();
  append_resp_command(out, {});
  EXPECT_EQ(out, "*0\r\n");
  append_resp_command(out, {std::string(1000, 'x')});
  EXPECT_EQ(out.substr(4, 12), "*1\r\n$1000\r\nx");
}

}  // namespace
}  // namespace splitstream
