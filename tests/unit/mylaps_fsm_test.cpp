// The MYLAPS exporter protocol state machine with literal frames from /work/shared/decoders.md
// (CR LF NUL prefixes, `=` in location names, positional markers), a fake clock, and the fake
// exporter of the simulator piped to it in memory.
#include "adapters/mylaps_fsm.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sim/mylaps_exporter.hpp"

namespace splitstream {
namespace {

constexpr TimeMs kT0 = 1'744'524'000'000;  // server time at connect
constexpr std::int64_t kDay = 86'400'000;
// The exporter's noise between frames.
const std::string kNoise("\r\n\0", 3);

const std::string kPong = "Finish@Pong@$";
const std::string kV2Passing =
    "10KM@Passing@t=13:11:30.904|c=0000041|ct=UH|d=120606|l=13|dv=4|re=0|an=00001111|g=0|b=41|"
    "n=41@1016@$";
const std::string kV1Record = "000003208:35:58.81411 05  4DF9925041357";
const std::string kV2Marker = "Finish@Marker@t=11:03:40.347|mt=Gunshot|n=Gunshot 1@4@$";
const std::string kPositionalMarker =
    "Start - Finish@Marker@2025-04-13 05:57:56.027|ext-gun|Extern gunshot@1@$";

// 13:11:30.904 on 2012-06-06, and 08:35:58.814 on 2025-04-13, as local civil ms.
constexpr std::int64_t kV2PassingTime = 15497 * kDay + 47'490'904;
constexpr std::int64_t kV1RecordTime = 20191 * kDay + 30'958'814;

std::string passing(const std::string& location, const std::string& records, int number) {
  return location + "@Passing@" + records + "@" + std::to_string(number) + "@$";
}

std::string v2_record(const std::string& chip, const std::string& time) {
  return "t=" + time + "|c=" + chip + "|ct=UH|d=250413|l=1|dv=4|re=0|an=00001111|g=0|b=" + chip +
         "|n=" + chip;
}

std::vector<std::string> keys_of(const DecoderBatch& batch) {
  std::vector<std::string> keys;
  for (const DecoderRawRead& read : batch.reads)
    keys.push_back(read.key);
  for (const DecoderGunMarker& marker : batch.markers)
    keys.push_back(marker.key);
  return keys;
}

// A protocol past the handshake.
MylapsProtocol connected(MylapsOptions options = {}) {
  MylapsProtocol protocol(std::move(options), kT0);
  protocol.on_bytes(kNoise + kPong, kT0);
  return protocol;
}

TEST(MylapsFsm, PongIsAnsweredWithTheVersionAndALocationRequest) {
  MylapsProtocol v2(MylapsOptions{}, kT0);
  DecoderOutput out = v2.on_bytes(kNoise + kPong, kT0);
  EXPECT_EQ(out.send, (std::vector<std::string>{"Splitstream@AckPong@Version2.1@$",
                                                "Splitstream@GetLocations@$"}));
  EXPECT_TRUE(out.notices.heartbeat);
  EXPECT_TRUE(v2.handshake_done());

  MylapsOptions options;
  options.version = MylapsVersion::v1;
  options.get_locations_on_connect = false;
  MylapsProtocol v1(options, kT0);
  EXPECT_EQ(v1.on_bytes(kPong, kT0).send, std::vector<std::string>{"Splitstream@AckPong@$"});
  // A second Pong is answered again, without asking for the locations twice.
  EXPECT_EQ(v2.on_bytes(kPong, kT0).send,
            std::vector<std::string>{"Splitstream@AckPong@Version2.1@$"});
}

TEST(MylapsFsm, LocationsKeepSpacesAndEqualsSigns) {
  MylapsProtocol protocol = connected();
  DecoderOutput out = protocol.on_bytes(
      kNoise + "Toolkit@GetLocations@ln=Start@ln=21Km = 2Km@ln=Start - Finish@$", kT0);
  ASSERT_TRUE(out.notices.locations.has_value());
  EXPECT_EQ(*out.notices.locations,
            (std::vector<std::string>{"Start", "21Km = 2Km", "Start - Finish"}));
  EXPECT_TRUE(out.notices.malformed.empty());
}

TEST(MylapsFsm, V2PassingIsAcknowledgedOnlyOnceDurable) {
  MylapsProtocol protocol = connected();
  DecoderOutput out = protocol.on_bytes(kNoise + kV2Passing, kT0 + 10);
  EXPECT_TRUE(out.send.empty());
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 1u);
  const DecoderRawRead& read = out.persist->reads[0];
  EXPECT_EQ(read.source, "10KM");
  EXPECT_EQ(read.chip, "0000041");
  EXPECT_EQ(read.time.base, DecoderTimeBase::local_civil);
  EXPECT_EQ(read.time.ms, kV2PassingTime);
  EXPECT_FALSE(read.rssi_dbm.has_value());
  EXPECT_EQ(read.key.find("1016"), std::string::npos) << "the message number is not identity";
  EXPECT_TRUE(protocol.batch_in_flight());
  EXPECT_TRUE(protocol.on_tick(kT0 + 20).send.empty());

