// Corrections as read-stream entries: every kind written and read back, and entries this
// server cannot apply refused.
#include "store/correction_entry.hpp"

#include <gtest/gtest.h>

#include "store/stream_follower.hpp"

namespace splitstream {
namespace {

// The fields of an XADD command after the ID, as name/value pairs.
std::vector<std::pair<std::string, std::string>> fields_of(const std::vector<std::string>& cmd) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 3; i + 1 < cmd.size(); i += 2)
    out.emplace_back(cmd[i], cmd[i + 1]);
  return out;
}

TEST(CorrectionEntry, EveryKindRoundTrips) {
  std::vector<Correction> all(5);
  all[0].kind = CorrectionKind::set_status;
  all[0].bib = "12";
  all[0].status = OfficialStatus::dsq;
  all[0].reason = "course cut";
  all[0].by = "referee";
  all[1].kind = CorrectionKind::add_read;
  all[1].bib = "12";
  all[1].timing_point = "finish";
  all[1].time = 1'743'900'060'000;
  all[2].kind = CorrectionKind::void_reads;
  all[2].bib = "12";
  all[2].timing_point = "arch";
  all[2].from = 10;
  all[2].to = 20;
  all[3] = all[2];
  all[3].kind = CorrectionKind::restore_reads;
  all[3].undo_of = "1743900060000-3";  // an undo names the entry it takes back
  all[4].kind = CorrectionKind::move_chip;
  all[4].chip = "E2000";
  for (const Correction& c : all) {
    const auto cmd = correction_xadd_command("{ev:x}:reads", c);
    ASSERT_GE(cmd.size(), 5u);
    EXPECT_EQ(cmd[0], "XADD");
    EXPECT_EQ(cmd[1], "{ev:x}:reads");
    EXPECT_EQ(cmd[2], "*");
    EXPECT_EQ(cmd[3], "k");
    EXPECT_EQ(parse_correction(fields_of(cmd)), c) << cmd[4];
  }
  EXPECT_EQ(correction_xadd_command("s", all[0]),
            (std::vector<std::string>{"XADD", "s", "*", "k", "set_status", "b", "12", "st", "dsq",
                                      "why", "course cut", "by", "referee"}));
}

TEST(CorrectionEntry, EntriesThisServerCannotApplyAreRefused) {
  using F = std::vector<std::pair<std::string, std::string>>;
  EXPECT_FALSE(parse_correction(F{{"k", "rename_bib"}, {"b", "1"}}));  // a future kind
  EXPECT_FALSE(parse_correction(F{{"k", "set_status"}, {"b", "1"}}));  // no status
  EXPECT_FALSE(parse_correction(F{{"k", "set_status"}, {"b", "1"}, {"st", "x"}}));
  EXPECT_FALSE(parse_correction(F{{"k", "set_status"}, {"st", "dnf"}}));  // no bib
  EXPECT_FALSE(parse_correction(F{{"k", "add_read"}, {"b", "1"}, {"tp", "f"}, {"t", "5x"}}));
  EXPECT_FALSE(parse_correction(F{{"k", "void_reads"}, {"b", "1"}, {"tp", "f"}, {"from", "1"}}));
  EXPECT_FALSE(parse_correction(F{{"k", "move_chip"}, {"b", "1"}}));             // no chip
  EXPECT_TRUE(parse_correction(F{{"k", "move_chip"}, {"c", "E1"}, {"b", ""}}));  // to nobody
}

TEST(CorrectionEntry, TheStreamFollowerTellsReadsFromCorrections) {
  auto entry = [](const std::vector<std::string>& fields) {
    std::vector<RedisReply> values;
    for (const std::string& f : fields)
      values.push_back(RedisReply::string(f));
    return RedisReply::array({RedisReply::string("5-1"), RedisReply::array(std::move(values))});
  };
  const auto read =
      parse_stream_entry(entry({"d", "dev", "s", "3", "tp", "arch", "c", "E", "t", "9"}));
  ASSERT_TRUE(read);
  EXPECT_FALSE(read->correction);
  EXPECT_EQ(read->chip, "E");
  const auto fix = parse_stream_entry(entry({"k", "set_status", "b", "7", "st", "dnf"}));
  ASSERT_TRUE(fix);
  ASSERT_TRUE(fix->correction);
  EXPECT_EQ(fix->id, "5-1");
  EXPECT_EQ(fix->correction->bib, "7");
  EXPECT_FALSE(parse_stream_entry(entry({"k", "set_status", "b", "7"})));
}

}  // namespace
}  // namespace splitstream
