// The vendor decoders' common parts: decoders.json, the intake (mapping, clocks, identity) and
// the record splitter.
#include "adapters/decoder_intake.hpp"

#include <gtest/gtest.h>

#include "adapters/decoder_status.hpp"
#include "adapters/line_splitter.hpp"
#include "splitstream/v1/read.pb.h"
#include "support/engine_harness.hpp"

namespace splitstream {
namespace {

using testing::EventBuilder;
using testing::kGun;

Event demo_event() {
  Event event = EventBuilder()
                    .timing_point("start")
                    .timing_point("10k")
                    .timing_point("finish")
                    .race("10k", {{"10k", "10k", 5000}, {"finish", "finish", 10000}})
                    .runner("1", "CHIP1", "10k")
                    .build();
  event.utc_offset_minutes = 9 * 60;
  return event;
}

std::vector<DecoderConfig> parse(std::string_view json, const Event& event, Diagnostics& problems) {
  return parse_decoders(json, event, problems);
}

TEST(DecoderConfig, ParsesEachProtocolWithDefaults) {
  const Event event = demo_event();
  Diagnostics problems;
  const auto decoders = parse(R"({"decoders": [
    {"id": "rr-finish", "protocol": "raceresult", "dial": "10.0.0.5",
     "timing_point": "finish", "line": "main", "correct_clock_offset": true},
    {"id": "ct", "protocol": "ctp01", "listen": "0.0.0.0:61611", "allow": ["10.1.0.0/16"],
     "sources": {"START": {"timing_point": "start"}, "10K": {"timing_point": "10k", "line": "backup"}},
     "utc_offset": "+04:00", "date": "2025-04-07", "time_format": "normal"},
    {"id": "ml", "protocol": "mylaps", "listen": "0.0.0.0:3097", "mylaps_version": 1,
     "sources": {"21Km = 2Km": {"timing_point": "10k"}}},
    {"id": "imp", "protocol": "impinj", "sources": {"1": {"timing_point": "finish"}}}
  ]})",
                              event, problems);
  ASSERT_TRUE(problems.empty()) << problems.front().to_string();
  ASSERT_EQ(decoders.size(), 4u);
  EXPECT_EQ(decoders[0].protocol, DecoderProtocolKind::raceresult);
  EXPECT_EQ(decoders[0].dial->host, "10.0.0.5");
  EXPECT_EQ(decoders[0].dial->port, 3601);  // the RACE RESULT default
  EXPECT_EQ(decoders[0].fallback->timing_point, 2u);
  EXPECT_EQ(decoders[0].fallback->line, Line::main);
  EXPECT_TRUE(decoders[0].correct_clock_offset);
  EXPECT_EQ(decoders[0].utc_offset_minutes, 540);  // the event's zone
  // 2025-04-06 is the date of the gun in the event's zone: 20184 days after 1970-01-01.
  EXPECT_EQ(decoders[0].date_base_days, 20184);
  EXPECT_EQ(decoders[1].listen->port, 61611);
  EXPECT_EQ(decoders[1].utc_offset_minutes, 240);
  EXPECT_EQ(decoders[1].date_base_days, 20185);
  EXPECT_EQ(decoders[1].ctp01_time_format, "normal");
  EXPECT_EQ(decoders[1].sources.at("10K").line, Line::backup);
  EXPECT_EQ(decoders[2].mylaps_version, 1);
  EXPECT_TRUE(decoders[2].sources.contains("21Km = 2Km"));
  EXPECT_EQ(decoders[3].protocol, DecoderProtocolKind::impinj);
}