  out = protocol.on_persisted(kT0 + 30);
  EXPECT_EQ(out.send, std::vector<std::string>{"Splitstream@AckPassing@1016@$"});
  EXPECT_FALSE(out.persist.has_value());
  EXPECT_FALSE(protocol.batch_in_flight());
}

TEST(MylapsFsm, LocationWithEqualsSignIsTheSource) {
  MylapsProtocol protocol = connected();
  DecoderOutput out =
      protocol.on_bytes(passing("21Km = 2Km", v2_record("0000077", "09:00:01.5"), 3), kT0);
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 1u);
  EXPECT_EQ(out.persist->reads[0].source, "21Km = 2Km");
  EXPECT_EQ(out.persist->reads[0].time.ms, 20191 * kDay + 32'401'500);  // .5 is 500 ms
}

TEST(MylapsFsm, TimeWithoutDateIsTimeOfDayAndUtcWins) {
  MylapsProtocol protocol = connected();
  DecoderOutput out = protocol.on_bytes(
      "Finish@Passing@t=13:11:30.904|c=A1@c=A2|t=00:00:01.000|d=250413|utc=1744502401000@1@$", kT0);
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 2u);
  EXPECT_EQ(out.persist->reads[0].time.base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(out.persist->reads[0].time.ms, 47'490'904);
  EXPECT_EQ(out.persist->reads[1].time.base, DecoderTimeBase::utc);
  EXPECT_EQ(out.persist->reads[1].time.ms, 1'744'502'401'000);
}

TEST(MylapsFsm, RssiIsReadFromTheConfiguredKey) {
  MylapsOptions options;
  options.rssi_key = "rs";
  MylapsProtocol protocol = connected(options);
  DecoderOutput out = protocol.on_bytes("Finish@Passing@t=10:00:00.000|c=A1|rs=-61@1@$", kT0);
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(out.persist->reads[0].rssi_dbm, -61);
}

TEST(MylapsFsm, V1StoreRecordWithChecksum) {
  EXPECT_EQ(mylaps_v1_checksum(kV1Record.substr(0, 37)), "57");
  MylapsOptions options;
  options.version = MylapsVersion::v1;
  MylapsProtocol protocol = connected(options);
  DecoderOutput out = protocol.on_bytes(kNoise + "5Km@Store@" + kV1Record + "@1@$", kT0);
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 1u);
  const DecoderRawRead& read = out.persist->reads[0];
  EXPECT_EQ(read.source, "5Km");
  EXPECT_EQ(read.chip, "0000032");
  EXPECT_EQ(read.time.base, DecoderTimeBase::local_civil);
  EXPECT_EQ(read.time.ms, kV1RecordTime);
  EXPECT_TRUE(out.notices.malformed.empty());
  EXPECT_EQ(protocol.on_persisted(kT0).send, std::vector<std::string>{"Splitstream@AckStore@1@$"});
}

TEST(MylapsFsm, V1BadChecksumRecordIsNotStoredButTheRestIs) {
  std::string bad = kV1Record;
  bad[38] = '8';  // checksum 58, the sum says 57
  const std::string frame = "5Km@Store@" + bad + "@" + kV1Record + "@2@$";
  {
    MylapsProtocol protocol = connected();
    DecoderOutput out = protocol.on_bytes(frame, kT0);
    ASSERT_EQ(out.notices.malformed.size(), 1u);
    EXPECT_NE(out.notices.malformed[0].find("checksum '58' should be 57"), std::string::npos)
        << out.notices.malformed[0];
    ASSERT_TRUE(out.persist.has_value());
    EXPECT_EQ(out.persist->reads.size(), 1u);
    // The exporter would resend the same bad bytes forever: acknowledged once the rest is stored.
    EXPECT_EQ(protocol.on_persisted(kT0).send,
              std::vector<std::string>{"Splitstream@AckStore@2@$"});
    EXPECT_EQ(protocol.stats().bad_records, 1u);
  }
  {
    MylapsOptions options;
    options.ack_messages_with_bad_records = false;
    MylapsProtocol protocol = connected(options);
    DecoderOutput out = protocol.on_bytes(frame, kT0);
    ASSERT_TRUE(out.persist.has_value());
    EXPECT_TRUE(protocol.on_persisted(kT0).send.empty());
  }
  {
    // A message of bad records only: nothing to wait for, acknowledged at once.
    MylapsProtocol protocol = connected();
    DecoderOutput out = protocol.on_bytes("5Km@Store@" + bad + "@3@$", kT0);
    EXPECT_FALSE(out.persist.has_value());
    EXPECT_EQ(out.send, std::vector<std::string>{"Splitstream@AckStore@3@$"});
  }
}

