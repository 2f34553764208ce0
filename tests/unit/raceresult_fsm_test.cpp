// The RACE RESULT protocol state machine: literal lines from the vendor quick start and the
// brief's record examples, one rule per scenario, a fake clock (plain TimeMs values); then the
// protocol against FakeRaceResultDecoder in memory, with lost pushes, a new passing file and a
// line dropped in the middle of a range fetch.
#include "adapters/raceresult_fsm.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/raceresult_decoder.hpp"

namespace splitstream {
namespace {

constexpr TimeMs kT0 = 28'800'000;  // 08:00 local, as the fake decoder's true time too
constexpr TimeMs kDay = 86'400'000;

// The 25-field GETSTATUS reply the fake decoder writes (operation mode 1, file 1).
constexpr const char* kStatusReply =
    "GETSTATUS;0000-00-00;00:02:13.001;1;1111;1;1;0;0;0;1;4.1;23;24;0;0;0;0;0;0;0;0;0;0;0;0\r\n";

std::vector<std::string> lines(std::initializer_list<const char*> texts) {
  std::vector<std::string> out;
  for (const char* text : texts)
    out.push_back(std::string(text) + "\r\n");
  return out;
}

// A protocol 1.6+ record: PassingNo;Bib/TranspCode;Date;Time;EventID;Hits;MaxRSSI;InternalData;
// IsActive;Channel;LoopID;LoopOnly;WakeupCounter;Battery;Temperature;InternalActiveData;
// BoxName;FileNumber;MaxRSSIAntenna;BoxId
std::string record20(std::uint64_t number, const std::string& chip, const std::string& time,
                     std::uint32_t file, const std::string& date = "0000-00-00") {
  return std::to_string(number) + ";" + chip + ";" + date + ";" + time +
         ";0;5;-61;000000;1;1;1;0;0;3.0;21;0;Finish-A;" + std::to_string(file) + ";1;4711";
}

std::string push20(std::uint64_t number, std::uint32_t file, const std::string& chip = "") {
  return "#P;" +
         record20(number, chip.empty() ? "C" + std::to_string(number) : chip, "09:00:00.000",
                  file) +
         "\r\n";
}

std::vector<std::string> keys(const DecoderBatch& batch) {
  std::vector<std::string> out;
  for (const DecoderRawRead& read : batch.reads)
    out.push_back(read.key);
  return out;
}

using Cursors = std::vector<std::pair<std::string, std::uint64_t>>;

// Answers the connect sequence of the vendor quick start (without STARTOPERATION) with
// `passings_reply`; returns the output of the SETPUSHPASSINGS reply (the first range, if any).
DecoderOutput handshake(RaceResultProtocol& rr, const std::string& passings_reply,
                        TimeMs now = kT0) {
  DecoderOutput out = rr.on_connected(now);
  EXPECT_EQ(out.send, lines({"SETPROTOCOL;2.0"}));
  out = rr.on_bytes("SETPROTOCOL;2.0\r\n", now);
  EXPECT_EQ(out.send, lines({"GETTIME"}));
  out = rr.on_bytes("GETTIME;0000-00-00;00:02:12.942\r\n", now);
  EXPECT_EQ(out.send, lines({"GETSTATUS"}));
  out = rr.on_bytes(kStatusReply, now);
  EXPECT_EQ(out.send, lines({"PASSINGS"}));
  out = rr.on_bytes(passings_reply + "\r\n", now);
  EXPECT_EQ(out.send, lines({"SETPUSHPASSINGS;1;0"}));
  EXPECT_TRUE(out.notices.malformed.empty());
  return rr.on_bytes("SETPUSHPASSINGS;1;0\r\n", now);
}

// --- Parsing -------------------------------------------------------------------------------------

TEST(RaceResultParse, OldLayoutLineFromTheBrief) {
  std::string error;
  const auto record =
      parse_raceresult_record("1;33;0000-00-00;00:00:02.773;6692;12;-68;09ca52", error);
  ASSERT_TRUE(record) << error;
  EXPECT_EQ(record->number, 1u);
  EXPECT_EQ(record->chip, "33");
  EXPECT_EQ(record->time.ms, 2773);
  EXPECT_EQ(record->time.base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(record->rssi, -68);
  EXPECT_FALSE(record->file);
  EXPECT_EQ(record->box, "");
}

TEST(RaceResultParse, TwentyFieldsWithDayCounterAndRealDate) {
  std::string error;
  auto record =
      parse_raceresult_record(record20(5, "E2801160", "07:03:12.250", 3, "0000-00-01"), error);
  ASSERT_TRUE(record) << error;
  EXPECT_EQ(record->time.ms, 86'400'000 + 25'392'250);  // day 1 + 07:03:12.250
  EXPECT_EQ(record->time.base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(record->file, 3u);
  EXPECT_EQ(record->box, "Finish-A");
  EXPECT_EQ(record->rssi, -61);

  // A real date (GPS or SETTIME): the wall clock written as if UTC; ".25" is 250 ms.
  const auto civil = parse_raceresult_time("2025-04-06", "08:00:01.25");
  ASSERT_TRUE(civil);
  EXPECT_EQ(civil->ms, 1'743'926'401'250);  // 20184 days * 86'400'000 + 08:00:01.250
  EXPECT_EQ(civil->base, DecoderTimeBase::local_civil);

  EXPECT_FALSE(parse_raceresult_time("0000-13-01", "00:00:00.000"));
  EXPECT_FALSE(parse_raceresult_time("0000-00-00", "24:00:00.000"));
  EXPECT_FALSE(parse_raceresult_time("0000-00-00", "00:00:00.x"));
  EXPECT_FALSE(parse_raceresult_time("2025-02-30x", "00:00:00"));
}

TEST(RaceResultParse, BadRecordsSayWhatIsWrong) {
  std::string error;
  EXPECT_FALSE(parse_raceresult_record("0;33;0000-00-00;00:00:02.773", error));
  EXPECT_EQ(error, "passing number '0' is not a positive number");
  EXPECT_FALSE(parse_raceresult_record("4;;0000-00-00;00:00:02.773", error));
  EXPECT_EQ(error, "passing 4 has an empty transponder code");
  EXPECT_FALSE(parse_raceresult_record("4;33;0000-00-00", error));
  EXPECT_EQ(error, "a passing record has at least 4 fields (number;code;date;time), got 3");
  EXPECT_FALSE(parse_raceresult_record(
      "4;33;0000-00-00;00:00:01.000;0;5;-61;000000;1;1;1;0;0;3.0;21;0;Finish-A;x;1;4711", error));
  EXPECT_EQ(error, "passing 4 has a bad file number 'x'");
  // A strange RSSI costs the RSSI, not the passing.
  const auto odd_rssi = parse_raceresult_record("4;33;0000-00-00;00:00:01.000;0;5;strong", error);
  ASSERT_TRUE(odd_rssi);
  EXPECT_FALSE(odd_rssi->rssi);
}

// --- Handshake and replies
// -------------------------------------------------------------------------

TEST(RaceResultProtocolTest, QuickStartTranscriptThenOldLayoutRange) {
  RaceResultProtocol rr({}, {}, kT0);
  DecoderOutput out = rr.on_connected(kT0);
  EXPECT_EQ(out.send, lines({"SETPROTOCOL;2.0"}));  // we speak first, one command at a time

  out = rr.on_bytes("SETPROTOCOL;2.0\r\n", kT0 + 5);
  EXPECT_EQ(out.send, lines({"GETTIME"}));
  EXPECT_EQ(rr.stats().active_protocol, "2.0");

  out = rr.on_bytes("GETTIME;0000-00-00;00:02:12.942\r\n", kT0 + 10);
  ASSERT_TRUE(out.notices.clock_reading);
  EXPECT_EQ(out.notices.clock_reading->ms, 132'942);
  EXPECT_EQ(out.notices.clock_reading->base, DecoderTimeBase::local_time_of_day);
  EXPECT_EQ(out.send, lines({"GETSTATUS"}));

  out = rr.on_bytes(kStatusReply, kT0 + 15);
  ASSERT_EQ(out.notices.status.size(), 25u);
  EXPECT_EQ(out.notices.status[0], (std::pair<std::string, std::string>("date", "0000-00-00")));
  EXPECT_EQ(out.notices.status[4], (std::pair<std::string, std::string>("operation_mode", "1")));
  EXPECT_EQ(out.notices.status[5], (std::pair<std::string, std::string>("file_number", "1")));
  EXPECT_EQ(out.notices.status[10], (std::pair<std::string, std::string>("field_10", "4.1")));
  EXPECT_EQ(out.notices.status[23].first, "time_source");
  EXPECT_EQ(out.notices.status[24].first, "error_flags");
  EXPECT_EQ(out.send, lines({"PASSINGS"}));

  // `PASSINGS;1`: no file number (an old protocol), no cursor: our file 1, fetch 1..1 after
  // turning push on.
  out = rr.on_bytes("PASSINGS;1\r\n", kT0 + 20);
  EXPECT_EQ(out.send, lines({"SETPUSHPASSINGS;1;0"}));
  EXPECT_EQ(out.notices.refetched_gaps, 1u);
  out = rr.on_bytes("SETPUSHPASSINGS;1;0\r\n", kT0 + 25);
  EXPECT_EQ(out.send, lines({"1:1"}));

  // The record, then the empty line that ends a range reply, split across two reads.
  out = rr.on_bytes("1;33;0000-00-00;00:00:02.7", kT0 + 30);
  EXPECT_FALSE(out.persist);
  out = rr.on_bytes("73;6692;12;-68;09ca52\r\n\r\n", kT0 + 31);
  ASSERT_TRUE(out.persist);
  ASSERT_EQ(out.persist->reads.size(), 1u);
  const DecoderRawRead& read = out.persist->reads[0];
  EXPECT_EQ(read.key, "1/1");
  EXPECT_EQ(read.source, "");
  EXPECT_EQ(read.chip, "33");
  EXPECT_EQ(read.time.ms, 2773);
  EXPECT_EQ(read.rssi_dbm, -68);
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 1}}));
  EXPECT_EQ(out.notices.refetched_reads, 1u);
  EXPECT_TRUE(out.send.empty());
  EXPECT_TRUE(rr.on_persisted(kT0 + 40).send.empty());
  EXPECT_EQ(rr.stored_cursors(), (std::map<std::uint32_t, std::uint64_t>{{1, 1}}));
}

TEST(RaceResultProtocolTest, PushBetweenACommandAndItsReply) {
  RaceResultProtocol rr({}, {{1, 10}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;10;1").send.empty());  // nothing missing
  // The status poll: GETSTATUS goes out, and a passing is pushed before its reply.
  DecoderOutput out = rr.on_tick(kT0 + 60'000);
  EXPECT_EQ(out.send, lines({"GETSTATUS"}));
  out = rr.on_bytes(push20(11, 1) + kStatusReply, kT0 + 60'010);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), std::vector<std::string>{"1/11"});
  EXPECT_EQ(out.persist->reads[0].source, "Finish-A");
  EXPECT_EQ(out.persist->reads[0].time.ms, 9 * 3'600'000);
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 11}}));
  EXPECT_EQ(out.notices.status.size(), 25u);  // the reply still matched GETSTATUS
  EXPECT_EQ(out.send, lines({"GETTIME"}));    // and the poll went on
  EXPECT_TRUE(out.notices.malformed.empty());
}

TEST(RaceResultProtocolTest, RangeFetchInChunksEndsAtEmptyLineWithPushesInside) {
  RaceResultOptions options;
  options.fetch_chunk = 2;
  RaceResultProtocol rr(options, {}, kT0);
  DecoderOutput out = handshake(rr, "PASSINGS;5;1");
  EXPECT_EQ(out.send, lines({"1:2"}));
  // A push of a new passing (6) inside the range reply.
  out = rr.on_bytes(record20(1, "C1", "08:00:00.000", 1) + "\r\n" + push20(6, 1) +
                        record20(2, "C2", "08:00:01.000", 1) + "\r\n\r\n",
                    kT0 + 1);
  EXPECT_EQ(out.send, lines({"3:2"}));  // the empty line ended the range, the next one goes
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), (std::vector<std::string>{"1/1", "1/6", "1/2"}));
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 2}}));  // 6 waits for 3..5
  rr.on_persisted(kT0 + 2);
  out = rr.on_bytes(record20(3, "C3", "08:00:02.000", 1) + "\r\n" +
                        record20(4, "C4", "08:00:03.000", 1) + "\r\n\r\n",
                    kT0 + 3);
  EXPECT_EQ(out.send, lines({"5:1"}));
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 4}}));
  rr.on_persisted(kT0 + 4);
  out = rr.on_bytes(record20(5, "C5", "08:00:04.000", 1) + "\r\n\r\n", kT0 + 5);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 6}}));  // 5 closes the hole below 6
  EXPECT_TRUE(out.send.empty());
  rr.on_persisted(kT0 + 6);
  EXPECT_EQ(rr.stats().refetched_gaps, 1u);
  EXPECT_EQ(rr.stats().refetched_reads, 5u);
  EXPECT_EQ(rr.stats().passings_pushed, 1u);
}