TEST(DecoderConfig, NamesEveryProblemWithItsField) {
  const Event event = demo_event();
  Diagnostics problems;
  const auto decoders = parse(R"({"decoders": [
    {"id": "a", "protocol": "chronotrack", "timing_point": "finish"},
    {"id": "b", "protocol": "mylaps", "sources": {"X": {"timing_point": "nowhere"}}},
    {"id": "c", "protocol": "ctp01", "listen": "0.0.0.0:3097", "dial": "h",
     "timing_point": "finish"},
    {"id": "d", "protocol": "mylaps", "listen": "0.0.0.0:3097", "timing_point": "finish",
     "allow": ["10.0.0.0/33"], "speed": 1},
    {"id": "d", "protocol": "impinj"}
  ]})",
                              event, problems);
  EXPECT_TRUE(decoders.empty());
  std::string all;
  for (const Diagnostic& d : problems)
    all += d.to_string() + "\n";
  EXPECT_NE(all.find("decoders[0].protocol: must be raceresult, ctp01, mylaps or impinj, not "
                     "\"chronotrack\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("decoders[1].listen: required field is missing"), std::string::npos) << all;
  EXPECT_NE(all.find("decoders[1].sources.X.timing_point: unknown timing point \"nowhere\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("decoders[2].dial: only a raceresult decoder is dialled"), std::string::npos)
      << all;
  EXPECT_NE(all.find("decoders[3].listen: port 3097 is taken by another decoder"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("decoders[3].allow[0]"), std::string::npos) << all;
  EXPECT_NE(all.find("decoders[3].speed: unknown field"), std::string::npos) << all;
  EXPECT_NE(all.find("decoders[4].id: duplicate decoder id \"d\""), std::string::npos) << all;
  EXPECT_NE(all.find("decoders[4].sources: a decoder needs sources or a timing_point"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("decoders.json:"), std::string::npos) << all;
}

TEST(DecoderConfig, AllowListMatchesAddressesAndNetworks) {
  const std::vector<std::string> allow = {"10.1.0.0/16", "192.168.5.7", "::1"};
  EXPECT_TRUE(address_allowed(allow, "10.1.200.3"));
  EXPECT_TRUE(address_allowed(allow, "::ffff:10.1.0.1"));
  EXPECT_FALSE(address_allowed(allow, "10.2.0.1"));
  EXPECT_TRUE(address_allowed(allow, "192.168.5.7"));
  EXPECT_FALSE(address_allowed(allow, "192.168.5.8"));
  EXPECT_TRUE(address_allowed(allow, "::1"));
  EXPECT_TRUE(address_allowed({}, "203.0.113.9"));  // no list: anyone
  EXPECT_TRUE(address_allowed({"0.0.0.0/0"}, "203.0.113.9"));
}

class DecoderIntakeTest : public ::testing::Test {
 protected:
  DecoderIntakeTest() : event_(demo_event()) {
    Diagnostics problems;
    configs_ = parse_decoders(R"({"decoders": [
      {"id": "ml", "protocol": "mylaps", "listen": "0.0.0.0:3097",
       "sources": {"START": {"timing_point": "start"}, "10K": {"timing_point": "10k", "line": "backup"}}}
    ]})",
                              event_, problems);
    EXPECT_TRUE(problems.empty());
  }

  static DecoderRawRead raw(std::string key, std::string source, std::string chip,
                            DecoderTime time) {
    DecoderRawRead r;
    r.key = std::move(key);
    r.source = std::move(source);
    r.chip = std::move(chip);
    r.time = time;
    return r;
  }

  Event event_;
  std::vector<DecoderConfig> configs_;
};

TEST_F(DecoderIntakeTest, ConvertsEachClockBaseToUtc) {
  DecoderIntake intake(event_, configs_.at(0), 5 * 60'000);
  // The gun, 2025-04-06 08:00:00 at +09:00, written three ways.
  EXPECT_EQ(intake.to_utc({kGun, DecoderTimeBase::utc}), kGun);
  const std::int64_t civil = 20184LL * 86'400'000 + 8 * 3'600'000;
  EXPECT_EQ(intake.to_utc({civil, DecoderTimeBase::local_civil}), kGun);
  EXPECT_EQ(intake.to_utc({8 * 3'600'000, DecoderTimeBase::local_time_of_day}), kGun);
  // RACE RESULT's day counter: 0000-00-01 00:30 is the next day's 00:30 local.
  EXPECT_EQ(intake.to_utc({86'400'000 + 30 * 60'000, DecoderTimeBase::local_time_of_day}),
            kGun + 16 * 3'600'000 + 30 * 60'000);
}

TEST_F(DecoderIntakeTest, MapsSourcesRefusesUnknownOnesAndFarFutureReads) {
  DecoderIntake intake(event_, configs_.at(0), 5 * 60'000);
  const TimeMs arrival = kGun + 10 * 60'000;
  DecoderBatch batch;
  batch.reads.push_back(raw("k1", "10K", "CHIP1", {kGun + 60'000, DecoderTimeBase::utc}));
  batch.reads.push_back(raw("k2", "30K", "CHIP1", {kGun + 60'000, DecoderTimeBase::utc}));
  batch.reads.push_back(raw("k3", "START", "STRANGER", {kGun, DecoderTimeBase::utc}));
  batch.reads.push_back(raw("k4", "START", "CHIP1", {arrival + 6 * 60'000, DecoderTimeBase::utc}));
  batch.reads.push_back(raw("k5", "START", "", {kGun, DecoderTimeBase::utc}));
  IntakeReport report;
  const DecoderBatchToStore out = intake.prepare(batch, arrival, report);
  ASSERT_EQ(out.reads.size(), 2u);
  EXPECT_EQ(out.reads[0].timing_point_id(), "10k");
  EXPECT_EQ(out.reads[0].line(), v1::LINE_BACKUP);
  EXPECT_EQ(out.reads[0].device_id(), "ml");
  EXPECT_EQ(out.reads[0].time_ms(), kGun + 60'000);
  EXPECT_EQ(out.reads[0].seq(), decoder_read_seq("ml", "k1"));
  EXPECT_EQ(out.reads[1].chip(), "STRANGER");  // stored: a chip may be assigned later
  EXPECT_EQ(report.unknown_sources, 1u);
  EXPECT_EQ(report.unknown_chips, 1u);
  EXPECT_EQ(report.clock_far_off, 1u);
  EXPECT_EQ(report.malformed, 1u);
  ASSERT_FALSE(report.problems.empty());
  EXPECT_NE(report.problems[0].find("unknown location \"30K\""), std::string::npos);
}

TEST_F(DecoderIntakeTest, IdentityIsStableAndPerDecoder) {
  EXPECT_EQ(decoder_read_seq("ml", "10K/CHIP1/13:11:30.904"),
            decoder_read_seq("ml", "10K/CHIP1/13:11:30.904"));
  EXPECT_NE(decoder_read_seq("ml", "10K/CHIP1/13:11:30.904"),
            decoder_read_seq("ml2", "10K/CHIP1/13:11:30.904"));
  EXPECT_NE(decoder_read_seq("ml", "a"), decoder_read_seq("ml", "b"));
  EXPECT_LT(decoder_read_seq("ml", "a"), 1ULL << 63);
  EXPECT_NE(decoder_read_seq("ml", "a"), 0u);
}

TEST_F(DecoderIntakeTest, MeasuredOffsetBeatsTheEstimateAndCorrectsOnlyWhenAsked) {
  DecoderIntake intake(event_, configs_.at(0), 5 * 60'000);
  EXPECT_FALSE(intake.clock_offset_ms());
  const TimeMs arrival = kGun + 60'000;
  DecoderBatch batch;
  // The decoder runs 13 min 13 s behind; this read is 1 s old when it arrives.
  batch.reads.push_back(
      raw("k1", "START", "CHIP1", {arrival - 1000 - (13 * 60 + 13) * 1000, DecoderTimeBase::utc}));
  IntakeReport report;
  DecoderBatchToStore out = intake.prepare(batch, arrival, report);
  ASSERT_TRUE(intake.clock_offset_ms());
  EXPECT_EQ(*intake.clock_offset_ms(), -(13 * 60 + 13) * 1000 - 1000);  // an estimate: includes 1 s
  EXPECT_FALSE(intake.clock_offset_measured());
  EXPECT_EQ(out.reads.at(0).time_ms(), arrival - 1000 - (13 * 60 + 13) * 1000);  // not corrected
  intake.note_clock_reading({arrival - (13 * 60 + 13) * 1000, DecoderTimeBase::utc}, arrival);
  EXPECT_TRUE(intake.clock_offset_measured());
  EXPECT_EQ(*intake.clock_offset_ms(), -(13 * 60 + 13) * 1000);

  DecoderConfig corrected = configs_.at(0);
  corrected.correct_clock_offset = true;
  DecoderIntake correcting(event_, corrected, 5 * 60'000);
  correcting.note_clock_reading({arrival - (13 * 60 + 13) * 1000, DecoderTimeBase::utc}, arrival);
  out = correcting.prepare(batch, arrival, report);
  EXPECT_EQ(out.reads.at(0).time_ms(), arrival - 1000);
}

TEST_F(DecoderIntakeTest, EstimateForgetsAfterAQuietSpell) {
  DecoderIntake intake(event_, configs_.at(0), 5 * 60'000);
  DecoderBatch batch;
  batch.reads.push_back(raw("k1", "START", "CHIP1", {kGun - 5000, DecoderTimeBase::utc}));
  IntakeReport report;
  intake.prepare(batch, kGun, report);
  EXPECT_EQ(*intake.clock_offset_ms(), -5000);
  batch.reads[0].time = {kGun + 30'000 - 2000, DecoderTimeBase::utc};
  intake.prepare(batch, kGun + 30'000, report);
  EXPECT_EQ(*intake.clock_offset_ms(), -2000);  // the largest in the window
  batch.reads[0].time = {kGun + 70'000 - 8000, DecoderTimeBase::utc};
  intake.prepare(batch, kGun + 70'000, report);
  EXPECT_EQ(*intake.clock_offset_ms(), -2000);  // the previous minute still counts
  batch.reads[0].time = {kGun + 400'000 - 9000, DecoderTimeBase::utc};
  intake.prepare(batch, kGun + 400'000, report);
  EXPECT_EQ(*intake.clock_offset_ms(), -9000);  // after minutes of nothing: only the new read
}

TEST_F(DecoderIntakeTest, StatusCountsReadsPerMinuteAndLogsMalformedOncePerBurst) {
  DecoderStatus status(configs_.at(0), kGun - 60'000);
  EXPECT_EQ(status.to_json(kGun).at("state").as_string(), "listening");
  status.connection_opened("10.0.0.9", kGun);
  status.record_stored(40, 2, 0, kGun - 500, kGun);
  status.record_stored(10, 0, 0, kGun + 29'000, kGun + 30'000);
  EXPECT_EQ(status.reads_last_minute(kGun + 30'000), 50u);
  EXPECT_EQ(status.reads_last_minute(kGun + 61'000), 10u);  // the first 40 are over a minute old
  EXPECT_EQ(status.reads_last_minute(kGun + 200'000), 0u);
  const boost::json::object o = status.to_json(kGun + 30'000);
  EXPECT_EQ(o.at("state").as_string(), "connected");
  EXPECT_EQ(o.at("peer").as_string(), "10.0.0.9");
  EXPECT_EQ(o.at("last_read_ms").as_int64(), kGun + 29'000);
  status.connection_closed("the decoder closed the connection", kGun + 35'000);
  EXPECT_EQ(status.to_json(kGun + 40'000).at("state").as_string(), "listening");
  EXPECT_EQ(status.to_json(kGun + 40'000).at("last_error").as_string(),
            "the decoder closed the connection");

  std::uint64_t suppressed = 99;
  EXPECT_TRUE(status.log_malformed_now(kGun, suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(status.log_malformed_now(kGun + 1000, suppressed));
  EXPECT_FALSE(status.log_malformed_now(kGun + 9000, suppressed));
  EXPECT_TRUE(status.log_malformed_now(kGun + 10'000, suppressed));
  EXPECT_EQ(suppressed, 2u);  // the two in between went unlogged
}

TEST(LineSplitter, SplitsStripsAndBoundsRecords) {
  LineSplitter lines('\n', 16, "\r");
  SplitRecords out = lines.feed("PASSINGS;1\r\n\r\n#P;1;");
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(out.records[0], "PASSINGS;1");
  EXPECT_EQ(out.records[1], "");         // an empty line is a record (RACE RESULT ends ranges so)
  EXPECT_EQ(lines.pending_bytes(), 5u);  // "#P;1;"
  out = lines.feed("33\r\nthis line is far too long\r\nOK\n");
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(out.records[0], "#P;1;33");
  EXPECT_EQ(out.records[1], "OK");
  EXPECT_EQ(out.overlong, 1u);
  // An overlong record split over feeds is dropped up to its terminator.
  out = lines.feed("0123456789abcdef");
  EXPECT_EQ(out.overlong, 0u);  // not yet over
  out = lines.feed("ghi");
  EXPECT_EQ(out.overlong, 1u);
  out = lines.feed("jkl\nok\n");
  ASSERT_EQ(out.records.size(), 1u);
  EXPECT_EQ(out.records[0], "ok");

  LineSplitter frames('$', 100, std::string_view("\r\n\0", 3));
  out = frames.feed(std::string_view("\r\n\0Finish@Pong@$\r\n\0\0Finish@Ping@$", 33));
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(out.records[0], "Finish@Pong@");
  EXPECT_EQ(out.records[1], "Finish@Ping@");
}

}  // namespace
}  // namespace splitstream