TEST(MylapsFsm, V1RecordOfWrongLengthIsMalformed) {
  MylapsProtocol protocol = connected();
  DecoderOutput out = protocol.on_bytes("5Km@Store@" + kV1Record.substr(1) + "@1@$", kT0);
  ASSERT_EQ(out.notices.malformed.size(), 1u);
  EXPECT_NE(out.notices.malformed[0].find("38 characters, not 39"), std::string::npos);
}

TEST(MylapsFsm, MarkersInBothForms) {
  MylapsProtocol protocol = connected();
  DecoderOutput out = protocol.on_bytes(kNoise + kV2Marker, kT0);
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->markers.size(), 1u);
  EXPECT_TRUE(out.persist->reads.empty());
  EXPECT_EQ(out.persist->markers[0].source, "Finish");
  EXPECT_EQ(out.persist->markers[0].label, "Gunshot 1");
  EXPECT_EQ(out.persist->markers[0].time.base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(out.persist->markers[0].time.ms, 39'820'347);
  EXPECT_EQ(protocol.on_persisted(kT0).send, std::vector<std::string>{"Splitstream@AckMarker@4@$"});

  out = protocol.on_bytes(kNoise + kPositionalMarker, kT0);
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->markers.size(), 1u);
  const DecoderGunMarker& marker = out.persist->markers[0];
  EXPECT_EQ(marker.source, "Start - Finish");
  EXPECT_EQ(marker.label, "Extern gunshot");
  EXPECT_EQ(marker.time.base, DecoderTimeBase::local_civil);
  EXPECT_EQ(marker.time.ms, 20191 * kDay + 21'476'027);
  EXPECT_EQ(protocol.on_persisted(kT0).send, std::vector<std::string>{"Splitstream@AckMarker@1@$"});
  // The marker that was never acknowledged comes back 362 times: stored once, acked each time.
  out = protocol.on_bytes(kNoise + kPositionalMarker, kT0);
  EXPECT_FALSE(out.persist.has_value());
  EXPECT_EQ(out.send, std::vector<std::string>{"Splitstream@AckMarker@1@$"});
}

TEST(MylapsFsm, OddChunksGiveTheSameResultAsWholeFrames) {
  const std::string stream = kNoise + kPong + kNoise + kV2Passing + kNoise + kNoise + "\n\r" +
                             "Toolkit@GetLocations@ln=21Km = 2Km@$" + kNoise + kV2Marker;
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 13u}) {
    MylapsProtocol protocol(MylapsOptions{}, kT0);
    std::vector<std::string> sent;
    std::vector<std::string> keys;
    std::vector<std::string> locations;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      DecoderOutput out = protocol.on_bytes(std::string_view(stream).substr(at, chunk), kT0);
      EXPECT_TRUE(out.notices.malformed.empty()) << "chunk " << chunk;
      sent.insert(sent.end(), out.send.begin(), out.send.end());
      if (out.notices.locations) locations = *out.notices.locations;
      if (out.persist) {
        for (const std::string& key : keys_of(*out.persist))
          keys.push_back(key);
        out = protocol.on_persisted(kT0);
        sent.insert(sent.end(), out.send.begin(), out.send.end());
      }
    }
    EXPECT_EQ(sent, (std::vector<std::string>{
                        "Splitstream@AckPong@Version2.1@$", "Splitstream@GetLocations@$",
                        "Splitstream@AckPassing@1016@$", "Splitstream@AckMarker@4@$"}))
        << "chunk " << chunk;
    EXPECT_EQ(keys.size(), 2u);
    EXPECT_EQ(locations, std::vector<std::string>{"21Km = 2Km"});
  }
}

