// The splitstream.v1 wire schema: binary round trips, length-delimited framing, oneof envelopes
// and the JSON mapping the HTTP API relies on.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "splitstream/v1/device.pb.h"
#include "splitstream/v1/live.pb.h"
#include "splitstream/v1/read.pb.h"

namespace {

namespace v1 = splitstream::v1;
using google::protobuf::util::MessageDifferencer;

v1::Read make_read(std::uint64_t seq, std::int64_t time_ms) {
  v1::Read r;
  r.set_device_id("dec-finish-a");
  r.set_timing_point_id("finish");
  r.set_chip("E2801160600002086A1B2C3D");
  r.set_time_ms(time_ms);
  r.set_seq(seq);
  return r;
}

TEST(ProtoTest, ReadBatchRoundTripsWithOptionalPresence) {
  v1::ReadBatch batch;
  // Every field set.
  v1::Read* full = batch.add_reads();
  *full = make_read(41, 1743894192250);
  full->set_line(v1::LINE_BACKUP);
  full->set_rssi_dbm(-61);
  // RSSI present but zero: must stay distinguishable from absent.
  v1::Read* zero_rssi = batch.add_reads();
  *zero_rssi = make_read(42, 1743894192251);
  zero_rssi->set_line(v1::LINE_MAIN);
  zero_rssi->set_rssi_dbm(0);
  // Neither line nor RSSI.
  *batch.add_reads() = make_read(43, 1743894192252);

  std::string wire;
  ASSERT_TRUE(batch.SerializeToString(&wire));
  v1::ReadBatch back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(batch, back));

  ASSERT_EQ(back.reads_size(), 3);
  const v1::Read& r0 = back.reads(0);
  EXPECT_EQ(r0.device_id(), "dec-finish-a");
  EXPECT_EQ(r0.timing_point_id(), "finish");
  EXPECT_EQ(r0.chip(), "E2801160600002086A1B2C3D");
  EXPECT_EQ(r0.time_ms(), 1743894192250);
  EXPECT_EQ(r0.seq(), 41u);
  EXPECT_EQ(r0.line(), v1::LINE_BACKUP);
  ASSERT_TRUE(r0.has_rssi_dbm());
  EXPECT_EQ(r0.rssi_dbm(), -61);

  EXPECT_EQ(back.reads(1).line(), v1::LINE_MAIN);
  EXPECT_TRUE(back.reads(1).has_rssi_dbm());
  EXPECT_EQ(back.reads(1).rssi_dbm(), 0);

  EXPECT_EQ(back.reads(2).seq(), 43u);
  EXPECT_EQ(back.reads(2).line(), v1::LINE_UNSPECIFIED);
  EXPECT_FALSE(back.reads(2).has_rssi_dbm());
}

TEST(ProtoTest, ExplicitZeroRssiIsOnTheWire) {
  v1::Read absent;
  v1::Read zero;
  zero.set_rssi_dbm(0);
  EXPECT_TRUE(absent.SerializeAsString().empty());
  EXPECT_FALSE(zero.SerializeAsString().empty());
  zero.clear_rssi_dbm();
  EXPECT_FALSE(zero.has_rssi_dbm());
  EXPECT_TRUE(zero.SerializeAsString().empty());
}

std::vector<v1::DeviceMessage> session_frames() {
  std::vector<v1::DeviceMessage> frames(4);
  v1::Hello* hello = frames[0].mutable_hello();
  hello->set_device_id("dec-finish-a");
  hello->set_token("s3cret");
  hello->set_software("acme-decoder/2.4.1");
  hello->set_last_acked_seq(40);
  hello->set_time_ms(1743894190000);
  v1::ReadBatch* batch = frames[1].mutable_batch();
  for (std::uint64_t seq = 41; seq <= 43; ++seq) {
    *batch->add_reads() = make_read(seq, 1743894192250 + static_cast<std::int64_t>(seq));
  }
  frames[2].mutable_heartbeat()->set_time_ms(1743894195000);
  // An empty batch: its payload is a zero-length submessage, yet the frame keeps its oneof case.
  frames[3].mutable_batch();
  return frames;
}

