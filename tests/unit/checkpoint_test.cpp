// The checkpoint's bytes (proto/splitstream/v1/checkpoint.proto): what is encoded decodes to the
// same values, and bytes that are not a checkpoint of this format are refused with the reason.
#include "pipeline/checkpoint.hpp"

#include <gtest/gtest.h>

#include "splitstream/v1/checkpoint.pb.h"
#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

NodeCheckpoint sample_checkpoint(EngineHarness& h) {
  h.read("start", "C1", kGun + 5 * kSec);
  h.read("k5", "C1", kGun + 25 * kMin);
  h.read("k5", "C9", kGun + 26 * kMin);
  EXPECT_FALSE(h.correct(move("NEW", "2")).error);
  h.read("finish", "NEW", kGun + 49 * kMin);
  h.engine().apply_manual(h.runner("1"), 2, kGun + 50 * kMin);
  EXPECT_FALSE(h.correct(void_at("1", "k5", kGun, kGun + 30 * kMin)).error);
  EXPECT_FALSE(h.correct(status("2", OfficialStatus::dsq)).error);
  NodeCheckpoint c;
  c.event_fingerprint = event_fingerprint(h.event());
  c.stream_id = "1743894000000-12";
  c.entries = 9;
  c.applied = 8;
  c.skipped = 1;
  c.engine = h.engine().snapshot();
  c.hub.version = 9;
  c.hub.race_clock = kGun + 50 * kMin;
  c.hub.passings_floor = 2;
  v1::Passing passing;
  passing.set_bib("1");
  passing.set_split_id("5k");
  passing.set_time_ms(kGun + 25 * kMin);
  passing.set_version(3);
  c.hub.passings.push_back(passing);
  c.hub.hidden_races = {false};
  CorrectionRecord record;
  record.id = "1743894000000-7";
  record.correction = status("2", OfficialStatus::dsq);
  record.correction.reason = "cut the course";
  record.correction.by = "referee";
  record.recorded_ms = kGun + 51 * kMin;
  record.previous_status = OfficialStatus::none;
  RunnerSnapshot before;
  before.status = RunnerStatus::finished;
  before.last_split = "finish";
  before.time = 49 * kMin;
  before.rank = 1;
  RunnerSnapshot after;
  after.status = RunnerStatus::dsq;
  after.last_split = "finish";
  record.effect.push_back({"2", before, after});
  c.corrections.push_back(record);
  CorrectionRecord failed;
  failed.id = "1743894000000-8";
  failed.correction = move("C1", "99");
  failed.error = "unknown bib \"99\"";
  failed.previous_holder = "";
  failed.undone_by = "1743894000000-9";
  c.corrections.push_back(failed);
  c.corrections_total = 5;
  return c;
}

Event three_runners() {
  return ten_k().runner("1", "C1", "10k").runner("2", "C2", "10k").runner("3", "C3", "10k").build();
}