TEST(MylapsFsm, OneBatchInFlightAndQueuedMessagesGoTogether) {
  MylapsProtocol protocol = connected();
  DecoderOutput out = protocol.on_bytes(passing("Finish", v2_record("A", "10:00:00.000"), 1), kT0);
  ASSERT_TRUE(out.persist.has_value());
  out = protocol.on_bytes(passing("Finish", v2_record("B", "10:00:01.000"), 2) +
                              passing("Finish", v2_record("C", "10:00:02.000"), 3),
                          kT0);
  EXPECT_FALSE(out.persist.has_value());
  EXPECT_TRUE(out.send.empty());
  EXPECT_EQ(protocol.queued_messages(), 2u);

  out = protocol.on_persisted(kT0);
  EXPECT_EQ(out.send, std::vector<std::string>{"Splitstream@AckPassing@1@$"});
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 2u);
  EXPECT_EQ(out.persist->reads[0].chip, "B");
  EXPECT_EQ(out.persist->reads[1].chip, "C");
  out = protocol.on_persisted(kT0);
  EXPECT_EQ(out.send,
            (std::vector<std::string>{"Splitstream@AckPassing@2@$", "Splitstream@AckPassing@3@$"}));
}

TEST(MylapsFsm, ResendUnderNewNumbersAndBatchingGivesTheSameKeys) {
  const std::string a = v2_record("A", "10:00:00.000");
  const std::string b = v2_record("B", "10:00:01.000");
  MylapsProtocol first = connected();
  DecoderOutput out = first.on_bytes(passing("21Km = 2Km", a + "@" + b, 1016), kT0);
  ASSERT_TRUE(out.persist.has_value());
  const std::vector<std::string> original = keys_of(*out.persist);

  // A new connection: numbers restart, the two records come back apart and in the other order.
  MylapsProtocol second = connected();
  std::vector<std::string> resent;
  out = second.on_bytes(passing("21Km = 2Km", b, 1), kT0);
  ASSERT_TRUE(out.persist.has_value());
  resent.push_back(keys_of(*out.persist).at(0));
  second.on_persisted(kT0);
  out = second.on_bytes(passing("21Km = 2Km", a, 2), kT0);
  ASSERT_TRUE(out.persist.has_value());
  resent.insert(resent.begin(), keys_of(*out.persist).at(0));
  EXPECT_EQ(resent, original);
}

TEST(MylapsFsm, ResendOfStoredRecordsIsAcknowledgedWithoutStoringAgain) {
  const std::string a = v2_record("A", "10:00:00.000");
  const std::string b = v2_record("B", "10:00:01.000");
  MylapsProtocol protocol = connected();
  ASSERT_TRUE(protocol.on_bytes(passing("Finish", a + "@" + b, 1), kT0).persist.has_value());
  protocol.on_persisted(kT0);
  // 20 s later, rebatched out of order under new numbers.
  DecoderOutput out = protocol.on_bytes(passing("Finish", b, 2) + passing("Finish", a, 3), kT0);
  EXPECT_FALSE(out.persist.has_value());
  EXPECT_EQ(out.send,
            (std::vector<std::string>{"Splitstream@AckPassing@2@$", "Splitstream@AckPassing@3@$"}));
  EXPECT_EQ(protocol.stats().records_resent, 2u);
}

TEST(MylapsFsm, ResendOfAnInFlightRecordWaitsForTheOriginal) {
  const std::string a = v2_record("A", "10:00:00.000");
  const std::string b = v2_record("B", "10:00:01.000");
  MylapsProtocol protocol = connected();
  DecoderOutput out = protocol.on_bytes(passing("Finish", a, 1), kT0);
  ASSERT_TRUE(out.persist.has_value());
  // Message 2 resends A only: not durable yet, so no ack; message 3 holds B and A again.
  out = protocol.on_bytes(passing("Finish", a, 2) + passing("Finish", b + "@" + a, 3), kT0);
  EXPECT_TRUE(out.send.empty());
  EXPECT_FALSE(out.persist.has_value());

  out = protocol.on_persisted(kT0);
  // A is durable: 1 is acked; 2 and 3 went into the next batch, which holds B alone.
  EXPECT_EQ(out.send, std::vector<std::string>{"Splitstream@AckPassing@1@$"});
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 1u);
  EXPECT_EQ(out.persist->reads[0].chip, "B");
  out = protocol.on_persisted(kT0);
  EXPECT_EQ(out.send,
            (std::vector<std::string>{"Splitstream@AckPassing@2@$", "Splitstream@AckPassing@3@$"}));
}