TEST(RaceResultProtocolTest, AnEmptyRangeReplyDropsTheRestOfAnOverstatedGap) {
  RaceResultOptions options;
  options.fetch_chunk = 2;
  RaceResultProtocol rr(options, {}, kT0);
  EXPECT_EQ(handshake(rr, "PASSINGS;18446744073709551615;1").send, lines({"1:2"}));
  DecoderOutput out = rr.on_bytes(record20(1, "C1", "08:00:00.000", 1) + "\r\n\r\n", kT0 + 1);
  EXPECT_EQ(out.send, lines({"3:2"}));  // the gap goes on, a chunk at a time
  out = rr.on_bytes("\r\n", kT0 + 2);   // nothing there
  EXPECT_TRUE(out.send.empty());
  EXPECT_EQ(rr.stats().refetched_gaps, 1u);
}

TEST(RaceResultProtocolTest, ReconnectWithStoredCursorsRefetchesExactlyTheGap) {
  RaceResultProtocol rr({}, {{1, 120}}, kT0);
  DecoderOutput out = handshake(rr, "PASSINGS;130;1");
  EXPECT_EQ(out.send, lines({"121:10"}));
  std::string reply;
  for (std::uint64_t n = 121; n <= 130; ++n)
    reply += record20(n, "C" + std::to_string(n), "08:10:00.000", 1) + "\r\n";
  out = rr.on_bytes(reply + "\r\n", kT0 + 1);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(out.persist->reads.size(), 10u);
  EXPECT_EQ(out.persist->reads.front().key, "1/121");
  EXPECT_EQ(out.persist->reads.back().key, "1/130");
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 130}}));
  EXPECT_EQ(out.notices.refetched_reads, 10u);
  EXPECT_EQ(rr.stats().refetched_gaps, 1u);
}