TEST(ProtoTest, DelimitedFramesReadBackInOrder) {
  const std::vector<v1::DeviceMessage> frames = session_frames();
  std::ostringstream out;
  for (const v1::DeviceMessage& f : frames) {
    ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(f, &out));
  }
  const std::string buf = out.str();

  google::protobuf::io::ArrayInputStream in(buf.data(), static_cast<int>(buf.size()));
  std::vector<v1::DeviceMessage> got;
  for (;;) {
    v1::DeviceMessage m;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&m, &in, &clean_eof)) {
      EXPECT_TRUE(clean_eof) << "stream ended inside a frame";
      break;
    }
    got.push_back(std::move(m));
  }

  ASSERT_EQ(got.size(), frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(frames[i], got[i])) << "frame " << i;
  }
  EXPECT_EQ(got[0].body_case(), v1::DeviceMessage::kHello);
  EXPECT_EQ(got[0].hello().last_acked_seq(), 40u);
  EXPECT_EQ(got[1].body_case(), v1::DeviceMessage::kBatch);
  ASSERT_EQ(got[1].batch().reads_size(), 3);
  EXPECT_EQ(got[1].batch().reads(2).seq(), 43u);
  EXPECT_EQ(got[2].body_case(), v1::DeviceMessage::kHeartbeat);
  EXPECT_EQ(got[2].heartbeat().time_ms(), 1743894195000);
  EXPECT_EQ(got[3].body_case(), v1::DeviceMessage::kBatch);
  EXPECT_EQ(got[3].batch().reads_size(), 0);
}

TEST(ProtoTest, DelimitedTruncatedFrameIsNotCleanEof) {
  std::ostringstream out;
  for (const v1::DeviceMessage& f : session_frames()) {
    ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(f, &out));
  }
  std::string buf = out.str();
  buf.resize(buf.size() - 1);  // the last frame loses its final byte

  google::protobuf::io::ArrayInputStream in(buf.data(), static_cast<int>(buf.size()));
  google::protobuf::io::CodedInputStream coded(&in);
  int parsed = 0;
  bool clean_eof = false;
  for (;;) {
    v1::DeviceMessage m;
    if (!google::protobuf::util::ParseDelimitedFromCodedStream(&m, &coded, &clean_eof)) break;
    ++parsed;
  }
  EXPECT_EQ(parsed, 3);
  EXPECT_FALSE(clean_eof);
}

TEST(ProtoTest, ServerAckCarriesGapsAndRejections) {
  v1::ServerMessage msg;
  v1::Ack* ack = msg.mutable_ack();
  ack->set_acked_seq(41);
  v1::SeqRange* gap = ack->add_gaps();
  gap->set_from(42);
  gap->set_to(44);
  v1::RejectedRead* rej = ack->add_rejected();
  rej->set_seq(45);
  rej->set_code(v1::ERROR_CODE_UNKNOWN_CHIP);
  rej->set_text("chip E280... not assigned");

  v1::ServerMessage back;
  ASSERT_TRUE(back.ParseFromString(msg.SerializeAsString()));
  ASSERT_EQ(back.body_case(), v1::ServerMessage::kAck);
  EXPECT_EQ(back.ack().acked_seq(), 41u);
  ASSERT_EQ(back.ack().gaps_size(), 1);
  EXPECT_EQ(back.ack().gaps(0).from(), 42u);
  EXPECT_EQ(back.ack().gaps(0).to(), 44u);
  ASSERT_EQ(back.ack().rejected_size(), 1);
  EXPECT_EQ(back.ack().rejected(0).code(), v1::ERROR_CODE_UNKNOWN_CHIP);

  // Switching the oneof to another case drops the ack.
  msg.mutable_welcome()->set_acked_seq(41);
  msg.mutable_welcome()->set_server_time_ms(1743894190123);
  EXPECT_EQ(msg.body_case(), v1::ServerMessage::kWelcome);
  EXPECT_FALSE(msg.has_ack());
}