TEST(MylapsFsm, MalformedFramesAmongGoodOnesAreReportedAndSkipped) {
  MylapsProtocol protocol = connected();
  const std::string stream =
      kNoise + "garbage$" + kNoise + "Finish@@$" + "Finish@Passing@t=25:00:00.000|c=A@1@$" +
      "Finish@Passing@t=10:00:00.000@2@$" + "Finish@Passing@c=A|t=x@3@$" + "Finish@Frobnicate@1@$" +
      "Finish@Passing@c|t=10:00:00.000@4@$" + kNoise + kV2Passing;
  DecoderOutput out = protocol.on_bytes(stream, kT0);
  ASSERT_EQ(out.notices.malformed.size(), 7u);
  EXPECT_NE(out.notices.malformed[0].find("'garbage' has no function"), std::string::npos);
  EXPECT_NE(out.notices.malformed[1].find("has no function"), std::string::npos);
  EXPECT_NE(out.notices.malformed[2].find("not HH:MM:SS.fff"), std::string::npos);
  EXPECT_NE(out.notices.malformed[3].find("no chip (c)"), std::string::npos);
  EXPECT_NE(out.notices.malformed[4].find("not HH:MM:SS.fff"), std::string::npos);
  EXPECT_NE(out.notices.malformed[5].find("unknown function 'Frobnicate'"), std::string::npos);
  EXPECT_NE(out.notices.malformed[6].find("'c' is not key=value"), std::string::npos);
  // The messages of bad records only are acked at once; the good passing is stored.
  EXPECT_EQ(out.send,
            (std::vector<std::string>{"Splitstream@AckPassing@1@$", "Splitstream@AckPassing@2@$",
                                      "Splitstream@AckPassing@3@$", "Splitstream@AckPassing@4@$"}));
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(out.persist->reads.size(), 1u);
  EXPECT_EQ(protocol.on_persisted(kT0).send,
            std::vector<std::string>{"Splitstream@AckPassing@1016@$"});
}

TEST(MylapsFsm, MessageWithoutNumberIsStoredButNotAcknowledged) {
  MylapsProtocol protocol = connected();
  DecoderOutput out =
      protocol.on_bytes("Finish@Passing@" + v2_record("A", "10:00:00.000") + "@$", kT0);
  ASSERT_EQ(out.notices.malformed.size(), 1u);
  EXPECT_NE(out.notices.malformed[0].find("no message number"), std::string::npos);
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(out.persist->reads.size(), 1u);
  EXPECT_TRUE(protocol.on_persisted(kT0).send.empty());
}

TEST(MylapsFsm, OverlongFrameIsDroppedAndTheNextOneRead) {
  MylapsOptions options;
  options.max_frame_bytes = 200;
  MylapsProtocol protocol = connected(options);
  DecoderOutput out =
      protocol.on_bytes(std::string(150, 'x') + std::string(150, 'y') + "$" + kV2Passing, kT0);
  ASSERT_EQ(out.notices.malformed.size(), 1u);
  EXPECT_NE(out.notices.malformed[0].find("longer than 200 bytes"), std::string::npos);
  EXPECT_TRUE(out.persist.has_value());
}

TEST(MylapsFsm, QueueIsBoundedAndOverflowIsLeftForTheResend) {
  MylapsOptions options;
  options.max_queued_messages = 2;
  MylapsProtocol protocol = connected(options);
  ASSERT_TRUE(protocol.on_bytes(passing("Finish", v2_record("A", "10:00:00.000"), 1), kT0).persist);
  protocol.on_bytes(passing("Finish", v2_record("B", "10:00:01.000"), 2), kT0);
  EXPECT_TRUE(protocol.wants_bytes());
  protocol.on_bytes(passing("Finish", v2_record("C", "10:00:02.000"), 3), kT0);
  EXPECT_FALSE(protocol.wants_bytes());
  DecoderOutput out = protocol.on_bytes(passing("Finish", v2_record("D", "10:00:03.000"), 4), kT0);
  ASSERT_EQ(out.notices.malformed.size(), 1u);
  EXPECT_NE(out.notices.malformed[0].find("queue full"), std::string::npos);
  EXPECT_EQ(protocol.stats().dropped_messages, 1u);

  out = protocol.on_persisted(kT0);
  EXPECT_TRUE(protocol.wants_bytes());
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(out.persist->reads.size(), 2u);
  out = protocol.on_persisted(kT0);
  EXPECT_EQ(out.send,
            (std::vector<std::string>{"Splitstream@AckPassing@2@$", "Splitstream@AckPassing@3@$"}));
  // D comes back 20 s later under a new number and is stored then.
  out = protocol.on_bytes(passing("Finish", v2_record("D", "10:00:03.000"), 5), kT0);
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(out.persist->reads.at(0).chip, "D");
}