TEST(RaceResultProtocolTest, LowerCountWithoutFileNumberMeansANewFile) {
  RaceResultProtocol rr({}, {{1, 120}}, kT0);
  DecoderOutput out = handshake(rr, "PASSINGS;3");
  EXPECT_EQ(out.send, lines({"1:3"}));
  EXPECT_EQ(rr.stats().current_file, 2u);
  out = rr.on_bytes(
      "1;33;0000-00-00;00:00:02.773;6692;12;-68;09ca52\r\n"
      "2;34;0000-00-00;00:00:03.100;6692;12;-70;09ca53\r\n"
      "3;35;0000-00-00;00:00:04.000;6692;12;-71;09ca54\r\n\r\n",
      kT0 + 1);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), (std::vector<std::string>{"2/1", "2/2", "2/3"}));
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:2", 3}}));
  rr.on_persisted(kT0 + 2);
  EXPECT_EQ(rr.stored_cursors(), (std::map<std::uint32_t, std::uint64_t>{{1, 120}, {2, 3}}));
}

TEST(RaceResultProtocolTest, NewFileNamedByAPushedRecordMidRace) {
  RaceResultProtocol rr({}, {{3, 5}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;5;3").send.empty());
  // Someone pressed start on the decoder: file 4 begins at 1.
  DecoderOutput out = rr.on_bytes(push20(1, 4), kT0 + 1);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), std::vector<std::string>{"4/1"});
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:4", 1}}));
  EXPECT_EQ(out.notices.status,
            (std::vector<std::pair<std::string, std::string>>{{"passing_file", "4"}}));
  rr.on_persisted(kT0 + 2);
  out = rr.on_bytes(push20(3, 4), kT0 + 3);  // 2 was lost
  EXPECT_EQ(out.send, lines({"2:1"}));
}

