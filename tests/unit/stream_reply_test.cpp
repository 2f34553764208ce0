// XREAD replies read straight from their bytes (parse_xread_reply) give what the tree path gives
// (build_resp_reply, then parse_stream_entry on each entry, as the follower used to).
#include "store/stream_reply.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "store/resp_reader.hpp"
#include "support/resp_reference.hpp"

namespace splitstream {
namespace {

using testing::to_resp;
using testing::xread_entries_from_tree;

RedisReply str(std::string s) {
  return RedisReply::string(std::move(s));
}

RedisReply fields(const std::vector<std::string>& names_and_values) {
  std::vector<RedisReply> out;
  for (const std::string& s : names_and_values)
    out.push_back(str(s));
  return RedisReply::array(std::move(out));
}

RedisReply entry(std::string id, const std::vector<std::string>& names_and_values) {
  return RedisReply::array({str(std::move(id)), fields(names_and_values)});
}

RedisReply xread(std::string key, std::vector<RedisReply> entries) {
  return RedisReply::array(
      {RedisReply::array({str(std::move(key)), RedisReply::array(std::move(entries))})});
}

struct Parsed {
  bool ok = false;
  std::vector<StreamEntry> entries;
  std::string last_id = "0";
  std::size_t received = 0;
  std::string problem;
};

Parsed parse_bytes(std::string_view raw) {
  Parsed p;
  p.ok = parse_xread_reply(raw, p.entries, p.last_id, p.received, &p.problem);
  return p;
}

Parsed parse_tree(std::string_view raw) {
  Parsed p;
  const RedisReply tree = build_resp_reply(raw);
  p.ok = !tree.is_error();
  if (p.ok) xread_entries_from_tree(tree, p.entries, p.last_id, p.received);
  return p;
}

void expect_same(const Parsed& bytes, const Parsed& tree, const std::string& raw) {
  const std::string shown = RedisReply::string(raw).debug_string();
  EXPECT_EQ(bytes.ok, tree.ok) << shown;
  EXPECT_EQ(bytes.received, tree.received) << shown;
  EXPECT_EQ(bytes.last_id, tree.last_id) << shown;
  ASSERT_EQ(bytes.entries.size(), tree.entries.size()) << shown;
  for (std::size_t i = 0; i < bytes.entries.size(); ++i)
    EXPECT_EQ(bytes.entries[i], tree.entries[i]) << "entry " << i << " of " << shown;
}

TEST(StreamReply, ReadsTheEntriesOfALiteralXreadReply) {
  // XREAD COUNT 1000 STREAMS {ev:x}:reads 0: a read, a correction, a read without its time.
  const std::string raw =
      "*1\r\n"
      "*2\r\n$12\r\n{ev:x}:reads\r\n"
      "*3\r\n"
      "*2\r\n$15\r\n1743894001000-0\r\n"
      "*14\r\n$1\r\nd\r\n$9\r\narch-main\r\n$1\r\ns\r\n$2\r\n17\r\n$2\r\ntp\r\n$4\r\narch\r\n"
      "$1\r\nc\r\n$4\r\nE200\r\n$1\r\nt\r\n$13\r\n1743894000250\r\n$1\r\nl\r\n$6\r\nbackup\r\n"
      "$1\r\nr\r\n$3\r\n-51\r\n"
      "*2\r\n$15\r\n1743894002000-0\r\n"
      "*6\r\n$1\r\nk\r\n$10\r\nset_status\r\n$1\r\nb\r\n$2\r\n42\r\n$2\r\nst\r\n$3\r\ndnf\r\n"
      "*2\r\n$15\r\n1743894003000-1\r\n"
      "*4\r\n$2\r\ntp\r\n$4\r\narch\r\n$1\r\nc\r\n$4\r\nE201\r\n";
  ASSERT_EQ(scan_resp_reply(raw).status, RespScan::complete);
  ASSERT_EQ(scan_resp_reply(raw).length, raw.size());

  const Parsed p = parse_bytes(raw);
  ASSERT_TRUE(p.ok) << p.problem;
  EXPECT_EQ(p.received, 3u);                // the refused one counts...
  EXPECT_EQ(p.last_id, "1743894003000-1");  // ...and moves the follower past it
  ASSERT_EQ(p.entries.size(), 2u);
  const StreamEntry& read = p.entries[0];
  EXPECT_EQ(read.id, "1743894001000-0");
  EXPECT_EQ(read.device, "arch-main");
  EXPECT_EQ(read.seq, 17u);
  EXPECT_EQ(read.timing_point, "arch");
  EXPECT_EQ(read.chip, "E200");
  EXPECT_EQ(read.time_ms, 1743894000250);
  EXPECT_EQ(read.line, "backup");
  EXPECT_FALSE(read.correction);
  const StreamEntry& fix = p.entries[1];
  EXPECT_EQ(fix.id, "1743894002000-0");
  ASSERT_TRUE(fix.correction);
  EXPECT_EQ(fix.correction->kind, CorrectionKind::set_status);
  EXPECT_EQ(fix.correction->bib, "42");
  EXPECT_EQ(fix.correction->status, OfficialStatus::dnf);
  EXPECT_EQ(fix.device, "");

  expect_same(p, parse_tree(raw), raw);
}

TEST(StreamReply, AppendsToWhatIsThereAndCountsOn) {
  const std::string raw = to_resp(xread("s", {entry("7-0", {"tp", "a", "c", "E", "t", "5"})}));
  std::vector<StreamEntry> out(1);
  std::string last_id = "6-0";
  std::size_t received = 10;
  ASSERT_TRUE(parse_xread_reply(raw, out, last_id, received));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].id, "7-0");
  EXPECT_EQ(last_id, "7-0");
  EXPECT_EQ(received, 11u);
}