TEST(MylapsFsm, StoreErrorClosesWithoutAcknowledging) {
  MylapsProtocol protocol = connected();
  ASSERT_TRUE(protocol.on_bytes(kV2Passing, kT0).persist.has_value());
  protocol.on_bytes(passing("Finish", v2_record("B", "10:00:01.000"), 1017), kT0);
  DecoderOutput out = protocol.on_store_error("redis down", kT0);
  EXPECT_TRUE(out.send.empty());
  EXPECT_TRUE(out.close_after_send);
  EXPECT_NE(out.close_reason.find("redis down"), std::string::npos);
  EXPECT_TRUE(protocol.closed());
  EXPECT_FALSE(protocol.wants_bytes());
  EXPECT_TRUE(protocol.on_persisted(kT0).send.empty());
  EXPECT_TRUE(protocol.on_bytes(kNoise + kPong, kT0).send.empty());
}

TEST(MylapsFsm, PingsBothWaysAndIdleTimeout) {
  MylapsProtocol protocol = connected();  // ping 15 s, idle 60 s
  DecoderOutput out = protocol.on_bytes("Finish@Ping@$", kT0 + 1000);
  EXPECT_EQ(out.send, std::vector<std::string>{"Splitstream@AckPing@$"});
  EXPECT_TRUE(out.notices.heartbeat);

  EXPECT_TRUE(protocol.on_tick(kT0 + 15'999).send.empty());
  EXPECT_EQ(protocol.on_tick(kT0 + 16'000).send, std::vector<std::string>{"Splitstream@Ping@$"});
  EXPECT_TRUE(protocol.on_tick(kT0 + 20'000).send.empty());
  out = protocol.on_bytes("Toolkit@AckPing@$", kT0 + 20'100);
  EXPECT_TRUE(out.notices.heartbeat);
  EXPECT_TRUE(out.send.empty());

  // Silence: pings every 15 s, then the connection closes 60 s after the last bytes.
  EXPECT_EQ(protocol.on_tick(kT0 + 35'100).send.size(), 1u);
  EXPECT_EQ(protocol.on_tick(kT0 + 50'100).send.size(), 1u);
  EXPECT_FALSE(protocol.on_tick(kT0 + 80'100).close_after_send);
  out = protocol.on_tick(kT0 + 80'101);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_NE(out.close_reason.find("nothing received"), std::string::npos);
}

TEST(MylapsFsm, IdleTimeoutPausesWhileABatchWaitsOnUs) {
  MylapsProtocol protocol = connected();
  ASSERT_TRUE(protocol.on_bytes(kV2Passing, kT0).persist.has_value());
  EXPECT_FALSE(protocol.on_tick(kT0 + 120'000).close_after_send);
  protocol.on_persisted(kT0 + 120'000);
  EXPECT_FALSE(protocol.on_tick(kT0 + 179'000).close_after_send);
  EXPECT_TRUE(protocol.on_tick(kT0 + 180'001).close_after_send);
}

// ---------------------------------------------------------------------------------------------
// The fake exporter.

TEST(FakeMylapsExporter, V1RecordMatchesTheProductionLog) {
  FakeMylapsPassing p;
  p.chip = "0000032";
  p.local_time = kV1RecordTime;
  p.device = 11;
  p.reader = 0;
  p.hits = 5;
  p.lap = 4;
  EXPECT_EQ(FakeMylapsExporter::v1_record(p, 0xDF99), kV1Record);
}

TEST(FakeMylapsExporter, VersionFollowsOurAckPong) {
  FakeMylapsExporter exporter(FakeMylapsExporterOptions{}, kT0);
  EXPECT_EQ(exporter.connect(kT0), kNoise + kPong);
  exporter.add_passing(FakeMylapsPassing{});
  EXPECT_TRUE(exporter.on_tick(kT0).empty()) << "nothing before the handshake";
  exporter.on_bytes("Splitstream@AckPong@@Version2.1@$", kT0);  // malformed: V1
  EXPECT_EQ(exporter.version(), FakeMylapsExporter::Version::v1);
  const std::string bytes = exporter.on_tick(kT0);
  EXPECT_EQ(bytes.substr(0, 3), kNoise);
  EXPECT_NE(bytes.find("Finish@Store@"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("@1@$"), std::string::npos) << bytes;

  exporter.connect(kT0 + 1000);
  exporter.on_bytes("Splitstream@AckPong@Version2.1@$", kT0 + 1000);
  EXPECT_EQ(exporter.version(), FakeMylapsExporter::Version::v2);
  const std::string again = exporter.on_tick(kT0 + 1000);
  EXPECT_NE(again.find("Finish@Passing@t="), std::string::npos) << again;
  EXPECT_NE(again.find("@1@$"), std::string::npos) << "numbers restart per connection";
  exporter.on_bytes("Splitstream@AckStore@1@$", kT0 + 1000);
  EXPECT_EQ(exporter.unknown_acks(), 1u) << "the wrong ack kind acknowledges nothing";
  exporter.on_bytes("Splitstream@AckPassing@1@$", kT0 + 1000);
  EXPECT_TRUE(exporter.all_acknowledged());
}

TEST(FakeMylapsExporter, ResendsUnacknowledgedEvery20Seconds) {
  FakeMylapsExporterOptions options;
  options.prefix_frames = false;
  FakeMylapsExporter exporter(options, kT0);
  exporter.connect(kT0);
  exporter.on_bytes("Splitstream@AckPong@Version2.1@$", kT0);
  FakeMylapsPassing p;
  p.local_time = kV2PassingTime;
  exporter.add_passing(p);
  EXPECT_EQ(exporter.on_tick(kT0), "Finish@Passing@" + FakeMylapsExporter::v2_record(p) + "@1@$");
  EXPECT_TRUE(exporter.on_tick(kT0 + 19'999).empty());
  EXPECT_EQ(exporter.on_tick(kT0 + 20'000),
            "Finish@Passing@" + FakeMylapsExporter::v2_record(p) + "@2@$");
  exporter.on_bytes("Splitstream@AckPassing@2@$", kT0 + 20'001);
  EXPECT_TRUE(exporter.all_acknowledged());
  EXPECT_TRUE(exporter.on_tick(kT0 + 60'000).empty());
}

// The protocol and the fake exporter piped together in memory, with odd chunking, a slow store
// and resend storms.
class MylapsPipe {
 public:
  MylapsPipe(FakeMylapsExporterOptions exporter_options, MylapsOptions options)
      : exporter_(std::move(exporter_options), kT0), options_(std::move(options)) {}

  void connect(TimeMs now) {
    ++connects_;
    protocol_.emplace(options_, now);
    stored_this_connection_.clear();
    pending_.reset();
    to_server(exporter_.connect(now), now);
  }

  // One second of both sides: the exporter's tick, the server's, the store finishing.
  void step(TimeMs now, bool fail_store = false) {
    to_server(exporter_.on_tick(now), now);
    handle(protocol_->on_tick(now), now);
    if (pending_) {
      if (fail_store) {
        handle(protocol_->on_store_error("injected", now), now);
        return;
      }
      for (const std::string& key : keys_of(*pending_)) {
        ++stored_[key];
        ++stored_this_connection_[key];
      }
      pending_.reset();
      handle(protocol_->on_persisted(now), now);
    }
  }

  FakeMylapsExporter& exporter() { return exporter_; }
  MylapsProtocol& protocol() { return *protocol_; }
  const std::map<std::string, int>& stored() const { return stored_; }
  const std::map<std::string, int>& stored_this_connection() const {
    return stored_this_connection_;
  }
  std::uint64_t malformed() const { return malformed_; }
  int connects() const { return connects_; }

 private:
  void to_server(const std::string& bytes, TimeMs now) {
    std::size_t at = 0;
    while (at < bytes.size() && !protocol_->closed()) {
      const std::size_t chunk = 1 + rng_() % 37;
      handle(protocol_->on_bytes(std::string_view(bytes).substr(at, chunk), now), now);
      at += chunk;
    }
  }

  void handle(DecoderOutput out, TimeMs now) {
    malformed_ += out.notices.malformed.size();
    if (out.persist) {
      ASSERT_FALSE(pending_.has_value()) << "one batch in flight";
      pending_ = std::move(out.persist);
    }
    for (const std::string& frame : out.send)
      to_server(exporter_.on_bytes(frame, now), now);
    if (out.close_after_send) exporter_.disconnect();
  }

  FakeMylapsExporter exporter_;
  MylapsOptions options_;
  std::optional<MylapsProtocol> protocol_;
  std::optional<DecoderBatch> pending_;
  std::map<std::string, int> stored_;
  std::map<std::string, int> stored_this_connection_;
  std::uint64_t malformed_ = 0;
  int connects_ = 0;
  std::mt19937 rng_{7};
};

FakeMylapsPassing runner(int i) {
  FakeMylapsPassing p;
  p.location = i % 3 == 0 ? "21Km = 2Km" : "Finish";
  p.chip = std::to_string(1000 + i / 2);
  p.local_time = 20191 * kDay + 30'000'000 + i * 370;
  p.reader = i % 2;
  return p;
}

void expect_each_stored_once(const std::map<std::string, int>& stored, std::size_t count) {
  EXPECT_EQ(stored.size(), count);
  for (const auto& [key, times] : stored)
    EXPECT_EQ(times, 1) << key;
}

TEST(MylapsPipe, ResendStormsStoreEachPassingOnceAndAckEveryMessage) {
  for (const MylapsVersion version : {MylapsVersion::v2, MylapsVersion::v1}) {
    FakeMylapsExporterOptions exporter_options;
    exporter_options.max_records_per_message = 7;
    MylapsOptions options;
    options.version = version;
    options.max_queued_messages = 1000;
    MylapsPipe pipe(exporter_options, options);
    TimeMs now = kT0;
    pipe.connect(now);
    constexpr int kPassings = 300;
    for (int i = 0; i < kPassings; ++i) {
      pipe.exporter().add_passing(runner(i));
      if (i % 100 == 50) {
        FakeMylapsMarker marker;
        marker.local_time = runner(i).local_time;
        marker.positional = i == 150;
        marker.name = "Gunshot " + std::to_string(i);
        pipe.exporter().add_marker(marker);
      }
      if (i % 20 == 0) pipe.step(now += 1000);
      if (i == 100) pipe.exporter().set_resend_storm(true);
      if (i == 180) pipe.exporter().set_resend_storm(false);
    }
    for (int s = 0; s < 60 && !pipe.exporter().all_acknowledged(); ++s)
      pipe.step(now += 1000);
    EXPECT_TRUE(pipe.exporter().all_acknowledged());
    // Every message the exporter sent, resends included, was acknowledged by its own number.
    pipe.step(now += 1000);
    EXPECT_EQ(pipe.exporter().acks_received(), pipe.exporter().messages_sent());
    EXPECT_GT(pipe.exporter().messages_sent(), 100u);
    EXPECT_EQ(pipe.exporter().version(), version == MylapsVersion::v2
                                             ? FakeMylapsExporter::Version::v2
                                             : FakeMylapsExporter::Version::v1);
    EXPECT_GT(pipe.exporter().resent_records(), 0u);
    EXPECT_EQ(pipe.exporter().unknown_acks(), 0u);
    EXPECT_EQ(pipe.malformed(), 0u);
    expect_each_stored_once(pipe.stored(), kPassings + 3);
  }
}

TEST(MylapsPipe, StoreErrorsAndReconnectsLoseNothing) {
  FakeMylapsExporterOptions exporter_options;
  exporter_options.max_records_per_message = 5;
  exporter_options.resend_storm = true;
  MylapsPipe pipe(exporter_options, MylapsOptions{});
  TimeMs now = kT0;
  pipe.connect(now);
  constexpr int kPassings = 120;
  for (int i = 0; i < kPassings; ++i) {
    pipe.exporter().add_passing(runner(i));
    if (i % 10 == 0) pipe.step(now += 1000, /*fail_store=*/i % 40 == 30);
    if (pipe.protocol().closed()) pipe.connect(now += 1000);
  }
  for (int s = 0; s < 60 && !pipe.exporter().all_acknowledged(); ++s) {
    pipe.step(now += 1000);
    if (pipe.protocol().closed()) pipe.connect(now += 1000);
  }
  EXPECT_TRUE(pipe.exporter().all_acknowledged());
  EXPECT_EQ(pipe.connects(), 4);  // store errors at passings 30, 70 and 110
  // Each connection stores a record at most once; across reconnects, the store's dedupe by key
  // is what keeps it single.
  for (const auto& [key, times] : pipe.stored_this_connection())
    EXPECT_EQ(times, 1) << key;
  EXPECT_EQ(pipe.stored().size(), static_cast<std::size_t>(kPassings));
}

}  // namespace
}  // namespace splitstream