TEST(ProtoTest, LiveMessageOneofCarriesExactlyTheSetCase) {
  v1::LiveMessage msg;
  EXPECT_EQ(msg.body_case(), v1::LiveMessage::BODY_NOT_SET);

  msg.set_version(1207);
  v1::Passing* p = msg.mutable_passing();
  p->set_bib("1042");
  p->set_race_id("marathon");
  p->set_split_id("km21");
  p->set_timing_point_id("half");
  p->set_time_ms(1743901234567);
  p->set_gun_time_ms(4234567);
  p->set_chip_time_ms(4190001);
  p->set_rank(88);
  p->set_version(1207);

  v1::LiveMessage back;
  ASSERT_TRUE(back.ParseFromString(msg.SerializeAsString()));
  EXPECT_EQ(back.version(), 1207u);
  EXPECT_EQ(back.body_case(), v1::LiveMessage::kPassing);
  EXPECT_TRUE(back.has_passing());
  EXPECT_FALSE(back.has_standings_snapshot());
  EXPECT_FALSE(back.has_standings_delta());
  EXPECT_FALSE(back.has_runner_state());
  EXPECT_FALSE(back.has_runner_states());
  EXPECT_EQ(back.passing().split_id(), "km21");
  EXPECT_EQ(back.passing().rank(), 88u);

  // Setting another case replaces the passing; the envelope version is untouched.
  v1::StandingsDelta* d = back.mutable_standings_delta();
  d->set_race_id("marathon");
  d->set_from_version(1206);
  d->set_to_version(1207);
  d->add_removed_bibs("77");
  EXPECT_EQ(back.body_case(), v1::LiveMessage::kStandingsDelta);
  EXPECT_FALSE(back.has_passing());
  EXPECT_EQ(back.passing().bib(), "");  // default instance
  EXPECT_EQ(back.version(), 1207u);

  v1::LiveMessage again;
  ASSERT_TRUE(again.ParseFromString(back.SerializeAsString()));
  EXPECT_EQ(again.body_case(), v1::LiveMessage::kStandingsDelta);
  EXPECT_EQ(again.standings_delta().removed_bibs(0), "77");

  // A runner-state batch, for the map.
  v1::LiveMessage map;
  v1::RunnerState* s = map.mutable_runner_states()->add_runners();
  s->set_bib("1042");
  s->set_status(v1::RUNNER_STATUS_RUNNING);
  s->set_last_split_index(3);
  s->set_distance_m(21097.5);
  s->set_speed_mps(4.5f);
  s->set_next_split_distance_m(25000.0);
  v1::LiveMessage map_back;
  ASSERT_TRUE(map_back.ParseFromString(map.SerializeAsString()));
  EXPECT_EQ(map_back.body_case(), v1::LiveMessage::kRunnerStates);
  EXPECT_DOUBLE_EQ(map_back.runner_states().runners(0).distance_m(), 21097.5);
  EXPECT_FLOAT_EQ(map_back.runner_states().runners(0).speed_mps(), 4.5f);

  msg.clear_body();
  EXPECT_EQ(msg.body_case(), v1::LiveMessage::BODY_NOT_SET);
}

v1::StandingsRow make_row() {
  v1::StandingsRow row;
  row.set_rank(3);
  row.set_bib("1042");
  row.set_name("Aiko Tanaka");
  row.set_country("JPN");
  row.set_gender("F");
  row.set_category("F35");
  row.set_status(v1::RUNNER_STATUS_FINISHED);
  row.set_last_split_id("finish");
  row.set_gun_time_ms(8231000);
  row.set_chip_time_ms(8190250);
  row.set_gap_ms(312500);
  row.set_pace_s_per_km(194.25f);  // exactly representable, so it survives JSON text
  row.add_flags("backup_line");
  row.add_flags("provisional");
  return row;
}

TEST(ProtoTest, StandingsRowJsonRoundTrip) {
  const v1::StandingsRow row = make_row();
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(row, &json).ok());

  // lowerCamelCase names; int64 as strings; uint32/float as numbers; enums by name.
  EXPECT_NE(json.find("\"gunTimeMs\":\"8231000\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"chipTimeMs\":\"8190250\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"gapMs\":\"312500\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"lastSplitId\":\"finish\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"paceSPerKm\":194.25"), std::string::npos) << json;
  EXPECT_NE(json.find("\"rank\":3"), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\":\"RUNNER_STATUS_FINISHED\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"flags\":[\"backup_line\",\"provisional\"]"), std::string::npos) << json;

  v1::StandingsRow back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(row, back)) << back.DebugString();
}

TEST(ProtoTest, StandingsRowJsonParsingIsLenientOnInput) {
  // The parser also accepts proto field names, int64 as JSON numbers and enums by number.
  const std::string json =
      R"({"rank":3,"bib":"1042","gun_time_ms":8231000,"chipTimeMs":"8190250","status":3,)"
      R"("paceSPerKm":194.25})";
  v1::StandingsRow row;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &row).ok());
  EXPECT_EQ(row.gun_time_ms(), 8231000);
  EXPECT_EQ(row.chip_time_ms(), 8190250);
  EXPECT_EQ(row.status(), v1::RUNNER_STATUS_FINISHED);
  EXPECT_FLOAT_EQ(row.pace_s_per_km(), 194.25f);

  // Unknown fields are an error by default.
  v1::StandingsRow bad;
  EXPECT_FALSE(google::protobuf::util::JsonStringToMessage(R"({"nope":1})", &bad).ok());
}

TEST(ProtoTest, LiveMessageJsonNamesTheOneofCase) {
  v1::LiveMessage msg;
  msg.set_version(9000000000);  // beyond 2^32
  v1::StandingsSnapshot* snap = msg.mutable_standings_snapshot();
  snap->set_race_id("marathon");
  snap->set_version(9000000000);
  snap->set_offset(0);
  snap->set_total(1);
  *snap->add_rows() = make_row();

  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(msg, &json).ok());
  EXPECT_NE(json.find("\"version\":\"9000000000\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"standingsSnapshot\":{"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"passing\""), std::string::npos) << json;

  v1::LiveMessage back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_EQ(back.body_case(), v1::LiveMessage::kStandingsSnapshot);
  EXPECT_TRUE(MessageDifferencer::Equals(msg, back));
}

}  // namespace
