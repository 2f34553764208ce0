// The corrections log as the crew reads it: what each correction did to the runners it touched,
// filters and CSV, and the correction that undoes each kind.
#include "api/correction_listing.hpp"

#include <gtest/gtest.h>

#include "../support/engine_harness.hpp"
#include "api/correction_undo.hpp"
#include "pipeline/correction_log.hpp"

namespace splitstream {
namespace {

using testing::EngineHarness;
using testing::kGun;
using testing::kMin;
using testing::kSec;
constexpr int kPyongyang = 9 * 60;

// Two runners on the 10 km course; 2 leads at 5 km, 1 is a minute behind.
class CorrectionListingTest : public ::testing::Test {
 protected:
  CorrectionListingTest()
      : harness_(testing::ten_k().runner("1", "C1", "10k").runner("2", "C2", "10k").build()) {
    harness_.read("start", "C1", kGun);
    harness_.read("start", "C2", kGun);
    harness_.read("k5", "C2", kGun + 20 * kMin);
    harness_.read("k5", "C1", kGun + 21 * kMin);
  }
  CorrectionRecord apply(const std::string& id, Correction c) {
    CorrectionResult result;
    CorrectionRecord record = apply_and_record(harness_.engine(), id, c, result);
    log_.add(record);
    return record;
  }
  EngineHarness harness_;
  CorrectionLog log_;
};

Correction dnf(const std::string& bib, const std::string& by) {
  Correction c;
  c.bib = bib;
  c.status = OfficialStatus::dnf;
  c.by = by;
  c.reason = "medical";
  return c;
}

TEST_F(CorrectionListingTest, RecordsEachRunnerBeforeAndAfter) {
  const CorrectionRecord r = apply("1743895500000-0", dnf("2", "Kim"));
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.recorded_ms, 1'743'895'500'000);
  ASSERT_EQ(r.previous_status, OfficialStatus::none);
  ASSERT_EQ(r.effect.size(), 1u);
  EXPECT_EQ(r.effect[0].bib, "2");
  EXPECT_EQ(r.effect[0].before.status, RunnerStatus::running);
  EXPECT_EQ(r.effect[0].before.last_split, "5k");
  EXPECT_EQ(r.effect[0].before.time, 20 * kMin);
  EXPECT_EQ(r.effect[0].before.rank, 1u);
  EXPECT_EQ(r.effect[0].after.status, RunnerStatus::dnf);
  EXPECT_EQ(r.effect[0].after.rank, 0u);  // out of the rankings
  // Runner 1 moved up, but only the runners a correction names are its effect.
  EXPECT_EQ(harness_.engine().rank(0), 1u);
}

TEST_F(CorrectionListingTest, AMovedChipShowsBothHolders) {
  Correction move;
  move.kind = CorrectionKind::move_chip;
  move.chip = "C1";
  move.bib = "2";
  const CorrectionRecord r = apply("2-0", move);
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_EQ(r.previous_holder, "1");
  ASSERT_EQ(r.effect.size(), 2u);
  EXPECT_EQ(r.effect[0].bib, "1");
  EXPECT_EQ(r.effect[0].after.status, RunnerStatus::not_started);
  EXPECT_EQ(r.effect[1].bib, "2");
}

TEST_F(CorrectionListingTest, RefusedCorrectionsHaveNoEffect) {
  const CorrectionRecord r = apply("3-0", dnf("99", "Kim"));
  ASSERT_TRUE(r.error);
  EXPECT_TRUE(r.effect.empty());
  const auto undo = undo_correction(r);
  ASSERT_TRUE(std::holds_alternative<UndoRefused>(undo));
  EXPECT_EQ(std::get<UndoRefused>(undo).message,
            "correction 3-0 was not applied (" + *r.error + "); there is nothing to undo");
}

TEST_F(CorrectionListingTest, UndoIsTheInverseOfEachKind) {
  // set_status: back to the status it replaced.
  auto undo = undo_correction(apply("1-0", dnf("2", "Kim")));
  ASSERT_TRUE(std::holds_alternative<Correction>(undo));
  Correction back = std::get<Correction>(undo);
  EXPECT_EQ(back.kind, CorrectionKind::set_status);
  EXPECT_EQ(back.status, OfficialStatus::none);
  EXPECT_EQ(back.undo_of, "1-0");
  EXPECT_EQ(back.reason, "undo of 1-0");
  back.by = "Lee";
  apply("2-0", back);
  EXPECT_EQ(harness_.engine().status(1), RunnerStatus::running);
  EXPECT_EQ(log_.find("1-0")->undone_by, "2-0");
  // Undone already: refused.
  undo = undo_correction(*log_.find("1-0"));
  ASSERT_TRUE(std::holds_alternative<UndoRefused>(undo));
  EXPECT_EQ(std::get<UndoRefused>(undo).message, "correction 1-0 was undone already by 2-0");
  // The undo undone: 1-0 is in force again, and may be undone again.
  undo = undo_correction(*log_.find("2-0"));
  ASSERT_TRUE(std::holds_alternative<Correction>(undo));
  EXPECT_EQ(std::get<Correction>(undo).status, OfficialStatus::dnf);
  apply("2-1", std::get<Correction>(undo));
  EXPECT_EQ(harness_.engine().status(1), RunnerStatus::dnf);
  EXPECT_EQ(log_.find("2-0")->undone_by, "2-1");
  EXPECT_EQ(log_.find("1-0")->undone_by, "");
  EXPECT_TRUE(std::holds_alternative<Correction>(undo_correction(*log_.find("1-0"))));
  back = std::get<Correction>(undo_correction(*log_.find("2-1")));
  apply("2-2", back);
  EXPECT_EQ(harness_.engine().status(1), RunnerStatus::running);

  // void_reads <-> restore_reads of the same window.
  Correction v;
  v.kind = CorrectionKind::void_reads;
  v.bib = "1";
  v.timing_point = "k5";
  v.from = kGun + 21 * kMin;
  v.to = kGun + 21 * kMin + kSec;
  undo = undo_correction(apply("3-0", v));
  ASSERT_TRUE(std::holds_alternative<Correction>(undo));
  EXPECT_EQ(std::get<Correction>(undo).kind, CorrectionKind::restore_reads);
  EXPECT_EQ(std::get<Correction>(undo).from, v.from);
  EXPECT_EQ(std::get<Correction>(undo).to, v.to);
  EXPECT_FALSE(harness_.engine().ranked_time_at(0, 1));
  apply("4-0", std::get<Correction>(undo));
  EXPECT_EQ(harness_.engine().ranked_time_at(0, 1), 21 * kMin);

  // add_read -> a void of that instant at that mat.
  Correction add;
  add.kind = CorrectionKind::add_read;
  add.bib = "1";
  add.timing_point = "finish";
  add.time = kGun + 45 * kMin;
  undo = undo_correction(apply("5-0", add));
  ASSERT_TRUE(std::holds_alternative<Correction>(undo));
  EXPECT_EQ(harness_.engine().status(0), RunnerStatus::finished);
  const Correction& unadd = std::get<Correction>(undo);
  EXPECT_EQ(unadd.kind, CorrectionKind::void_reads);
  EXPECT_EQ(unadd.timing_point, "finish");
  EXPECT_EQ(unadd.from, add.time);
  EXPECT_EQ(unadd.to, add.time);
  apply("6-0", unadd);
  EXPECT_EQ(harness_.engine().status(0), RunnerStatus::running);

  // move_chip -> back to its holder.
  Correction move;
  move.kind = CorrectionKind::move_chip;
  move.chip = "C1";
  move.bib = "2";
  undo = undo_correction(apply("7-0", move));
  ASSERT_TRUE(std::holds_alternative<Correction>(undo));
  EXPECT_EQ(std::get<Correction>(undo).kind, CorrectionKind::move_chip);
  EXPECT_EQ(std::get<Correction>(undo).bib, "1");
  apply("8-0", std::get<Correction>(undo));
  EXPECT_EQ(harness_.engine().runner_of_chip("C1"), RunnerIndex{0});
}

TEST_F(CorrectionListingTest, FiltersAndFormats) {
  apply("1743895500000-0", dnf("2", "Kim"));
  Correction add;
  add.kind = CorrectionKind::add_read;
  add.bib = "1";
  add.timing_point = "finish";
  add.time = kGun + 45 * kMin;
  add.by = "Lee";
  apply("1743895600000-0", add);
  apply("1743895700000-0", dnf("99", "Kim"));

  CorrectionFilter by_kim;
  ASSERT_FALSE(parse_correction_filter("by=Kim&limit=1", by_kim));
  EXPECT_EQ(by_kim.by, "Kim");
  EXPECT_EQ(by_kim.limit, 1u);
  EXPECT_EQ(corrections_json(log_, by_kim, kPyongyang),
            R"({"corrections":[{"id":"1743895700000-0","recorded_ms":1743895700000,)"
            R"("recorded_at":"2025-04-06T08:28:20.000+09:00","by":"Kim","applied":false,)"
            R"("correction":{"kind":"set_status","bib":"99","status":"dnf","reason":"medical",)"
            R"("by":"Kim"},"error":"unknown bib \"99\"","effect":{"runners":[]},)"
            R"("undone_by":null,"undo_of":null}],"total":3,"matched":1})");