TEST(RaceResultProtocolTest, MissedPushFetchesTheGapAndTheCursorStaysContiguous) {
  RaceResultProtocol rr({}, {{1, 10}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;10;1").send.empty());
  DecoderOutput out = rr.on_bytes(push20(11, 1), kT0 + 1);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 11}}));
  EXPECT_TRUE(out.send.empty());
  rr.on_persisted(kT0 + 2);

  out = rr.on_bytes(push20(14, 1), kT0 + 3);  // 12 and 13 never came
  EXPECT_EQ(out.send, lines({"12:2"}));
  EXPECT_EQ(out.notices.refetched_gaps, 1u);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), std::vector<std::string>{"1/14"});
  EXPECT_TRUE(out.persist->cursors.empty());  // 14 is stored above a hole: no cursor move
  rr.on_persisted(kT0 + 4);
  EXPECT_EQ(rr.stored_cursors().at(1), 11u);

  out = rr.on_bytes(record20(12, "C12", "08:00:00.000", 1) + "\r\n" +
                        record20(13, "C13", "08:00:00.500", 1) + "\r\n\r\n",
                    kT0 + 5);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), (std::vector<std::string>{"1/12", "1/13"}));
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 14}}));
  EXPECT_EQ(out.notices.refetched_reads, 2u);
  rr.on_persisted(kT0 + 6);
  EXPECT_EQ(rr.stored_cursors().at(1), 14u);

  // A repeat of a stored passing is not stored again.
  out = rr.on_bytes(push20(13, 1), kT0 + 7);
  EXPECT_FALSE(out.persist);
  EXPECT_EQ(rr.stats().duplicates, 1u);
}

