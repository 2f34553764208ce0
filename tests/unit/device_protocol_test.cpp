// The device session state machine, one rule per scenario, with a hand-built event, hand-built
// frames and a fake clock (plain TimeMs values passed in).
#include "ingest/device_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/engine_harness.hpp"

namespace splitstream {
namespace {

using testing::kGun;
using testing::kMin;
using testing::kSec;

constexpr TimeMs kT0 = kGun + 60 * kMin;  // server time when the device connects

v1::DeviceMessage hello(const std::string& device_id, const std::string& token) {
  v1::DeviceMessage message;
  v1::Hello* h = message.mutable_hello();
  h->set_device_id(device_id);
  h->set_token(token);
  h->set_software("acme-decoder/2.4.1");
  h->set_last_acked_seq(7);
  h->set_time_ms(kT0 + 1500);  // device clock 1.5 s fast
  return message;
}

v1::Read read(std::uint64_t seq, TimeMs time_ms, const std::string& chip = "E2801160A1") {
  v1::Read r;
  r.set_seq(seq);
  r.set_time_ms(time_ms);
  r.set_chip(chip);
  return r;
}

v1::DeviceMessage batch(const std::vector<v1::Read>& reads) {
  v1::DeviceMessage message;
  v1::ReadBatch* body = message.mutable_batch();  // set even when empty
  for (const v1::Read& r : reads)
    *body->add_reads() = r;
  return message;
}

v1::DeviceMessage device_heartbeat(TimeMs time_ms) {
  v1::DeviceMessage message;
  message.mutable_heartbeat()->set_time_ms(time_ms);
  return message;
}

std::vector<std::uint64_t> seqs(const std::vector<v1::Read>& reads) {
  std::vector<std::uint64_t> out;
  for (const v1::Read& r : reads)
    out.push_back(r.seq());
  return out;
}

// The output is exactly one Error with `code` whose text contains `text`, and closes.
void expect_error(const DeviceProtocolOutput& out, v1::ErrorCode code, const std::string& text) {
  ASSERT_EQ(out.send.size(), 1u);
  ASSERT_TRUE(out.send[0].has_error());
  EXPECT_EQ(out.send[0].error().code(), code) << out.send[0].error().text();
  EXPECT_NE(out.send[0].error().text().find(text), std::string::npos)
      << "text: " << out.send[0].error().text();
  EXPECT_TRUE(out.close_after_send);
  EXPECT_FALSE(out.persist.has_value());
  EXPECT_FALSE(out.load_acked_seq);
}

v1::Ack only_ack(const DeviceProtocolOutput& out) {
  EXPECT_EQ(out.send.size(), 1u);
  EXPECT_TRUE(out.send.at(0).has_ack());
  return out.send.at(0).ack();
}

class DeviceProtocolTest : public ::testing::Test {
 protected:
  DeviceProtocolTest() {
    event_ = testing::ten_k().build();
    event_.devices.push_back({"finish-main", *event_.find_timing_point("finish"), Line::main});
    event_.devices.push_back({"k5-a", *event_.find_timing_point("k5"), Line::unspecified});
    event_.devices.push_back({"start-main", *event_.find_timing_point("start"), Line::main});
    event_.reindex();
    // start-main is declared in the event but has no token.
    EXPECT_TRUE(
        tokens_.add_from_text("finish-main tok-finish\nk5-a tok-k5\n", "tokens.txt").empty());
  }

  DeviceProtocol fresh(DeviceProtocolConfig config = {}) {
    return DeviceProtocol(event_, tokens_, config, kT0);
  }

  // A session past Welcome at kT0 with the server holding `acked_seq`.
  DeviceProtocol connected(const std::string& device_id = "finish-main",
                           const std::string& token = "tok-finish", std::uint64_t acked_seq = 0,
                           DeviceProtocolConfig config = {}) {
    DeviceProtocol session = fresh(config);
    const DeviceProtocolOutput greeting = session.on_message(hello(device_id, token), kT0);
    EXPECT_TRUE(greeting.load_acked_seq);
    const DeviceProtocolOutput welcome = session.on_acked_seq_loaded(acked_seq, kT0);
    EXPECT_EQ(welcome.send.size(), 1u);
    EXPECT_EQ(session.state(), DeviceProtocol::State::established);
    return session;
  }