TEST(Checkpoint, DecodesToWhatWasEncoded) {
  EngineHarness h(three_runners());
  const NodeCheckpoint c = sample_checkpoint(h);
  const std::string bytes = encode_checkpoint(c);
  std::string error;
  const std::optional<NodeCheckpoint> back = decode_checkpoint(bytes, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->event_fingerprint, c.event_fingerprint);
  EXPECT_EQ(back->stream_id, c.stream_id);
  EXPECT_EQ(back->entries, 9u);
  EXPECT_EQ(back->applied, 8u);
  EXPECT_EQ(back->skipped, 1u);
  EXPECT_EQ(back->engine, c.engine);
  EXPECT_EQ(back->hub.version, 9u);
  EXPECT_EQ(back->hub.race_clock, kGun + 50 * kMin);
  EXPECT_EQ(back->hub.passings_floor, 2u);
  ASSERT_EQ(back->hub.passings.size(), 1u);
  EXPECT_EQ(back->hub.passings[0].SerializeAsString(), c.hub.passings[0].SerializeAsString());
  EXPECT_EQ(back->hub.hidden_races, std::vector<bool>{false});
  ASSERT_EQ(back->corrections.size(), 2u);
  const CorrectionRecord& r = back->corrections[0];
  EXPECT_EQ(r.id, "1743894000000-7");
  EXPECT_EQ(r.correction, c.corrections[0].correction);
  EXPECT_EQ(r.error, std::nullopt);
  EXPECT_EQ(r.recorded_ms, kGun + 51 * kMin);
  EXPECT_EQ(r.previous_holder, std::nullopt);
  EXPECT_EQ(r.previous_status, OfficialStatus::none);
  ASSERT_EQ(r.effect.size(), 1u);
  EXPECT_EQ(r.effect[0].bib, "2");
  EXPECT_EQ(r.effect[0].before, c.corrections[0].effect[0].before);
  EXPECT_EQ(r.effect[0].after, c.corrections[0].effect[0].after);
  EXPECT_EQ(r.effect[0].after.time, std::nullopt);
  const CorrectionRecord& f = back->corrections[1];
  EXPECT_EQ(f.correction, c.corrections[1].correction);
  EXPECT_EQ(f.error, std::optional<std::string>("unknown bib \"99\""));
  EXPECT_EQ(f.previous_holder, std::optional<std::string>(""));
  EXPECT_EQ(f.previous_status, std::nullopt);
  EXPECT_EQ(f.undone_by, "1743894000000-9");
  EXPECT_EQ(back->corrections_total, 5u);
  EXPECT_EQ(encode_checkpoint(*back), bytes);

  // Restored from the bytes, an engine equals the one the checkpoint was taken of.
  EngineHarness restored(three_runners());
  ASSERT_EQ(restored.engine().restore(back->engine), std::nullopt);
  EXPECT_EQ(full_state_of(restored.engine()), full_state_of(h.engine()));
}

TEST(Checkpoint, ReadTimesFarApartSurviveTheirDeltas) {
  NodeCheckpoint c;
  c.stream_id = "1-0";
  c.engine.runners.push_back({0,
                              OfficialStatus::none,
                              {{INT64_MAX, 0, 1}, {INT64_MIN, 1, ChipIndex::kNobody}, {0, 2, 0}},
                              {}});
  std::string error;
  const auto back = decode_checkpoint(encode_checkpoint(c), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->engine, c.engine);
}

std::string refusal(const std::string& bytes) {
  std::string error;
  EXPECT_FALSE(decode_checkpoint(bytes, error));
  return error;
}

TEST(Checkpoint, BytesThatAreNoCheckpointOfThisFormatAreRefusedWithTheReason) {
  EXPECT_EQ(refusal(std::string("\xff\xff\xff", 3)),
            "not a checkpoint (3 bytes that do not parse)");
  EngineHarness h(three_runners());
  v1::Checkpoint m;
  ASSERT_TRUE(m.ParseFromString(encode_checkpoint(sample_checkpoint(h))));
  v1::Checkpoint other = m;
  other.set_format(kCheckpointFormat + 1);
  EXPECT_EQ(refusal(other.SerializeAsString()), "a checkpoint of format 2, this node reads 1");
  for (const std::string id : {"", "12", "12-", "-3", "1-2-3", "12-x"}) {
    other = m;
    other.set_stream_id(id);
    EXPECT_EQ(refusal(other.SerializeAsString()),
              "checkpoint: \"" + id + "\" is not a stream entry id");
  }
  other = m;
  other.mutable_engine()->mutable_runners(0)->add_read_chips(1);
  EXPECT_EQ(refusal(other.SerializeAsString()), "runner 0: read columns of different lengths");
  other = m;
  other.mutable_engine()->mutable_runners(0)->set_official(3);
  EXPECT_EQ(refusal(other.SerializeAsString()), "runner 0: no such official status");
  other = m;
  other.mutable_engine()->mutable_unknown(0)->add_times_ms(1);
  EXPECT_EQ(refusal(other.SerializeAsString()),
            "unknown chip \"C9\": read columns of different lengths");
  other = m;
  other.mutable_engine()->add_counters(1);
  EXPECT_EQ(refusal(other.SerializeAsString()), "engine counters: 8, expected 7");
  other = m;
  other.mutable_corrections(0)->set_kind("erase_everything");
  EXPECT_EQ(refusal(other.SerializeAsString()),
            "a correction of no known kind \"erase_everything\"");
  other = m;
  other.mutable_corrections(0)->mutable_effect(0)->mutable_after()->set_status("flying");
  EXPECT_EQ(refusal(other.SerializeAsString()),
            "correction 1743894000000-7: a runner state of no known status");
}

}  // namespace
}  // namespace splitstream::testing
