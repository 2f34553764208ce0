// ChronoTrack CTP01, server side (Ctp01Protocol) and the fake timing software (FakeCtp01Client),
// driven with the literal lines of /work/shared/decoders.md and a fake clock (plain TimeMs).
#include "adapters/ctp01_fsm.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/ctp01_client.hpp"

namespace splitstream {
namespace {

constexpr TimeMs kT0 = 1'743'926'000'000;  // server clock at connect (2025-04-06T07:53:20Z)
constexpr TimeMs kSec = 1000;

// 2025-04-06 is day 20184 of the epoch: 20184 * 86'400'000 = 1'743'897'600'000.
constexpr std::int64_t kApril6 = 1'743'897'600'000;
// 08:00:01.25 on that day.
constexpr std::int64_t kApril6At080001_25 = kApril6 + 8 * 3'600'000 + 1'250;

const std::string kHello = "SimpleClient~0.5.0~CTP01\r\n";
const std::string kBriefRead = "CT01_33~1~START~1234~2025-04-06T08:00:01.25~1~DF239A~1\r\n";
const std::string kBriefGun = "CT01_33~4~start~guntime~07:45:01.01~0~DF239A~0\r\n";
const std::string kBriefNewLocation = "CT01_33~2038~30k~newlocation~09:15:21.00~0~ED932A~0\r\n";

std::vector<std::string> greeting_lines() {
  return {"Splitstream~1.0~4\r\n", "stream-mode=push\r\n",  "time-format=iso\r\n",
          "guntimes=true\r\n",     "newlocations=true\r\n", "getlocations\r\n"};
}

// A protocol past the handshake (hello, greeting, locations, start).
Ctp01Protocol streaming(Ctp01Options options = {}) {
  Ctp01Protocol protocol(std::move(options), kT0);
  protocol.on_bytes(kHello, kT0);
  protocol.on_bytes("ack~getlocations~START~10K~FINISH\r\n", kT0);
  return protocol;
}

std::vector<std::string> keys(const DecoderBatch& batch) {
  std::vector<std::string> out;
  for (const DecoderRawRead& read : batch.reads)
    out.push_back(read.key);
  return out;
}

std::vector<std::string> chips(const DecoderBatch& batch) {
  std::vector<std::string> out;
  for (const DecoderRawRead& read : batch.reads)
    out.push_back(read.chip);
  return out;
}

TEST(Ctp01Protocol, HandshakeTranscriptFromTheBrief) {
  Ctp01Protocol protocol({}, kT0);
  EXPECT_EQ(protocol.state(), Ctp01Protocol::State::awaiting_hello);

  DecoderOutput out = protocol.on_bytes(kHello, kT0 + 10);
  EXPECT_EQ(out.send, greeting_lines());
  EXPECT_FALSE(out.persist);
  EXPECT_TRUE(out.notices.malformed.empty());
  EXPECT_EQ(protocol.client_software(), "SimpleClient");
  EXPECT_EQ(protocol.client_version(), "0.5.0");
  ASSERT_EQ(out.notices.status.size(), 3u);
  EXPECT_EQ(out.notices.status[0],
            std::make_pair(std::string("software"), std::string("SimpleClient")));
  EXPECT_EQ(protocol.state(), Ctp01Protocol::State::awaiting_locations);

  out = protocol.on_bytes("ack~getlocations~START~10K~FINISH\r\n", kT0 + 20);
  EXPECT_EQ(out.send, std::vector<std::string>{"start\r\n"});
  ASSERT_TRUE(out.notices.locations);
  EXPECT_EQ(*out.notices.locations, (std::vector<std::string>{"START", "10K", "FINISH"}));
  EXPECT_EQ(protocol.state(), Ctp01Protocol::State::streaming);

  out = protocol.on_bytes(kBriefRead, kT0 + 30);
  EXPECT_TRUE(out.send.empty());
  ASSERT_TRUE(out.persist);
  ASSERT_EQ(out.persist->reads.size(), 1u);
  const DecoderRawRead& read = out.persist->reads[0];
  EXPECT_EQ(read.key, "START~1234~2025-04-06T08:00:01.25~DF239A~1");
  EXPECT_EQ(read.source, "START");
  EXPECT_EQ(read.chip, "1234");
  EXPECT_EQ(read.time.base, DecoderTimeBase::local_civil);
  EXPECT_EQ(read.time.ms, kApril6At080001_25);
  EXPECT_FALSE(read.rssi_dbm);
  EXPECT_TRUE(out.persist->markers.empty());
  EXPECT_TRUE(out.persist->cursors.empty());
  EXPECT_TRUE(protocol.on_persisted(kT0 + 40).send.empty());

  // We have sent nothing since 20 ms: our ping falls due 10 s later.
  EXPECT_TRUE(protocol.on_tick(kT0 + 20 + 9'999).send.empty());
  out = protocol.on_tick(kT0 + 20 + 10 * kSec);
  EXPECT_EQ(out.send, std::vector<std::string>{"ping\r\n"});
  out = protocol.on_bytes("ack~ping\r\n", kT0 + 10'100);
  EXPECT_TRUE(out.notices.heartbeat);
  EXPECT_TRUE(out.send.empty());
  EXPECT_TRUE(out.notices.malformed.empty());
}

TEST(Ctp01Protocol, LfAloneAndOneByteAtATime) {
  Ctp01Protocol protocol({}, kT0);
  const std::string stream =
      "SimpleClient~0.5.0~CTP01\nack~getlocations~START\n"
      "CT01_33~1~START~1234~2025-04-06T08:00:01.25~1~DF239A~1\n";
  std::vector<std::string> sent;
  std::optional<DecoderBatch> batch;
  for (char c : stream) {
    DecoderOutput out = protocol.on_bytes(std::string_view(&c, 1), kT0);
    sent.insert(sent.end(), out.send.begin(), out.send.end());
    if (out.persist) batch = out.persist;
  }
  std::vector<std::string> expected = greeting_lines();
  expected.push_back("start\r\n");
  EXPECT_EQ(sent, expected);
  ASSERT_TRUE(batch);
  EXPECT_EQ(keys(*batch), std::vector<std::string>{"START~1234~2025-04-06T08:00:01.25~DF239A~1"});
}

TEST(Ctp01Protocol, StartGoesOutWithoutLocationsAfterTheWait) {
  Ctp01Protocol protocol({}, kT0);
  protocol.on_bytes(kHello, kT0);
  EXPECT_TRUE(protocol.on_tick(kT0 + 4'999).send.empty());
  EXPECT_EQ(protocol.on_tick(kT0 + 5'000).send, std::vector<std::string>{"start\r\n"});
  // The late answer still lists the locations, and start is not sent twice.
  DecoderOutput out = protocol.on_bytes("ack~getlocations~START~FINISH\r\n", kT0 + 6'000);
  EXPECT_TRUE(out.send.empty());
  ASSERT_TRUE(out.notices.locations);
  EXPECT_EQ(out.notices.locations->size(), 2u);
}

TEST(Ctp01Protocol, StartWithTheGreetingWhenNotWaiting) {
  Ctp01Options options;
  options.start_wait_ms = 0;
  options.time_format = Ctp01TimeFormat::unix_seconds;
  options.extra_settings = {{"location", "multi"}, {"authentication", "none"}};
  Ctp01Protocol protocol(options, kT0);
  DecoderOutput out = protocol.on_bytes(kHello, kT0);
  EXPECT_EQ(out.send, (std::vector<std::string>{
                          "Splitstream~1.0~6\r\n", "stream-mode=push\r\n", "time-format=unix\r\n",
                          "guntimes=true\r\n", "newlocations=true\r\n", "location=multi\r\n",
                          "authentication=none\r\n", "getlocations\r\n", "start\r\n"}));
  EXPECT_EQ(protocol.state(), Ctp01Protocol::State::streaming);
}

TEST(Ctp01Protocol, ReadTimesInAllThreeFormatsWhateverWasRequested) {
  Ctp01Protocol protocol = streaming();  // asked for iso
  DecoderOutput out = protocol.on_bytes(
      "CT01_33~1~START~1234~2025-04-06T08:00:01.25~1~DF239A~1\r\n"
      "CT01_33~2~START~1235~08:00:01.25~1~DF239A~1\r\n"
      "CT01_33~3~START~1236~1743926401.25~1~DF239A~1\r\n"
      "CT01_33~4~START~1237~2025-04-06T08:00:01.25Z~1~DF239A~1\r\n"
      "CT01_33~5~START~1238~2025-04-06T08:00:01.25+02:00~1~DF239A~1\r\n"
      "CT01_13~6~START~1239~7:05:09~1~DF239A~2\r\n",
      kT0);
  EXPECT_TRUE(out.notices.malformed.empty());
  ASSERT_TRUE(out.persist);
  const std::vector<DecoderRawRead>& reads = out.persist->reads;
  ASSERT_EQ(reads.size(), 6u);
  EXPECT_EQ(reads[0].time.base, DecoderTimeBase::local_civil);
  EXPECT_EQ(reads[0].time.ms, kApril6At080001_25);
  EXPECT_EQ(reads[1].time.base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(reads[1].time.ms, 28'801'250);  // 8 h 1.25 s
  EXPECT_EQ(reads[2].time.base, DecoderTimeBase::utc);
  EXPECT_EQ(reads[2].time.ms, 1'743'926'401'250);
  EXPECT_EQ(reads[3].time.base, DecoderTimeBase::utc);
  EXPECT_EQ(reads[3].time.ms, 1'743'926'401'250);
  EXPECT_EQ(reads[4].time.base, DecoderTimeBase::utc);
  EXPECT_EQ(reads[4].time.ms, 1'743'926'401'250 - 2 * 3'600'000);
  EXPECT_EQ(reads[5].time.base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(reads[5].time.ms, (7 * 3600 + 5 * 60 + 9) * 1000);
  EXPECT_EQ(reads[5].key, "START~1239~7:05:09~DF239A~2");
}

TEST(Ctp01Protocol, TimeShapes) {
  auto ms = [](std::string_view text) { return parse_ctp01_time(text).value().ms; };
  EXPECT_EQ(ms("00:00:00.01"), 10);
  EXPECT_EQ(ms("23:59:59.99"), 86'399'990);
  EXPECT_EQ(ms("12:00:00.123456"), 43'200'123);
  EXPECT_EQ(ms("0.5"), 500);
  EXPECT_EQ(ms("1743926401"), 1'743'926'401'000);
  EXPECT_EQ(ms("2025-04-06T08:00:01"), kApril6At080001_25 - 250);
  for (std::string_view bad :
       {"", "abc", "24:00:00.00", "12:60:00.00", "12:00:60", "12:3:00", "123:00:00", "12:00:00.",
        "12:00:00.1234567890", "12:00:00x", "1.2.3", "-5", "1234567890123.5", "2025-13-01T00:00:00",
        "2025-04-06T08:00", "2025-04-06X08:00:01", "2025-04-06T08:00:01+99"}) {
    EXPECT_FALSE(parse_ctp01_time(bad)) << bad;
  }
}

TEST(Ctp01Protocol, GunTimeFromTheBriefIsAMarker) {
  Ctp01Protocol protocol = streaming();
  DecoderOutput out = protocol.on_bytes(kBriefGun, kT0);
  ASSERT_TRUE(out.persist);
  EXPECT_TRUE(out.persist->reads.empty());
  ASSERT_EQ(out.persist->markers.size(), 1u);
  const DecoderGunMarker& gun = out.persist->markers[0];
  EXPECT_EQ(gun.key, "start~guntime~07:45:01.01~DF239A~0");
  EXPECT_EQ(gun.source, "start");
  EXPECT_EQ(gun.label, "guntime");
  EXPECT_EQ(gun.time.base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(gun.time.ms, (7 * 3600 + 45 * 60 + 1) * 1000 + 10);
  EXPECT_EQ(protocol.stats().gun_times, 1u);
  EXPECT_EQ(protocol.stats().last_sequence, "4");
}

TEST(Ctp01Protocol, NewLocationFromTheBriefAsksForLocationsAgain) {
  Ctp01Protocol protocol = streaming();
  DecoderOutput out = protocol.on_bytes(kBriefNewLocation, kT0);
  EXPECT_EQ(out.send, std::vector<std::string>{"getlocations\r\n"});
  EXPECT_FALSE(out.persist);
  EXPECT_TRUE(out.notices.malformed.empty());
  out = protocol.on_bytes("ack~getlocations~start~10k~30k~finish\r\n", kT0);
  EXPECT_TRUE(out.send.empty());  // no second start
  ASSERT_TRUE(out.notices.locations);
  EXPECT_EQ(*out.notices.locations, (std::vector<std::string>{"start", "10k", "30k", "finish"}));
  EXPECT_EQ(protocol.stats().location_requests, 2u);
}

TEST(Ctp01Protocol, PingFromTheClientIsAnswered) {
  Ctp01Protocol protocol = streaming();
  DecoderOutput out = protocol.on_bytes("ping\r\n", kT0 + 3 * kSec);
  EXPECT_EQ(out.send, std::vector<std::string>{"ack~ping\r\n"});
  EXPECT_TRUE(out.notices.heartbeat);
  EXPECT_EQ(protocol.stats().pings_received, 1u);
  // Answering counts as sending: our own ping waits another full interval.
  EXPECT_TRUE(protocol.on_tick(kT0 + 12 * kSec).send.empty());
  EXPECT_EQ(protocol.on_tick(kT0 + 13 * kSec).send, std::vector<std::string>{"ping\r\n"});
}

TEST(Ctp01Protocol, MalformedLinesAmongGoodOnesAreReportedAndTheGoodOnesStored) {
  Ctp01Protocol protocol = streaming();
  DecoderOutput out = protocol.on_bytes(
      "CT01_33~10~START~2001~08:00:01.25~1~DF239A~1\r\n"
      "CT01_33~11~START~2002~08:00:01.25~1~DF239A\r\n"
      "CT01_33~12~START~2003~8 o'clock~1~DF239A~1\r\n"
      "CT01_33~13~START~~08:00:01.25~1~DF239A~1\r\n"
      "CT01_33~14~~2005~08:00:01.25~1~DF239A~1\r\n"
      "hello there\r\n"
      "\r\n"
      "CT01_33~15~FINISH~2006~08:30:00.00~1~DF239A~1~extra\r\n",
      kT0);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(chips(*out.persist), (std::vector<std::string>{"2001", "2006"}));
  ASSERT_EQ(out.notices.malformed.size(), 5u);
  EXPECT_EQ(out.notices.malformed[0],
            "read with 7 fields, expected 8: \"CT01_33~11~START~2002~08:00:01.25~1~DF239A\"");
  EXPECT_EQ(out.notices.malformed[1],
            "read with a bad time \"8 o'clock\": \"CT01_33~12~START~2003~8 o'clock~1~DF239A~1\"");
  EXPECT_NE(out.notices.malformed[2].find("read without a tag"), std::string::npos);
  EXPECT_NE(out.notices.malformed[3].find("read without a location"), std::string::npos);
  EXPECT_EQ(out.notices.malformed[4], "unknown line: \"hello there\"");
  EXPECT_EQ(protocol.stats().malformed, 5u);
  EXPECT_FALSE(protocol.closed());
  EXPECT_TRUE(protocol.on_persisted(kT0).send.empty());
  // And the next line is handled as usual.
  out = protocol.on_bytes("CT01_33~16~FINISH~2007~08:31:00.00~1~DF239A~1\r\n", kT0);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(chips(*out.persist), std::vector<std::string>{"2007"});
}

TEST(Ctp01Protocol, OverlongLineIsDroppedAndTheNextKept) {
  Ctp01Options options;
  options.max_line_bytes = 64;
  Ctp01Protocol protocol = streaming(options);
  DecoderOutput out = protocol.on_bytes(
      "CT01_33~1~START~" + std::string(100, 'A') + "~08:00:01.25~1~DF239A~1\r\n" + kBriefRead, kT0);
  ASSERT_EQ(out.notices.malformed.size(), 1u);
  EXPECT_EQ(out.notices.malformed[0], "line longer than 64 bytes dropped");
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(chips(*out.persist), std::vector<std::string>{"1234"});
}

TEST(Ctp01Protocol, BeforeTheHello) {
  Ctp01Protocol protocol({}, kT0);
  DecoderOutput out = protocol.on_bytes("GET / HTTP/1.1\r\n", kT0);
  ASSERT_EQ(out.notices.malformed.size(), 1u);
  EXPECT_EQ(out.notices.malformed[0], "not a hello (name~version~CTP01): \"GET / HTTP/1.1\"");
  EXPECT_TRUE(out.send.empty());
  // No pings to a peer that has not said it speaks CTP01.
  EXPECT_TRUE(protocol.on_tick(kT0 + 20 * kSec).send.empty());
  out = protocol.on_bytes(kHello, kT0 + 21 * kSec);
  EXPECT_EQ(out.send, greeting_lines());
  out = protocol.on_bytes(kHello, kT0 + 22 * kSec);
  ASSERT_EQ(out.notices.malformed.size(), 1u);
  EXPECT_EQ(out.notices.malformed[0], "a second hello: \"SimpleClient~0.5.0~CTP01\"");
}

TEST(Ctp01Protocol, AnotherProtocolVersionCloses) {
  Ctp01Protocol protocol({}, kT0);
  DecoderOutput out = protocol.on_bytes("SimpleClient~0.5.0~CTP02\r\n" + kBriefRead, kT0);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_EQ(out.close_reason, "unsupported protocol \"CTP02\" (we speak CTP01)");
  EXPECT_FALSE(out.persist);
  EXPECT_TRUE(protocol.closed());
  EXPECT_FALSE(protocol.wants_bytes());
}

TEST(Ctp01Protocol, OneBatchInFlightAndABoundedQueue) {
  Ctp01Options options;
  options.max_queued_reads = 3;
  Ctp01Protocol protocol = streaming(options);
  DecoderOutput out = protocol.on_bytes(
      "CT01_33~1~START~1~08:00:01.00~1~DF239A~1\r\nCT01_33~2~START~2~08:00:02.00~1~DF239A~1\r\n",
      kT0);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(chips(*out.persist), (std::vector<std::string>{"1", "2"}));  // together: one batch
  EXPECT_TRUE(protocol.batch_in_flight());

  out = protocol.on_bytes("CT01_33~3~START~3~08:00:03.00~1~DF239A~1\r\n", kT0);
  EXPECT_FALSE(out.persist);
  out = protocol.on_bytes(
      "CT01_33~4~START~4~08:00:04.00~1~DF239A~1\r\nCT01_33~5~START~5~08:00:05.00~1~DF239A~1\r\n",
      kT0);
  EXPECT_FALSE(out.persist);
  EXPECT_EQ(protocol.queued_reads(), 3u);
  EXPECT_FALSE(protocol.wants_bytes());

  out = protocol.on_persisted(kT0);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(chips(*out.persist), (std::vector<std::string>{"3", "4", "5"}));
  EXPECT_EQ(protocol.queued_reads(), 0u);
  EXPECT_TRUE(protocol.wants_bytes());

  out = protocol.on_persisted(kT0);
  EXPECT_FALSE(out.persist);
  EXPECT_FALSE(protocol.batch_in_flight());
  // A stray on_persisted changes nothing.
  EXPECT_FALSE(protocol.on_persisted(kT0).persist);
}

TEST(Ctp01Protocol, BytesFedWhileTheQueueIsFullClose) {
  Ctp01Options options;
  options.max_queued_reads = 1;
  Ctp01Protocol protocol = streaming(options);
  ASSERT_TRUE(protocol.on_bytes("CT01_33~1~START~1~08:00:01.00~1~DF239A~1\r\n", kT0).persist);
  protocol.on_bytes("CT01_33~2~START~2~08:00:02.00~1~DF239A~1\r\n", kT0);
  ASSERT_FALSE(protocol.wants_bytes());
  DecoderOutput out = protocol.on_bytes("CT01_33~3~START~3~08:00:03.00~1~DF239A~1\r\n", kT0);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_NE(out.close_reason.find("1 reads were waiting"), std::string::npos) << out.close_reason;
  EXPECT_TRUE(protocol.closed());
  EXPECT_FALSE(protocol.on_persisted(kT0).persist);
}

TEST(Ctp01Protocol, StoreErrorCloses) {
  Ctp01Protocol protocol = streaming();
  ASSERT_TRUE(protocol.on_bytes(kBriefRead, kT0).persist);
  protocol.on_bytes("CT01_33~2~START~1235~2025-04-06T08:00:02.00~1~DF239A~1\r\n", kT0);
  DecoderOutput out = protocol.on_store_error("READONLY You can't write against a replica", kT0);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_EQ(out.close_reason, "storing reads failed: READONLY You can't write against a replica");
  EXPECT_TRUE(protocol.closed());
  EXPECT_FALSE(protocol.wants_bytes());
  EXPECT_FALSE(protocol.on_persisted(kT0).persist);
  EXPECT_TRUE(protocol.on_bytes(kBriefRead, kT0).send.empty());
  EXPECT_FALSE(protocol.on_tick(kT0 + 60 * kSec).close_after_send);
}

TEST(Ctp01Protocol, AReconnectResendingTheSameReadsGivesTheSameKeys) {
  const std::string first_connection =
      "CT01_33~1~START~1234~2025-04-06T08:00:01.25~1~DF239A~1\r\n"
      "CT01_33~2~10K~1234~2025-04-06T08:40:12.50~1~DF239A~2\r\n"
      "CT01_33~3~start~guntime~07:45:01.01~0~DF239A~0\r\n";
  // The same reads after a reconnect, numbered afresh from 1 and in another order.
  const std::string second_connection =
      "CT01_33~1~start~guntime~07:45:01.01~0~DF239A~0\r\n"
      "CT01_33~2~START~1234~2025-04-06T08:00:01.25~1~DF239A~1\r\n"
      "CT01_33~3~10K~1234~2025-04-06T08:40:12.50~1~DF239A~2\r\n";
  Ctp01Protocol first = streaming();
  Ctp01Protocol second = streaming();
  DecoderOutput a = first.on_bytes(first_connection, kT0);
  DecoderOutput b = second.on_bytes(second_connection, kT0 + 60 * kSec);
  ASSERT_TRUE(a.persist);
  ASSERT_TRUE(b.persist);
  EXPECT_EQ(keys(*a.persist), keys(*b.persist));
  EXPECT_EQ(keys(*a.persist),
            (std::vector<std::string>{"START~1234~2025-04-06T08:00:01.25~DF239A~1",
                                      "10K~1234~2025-04-06T08:40:12.50~DF239A~2"}));
  ASSERT_EQ(a.persist->markers.size(), 1u);
  ASSERT_EQ(b.persist->markers.size(), 1u);
  EXPECT_EQ(a.persist->markers[0].key, b.persist->markers[0].key);
  // Same tag, same time, another port: another read.
  Ctp01Protocol third = streaming();
  DecoderOutput c =
      third.on_bytes("CT01_33~1~START~1234~2025-04-06T08:00:01.25~1~DF239A~2\r\n", kT0);
  ASSERT_TRUE(c.persist);
  EXPECT_NE(keys(*c.persist), std::vector<std::string>{keys(*a.persist)[0]});
}

TEST(Ctp01Protocol, IdleTimeoutWithAnInjectedClock) {
  Ctp01Protocol protocol({}, kT0);
  // Silence before the hello counts too.
  EXPECT_FALSE(protocol.on_tick(kT0 + 44'999).close_after_send);
  protocol.on_bytes(kHello, kT0 + 30 * kSec);
  EXPECT_FALSE(protocol.on_tick(kT0 + 74'999).close_after_send);
  DecoderOutput out = protocol.on_tick(kT0 + 75 * kSec);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_EQ(out.close_reason, "nothing received for 45 s");
  EXPECT_TRUE(protocol.closed());
  EXPECT_TRUE(protocol.on_tick(kT0 + 76 * kSec).send.empty());
}

TEST(Ctp01Protocol, IdleClockStopsWhileTheQueueIsFull) {
  Ctp01Options options;
  options.max_queued_reads = 1;
  Ctp01Protocol protocol = streaming(options);
  protocol.on_bytes("CT01_33~1~START~1~08:00:01.00~1~DF239A~1\r\n", kT0);
  protocol.on_bytes("CT01_33~2~START~2~08:00:02.00~1~DF239A~1\r\n", kT0);
  ASSERT_FALSE(protocol.wants_bytes());
  // The store takes a minute; the caller is not reading, so the client's silence is ours.
  EXPECT_FALSE(protocol.on_tick(kT0 + 60 * kSec).close_after_send);
  ASSERT_TRUE(protocol.on_persisted(kT0 + 61 * kSec).persist);
  EXPECT_FALSE(protocol.on_tick(kT0 + 61 * kSec + 44'999).close_after_send);
  EXPECT_TRUE(protocol.on_tick(kT0 + 61 * kSec + 45'000).close_after_send);
}

TEST(Ctp01Protocol, PushAckOptionAcknowledgesStoredLines) {
  Ctp01Options options;
  options.push_ack = true;
  Ctp01Protocol protocol(options, kT0);
  DecoderOutput out = protocol.on_bytes(kHello, kT0);
  ASSERT_GE(out.send.size(), 6u);
  EXPECT_EQ(out.send[0], "Splitstream~1.0~5\r\n");
  EXPECT_EQ(out.send[5], "pushmode-ack=true\r\n");
  protocol.on_bytes("ack~getlocations~START\r\n", kT0);
  out = protocol.on_bytes(kBriefRead + kBriefGun, kT0);
  ASSERT_TRUE(out.persist);
  EXPECT_TRUE(out.send.empty());  // nothing is acknowledged before it is stored
  out = protocol.on_bytes("CT01_33~5~START~1235~2025-04-06T08:00:02.00~1~DF239A~1\r\n", kT0);
  EXPECT_TRUE(out.send.empty());
  out = protocol.on_persisted(kT0);
  EXPECT_EQ(out.send, (std::vector<std::string>{"ack~1\r\n", "ack~4\r\n"}));
  ASSERT_TRUE(out.persist);
  out = protocol.on_persisted(kT0);
  EXPECT_EQ(out.send, std::vector<std::string>{"ack~5\r\n"});
}

TEST(Ctp01Protocol, AcknowledgementsOfOtherCommandsAreNotMalformed) {
  Ctp01Protocol protocol = streaming();
  DecoderOutput out = protocol.on_bytes("ack~start\r\n", kT0);
  EXPECT_TRUE(out.notices.malformed.empty());
  ASSERT_EQ(out.notices.status.size(), 1u);
  EXPECT_EQ(out.notices.status[0], std::make_pair(std::string("ack"), std::string("start")));
}

TEST(Ctp01ClientFormat, TimesAndLines) {
  const TimeMs t = 1'743'926'401'259;  // 2025-04-06T08:00:01.259Z
  EXPECT_EQ(format_ctp01_time(t, Ctp01TimeFormat::iso, 0), "2025-04-06T08:00:01.25");
  EXPECT_EQ(format_ctp01_time(t, Ctp01TimeFormat::iso, 120), "2025-04-06T10:00:01.25");
  EXPECT_EQ(format_ctp01_time(t, Ctp01TimeFormat::iso, -9 * 60), "2025-04-05T23:00:01.25");
  EXPECT_EQ(format_ctp01_time(t, Ctp01TimeFormat::normal, 0), "08:00:01.25");
  EXPECT_EQ(format_ctp01_time(t, Ctp01TimeFormat::unix_seconds, 0), "1743926401.25");
  Ctp01ReadLine line;
  line.sequence = 1;
  line.location = "START";
  line.tag = "1234";
  line.time_text = "2025-04-06T08:00:01.25";
  EXPECT_EQ(format_ctp01_read_line(line), kBriefRead);
}

// Moves bytes between the two sides until neither has anything to say.
struct Pipe {
  Ctp01Protocol& server;
  FakeCtp01Client& client;
  std::vector<DecoderBatch> batches;
  std::vector<std::string> malformed;
  std::optional<std::vector<std::string>> locations;

  void client_says(const std::string& bytes, TimeMs now) { take(server.on_bytes(bytes, now), now); }
  void take(DecoderOutput out, TimeMs now) {
    malformed.insert(malformed.end(), out.notices.malformed.begin(), out.notices.malformed.end());
    if (out.notices.locations) locations = out.notices.locations;
    std::string to_client;
    for (const std::string& bytes : out.send)
      to_client += bytes;
    if (!to_client.empty()) {
      const std::string reply = client.on_bytes(to_client);
      if (!reply.empty()) client_says(reply, now);
    }
    if (out.persist) {
      batches.push_back(*out.persist);
      take(server.on_persisted(now), now);  // stored at once
    }
  }
};

TEST(Ctp01Pipe, ProtocolAndFakeClientTalk) {
  Ctp01Options options;
  options.time_format = Ctp01TimeFormat::normal;
  options.push_ack = true;
  Ctp01Protocol server(options, kT0);
  FakeCtp01ClientOptions client_options;
  client_options.time_format = Ctp01TimeFormat::iso;  // until the server says otherwise
  client_options.utc_offset_minutes = 120;
  FakeCtp01Client client(client_options);
  Pipe pipe{server, client, {}, {}, {}};

  pipe.client_says(client.hello(), kT0);
  EXPECT_TRUE(client.greeted());
  EXPECT_TRUE(client.started());
  EXPECT_EQ(client.server_name(), "Splitstream");
  EXPECT_EQ(client.time_format(), Ctp01TimeFormat::normal);
  EXPECT_EQ(client.settings().size(), 5u);
  ASSERT_TRUE(pipe.locations);
  EXPECT_EQ(*pipe.locations, (std::vector<std::string>{"START", "10K", "FINISH"}));
  EXPECT_EQ(server.client_software(), "SimpleClient");
  EXPECT_EQ(server.state(), Ctp01Protocol::State::streaming);

  const TimeMs gun = 1'743'926'400'000;  // 08:00:00Z, 10:00:00 on the timing PC
  pipe.client_says(client.gun_time("START", gun), kT0 + kSec);
  const std::string start_read = client.read("START", "1234", gun + 1'250);
  const std::string ten_k_read = client.read("10K", "1234", gun + 2'400'000, "2");
  pipe.client_says(start_read + ten_k_read, kT0 + 2 * kSec);  // arriving together
  pipe.client_says(client.new_location("30K", gun + 3'000'000), kT0 + 3 * kSec);
  EXPECT_EQ(client.location_requests(), 2u);

  ASSERT_EQ(pipe.batches.size(), 2u);
  ASSERT_EQ(pipe.batches[0].markers.size(), 1u);
  EXPECT_EQ(pipe.batches[0].markers[0].key, "START~guntime~10:00:00.00~DF239A~0");
  EXPECT_EQ(pipe.batches[0].markers[0].time.ms, 10 * 3'600'000);
  EXPECT_EQ(keys(pipe.batches[1]), (std::vector<std::string>{"START~1234~10:00:01.25~DF239A~1",
                                                             "10K~1234~10:40:00.00~DF239A~2"}));
  EXPECT_EQ(pipe.batches[1].reads[1].time.ms, (10 * 3600 + 40 * 60) * 1000);
  EXPECT_EQ(client.push_acks(), (std::vector<std::string>{"ack~1", "ack~2", "ack~3"}));

  // Pings both ways.
  pipe.take(server.on_tick(kT0 + 13 * kSec), kT0 + 13 * kSec);
  EXPECT_EQ(client.pings_answered(), 1u);
  pipe.client_says(client.ping(), kT0 + 14 * kSec);
  EXPECT_EQ(client.ping_acks(), 1u);
  EXPECT_TRUE(pipe.malformed.empty());
  EXPECT_TRUE(client.unexpected().empty());
  EXPECT_FALSE(server.closed());
}

}  // namespace
}  // namespace splitstream