  Event event_;
  DeviceTokens tokens_;
};

// --- Hello -------------------------------------------------------------------------------------

TEST_F(DeviceProtocolTest, HelloAcceptedLoadsAckedSeqThenWelcomes) {
  DeviceProtocol session = fresh();
  EXPECT_EQ(session.state(), DeviceProtocol::State::awaiting_hello);
  const DeviceProtocolOutput first = session.on_message(hello("finish-main", "tok-finish"), kT0);
  EXPECT_TRUE(first.send.empty());
  EXPECT_TRUE(first.load_acked_seq);
  EXPECT_FALSE(first.close_after_send);
  EXPECT_EQ(session.state(), DeviceProtocol::State::loading);
  EXPECT_EQ(session.device_id(), "finish-main");
  EXPECT_EQ(session.timing_point_id(), "finish");

  const DeviceProtocolOutput second = session.on_acked_seq_loaded(41, kT0 + 3);
  ASSERT_EQ(second.send.size(), 1u);
  ASSERT_TRUE(second.send[0].has_welcome());
  const v1::Welcome& welcome = second.send[0].welcome();
  EXPECT_EQ(welcome.acked_seq(), 41u);
  EXPECT_EQ(welcome.server_time_ms(), kT0 + 3);
  EXPECT_EQ(welcome.max_frame_bytes(), 1u << 20);
  EXPECT_EQ(welcome.heartbeat_interval_ms(), 10'000u);
  EXPECT_FALSE(second.close_after_send);
  EXPECT_EQ(session.state(), DeviceProtocol::State::established);
  EXPECT_EQ(session.acked_seq(), 41u);
  EXPECT_EQ(session.stats().software, "acme-decoder/2.4.1");
  EXPECT_EQ(session.stats().device_last_acked_seq, 7u);
  EXPECT_EQ(session.stats().clock_offset_ms, 1500);
}

TEST_F(DeviceProtocolTest, HelloFromUnknownDevice) {
  DeviceProtocol session = fresh();
  expect_error(session.on_message(hello("finish-mian", "tok-finish"), kT0),
               v1::ERROR_CODE_UNKNOWN_DEVICE, "device \"finish-mian\" is not declared");
  EXPECT_TRUE(session.closed());

  DeviceProtocol empty = fresh();
  expect_error(empty.on_message(hello("", "tok-finish"), kT0), v1::ERROR_CODE_UNKNOWN_DEVICE,
               "device_id is empty");
}

TEST_F(DeviceProtocolTest, HelloWithWrongToken) {
  DeviceProtocol session = fresh();
  const DeviceProtocolOutput out = session.on_message(hello("finish-main", "tok-k5"), kT0);
  expect_error(out, v1::ERROR_CODE_BAD_TOKEN, "wrong token for device \"finish-main\"");
  EXPECT_EQ(out.send[0].error().text().find("tok-"), std::string::npos);  // no token echoed
  EXPECT_TRUE(session.closed());
  // Prefix and extension of the right token are wrong too.
  DeviceProtocol prefix = fresh();
  expect_error(prefix.on_message(hello("finish-main", "tok-fin"), kT0), v1::ERROR_CODE_BAD_TOKEN,
               "wrong token");
  DeviceProtocol longer = fresh();
  expect_error(longer.on_message(hello("finish-main", "tok-finish2"), kT0),
               v1::ERROR_CODE_BAD_TOKEN, "wrong token");
}

TEST_F(DeviceProtocolTest, HelloFromDeclaredDeviceWithoutToken) {
  DeviceProtocol session = fresh();
  expect_error(session.on_message(hello("start-main", "anything"), kT0), v1::ERROR_CODE_BAD_TOKEN,
               "no token is configured for device \"start-main\"");
}

TEST_F(DeviceProtocolTest, AnythingBeforeHelloIsAViolation) {
  DeviceProtocol with_batch = fresh();
  expect_error(with_batch.on_message(batch({read(1, kT0)}), kT0), v1::ERROR_CODE_PROTOCOL_VIOLATION,
               "ReadBatch before Hello");
  DeviceProtocol with_heartbeat = fresh();
  expect_error(with_heartbeat.on_message(device_heartbeat(kT0), kT0),
               v1::ERROR_CODE_PROTOCOL_VIOLATION, "Heartbeat before Hello");
  DeviceProtocol with_nothing = fresh();
  expect_error(with_nothing.on_message(v1::DeviceMessage(), kT0), v1::ERROR_CODE_PROTOCOL_VIOLATION,
               "no Hello, ReadBatch or Heartbeat");
}

TEST_F(DeviceProtocolTest, SecondHelloIsAViolation) {
  DeviceProtocol session = connected();
  expect_error(session.on_message(hello("finish-main", "tok-finish"), kT0 + kSec),
               v1::ERROR_CODE_PROTOCOL_VIOLATION, "second Hello");
  EXPECT_TRUE(session.closed());
  // Also while the server is still loading the acked seq.
  DeviceProtocol loading = fresh();
  loading.on_message(hello("finish-main", "tok-finish"), kT0);
  expect_error(loading.on_message(hello("finish-main", "tok-finish"), kT0),
               v1::ERROR_CODE_PROTOCOL_VIOLATION, "second Hello");
}

TEST_F(DeviceProtocolTest, BatchBeforeWelcomeIsAViolation) {
  DeviceProtocol session = fresh();
  session.on_message(hello("finish-main", "tok-finish"), kT0);
  expect_error(session.on_message(batch({read(1, kT0)}), kT0), v1::ERROR_CODE_PROTOCOL_VIOLATION,
               "ReadBatch before Welcome");
}

TEST_F(DeviceProtocolTest, ClosedSessionProducesNothing) {
  DeviceProtocol session = fresh();
  session.on_message(hello("nobody", "x"), kT0);
  ASSERT_TRUE(session.closed());
  EXPECT_FALSE(session.wants_frames());
  for (const DeviceProtocolOutput& out :
       {session.on_message(hello("finish-main", "tok-finish"), kT0),
        session.on_acked_seq_loaded(3, kT0), session.on_persisted(3, {}, kT0),
        session.on_tick(kT0 + 10 * kMin), session.on_store_error("down", kT0),
        session.on_frame_error(FrameError::bad_varint, "", kT0),
        session.on_undecodable_frame("", kT0)}) {
    EXPECT_TRUE(out.send.empty());
    EXPECT_FALSE(out.persist.has_value());
  }
}

// --- Batches: validation -----------------------------------------------------------------------

TEST_F(DeviceProtocolTest, MixedBatchAcceptsGoodReadsAndRejectsBadOnesAlone) {
  DeviceProtocol session = connected();
  v1::Read no_chip = read(2, kT0, "");
  v1::Read elsewhere = read(3, kT0);
  elsewhere.set_timing_point_id("k5");
  v1::Read future = read(4, kT0 + 10 * kMin);
  v1::Read explicit_fields = read(5, kT0 - kSec);
  explicit_fields.set_device_id("finish-main");
  explicit_fields.set_timing_point_id("finish");
  v1::Read bad_line = read(7, kT0);
  bad_line.set_line(static_cast<v1::Line>(7));
  v1::Read no_time = read(8, 0);
  const DeviceProtocolOutput out = session.on_message(
      batch({read(1, kT0 - 2 * kSec), no_chip, elsewhere, future, read(0, kT0), explicit_fields,
             read(6, kT0, "NOT-ANY-RUNNERS-CHIP"), bad_line, no_time}),
      kT0);

  EXPECT_TRUE(out.send.empty());  // the Ack waits for the store
  EXPECT_FALSE(out.close_after_send);
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(out.persist->device_id, "finish-main");
  // Unknown chips are accepted: the engine keeps their reads.
  EXPECT_EQ(seqs(out.persist->reads), (std::vector<std::uint64_t>{1, 5, 6}));
  // Every refused read with a seq is marked so that it cannot become a permanent gap.
  EXPECT_EQ(out.persist->to_mark_rejected, (std::vector<std::uint64_t>{2, 3, 4, 7, 8}));

  const v1::Ack ack = only_ack(session.on_persisted(8, {}, kT0 + 20));
  EXPECT_EQ(ack.acked_seq(), 8u);
  EXPECT_EQ(ack.gaps_size(), 0);
  ASSERT_EQ(ack.rejected_size(), 6);
  EXPECT_EQ(ack.rejected(0).seq(), 2u);
  EXPECT_EQ(ack.rejected(0).code(), v1::ERROR_CODE_MALFORMED_FRAME);
  EXPECT_NE(ack.rejected(0).text().find("empty chip"), std::string::npos);
  EXPECT_EQ(ack.rejected(1).seq(), 3u);
  EXPECT_EQ(ack.rejected(1).code(), v1::ERROR_CODE_WRONG_TIMING_POINT);
  EXPECT_NE(ack.rejected(1).text().find("timing point \"k5\", but device \"finish-main\" is at "
                                        "\"finish\""),
            std::string::npos);
  EXPECT_EQ(ack.rejected(2).seq(), 4u);
  EXPECT_EQ(ack.rejected(2).code(), v1::ERROR_CODE_CLOCK_SKEW);
  EXPECT_EQ(ack.rejected(3).seq(), 0u);
  EXPECT_EQ(ack.rejected(3).code(), v1::ERROR_CODE_MALFORMED_FRAME);
  EXPECT_NE(ack.rejected(3).text().find("without seq"), std::string::npos);
  EXPECT_EQ(ack.rejected(4).seq(), 7u);
  EXPECT_NE(ack.rejected(4).text().find("unknown line value 7"), std::string::npos);
  EXPECT_EQ(ack.rejected(5).seq(), 8u);
  EXPECT_NE(ack.rejected(5).text().find("time_ms is missing"), std::string::npos);

  EXPECT_EQ(session.stats().reads_accepted, 3u);
  EXPECT_EQ(session.stats().reads_rejected, 6u);
  EXPECT_FALSE(session.closed());
}

TEST_F(DeviceProtocolTest, FillsInDeviceTimingPointAndLine) {
  DeviceProtocol session = connected();
  v1::Read backup = read(2, kT0);
  backup.set_line(v1::LINE_BACKUP);  // a line the read reports itself is kept
  backup.set_rssi_dbm(-61);
  const DeviceProtocolOutput out = session.on_message(batch({read(1, kT0), backup}), kT0);
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 2u);
  const v1::Read& filled = out.persist->reads[0];
  EXPECT_EQ(filled.device_id(), "finish-main");
  EXPECT_EQ(filled.timing_point_id(), "finish");
  EXPECT_EQ(filled.line(), v1::LINE_MAIN);  // from the device's declaration
  EXPECT_EQ(filled.chip(), "E2801160A1");
  EXPECT_EQ(filled.time_ms(), kT0);
  EXPECT_FALSE(filled.has_rssi_dbm());
  EXPECT_EQ(out.persist->reads[1].line(), v1::LINE_BACKUP);
  EXPECT_EQ(out.persist->reads[1].rssi_dbm(), -61);

  // A device declared without a line leaves reads unspecified.
  DeviceProtocol k5 = connected("k5-a", "tok-k5");
  const DeviceProtocolOutput k5_out = k5.on_message(batch({read(1, kT0)}), kT0);
  ASSERT_TRUE(k5_out.persist.has_value());
  EXPECT_EQ(k5_out.persist->reads[0].timing_point_id(), "k5");
  EXPECT_EQ(k5_out.persist->reads[0].line(), v1::LINE_UNSPECIFIED);
}

TEST_F(DeviceProtocolTest, ClockSkewBoundary) {
  DeviceProtocol session = connected();
  const TimeMs now = kT0 + 5 * kSec;
  const DeviceProtocolOutput out = session.on_message(
      batch({read(1, now + 5 * kMin), read(2, now + 5 * kMin + 1), read(3, now - 24 * 60 * kMin)}),
      now);
  ASSERT_TRUE(out.persist.has_value());
  // Exactly the limit ahead is accepted; reads from the past (a day-old backlog) always are.
  EXPECT_EQ(seqs(out.persist->reads), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(out.persist->to_mark_rejected, (std::vector<std::uint64_t>{2}));
  const v1::Ack ack = only_ack(session.on_persisted(3, {}, now));
  ASSERT_EQ(ack.rejected_size(), 1);
  EXPECT_EQ(ack.rejected(0).code(), v1::ERROR_CODE_CLOCK_SKEW);
  EXPECT_NE(ack.rejected(0).text().find("300.001 s ahead of server time (limit 300 s)"),
            std::string::npos)
      << ack.rejected(0).text();

  // The limit is configurable.
  DeviceProtocolConfig strict;
  strict.max_clock_skew_ms = kSec;
  DeviceProtocol tight = connected("finish-main", "tok-finish", 0, strict);
  const DeviceProtocolOutput tight_out =
      tight.on_message(batch({read(1, kT0 + kSec), read(2, kT0 + kSec + 1)}), kT0);
  ASSERT_TRUE(tight_out.persist.has_value());
  EXPECT_EQ(seqs(tight_out.persist->reads), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(tight_out.persist->to_mark_rejected, (std::vector<std::uint64_t>{2}));
}

TEST_F(DeviceProtocolTest, WrongTimingPointRejectsOnlyThatRead) {
  DeviceProtocol session = connected();
  v1::Read at_start = read(2, kT0);
  at_start.set_timing_point_id("start");
  v1::Read nowhere = read(3, kT0);
  nowhere.set_timing_point_id("no-such-point");
  const DeviceProtocolOutput out =
      session.on_message(batch({read(1, kT0), at_start, nowhere, read(4, kT0)}), kT0);
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(seqs(out.persist->reads), (std::vector<std::uint64_t>{1, 4}));
  EXPECT_EQ(out.persist->to_mark_rejected, (std::vector<std::uint64_t>{2, 3}));
  const v1::Ack ack = only_ack(session.on_persisted(4, {}, kT0));
  ASSERT_EQ(ack.rejected_size(), 2);
  EXPECT_EQ(ack.rejected(0).code(), v1::ERROR_CODE_WRONG_TIMING_POINT);
  EXPECT_EQ(ack.rejected(1).code(), v1::ERROR_CODE_WRONG_TIMING_POINT);
  EXPECT_NE(ack.rejected(1).text().find("\"no-such-point\""), std::string::npos);
}

TEST_F(DeviceProtocolTest, ReadNamingAnotherDeviceEndsTheSession) {
  DeviceProtocol session = connected();
  v1::Read foreign = read(2, kT0);
  foreign.set_device_id("k5-a");
  expect_error(session.on_message(batch({read(1, kT0), foreign}), kT0),
               v1::ERROR_CODE_PROTOCOL_VIOLATION,
               "read seq 2 names device \"k5-a\", but this session is device \"finish-main\"");
  EXPECT_TRUE(session.closed());
}

TEST_F(DeviceProtocolTest, OversizedBatchIsAViolation) {
  DeviceProtocolConfig small;
  small.max_reads_per_batch = 3;
  DeviceProtocol at_limit = connected("finish-main", "tok-finish", 0, small);
  const DeviceProtocolOutput ok =
      at_limit.on_message(batch({read(1, kT0), read(2, kT0), read(3, kT0)}), kT0);
  EXPECT_TRUE(ok.persist.has_value());
  DeviceProtocol over = connected("finish-main", "tok-finish", 0, small);
  expect_error(
      over.on_message(batch({read(1, kT0), read(2, kT0), read(3, kT0), read(4, kT0)}), kT0),
      v1::ERROR_CODE_PROTOCOL_VIOLATION, "ReadBatch has 4 reads; the limit is 3");

  // The default limit is 10,000 reads.
  std::vector<v1::Read> many;
  for (std::uint64_t seq = 1; seq <= 10'001; ++seq)
    many.push_back(read(seq, kT0));
  DeviceProtocol defaults = connected();
  expect_error(defaults.on_message(batch(many), kT0), v1::ERROR_CODE_PROTOCOL_VIOLATION,
               "ReadBatch has 10001 reads; the limit is 10000");
  many.pop_back();
  DeviceProtocol full = connected();
  const DeviceProtocolOutput full_out = full.on_message(batch(many), kT0);
  ASSERT_TRUE(full_out.persist.has_value());
  EXPECT_EQ(full_out.persist->reads.size(), 10'000u);
}

// --- Batches: resends, acks, gaps, one in flight -----------------------------------------------

TEST_F(DeviceProtocolTest, AckCarriesAckedSeqAndGaps) {
  DeviceProtocol session = connected();
  // Reads 3 and 4 were lost on the device's side of the link.
  const DeviceProtocolOutput out = session.on_message(
      batch({read(1, kT0), read(2, kT0), read(5, kT0), read(6, kT0), read(9, kT0)}), kT0);
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_TRUE(session.batch_in_flight());
  // The store's ranges are normalised: sorted, merged, clipped above acked_seq, empty ones out.
  const v1::Ack ack =
      only_ack(session.on_persisted(2, {{7, 8}, {3, 4}, {1, 2}, {9, 5}, {4, 4}}, kT0 + 30));
  EXPECT_EQ(ack.acked_seq(), 2u);
  ASSERT_EQ(ack.gaps_size(), 2);
  EXPECT_EQ(ack.gaps(0).from(), 3u);
  EXPECT_EQ(ack.gaps(0).to(), 4u);
  EXPECT_EQ(ack.gaps(1).from(), 7u);
  EXPECT_EQ(ack.gaps(1).to(), 8u);
  EXPECT_EQ(ack.rejected_size(), 0);
  EXPECT_EQ(session.acked_seq(), 2u);
  EXPECT_FALSE(session.batch_in_flight());

  // The device resends the gap; the store closes it.
  const DeviceProtocolOutput resend = session.on_message(batch({read(3, kT0), read(4, kT0)}), kT0);
  ASSERT_TRUE(resend.persist.has_value());
  const v1::Ack closed = only_ack(session.on_persisted(6, {{7, 8}}, kT0));
  EXPECT_EQ(closed.acked_seq(), 6u);
  ASSERT_EQ(closed.gaps_size(), 1);
  EXPECT_EQ(closed.gaps(0).from(), 7u);
}

TEST_F(DeviceProtocolTest, ResendsAtOrBelowAckedSeqAreNotPersistedAgain) {
  DeviceProtocol session = connected("finish-main", "tok-finish", 10);
  const DeviceProtocolOutput out =
      session.on_message(batch({read(9, kT0), read(10, kT0), read(11, kT0)}), kT0);
  ASSERT_TRUE(out.persist.has_value());
  EXPECT_EQ(seqs(out.persist->reads), (std::vector<std::uint64_t>{11}));
  EXPECT_EQ(session.stats().reads_already_acked, 2u);
  only_ack(session.on_persisted(11, {}, kT0));

  // A batch of nothing but resends (or an empty one) is acknowledged at once, without the store.
  const DeviceProtocolOutput only_resends =
      session.on_message(batch({read(10, kT0), read(11, kT0)}), kT0);
  EXPECT_FALSE(only_resends.persist.has_value());
  EXPECT_EQ(only_ack(only_resends).acked_seq(), 11u);
  const DeviceProtocolOutput empty = session.on_message(batch({}), kT0);
  EXPECT_FALSE(empty.persist.has_value());
  EXPECT_EQ(only_ack(empty).acked_seq(), 11u);
}

TEST_F(DeviceProtocolTest, RepeatedSeqInOneBatchKeepsTheFirst) {
  DeviceProtocol session = connected();
  const DeviceProtocolOutput out = session.on_message(
      batch({read(1, kT0, "CHIP-A"), read(2, kT0), read(1, kT0, "CHIP-B"), read(2, kT0, "")}), kT0);
  ASSERT_TRUE(out.persist.has_value());
  ASSERT_EQ(out.persist->reads.size(), 2u);
  EXPECT_EQ(out.persist->reads[0].chip(), "CHIP-A");
  EXPECT_TRUE(out.persist->to_mark_rejected.empty());
  EXPECT_EQ(session.stats().reads_repeated_in_batch, 2u);
}

TEST_F(DeviceProtocolTest, OneBatchInFlightOthersQueueThenOverload) {
  DeviceProtocol session = connected();
  const DeviceProtocolOutput a = session.on_message(batch({read(1, kT0), read(2, kT0)}), kT0);
  ASSERT_TRUE(a.persist.has_value());
  EXPECT_TRUE(session.wants_frames());

  // The second batch is validated now but waits: nothing to persist yet.
  v1::Read b_bad = read(4, kT0 + 6 * kMin);  // skewed relative to its arrival time
  const DeviceProtocolOutput b = session.on_message(batch({read(3, kT0), b_bad}), kT0);
  EXPECT_FALSE(b.persist.has_value());
  EXPECT_TRUE(b.send.empty());
  EXPECT_EQ(session.queued_batches(), 1u);
  EXPECT_FALSE(session.wants_frames());  // the caller pauses reading the socket

  // A's Ack, then B goes to the store.
  const DeviceProtocolOutput a_done = session.on_persisted(2, {}, kT0 + 7 * kMin);
  EXPECT_EQ(only_ack(a_done).acked_seq(), 2u);
  EXPECT_EQ(only_ack(a_done).rejected_size(), 0);
  ASSERT_TRUE(a_done.persist.has_value());
  EXPECT_EQ(seqs(a_done.persist->reads), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(a_done.persist->to_mark_rejected, (std::vector<std::uint64_t>{4}));
  EXPECT_TRUE(session.wants_frames());

  // An empty batch queued behind B is acknowledged right after B's Ack, in order.
  EXPECT_TRUE(session.on_message(batch({}), kT0 + 7 * kMin).send.empty());
  const DeviceProtocolOutput b_done = session.on_persisted(4, {}, kT0 + 7 * kMin);
  ASSERT_EQ(b_done.send.size(), 2u);
  EXPECT_EQ(b_done.send[0].ack().acked_seq(), 4u);
  ASSERT_EQ(b_done.send[0].ack().rejected_size(), 1);
  EXPECT_EQ(b_done.send[0].ack().rejected(0).code(), v1::ERROR_CODE_CLOCK_SKEW);
  EXPECT_EQ(b_done.send[1].ack().acked_seq(), 4u);
  EXPECT_EQ(b_done.send[1].ack().rejected_size(), 0);
  EXPECT_FALSE(b_done.persist.has_value());

  // A caller that keeps feeding batches into a full queue gets OVERLOADED, with a retry hint.
  session.on_message(batch({read(5, kT0)}), kT0);
  session.on_message(batch({read(6, kT0)}), kT0);
  const DeviceProtocolOutput overloaded = session.on_message(batch({read(7, kT0)}), kT0);
  expect_error(overloaded, v1::ERROR_CODE_OVERLOADED, "wait for each Ack");
  EXPECT_EQ(overloaded.send[0].error().retry_after_ms(), 5000u);
}

TEST_F(DeviceProtocolTest, CallerMistakesAndStoreFailuresAreInternalErrors) {
  DeviceProtocol session = connected();
  expect_error(session.on_persisted(1, {}, kT0), v1::ERROR_CODE_INTERNAL, "not in flight");

  DeviceProtocol storing = connected();
  storing.on_message(batch({read(1, kT0)}), kT0);
  const DeviceProtocolOutput failed = storing.on_store_error("redis: connection refused", kT0);
  expect_error(failed, v1::ERROR_CODE_INTERNAL, "resend from the last Ack");
  EXPECT_EQ(failed.send[0].error().retry_after_ms(), 5000u);
  EXPECT_FALSE(storing.batch_in_flight());

  DeviceProtocol early = fresh();
  expect_error(early.on_acked_seq_loaded(0, kT0), v1::ERROR_CODE_INTERNAL,
               "outside the Hello exchange");
}

// --- Frame errors ------------------------------------------------------------------------------

TEST_F(DeviceProtocolTest, FrameErrorsMapToTheirCodes) {
  DeviceProtocol undecodable = connected();
  expect_error(undecodable.on_undecodable_frame("truncated field", kT0),
               v1::ERROR_CODE_MALFORMED_FRAME, "not a valid DeviceMessage: truncated field");
  EXPECT_TRUE(undecodable.closed());

  DeviceProtocol bad_prefix = connected();
  expect_error(bad_prefix.on_frame_error(FrameError::bad_varint, "", kT0),
               v1::ERROR_CODE_MALFORMED_FRAME, "invalid frame length prefix");

  DeviceProtocol too_large = fresh();  // also before Hello
  const DeviceProtocolOutput out =
      too_large.on_frame_error(FrameError::too_large, "length prefix 2097152", kT0);
  expect_error(out, v1::ERROR_CODE_FRAME_TOO_LARGE, "limit of 1048576 bytes");
  EXPECT_NE(out.send[0].error().text().find("length prefix 2097152"), std::string::npos);
}

// --- Heartbeats and idle timeout (fake clock) --------------------------------------------------

TEST_F(DeviceProtocolTest, ServerHeartbeatWhenNothingSentForTheInterval) {
  DeviceProtocol session = connected();  // Welcome sent at kT0
  EXPECT_TRUE(session.on_tick(kT0 + 9'999).send.empty());
  DeviceProtocolOutput beat = session.on_tick(kT0 + 10'000);
  ASSERT_EQ(beat.send.size(), 1u);
  ASSERT_TRUE(beat.send[0].has_heartbeat());
  EXPECT_EQ(beat.send[0].heartbeat().time_ms(), kT0 + 10'000);
  EXPECT_FALSE(beat.close_after_send);
  EXPECT_TRUE(session.on_tick(kT0 + 15'000).send.empty());

  // Any frame sent restarts the interval: an Ack at 18 s moves the next heartbeat to 28 s.
  session.on_message(device_heartbeat(kT0 + 17'000), kT0 + 17'000);
  session.on_message(batch({read(1, kT0)}), kT0 + 17'500);
  only_ack(session.on_persisted(1, {}, kT0 + 18'000));
  EXPECT_TRUE(session.on_tick(kT0 + 20'000).send.empty());
  EXPECT_TRUE(session.on_tick(kT0 + 27'999).send.empty());
  beat = session.on_tick(kT0 + 28'000);
  ASSERT_EQ(beat.send.size(), 1u);
  EXPECT_TRUE(beat.send[0].has_heartbeat());

  // The device's heartbeats get no reply of their own but update its clock offset.
  const DeviceProtocolOutput reply =
      session.on_message(device_heartbeat(kT0 + 30'000 - 250), kT0 + 30'000);
  EXPECT_TRUE(reply.send.empty());
  EXPECT_EQ(session.stats().clock_offset_ms, -250);

  // No heartbeats before Welcome.
  DeviceProtocol waiting = fresh();
  EXPECT_TRUE(waiting.on_tick(kT0 + 10'000).send.empty());
}

TEST_F(DeviceProtocolTest, IdleDeviceIsDisconnected) {
  DeviceProtocol session = connected();
  // At exactly the timeout the device is not yet idle past it (a heartbeat is due, though).
  const DeviceProtocolOutput at_limit = session.on_tick(kT0 + 30'000);
  EXPECT_FALSE(at_limit.close_after_send);
  const DeviceProtocolOutput idle = session.on_tick(kT0 + 31'000);
  expect_error(idle, v1::ERROR_CODE_PROTOCOL_VIOLATION, "idle for 31 s");
  EXPECT_NE(idle.send[0].error().text().find("idle timeout of 30 s"), std::string::npos);
  EXPECT_TRUE(session.closed());

  // A device heartbeat keeps the session alive; so do bytes of a frame still arriving.
  DeviceProtocol alive = connected();
  alive.on_message(device_heartbeat(kT0 + 20'000), kT0 + 20'000);
  EXPECT_FALSE(alive.on_tick(kT0 + 50'000).close_after_send);
  alive.note_bytes_received(kT0 + 70'000);
  EXPECT_FALSE(alive.on_tick(kT0 + 100'000).close_after_send);
  expect_error(alive.on_tick(kT0 + 100'001), v1::ERROR_CODE_PROTOCOL_VIOLATION,
               "idle for 30.001 s");

  // A connection that never says Hello is closed the same way.
  DeviceProtocol silent = fresh();
  expect_error(silent.on_tick(kT0 + 45'000), v1::ERROR_CODE_PROTOCOL_VIOLATION, "no Hello");
}

TEST_F(DeviceProtocolTest, IdleClockPausesWhileTheServerIsBusy) {
  DeviceProtocolConfig config;
  config.idle_timeout_ms = 30'000;
  DeviceProtocol session = connected("finish-main", "tok-finish", 0, config);
  session.on_message(batch({read(1, kT0)}), kT0 + 1'000);
  // The store takes a minute: the device waits on us and is not idle.
  const DeviceProtocolOutput busy = session.on_tick(kT0 + 60'000);
  EXPECT_FALSE(busy.close_after_send);
  only_ack(session.on_persisted(1, {}, kT0 + 61'000));
  EXPECT_FALSE(session.on_tick(kT0 + 91'000).close_after_send);
  expect_error(session.on_tick(kT0 + 91'001), v1::ERROR_CODE_PROTOCOL_VIOLATION, "idle for");

  // Loading the acked seq for Welcome counts the same way.
  DeviceProtocol loading = fresh();
  loading.on_message(hello("finish-main", "tok-finish"), kT0);
  EXPECT_FALSE(loading.on_tick(kT0 + 45'000).close_after_send);
}

TEST_F(DeviceProtocolTest, ShutdownAnswersShuttingDownOnceThenNothing) {
  DeviceProtocol session = connected();
  const DeviceProtocolOutput out = session.on_shutdown(kT0 + 5);
  ASSERT_EQ(out.send.size(), 1u);
  ASSERT_TRUE(out.send[0].has_error());
  EXPECT_EQ(out.send[0].error().code(), v1::ERROR_CODE_SHUTTING_DOWN);
  EXPECT_NE(out.send[0].error().text().find("reconnect"), std::string::npos);
  EXPECT_GT(out.send[0].error().retry_after_ms(), 0u);
  EXPECT_TRUE(out.close_after_send);
  EXPECT_TRUE(session.closed());
  EXPECT_TRUE(session.on_shutdown(kT0 + 6).send.empty());
}

TEST(DeviceProtocolFormatTest, FormatsSeconds) {
  EXPECT_EQ(format_seconds(31'000), "31 s");
  EXPECT_EQ(format_seconds(30'500), "30.5 s");
  EXPECT_EQ(format_seconds(300'001), "300.001 s");
  EXPECT_EQ(format_seconds(20), "0.02 s");
  EXPECT_EQ(format_seconds(-1'500), "-1.5 s");
  EXPECT_EQ(format_seconds(0), "0 s");
}

}  // namespace
}  // namespace splitstream