TEST(RaceResultProtocolTest, LostLastPushIsFoundByThePassingsPoll) {
  RaceResultProtocol rr({}, {{1, 10}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;10;1").send.empty());
  DecoderOutput out = rr.on_tick(kT0 + 60'000);
  EXPECT_EQ(out.send, lines({"GETSTATUS"}));
  out = rr.on_bytes(kStatusReply, kT0 + 60'001);
  EXPECT_EQ(out.send, lines({"GETTIME"}));
  out = rr.on_bytes("GETTIME;0000-00-00;09:00:00.000\r\n", kT0 + 60'002);
  EXPECT_EQ(out.send, lines({"PASSINGS"}));
  out = rr.on_bytes("PASSINGS;11;1\r\n", kT0 + 60'003);
  EXPECT_EQ(out.send, lines({"11:1"}));  // SETPUSHPASSINGS went out once, on connect
}

TEST(RaceResultProtocolTest, TriggerPassingBecomesAMarkerAndMovesTheCursor) {
  RaceResultProtocol rr({}, {{1, 1}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;1;1").send.empty());
  DecoderOutput out = rr.on_bytes(push20(2, 1, "99999"), kT0 + 1);
  ASSERT_TRUE(out.persist);
  EXPECT_TRUE(out.persist->reads.empty());
  ASSERT_EQ(out.persist->markers.size(), 1u);
  EXPECT_EQ(out.persist->markers[0].key, "1/2");
  EXPECT_EQ(out.persist->markers[0].label, "trigger 99999");
  EXPECT_EQ(out.persist->markers[0].source, "Finish-A");
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 2}}));
}

TEST(RaceResultProtocolTest, MalformedLinesAmongGoodOnes) {
  RaceResultOptions options;
  options.max_line_bytes = 200;
  RaceResultProtocol rr(options, {{1, 6}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;6;1").send.empty());
  const std::string bytes = push20(7, 1) +
                            "#P;x;33;0000-00-00;00:00:02.773\r\n"
                            "#P;8;33;0000-13-01;00:00:02.773\r\n"
                            "#P;8;33;0000-00-00\r\n"
                            "#X;1\r\n"
                            "HELLO\r\n" +
                            std::string(300, 'z') + "\r\n" + push20(8, 1);
  DecoderOutput out = rr.on_bytes(bytes, kT0 + 1);
  EXPECT_EQ(out.notices.malformed,
            (std::vector<std::string>{
                "a line longer than 200 bytes was dropped",
                "#P: passing number 'x' is not a positive number",
                "#P: passing 8 has a bad date/time '0000-13-01;00:00:02.773'",
                "#P: a passing record has at least 4 fields (number;code;date;time), got 3",
                "unknown pushed line '#X;1'",
                "unsolicited line 'HELLO' (no command waiting for a reply)",
            }));
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), (std::vector<std::string>{"1/7", "1/8"}));
  EXPECT_FALSE(out.close_after_send);
  EXPECT_EQ(rr.stats().malformed, 6u);
}

TEST(RaceResultProtocolTest, UnexpectedReplyIsReportedAndTheSessionGoesOn) {
  RaceResultProtocol rr({}, {}, kT0);
  rr.on_connected(kT0);
  rr.on_bytes("SETPROTOCOL;2.0\r\n", kT0);
  DecoderOutput out = rr.on_bytes("ERROR;GETTIME\r\n", kT0 + 1);
  EXPECT_EQ(out.notices.malformed,
            std::vector<std::string>{"reply to GETTIME expected, got 'ERROR;GETTIME'"});
  EXPECT_EQ(out.send, lines({"GETSTATUS"}));
  EXPECT_FALSE(out.notices.clock_reading);
}

TEST(RaceResultProtocolTest, ReplyTimeoutClosesSoTheCallerRedials) {
  RaceResultProtocol rr({}, {}, kT0);
  rr.on_connected(kT0);
  EXPECT_FALSE(rr.on_tick(kT0 + 14'999).close_after_send);
  const DecoderOutput out = rr.on_tick(kT0 + 15'000);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_EQ(out.close_reason, "no reply to SETPROTOCOL;2.0 within 15000 ms");
  EXPECT_TRUE(rr.closed());
  EXPECT_FALSE(rr.wants_bytes());
  EXPECT_TRUE(rr.on_bytes("SETPROTOCOL;2.0\r\n", kT0 + 15'001).send.empty());
}

TEST(RaceResultProtocolTest, RangeRecordsCountAsProgress) {
  RaceResultProtocol rr({}, {}, kT0);
  EXPECT_EQ(handshake(rr, "PASSINGS;3;1").send, lines({"1:3"}));
  rr.on_bytes(record20(1, "C1", "08:00:00.000", 1) + "\r\n", kT0 + 10'000);
  EXPECT_FALSE(rr.on_tick(kT0 + 24'999).close_after_send);  // 15 s after the last record
  EXPECT_TRUE(rr.on_tick(kT0 + 25'000).close_after_send);
}

TEST(RaceResultProtocolTest, StoreErrorCloses) {
  RaceResultProtocol rr({}, {{1, 10}}, kT0);
  handshake(rr, "PASSINGS;10;1");
  ASSERT_TRUE(rr.on_bytes(push20(11, 1), kT0 + 1).persist);
  const DecoderOutput out =
      rr.on_store_error("READONLY You can't write against a replica", kT0 + 2);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_EQ(out.close_reason,
            "storing passings failed: READONLY You can't write against a replica");
  EXPECT_TRUE(out.send.empty());
  EXPECT_EQ(rr.stored_cursors().at(1), 10u);  // nothing counts as stored
  EXPECT_FALSE(rr.on_persisted(kT0 + 3).persist);
}

TEST(RaceResultProtocolTest, PingWhenIdleAcceptsAnyReply) {
  RaceResultProtocol rr({}, {{1, 0}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;0;1").send.empty());
  EXPECT_TRUE(rr.on_tick(kT0 + 29'999).send.empty());
  EXPECT_EQ(rr.on_tick(kT0 + 30'000).send, lines({"PING"}));
  const DecoderOutput out = rr.on_bytes("PONG\r\n", kT0 + 30'001);
  EXPECT_TRUE(out.notices.heartbeat);
  EXPECT_TRUE(out.notices.malformed.empty());
}

TEST(RaceResultProtocolTest, WantsBytesTurnsFalseWhileTheQueueIsFull) {
  RaceResultOptions options;
  options.max_queued_reads = 3;
  options.max_batch_reads = 1;
  RaceResultProtocol rr(options, {{1, 0}}, kT0);
  EXPECT_TRUE(handshake(rr, "PASSINGS;0;1").send.empty());
  DecoderOutput out = rr.on_bytes(
      push20(1, 1) + push20(2, 1) + push20(3, 1) + push20(4, 1) + push20(5, 1), kT0 + 1);
  ASSERT_TRUE(out.persist);
  EXPECT_EQ(keys(*out.persist), std::vector<std::string>{"1/1"});
  EXPECT_EQ(rr.queued_reads(), 4u);
  EXPECT_FALSE(rr.wants_bytes());
  out = rr.on_persisted(kT0 + 2);
  EXPECT_EQ(keys(*out.persist), std::vector<std::string>{"1/2"});
  EXPECT_FALSE(rr.wants_bytes());  // 3 queued
  out = rr.on_persisted(kT0 + 3);
  EXPECT_EQ(keys(*out.persist), std::vector<std::string>{"1/3"});
  EXPECT_EQ(out.persist->cursors, (Cursors{{"cursor:1", 3}}));
  EXPECT_TRUE(rr.wants_bytes());

  // A gap found while the queue is full waits to be fetched until the store catches up.
  out = rr.on_bytes(push20(9, 1) + push20(10, 1), kT0 + 4);
  EXPECT_FALSE(rr.wants_bytes());  // 4, 5, 9, 10 queued
  EXPECT_TRUE(out.send.empty());
  out = rr.on_persisted(kT0 + 5);  // 5, 9, 10 queued
  EXPECT_TRUE(out.send.empty());
  out = rr.on_persisted(kT0 + 6);  // 9, 10
  EXPECT_EQ(out.send, lines({"6:3"}));
}

TEST(RaceResultProtocolTest, StartOperationOnlyWhenAskedAndTheFileIsFetched) {
  RaceResultOptions options;
  options.start_operation = true;
  RaceResultProtocol rr(options, {{1, 1}}, kT0);
  rr.on_connected(kT0);
  rr.on_bytes("SETPROTOCOL;2.0\r\n", kT0);
  rr.on_bytes("GETTIME;0000-00-00;00:02:12.942\r\n", kT0);
  // Operation mode 0: the decoder is not running.
  rr.on_bytes(
      "GETSTATUS;0000-00-00;00:02:13.001;1;1111;0;1;0;0;0;1;4.1;23;24;0;0;0;0;0;0;0;0;0;0;0;0\r\n",
      kT0);
  rr.on_bytes("PASSINGS;2;1\r\n", kT0);
  EXPECT_EQ(rr.on_bytes("SETPUSHPASSINGS;1;0\r\n", kT0).send, lines({"2:1"}));
  // Passing 2 is fetched (not yet stored): only then the start.
  DecoderOutput out = rr.on_bytes(record20(2, "C2", "00:01:00.000", 1) + "\r\n\r\n", kT0 + 1);
  EXPECT_EQ(out.send, lines({"STARTOPERATION"}));
  out = rr.on_bytes("STARTOPERATION;OK;0000-00-00;00:00:00.000\r\n", kT0 + 2);
  EXPECT_EQ(out.send, lines({"PASSINGS"}));
  out = rr.on_bytes("PASSINGS;0;2\r\n", kT0 + 3);
  EXPECT_EQ(rr.stats().current_file, 2u);
  EXPECT_TRUE(out.send.empty());
}

// --- Against the fake decoder
// ----------------------------------------------------------------------

struct MemoryStore {
  std::map<std::string, std::string> chip_by_key;  // deduplicated by key, as the contract says
  std::size_t writes = 0;                          // reads written, repeats included
  std::map<std::uint32_t, std::uint64_t> cursors;

  void put(const DecoderBatch& batch) {
    for (const DecoderRawRead& read : batch.reads) {
      ++writes;
      chip_by_key.emplace(read.key, read.chip);
    }
    for (const auto& [name, value] : batch.cursors) {
      ASSERT_EQ(name.rfind("cursor:", 0), 0u);
      const auto file = static_cast<std::uint32_t>(std::stoul(name.substr(7)));
      EXPECT_GE(value, cursors[file]) << name;
      cursors[file] = value;
    }
  }
};

struct PumpLog {
  std::vector<DecoderTime> clock_readings;
  std::uint64_t refetched_gaps = 0;
  std::uint64_t refetched_reads = 0;
};

// Pipes bytes both ways and stores every batch at once, until both sides are quiet. With
// `cut_at`, the line drops once that command is written: the protocol gets half of the reply,
// and batches it asked to store meanwhile are lost with the process.
void pump(RaceResultProtocol& rr, FakeRaceResultDecoder& fake, MemoryStore& store, TimeMs now,
          DecoderOutput first, PumpLog& log, const std::string& cut_at = "") {
  std::deque<DecoderOutput> todo;
  todo.push_back(std::move(first));
  while (!todo.empty()) {
    DecoderOutput out = std::move(todo.front());
    todo.pop_front();
    ASSERT_FALSE(out.close_after_send) << out.close_reason;
    ASSERT_TRUE(out.notices.malformed.empty()) << out.notices.malformed.front();
    if (out.notices.clock_reading) log.clock_readings.push_back(*out.notices.clock_reading);
    log.refetched_gaps += out.notices.refetched_gaps;
    log.refetched_reads += out.notices.refetched_reads;
    // Stored before the commands go out (the caller does both at once); acknowledged after.
    if (out.persist) store.put(*out.persist);
    std::string to_us;
    for (const std::string& command : out.send) {
      const std::string reply = fake.on_bytes(command, now);
      if (!cut_at.empty() && command == cut_at + "\r\n") {
        const DecoderOutput half = rr.on_bytes(reply.substr(0, reply.size() / 2), now);
        EXPECT_FALSE(half.persist);  // the batch before it is still unacknowledged
        fake.disconnect();
        return;
      }
      to_us += reply;
    }
    if (out.persist) todo.push_back(rr.on_persisted(now));
    to_us += fake.take_pushed();
    if (!to_us.empty()) todo.push_back(rr.on_bytes(to_us, now));
  }
}

std::map<std::string, std::string> all_passings(const FakeRaceResultDecoder& fake) {
  std::map<std::string, std::string> out;
  for (std::uint32_t file = 1; file <= fake.file_count(); ++file) {
    for (const std::string& line : fake.passings(file)) {
      const std::size_t first = line.find(';');
      out.emplace(std::to_string(file) + "/" + line.substr(0, first),
                  line.substr(first + 1, line.find(';', first + 1) - first - 1));
    }
  }
  return out;
}

TEST(RaceResultAgainstFakeDecoder, EveryPassingStoredOnceThroughFaults) {
  FakeRaceResultDecoder fake;  // 13 min 13 s fast, 20-field records with file numbers
  MemoryStore store;
  PumpLog log;
  RaceResultOptions options;
  options.fetch_chunk = 20;
  TimeMs now = kT0;
  for (int i = 1; i <= 50; ++i)
    fake.add_passing("C" + std::to_string(i), kT0 - 3'600'000 + i * 1000);

  // Session 1: catch up 1..50, then pushes.
  fake.connect();
  RaceResultProtocol first(options, store.cursors, now);
  pump(first, fake, store, now, first.on_connected(now), log);
  EXPECT_EQ(store.chip_by_key.size(), 50u);
  ASSERT_FALSE(log.clock_readings.empty());
  EXPECT_EQ(log.clock_readings[0].ms, kT0 + 793'000);  // the decoder's skew, as measured
  EXPECT_TRUE(fake.push_enabled());

  // Pushes written between a command and its reply (the status poll's).
  fake.interleave_pushes(true);
  fake.add_passing("C51", now + 1000);
  fake.add_passing("C52", now + 2000);
  now += 60'000;
  pump(first, fake, store, now, first.on_tick(now), log);
  fake.interleave_pushes(false);
  EXPECT_EQ(store.cursors[1], 52u);

  // A lost push, found by the next one.
  fake.drop_next_pushes(1);
  fake.add_passing("C53", now + 1000);
  fake.add_passing("C54", now + 2000);
  const std::uint64_t gaps_before = log.refetched_gaps;
  pump(first, fake, store, now, first.on_bytes(fake.take_pushed(), now), log);
  EXPECT_EQ(log.refetched_gaps, gaps_before + 1);
  EXPECT_EQ(store.cursors[1], 54u);

  // The last push lost: only the PASSINGS poll finds it.
  fake.drop_next_pushes(1);
  fake.add_passing("C55", now + 3000);
  now += 60'000;
  pump(first, fake, store, now, first.on_tick(now), log);
  EXPECT_EQ(store.cursors[1], 55u);

  // A new passing file mid-race: pushes name file 2.
  fake.new_file();
  for (int i = 1; i <= 5; ++i)
    fake.add_passing("D" + std::to_string(i), now + i * 100);
  pump(first, fake, store, now, first.on_bytes(fake.take_pushed(), now), log);
  EXPECT_EQ(store.cursors[2], 5u);

  // The line drops; the decoder keeps reading.
  fake.disconnect();
  for (int i = 6; i <= 40; ++i)
    fake.add_passing("D" + std::to_string(i), now + i * 100);

  // Session 2 catches up 6..40 in 20s and drops in the middle of the second range.
  now += 5'000;
  fake.connect();
  RaceResultProtocol second(options, store.cursors, now);
  pump(second, fake, store, now, second.on_connected(now), log, "26:15");
  EXPECT_EQ(store.cursors[2], 25u);

  // Session 3, from what was stored, fetches the rest.
  now += 5'000;
  fake.connect();
  RaceResultProtocol third(options, store.cursors, now);
  pump(third, fake, store, now, third.on_connected(now), log);

  EXPECT_EQ(store.chip_by_key, all_passings(fake));
  EXPECT_EQ(store.chip_by_key.size(), 95u);
  EXPECT_EQ(store.cursors, (std::map<std::uint32_t, std::uint64_t>{{1, 55}, {2, 40}}));
  // Session 3 asks again from the stored cursor: the second range's records that reached the
  // protocol were never stored. Nothing is written twice.
  EXPECT_EQ(store.writes, 95u);
  std::vector<std::string> ranges;
  for (const std::string& command : fake.commands())
    if (!command.empty() && command[0] >= '0' && command[0] <= '9') ranges.push_back(command);
  EXPECT_EQ(ranges, (std::vector<std::string>{"1:20", "21:20", "41:10", "53:1", "55:1", "6:20",
                                              "26:15", "26:15"}));
  EXPECT_EQ(log.refetched_gaps, 5u);  // 1..50, 53, 55, 6..40, then 26..40 again
}

TEST(RaceResultAgainstFakeDecoder, OldProtocolNewFileBetweenSessions) {
  FakeRaceResultOptions decoder_options;
  decoder_options.file_number_in_passings = false;
  decoder_options.twenty_field_records = false;
  FakeRaceResultDecoder fake(decoder_options);
  MemoryStore store;
  PumpLog log;
  RaceResultOptions options;
  options.protocol_version = "";  // an old decoder: no SETPROTOCOL
  for (int i = 1; i <= 30; ++i)
    fake.add_passing("C" + std::to_string(i), kT0 + i * 1000);
  fake.connect();
  RaceResultProtocol first(options, store.cursors, kT0);
  pump(first, fake, store, kT0, first.on_connected(kT0), log);
  EXPECT_EQ(store.cursors, (std::map<std::uint32_t, std::uint64_t>{{1, 30}}));
  EXPECT_EQ(fake.commands().front(), "GETTIME");

  fake.disconnect();
  fake.new_file();
  for (int i = 1; i <= 10; ++i)
    fake.add_passing("D" + std::to_string(i), kT0 + kDay + i * 1000);  // next day: 0000-00-01
  fake.connect();
  RaceResultProtocol second(options, store.cursors, kT0 + kDay);
  pump(second, fake, store, kT0 + kDay, second.on_connected(kT0 + kDay), log);
  EXPECT_EQ(store.cursors, (std::map<std::uint32_t, std::uint64_t>{{1, 30}, {2, 10}}));
  EXPECT_EQ(store.chip_by_key, all_passings(fake));
  EXPECT_EQ(store.writes, 40u);
}

TEST(RaceResultAgainstFakeDecoder, HandshakeFedOneByteAtATime) {
  FakeRaceResultDecoder fake;
  for (int i = 1; i <= 3; ++i)
    fake.add_passing("C" + std::to_string(i), kT0 + i);
  fake.connect();
  RaceResultProtocol rr({}, {}, kT0);
  std::deque<std::string> commands;
  std::vector<std::string> stored;
  DecoderOutput out = rr.on_connected(kT0);
  for (int round = 0; round < 20; ++round) {
    std::string reply;
    for (const std::string& command : out.send)
      reply += fake.on_bytes(command, kT0);
    if (out.persist) {
      for (const DecoderRawRead& read : out.persist->reads)
        stored.push_back(read.key);
    }
    DecoderOutput next = out.persist ? rr.on_persisted(kT0) : DecoderOutput{};
    for (char byte : reply) {
      DecoderOutput part = rr.on_bytes(std::string_view(&byte, 1), kT0);
      ASSERT_TRUE(part.notices.malformed.empty()) << part.notices.malformed.front();
      for (std::string& command : part.send)
        next.send.push_back(std::move(command));
      if (part.persist) next.persist = std::move(part.persist);
    }
    out = std::move(next);
  }
  EXPECT_EQ(stored, (std::vector<std::string>{"1/1", "1/2", "1/3"}));
}

}  // namespace
}  // namespace splitstream
