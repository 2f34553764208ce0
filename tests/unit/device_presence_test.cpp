// Device presence: the per-minute ring, a node's statistics of a device and of a decoder, the
// JSON a node writes to Redis and the "presence" object any node shows, the alert, the Lua
// script's arguments and where each device reads. Every expectation is computed by hand.
#include "ingest/device_presence.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "adapters/decoder_status.hpp"
#include "core/minute_counts.hpp"
#include "model/device_timing_points.hpp"
#include "store/key_schema.hpp"
#include "store/presence_script.hpp"
#include "support/engine_harness.hpp"

namespace splitstream {
namespace {

// 2025-04-06T08:00:00+09:00, a whole minute: minute_of(T0) == 29'064'900.
constexpr TimeMs T0 = testing::kGun;
constexpr TimeMs kMinute = 60'000;
constexpr DurationMs kHold = 30'000;  // the device idle timeout: how long a post holds

MinuteCounts::Series series_with(std::initializer_list<std::pair<std::size_t, std::uint64_t>> at) {
  MinuteCounts::Series s{};
  for (const auto& [i, n] : at)
    s[i] = n;
  return s;
}

// "[0,0,...,a,b]": 30 counts, the given ones last.
std::string counts_json(const std::vector<std::uint64_t>& last) {
  std::vector<std::uint64_t> all(30 - last.size(), 0);
  all.insert(all.end(), last.begin(), last.end());
  std::string out;
  for (const std::uint64_t n : all)
    out += (out.empty() ? "[" : ",") + std::to_string(n);
  return out + "]";
}

TEST(MinuteCounts, CountsEachMinuteOfTheLastThirty) {
  EXPECT_EQ(minute_of(T0), 29'064'900);
  EXPECT_EQ(minute_of(T0 + kMinute - 1), 29'064'900);
  EXPECT_EQ(minute_of(-1), -1);  // floor, not towards zero
  MinuteCounts counts;
  counts.add(T0 + 5'000, 3);
  counts.add(T0 + 59'999, 2);
  counts.add(T0 + kMinute, 7);
  counts.add(T0 + 3 * kMinute + 1, 1);
  // Seen in minute T0+3: it is last; T0+1 two before it, T0 three before.
  EXPECT_EQ(counts.series(T0 + 3 * kMinute + 30'000), series_with({{26, 5}, {27, 7}, {29, 1}}));
  // Minute T0+29: T0 is the oldest of the thirty.
  EXPECT_EQ(counts.series(T0 + 29 * kMinute), series_with({{0, 5}, {1, 7}, {3, 1}}));
  // Minute T0+30: T0 has left the window.
  EXPECT_EQ(counts.series(T0 + 30 * kMinute), series_with({{0, 7}, {2, 1}}));
  // T0+30 takes T0's slot and starts it again at 0.
  counts.add(T0 + 30 * kMinute + 10, 4);
  EXPECT_EQ(counts.series(T0 + 30 * kMinute), series_with({{0, 7}, {2, 1}, {29, 4}}));
  EXPECT_EQ(counts.series(T0 + 120 * kMinute), MinuteCounts::Series{});  // two hours on
}

TEST(MinuteCounts, ASeriesTakenEarlierMovesOnToTheCurrentMinute) {
  MinuteCounts::Series s{};
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = i + 1;  // 1 (oldest) .. 30 (its current minute)
  const TimeMs taken = T0 + 10'000;
  EXPECT_EQ(shift_series(s, taken, T0 + 50'000), s);  // the same minute
  MinuteCounts::Series one{};
  for (std::size_t i = 0; i < 29; ++i)
    one[i] = i + 2;  // 2 .. 30, then 0 for the new minute
  EXPECT_EQ(shift_series(s, taken, T0 + kMinute), one);
  MinuteCounts::Series three{};
  for (std::size_t i = 0; i < 27; ++i)
    three[i] = i + 4;
  EXPECT_EQ(shift_series(s, taken, T0 + 3 * kMinute + 59'999), three);
  EXPECT_EQ(shift_series(s, taken, T0 + 30 * kMinute), MinuteCounts::Series{});
  EXPECT_EQ(shift_series(s, taken, T0 - kMinute), s);  // a reader whose clock is behind
}

TEST(DevicePresence, ASessionsDeviceIsConnectedThenOfflineWithItsCounts) {
  DevicePresence p;
  EXPECT_EQ(p.state(T0, kHold), "");  // never on this node: nothing to publish
  p.session_opened("10.0.0.7", T0);
  EXPECT_EQ(p.state(T0, kHold), "connected");
  p.record_stored(100, {}, T0 + 10'000);
  p.record_stored(20, {{105, 107}, {110, 110}}, T0 + 70'000);  // 3 + 1 missing
  p.record_stored(0, {}, T0 + 80'000);  // only duplicates: no read, gaps closed
  p.record_refused(2, 1);
  p.record_refused(0, 1);
  p.record_clock(-2500);
  PresenceRecord r = p.record(T0 + 90'000, kHold);
  EXPECT_EQ(r.state, "connected");
  EXPECT_EQ(r.since_ms, T0);
  EXPECT_EQ(r.last_read_ms, T0 + 70'000);
  EXPECT_EQ(r.reads_total, 120u);
  EXPECT_EQ(r.reads_per_minute, series_with({{28, 100}, {29, 20}}));
  EXPECT_EQ(r.clock_offset_ms, -2500);
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_EQ(r.backlog, std::nullopt);
  EXPECT_EQ(r.rejected, 2u);
  EXPECT_EQ(r.malformed, 2u);
  EXPECT_EQ(r.remote, "10.0.0.7");
  p.record_stored(1, {{200, 203}}, T0 + 95'000);
  EXPECT_EQ(p.record(T0 + 95'000, kHold).gaps, 4u);

  // A second session of the same device (reconnected before the first timed out): still
  // connected since the first; offline when the last one ends.
  p.session_opened("10.0.0.8", T0 + 100'000);
  p.session_closed(T0 + 110'000);
  r = p.record(T0 + 115'000, kHold);
  EXPECT_EQ(r.state, "connected");
  EXPECT_EQ(r.since_ms, T0);
  EXPECT_EQ(r.remote, "10.0.0.8");
  p.session_closed(T0 + 120'000);
  r = p.record(T0 + 121'000, kHold);
  EXPECT_EQ(r.state, "offline");
  EXPECT_EQ(r.since_ms, T0 + 120'000);
  EXPECT_EQ(r.remote, "10.0.0.8");  // where it was last
  EXPECT_EQ(r.reads_total, 121u);   // kept for the crew
}

TEST(DevicePresence, APostingDeviceIsConnectedWhileItKeepsPosting) {
  DevicePresence p;
  p.http_post(T0, kHold);
  p.http_post(T0 + 20'000, kHold);
  PresenceRecord r = p.record(T0 + 50'000, kHold);  // 30 s after the last post: still held
  EXPECT_EQ(r.state, "connected");
  EXPECT_EQ(r.since_ms, T0);
  EXPECT_EQ(r.remote, "");
  r = p.record(T0 + 50'001, kHold);
  EXPECT_EQ(r.state, "offline");
  EXPECT_EQ(r.since_ms, T0 + 50'000);  // when the last post's hold ran out
  p.http_post(T0 + 60'000, kHold);     // a new run of posts
  EXPECT_EQ(p.record(T0 + 60'000, kHold).since_ms, T0 + 60'000);
}

TEST(DevicePresence, TheRedisValueIsTheRecordWithNodeAndTime) {
  PresenceRecord r;
  r.state = "connected";
  r.since_ms = T0;
  r.last_read_ms = T0 + 70'000;
  r.reads_total = 120;
  r.reads_per_minute = series_with({{28, 100}, {29, 20}});
  r.clock_offset_ms = -2500;
  r.gaps = 4;
  r.rejected = 2;
  r.malformed = 1;
  r.remote = "10.0.0.7";
  EXPECT_EQ(presence_value_json(r, "node-b", T0 + 90'000),
            R"({"node":"node-b","state":"connected","since_ms":1743894000000,)"
            R"("last_read_ms":1743894070000,"reads_total":120,"reads_per_minute":)" +
                counts_json({100, 20}) +
                R"(,"clock_offset_ms":-2500,"gaps":4,"backlog":null,"rejected":2,"malformed":1,)"
                R"("remote":"10.0.0.7","taken_ms":1743894090000})");
  PresenceRecord empty;
  empty.state = "listening";
  empty.backlog = 7;
  EXPECT_EQ(presence_value_json(empty, "n", 5),
            R"({"node":"n","state":"listening","since_ms":null,"last_read_ms":null,)"
            R"("reads_total":0,"reads_per_minute":)" +
                counts_json({}) +
                R"(,"clock_offset_ms":null,"gaps":0,"backlog":7,"rejected":0,"malformed":0,)"
                R"("remote":"","taken_ms":5})");
}

TEST(DevicePresence, TheViewIsWhatAnyNodeShowsAtItsNow) {
  const std::string value =
      R"({"node":"node-b","state":"connected","since_ms":1743894000000,)"
      R"("last_read_ms":1743894070000,"reads_total":120,"reads_per_minute":)" +
      counts_json({100, 20}) +
      R"(,"clock_offset_ms":-2500,"gaps":4,"backlog":null,"rejected":2,"malformed":1,)"
      R"("remote":"10.0.0.7","taken_ms":1743894090000})";
  // Seen at T0+125 s: 55 s since the last read, one minute on from when it was taken.
  EXPECT_EQ(boost::json::serialize(presence_view(value, T0 + 125'000, 2000)),
            R"({"node":"node-b","state":"connected","since_ms":1743894000000,)"
            R"("last_read_ms":1743894070000,"silent_ms":55000,"reads_total":120,)"
            R"("reads_per_minute":)" +
                counts_json({100, 20, 0}) +
                R"(,"clock_offset_ms":-2500,"clock_warning":true,"gaps":4,"backlog":null,)"
                R"("rejected":2,"malformed":1,"remote":"10.0.0.7"})");
  EXPECT_FALSE(presence_view(value, T0 + 125'000, 2500).at("clock_warning").as_bool());

  // No read yet: silent since it connected. Offline: not silent, dark.
  PresenceRecord r;
  r.state = "connected";
  r.since_ms = T0;
  const std::string no_read = presence_value_json(r, "a", T0);
  EXPECT_EQ(presence_view(no_read, T0 + 4'000, 2000).at("silent_ms").as_int64(), 4'000);
  EXPECT_FALSE(presence_view(no_read, T0 + 4'000, 2000).at("clock_warning").as_bool());
  r.state = "offline";
  EXPECT_TRUE(
      presence_view(presence_value_json(r, "a", T0), T0 + 4'000, 2000).at("silent_ms").is_null());

  // No key (expired: no node holds it), or a value that is not presence: null.
  EXPECT_TRUE(presence_view(std::nullopt, T0, 2000).is_null());
  EXPECT_TRUE(presence_view(std::string("not json"), T0, 2000).is_null());
  EXPECT_TRUE(presence_view(std::string("{}"), T0, 2000).is_null());
}

TEST(DevicePresence, SilentAlertNeedsATimingPointThatExpectsRunners) {
  const std::vector<std::size_t> expected = {0, 5, 0};  // runners expected at timing point 1
  const boost::json::value connected =
      boost::json::parse(R"({"state":"connected","silent_ms":55000})");
  const boost::json::value long_silent =
      boost::json::parse(R"({"state":"connected","silent_ms":130000})");
  const boost::json::value offline = boost::json::parse(R"({"state":"offline","silent_ms":null})");
  EXPECT_TRUE(silent_alert(nullptr, {1}, expected, 120'000));      // no node holds it
  EXPECT_FALSE(silent_alert(nullptr, {0, 2}, expected, 120'000));  // nobody comes there
  EXPECT_FALSE(silent_alert(nullptr, {}, expected, 120'000));
  EXPECT_FALSE(silent_alert(nullptr, {7}, expected, 120'000));  // out of range: nobody
  EXPECT_FALSE(silent_alert(connected, {1}, expected, 120'000));
  EXPECT_TRUE(silent_alert(long_silent, {0, 1}, expected, 120'000));
  EXPECT_FALSE(silent_alert(long_silent, {0, 1}, expected, 130'000));  // not more than
  EXPECT_TRUE(silent_alert(offline, {1}, expected, 120'000));
}

TEST(DevicePresence, ADecoderPublishesItsStateCountsAndSeries) {
  Event event = testing::EventBuilder().timing_point("start").timing_point("finish").build();
  Diagnostics problems;
  const std::vector<DecoderConfig> configs = parse_decoders(
      R"({"decoders": [{"id": "presence-ml", "protocol": "mylaps", "listen": "0.0.0.0:3097",
          "sources": {"START": {"timing_point": "start"}}}]})",
      event, problems);
  ASSERT_TRUE(problems.empty());
  DecoderStatus status(configs.at(0), T0);
  PresenceRecord r = status.presence(T0 + 500);
  EXPECT_EQ(r.state, "listening");
  EXPECT_EQ(r.since_ms, T0);
  EXPECT_EQ(r.last_read_ms, kNoTime);
  status.connection_opened("10.0.0.9", T0 + 1'000);
  status.record_stored(40, 2, 0, T0 - 500, T0 + 2'000);
  status.record_stored(10, 0, 0, T0 + 60'500, T0 + 61'000);
  IntakeReport report;
  report.unknown_sources = 3;
  report.clock_far_off = 1;
  report.malformed = 2;
  status.record_intake(report);
  DecoderNotices notices;
  notices.refetched_gaps = 2;
  notices.malformed = {"line 1", "line 2", "line 3"};
  status.record_notices(notices, T0 + 61'000);
  status.record_clock(-1500, true);
  status.record_backlog(7);
  r = status.presence(T0 + 61'000);
  EXPECT_EQ(r.state, "connected");
  EXPECT_EQ(r.since_ms, T0 + 1'000);
  EXPECT_EQ(r.last_read_ms, T0 + 61'000);  // arrival, not the read's own time
  EXPECT_EQ(r.reads_total, 50u);
  EXPECT_EQ(r.reads_per_minute, series_with({{28, 40}, {29, 10}}));
  EXPECT_EQ(r.clock_offset_ms, -1500);
  EXPECT_EQ(r.gaps, 2u);
  EXPECT_EQ(r.backlog, 7u);
  EXPECT_EQ(r.rejected, 4u);   // unknown locations + clock far ahead
  EXPECT_EQ(r.malformed, 5u);  // 2 reads without a chip + 3 lines
  EXPECT_EQ(r.remote, "10.0.0.9");
  status.connection_closed("the exporter closed the connection", T0 + 90'000);
  r = status.presence(T0 + 90'000);
  EXPECT_EQ(r.state, "listening");
  EXPECT_EQ(r.since_ms, T0 + 90'000);
  EXPECT_EQ(r.backlog, std::nullopt);
}

TEST(DevicePresence, TheScriptTakesEveryKeyThenTtlNodeAndEachValue) {
  const KeySchema keys("ev1");
  EXPECT_EQ(keys.presence("arch-main"), "{ev:ev1}:presence:arch-main");
  std::vector<std::string> args = {"EVALSHA", "sha"};
  append_presence_script_args(args,
                              {{keys.presence("a"), R"({"state":"connected"})", true},
                               {keys.presence("rr"), R"({"state":"dialing"})", false}},
                              "node-b", 10'000);
  const std::vector<std::string> expected = {"EVALSHA",
                                             "sha",
                                             "2",
                                             "{ev:ev1}:presence:a",
                                             "{ev:ev1}:presence:rr",
                                             "10000",
                                             "node-b",
                                             R"({"state":"connected"})",
                                             "1",
                                             R"({"state":"dialing"})",
                                             "0"};
  EXPECT_EQ(args, expected);
}

TEST(DeviceTimingPoints, ADeviceReadsAtItsTimingPointADecoderAtItsSources) {
  Event event = testing::EventBuilder()
                    .timing_point("start")
                    .timing_point("10k")
                    .timing_point("finish")
                    .build();
  event.devices.push_back(Device{"finish-main", 2, Line::main});
  event.devices.push_back(Device{"start-main", 0, Line::main});
  Diagnostics problems;
  const std::vector<DecoderConfig> decoders = parse_decoders(
      R"({"decoders": [
        {"id": "ct", "protocol": "ctp01", "listen": "0.0.0.0:61611",
         "sources": {"FIN": {"timing_point": "finish"}, "FIN2": {"timing_point": "finish", "line": "backup"},
                     "START": {"timing_point": "start"}}},
        {"id": "rr", "protocol": "raceresult", "dial": "10.0.0.5", "timing_point": "10k"}]})",
      event, problems);
  ASSERT_TRUE(problems.empty()) << problems.front().message;
  const std::vector<DeviceTimingPoints> all = device_timing_points(event, decoders);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].id, "finish-main");
  EXPECT_FALSE(all[0].decoder);
  EXPECT_EQ(all[0].timing_points, std::vector<TimingPointIndex>{2});
  EXPECT_EQ(all[1].id, "start-main");
  EXPECT_EQ(all[1].timing_points, std::vector<TimingPointIndex>{0});
  EXPECT_EQ(all[2].id, "ct");
  EXPECT_TRUE(all[2].decoder);
  EXPECT_EQ(all[2].timing_points, (std::vector<TimingPointIndex>{0, 2}));  // distinct, ascending
  EXPECT_EQ(all[3].id, "rr");
  EXPECT_EQ(all[3].timing_points, std::vector<TimingPointIndex>{1});
}

}  // namespace
}  // namespace splitstream