  CorrectionFilter for_bib;
  ASSERT_FALSE(parse_correction_filter("bib=2&kind=set_status", for_bib));
  EXPECT_EQ(corrections_csv(log_, for_bib, kPyongyang),
            "id,recorded_at,by,kind,bib,timing_point,time,from,to,chip,status,reason,applied,"
            "error,effect,undone_by,undo_of\n"
            "1743895500000-0,2025-04-06T08:25:00.000+09:00,Kim,set_status,2,,,,,,dnf,medical,"
            "true,,2: running 5k 0:20:00.000 #1 -> dnf 5k 0:20:00.000,,\n");

  CorrectionFilter bad;
  EXPECT_EQ(parse_correction_filter("kind=erase", bad),
            "kind must be set_status, add_read, void_reads, restore_reads or move_chip, not "
            "\"erase\"");
  EXPECT_EQ(parse_correction_filter("limit=0", bad), "limit must be from 1 to 10000");
}

TEST(CorrectionLogTest, KeepsTheLastOldestFirst) {
  CorrectionLog log(2);
  for (const char* id : {"1-0", "2-0", "3-0"}) {
    CorrectionRecord r;
    r.id = id;
    log.add(r);
  }
  EXPECT_EQ(log.find("1-0"), nullptr);
  ASSERT_NE(log.find("3-0"), nullptr);
  EXPECT_EQ(log.records().front().id, "2-0");
  EXPECT_EQ(log.total(), 3u);
}

}  // namespace
}  // namespace splitstream