TEST(StreamReply, NilReplyHasNoEntries) {
  for (const char* nil : {"*-1\r\n", "$-1\r\n"}) {
    const Parsed p = parse_bytes(nil);
    EXPECT_TRUE(p.ok);
    EXPECT_TRUE(p.entries.empty());
    EXPECT_EQ(p.received, 0u);
    EXPECT_EQ(p.last_id, "0");
  }
  const Parsed empty = parse_bytes(to_resp(xread("s", {})));
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.received, 0u);
}

TEST(StreamReply, ErrorReplyAndBadBytesChangeNothing) {
  std::vector<StreamEntry> out(1);
  std::string last_id = "5-0";
  std::size_t received = 3;
  std::string problem;
  EXPECT_FALSE(
      parse_xread_reply("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                        out, last_id, received, &problem));
  EXPECT_EQ(problem, "WRONGTYPE Operation against a key holding the wrong kind of value");
  // Cut short after a good entry: the entry read before the bad bytes is taken back.
  std::string cut = to_resp(xread("s", {entry("7-0", {"tp", "a", "c", "E", "t", "5"}),
                                        entry("8-0", {"tp", "a", "c", "E", "t", "6"})}));
  cut.resize(cut.size() - 3);
  EXPECT_FALSE(parse_xread_reply(cut, out, last_id, received, &problem));
  EXPECT_EQ(problem, "not a RESP reply");
  EXPECT_FALSE(parse_xread_reply("", out, last_id, received));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(last_id, "5-0");
  EXPECT_EQ(received, 3u);
}

TEST(StreamReply, RefusesWhatParseStreamEntryRefuses) {
  const std::string raw = to_resp(xread(
      "s",
      {entry("1-0", {"tp", "arch", "c", "E200"}),                // no time
       entry("2-0", {"tp", "arch", "c", "", "t", "5"}),          // no chip
       entry("3-0", {"c", "E200", "t", "5"}),                    // no mat
       entry("4-0", {"tp", "a", "c", "E", "t", "5x"}),           // bad time
       entry("5-0", {"tp", "a", "c", "E", "t", "5", "s", "-"}),  // bad seq
       entry("6-0", {"s", "x", "k", "move_chip", "c", "E1"}),    // a correction: s unread
       entry("7-0", {"k", "rename_bib", "b", "1"}),              // an unknown correction
       str("8-0"),                                               // not an entry
       RedisReply::array({str("9-0")}),                          // no fields
       RedisReply::array({RedisReply::status("10-0"), fields({"tp", "a", "c", "E", "t", "1"})}),
       RedisReply::array({str("11-0"), RedisReply::nil()}),       // deleted fields
       entry("12-0", {"tp", "a", "c", "E", "t", "1", "t", "x"}),  // the last t counts
       entry("13-0", {"tp", "a", "c", "E", "t", "x", "t", "1", "c", "F"})}));
  const Parsed p = parse_bytes(raw);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.received, 13u);
  EXPECT_EQ(p.last_id, "13-0");
  ASSERT_EQ(p.entries.size(), 2u);
  EXPECT_EQ(p.entries[0].id, "6-0");
  ASSERT_TRUE(p.entries[0].correction);
  EXPECT_EQ(p.entries[0].correction->chip, "E1");
  EXPECT_EQ(p.entries[1].id, "13-0");
  EXPECT_EQ(p.entries[1].chip, "F");
  EXPECT_EQ(p.entries[1].time_ms, 1);
  expect_same(p, parse_tree(raw), raw);
}

// ---- property: generated replies ----------------------------------------------------------

class ReplyGenerator {
 public:
  explicit ReplyGenerator(unsigned seed) : random_(seed) {}

  RedisReply reply() {
    const int pick = below(20);
    if (pick == 0) return RedisReply::nil();
    if (pick == 1) return RedisReply::error("ERR no such key");
    if (pick == 2) return odd_element();
    std::vector<RedisReply> streams;
    for (int i = below(3) + (pick < 15 ? 1 : 0); i > 0; --i)
      streams.push_back(stream());
    return RedisReply::array(std::move(streams));
  }

 private:
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  bool chance(int percent) { return below(100) < percent; }

  std::string word() {
    static const std::vector<std::string> words = {
        "", "x", "arch", "E200", "17", "-3", "5x", "1743894000250", "a\r\nb", "k", "tp"};
    return words[static_cast<std::size_t>(below(static_cast<int>(words.size())))];
  }

  RedisReply odd_element() {
    switch (below(6)) {
      case 0:
        return RedisReply::nil();
      case 1:
        return RedisReply::status(word() == "" ? "OK" : "k");
      case 2:
        return RedisReply::integer(below(100) - 50);
      case 3:
        return str(word());
      case 4:
        return RedisReply::error("E");
      default: {
        std::vector<RedisReply> inner;
        for (int i = below(3); i > 0; --i)
          inner.push_back(chance(50) ? str(word()) : RedisReply::array({str("k"), str("x")}));
        return RedisReply::array(std::move(inner));
      }
    }
  }

  RedisReply stream() {
    if (chance(5)) return odd_element();
    std::vector<RedisReply> entries;
    for (int i = below(8); i > 0; --i)
      entries.push_back(stream_entry());
    if (chance(5))
      return RedisReply::array({str("s"), RedisReply::array(std::move(entries)), str("x")});
    if (chance(3)) return RedisReply::array({str("s"), odd_element()});
    return RedisReply::array(
        {chance(90) ? str("{ev:x}:reads") : odd_element(), RedisReply::array(std::move(entries))});
  }

  std::string id() {
    return std::to_string(1743894000000 + below(100000)) + "-" + std::to_string(below(3));
  }

  RedisReply stream_entry() {
    if (chance(5)) return odd_element();
    RedisReply id_reply = chance(93) ? str(id()) : odd_element();
    if (chance(4)) return RedisReply::array({std::move(id_reply)});
    if (chance(4)) return RedisReply::array({std::move(id_reply), fields_reply(), str("x")});
    if (chance(4)) return RedisReply::array({std::move(id_reply), odd_element()});
    return RedisReply::array({std::move(id_reply), fields_reply()});
  }

  RedisReply field_name(std::string name) {
    // as_string() reads a status too (RESP has no CR in a status line)
    if (chance(3) && name.find('\r') == std::string::npos)
      return RedisReply::status(std::move(name));
    if (chance(2)) return odd_element();
    return str(std::move(name));
  }

  RedisReply fields_reply() {
    std::vector<RedisReply> out;
    auto field = [&](std::string name, std::string value) {
      out.push_back(field_name(std::move(name)));
      out.push_back(chance(3) ? odd_element() : str(std::move(value)));
    };
    if (chance(20)) {  // a correction
      static const std::vector<std::string> kinds = {"set_status",    "add_read",  "void_reads",
                                                     "restore_reads", "move_chip", "rename_bib"};
      field("k", kinds[static_cast<std::size_t>(below(6))]);
      if (chance(90)) field("b", std::to_string(below(50)));
      if (chance(60)) field("st", chance(80) ? "dnf" : "maybe");
      if (chance(60)) field("tp", chance(90) ? "arch" : "");
      if (chance(60)) field("t", chance(90) ? "1743894000000" : "t");
      if (chance(50)) field("from", "10");
      if (chance(50)) field("to", chance(90) ? "20" : "");
      if (chance(50)) field("c", word());
      if (chance(70)) field("why", word());
      if (chance(70)) field("by", "referee");
      if (chance(20)) field("undo", id());
    } else {  // a read, the ingest script's fields in its order, with faults
      if (chance(95)) field("d", "arch-main");
      if (chance(95)) field("s", chance(95) ? std::to_string(below(100000)) : word());
      if (chance(95)) field("tp", chance(95) ? "arch" : "");
      if (chance(95))
        field("c", chance(95) ? "E28011606000020000" + std::to_string(below(99)) : "");
      if (chance(95))
        field("t", chance(95) ? std::to_string(1743894000000 + below(10000)) : word());
      if (chance(90)) field("l", chance(50) ? "main" : "backup");
      if (chance(90)) field("r", chance(50) ? "" : "-51");
    }
    if (chance(10)) field(word(), word());  // a name twice, or a stranger
    if (chance(5)) std::swap(out.front(), out.back());
    if (chance(5)) out.push_back(str("dangling"));  // an odd count
    return RedisReply::array(std::move(out));
  }

  std::mt19937 random_;
};

TEST(StreamReply, AgreesWithTheTreePathOnGeneratedReplies) {
  ReplyGenerator generate(17);
  std::size_t entries = 0, received = 0;
  for (int i = 0; i < 3000; ++i) {
    const RedisReply reply = generate.reply();
    const std::string raw = to_resp(reply, i % 2 == 0);
    ASSERT_EQ(scan_resp_reply(raw).status, RespScan::complete) << scan_resp_reply(raw).error;
    ASSERT_EQ(build_resp_reply(raw), reply);
    const Parsed bytes = parse_bytes(raw);
    expect_same(bytes, parse_tree(raw), raw);
    if (::testing::Test::HasFailure()) return;
    entries += bytes.entries.size();
    received += bytes.received;
  }
  // The generator reaches both outcomes often (not a test that cannot fail).
  EXPECT_GT(entries, 3000u);
  EXPECT_GT(received - entries, 1000u);
}

}  // namespace
}  // namespace splitstream
