// The push hub without sockets: a real engine fed reads, viewers that record the frames they
// are given, and the frames decoded back into LiveMessages (JSON or Protobuf, as each viewer
// asked).
#include "push/push_hub.hpp"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "push/live_protocol.hpp"
#include "support/engine_harness.hpp"

namespace splitstream::testing {
namespace {

Event small_race() {
  EventBuilder b = ten_k();
  b.runner("1", "c1", "10k", Gender::male, "M35");
  b.runner("2", "c2", "10k", Gender::female, "F40");
  b.runner("3", "c3", "10k", Gender::male, "M35");
  return b.build();
}

// A viewer: keeps every frame the hub gives it.
class RecordingViewer final : public LiveSubscriber {
 public:
  explicit RecordingViewer(LiveFormat format) : format_(format) {}
  LiveFormat format() const override { return format_; }
  void deliver(std::shared_ptr<const LiveFrame> frame) override {
    frames.push_back(std::move(frame));
  }

  // Frame `i` decoded from the bytes in this viewer's format.
  v1::LiveMessage message(std::size_t i) const {
    v1::LiveMessage m;
    const LiveFrame& f = *frames.at(i);
    if (format_ == LiveFormat::protobuf) {
      EXPECT_TRUE(f.has(LiveFormat::protobuf) &&
                  m.ParseFromString(std::string(f.bytes(LiveFormat::protobuf))));
    } else {
      EXPECT_TRUE(f.has(LiveFormat::json) && google::protobuf::util::JsonStringToMessage(
                                                 std::string(f.bytes(LiveFormat::json)), &m)
                                                 .ok());
    }
    return m;
  }
  // Every frame given since the last call, decoded; forgets them.
  std::vector<v1::LiveMessage> take() {
    std::vector<v1::LiveMessage> out;
    for (std::size_t i = 0; i < frames.size(); ++i)
      out.push_back(message(i));
    frames.clear();
    return out;
  }

  std::vector<std::shared_ptr<const LiveFrame>> frames;

 private:
  LiveFormat format_;
};

std::shared_ptr<RecordingViewer> viewer(LiveFormat format = LiveFormat::protobuf) {
  return std::make_shared<RecordingViewer>(format);
}

std::vector<std::string> bibs(const google::protobuf::RepeatedPtrField<v1::StandingsRow>& rows) {
  std::vector<std::string> out;
  for (const v1::StandingsRow& r : rows)
    out.push_back(r.bib());
  return out;
}

// "bib@split#version" for each passing, in order.
std::vector<std::string> passings(const v1::PassingBatch& batch) {
  std::vector<std::string> out;
  for (const v1::Passing& p : batch.passings())
    out.push_back(p.bib() + "@" + p.split_id() + "#" + std::to_string(p.version()));
  return out;
}

// An engine and its hub, fed reads the way the node's engine strand does: each read is the
// next stream entry (versions 1, 2, ...), a publish() after each batch.
class LiveRace {
 public:
  explicit LiveRace(PushHubOptions options = {})
      : event_(std::make_unique<Event>(small_race())),
        catalog_(*event_),
        engine_(*event_),
        hub_(engine_, options) {}
  LiveRace(const LiveRace&) = delete;  // the hub refers to the engine, the engine to the event
  LiveRace& operator=(const LiveRace&) = delete;

  void read(const std::string& timing_point, const std::string& chip, TimeMs time) {
    ++version_;
    hub_.note_applied(engine_.apply({*event_->find_timing_point(timing_point), chip, time}),
                      version_, time);
  }

  // A Subscribe (in the protocol's JSON) resolved and handed to the hub as the session does.
  void subscribe(const std::shared_ptr<RecordingViewer>& v, const std::string& subscribe_json) {
    auto parsed = parse_client_message(R"({"subscribe":)" + subscribe_json + "}", false);
    ASSERT_TRUE(std::holds_alternative<v1::ClientMessage>(parsed)) << subscribe_json;
    const v1::Subscribe& s = std::get<v1::ClientMessage>(parsed).subscribe();
    auto shapes = resolve_subscribe(catalog_, s, LiveLimits{});
    ASSERT_TRUE(std::holds_alternative<std::vector<SubscriptionShape>>(shapes)) << subscribe_json;
    hub_.subscribe(v, std::get<std::vector<SubscriptionShape>>(shapes), s.since_version(),
                   s.limit() == 0 ? 50 : s.limit());
  }

  PushHub& hub() { return hub_; }

 private:
  std::unique_ptr<Event> event_;
  LiveCatalog catalog_;
  RaceEngine engine_;
  PushHub hub_;
  std::uint64_t version_ = 0;
};

const std::string kStandings2 =
    R"({"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k","limit":2})";
const std::string kPassings = R"({"kind":"SUBSCRIPTION_KIND_PASSINGS"})";

TEST(PushHub, ASubscriberGetsEachSubscriptionsSnapshot) {
  LiveRace race;
  race.read("start", "c1", kGun + 5 * kSec);   // 1
  race.read("start", "c2", kGun + 10 * kSec);  // 2
  race.read("k5", "c1", kGun + 20 * kMin);     // 3
  race.hub().publish();
  race.read("k5", "c2", kGun + 21 * kMin);  // 4: applied, not yet published
  auto v = viewer();
  race.subscribe(v, kStandings2);
  race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_PASSINGS","limit":2})");
  race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_RUNNERS","bibs":["1"]})");
  race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_MAP"})");
  ASSERT_EQ(v->frames.size(), 4u);
  for (const auto& f : v->frames) {
    EXPECT_EQ(f->kind, LiveFrame::Kind::snapshot);
    EXPECT_FALSE(f->has(LiveFormat::json));  // encoded only in the viewer's format
  }
  const std::vector<v1::LiveMessage> m = v->take();
  // A new standings page is built from the engine as it is: read 4 included.
  EXPECT_EQ(m[0].subscription(), "standings/10k/overall/0/2");
  EXPECT_EQ(m[0].version(), 4u);
  ASSERT_TRUE(m[0].has_standings_snapshot());
  EXPECT_EQ(m[0].standings_snapshot().version(), 4u);
  EXPECT_EQ(m[0].standings_snapshot().total(), 2u);
  EXPECT_EQ(bibs(m[0].standings_snapshot().rows()), (std::vector<std::string>{"1", "2"}));
  // Passings: the last two published (read 4 comes with the next publish), oldest first,
  // labelled with the version published.
  EXPECT_EQ(m[1].subscription(), "passings/*");
  EXPECT_EQ(m[1].version(), 3u);
  EXPECT_TRUE(m[1].passings().snapshot());
  EXPECT_EQ(passings(m[1].passings()), (std::vector<std::string>{"2@start#2", "1@5k#3"}));
  EXPECT_EQ(m[2].subscription(), "runner/1");
  EXPECT_EQ(m[2].runner().bib(), "1");
  EXPECT_EQ(m[2].runner().splits_size(), 2);
  // The map: every runner on the course (bib 3 has not started), at the race clock.
  EXPECT_EQ(m[3].subscription(), "map/*");
  ASSERT_EQ(m[3].runner_states().runners_size(), 2);
  EXPECT_EQ(m[3].runner_states().runners(0).bib(), "1");
  EXPECT_EQ(m[3].runner_states().runners(1).bib(), "2");
  EXPECT_EQ(m[3].runner_states().server_time_ms(), kGun + 21 * kMin);
}

TEST(PushHub, PublishSendsWhatChangedCarryingVersions) {
  LiveRace race;
  auto v = viewer(LiveFormat::json);
  race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k"})");
  race.subscribe(v, kPassings);
  race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_RUNNERS","bibs":["2"]})");
  race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_MAP"})");
  const std::vector<v1::LiveMessage> snapshots = v->take();
  ASSERT_EQ(snapshots.size(), 4u);
  EXPECT_EQ(snapshots[0].standings_snapshot().total(), 0u);
  EXPECT_EQ(snapshots[1].passings().passings_size(), 0);

  race.read("start", "c1", kGun + 5 * kSec);  // 1
  race.read("start", "c2", kGun + 5 * kSec);  // 2
  race.read("k5", "c2", kGun + 20 * kMin);    // 3
  EXPECT_TRUE(v->frames.empty());             // nothing before publish()
  race.hub().publish(1234);
  // One frame per subscription, in key order, each at version 3 and carrying the stored time.
  ASSERT_EQ(v->frames.size(), 4u);
  EXPECT_EQ(v->frames[0]->kind, LiveFrame::Kind::append);    // map
  EXPECT_EQ(v->frames[1]->kind, LiveFrame::Kind::append);    // passings
  EXPECT_EQ(v->frames[2]->kind, LiveFrame::Kind::snapshot);  // runner
  EXPECT_EQ(v->frames[3]->kind, LiveFrame::Kind::delta);     // standings
  for (const auto& f : v->frames) {
    EXPECT_EQ(f->stored_ms, 1234);
    EXPECT_FALSE(f->has(LiveFormat::protobuf));
  }
  std::vector<v1::LiveMessage> m = v->take();
  for (const v1::LiveMessage& message : m)
    EXPECT_EQ(message.version(), 3u);
  EXPECT_EQ(m[0].subscription(), "map/*");
  ASSERT_EQ(m[0].runner_states().runners_size(), 2);  // the runners changed, in read order
  EXPECT_EQ(m[0].runner_states().runners(0).bib(), "1");
  EXPECT_EQ(m[0].runner_states().runners(1).bib(), "2");
  EXPECT_EQ(m[0].runner_states().server_time_ms(), kGun + 20 * kMin);
  EXPECT_EQ(m[1].subscription(), "passings/*");
  EXPECT_FALSE(m[1].passings().snapshot());
  EXPECT_EQ(passings(m[1].passings()),
            (std::vector<std::string>{"1@start#1", "2@start#2", "2@5k#3"}));
  EXPECT_EQ(m[2].subscription(), "runner/2");
  EXPECT_EQ(m[2].runner().splits_size(), 2);
  EXPECT_EQ(m[3].subscription(), "standings/10k/overall/0/10");
  const v1::StandingsDelta& first = m[3].standings_delta();
  EXPECT_EQ(first.from_version(), 0u);
  EXPECT_EQ(first.to_version(), 3u);
  EXPECT_EQ(first.total(), 2u);
  EXPECT_EQ(bibs(first.upserted()), (std::vector<std::string>{"2", "1"}));
  EXPECT_EQ(first.removed_bibs_size(), 0);

  // Nothing applied: nothing sent.
  race.hub().publish();
  EXPECT_TRUE(v->frames.empty());

  // Runner 1 reaches 5 km a minute behind: runner 2's subscription hears nothing; the
  // standings delta chains from version 3 and carries runner 1's row only.
  race.read("k5", "c1", kGun + 21 * kMin);  // 4
  race.hub().publish();
  m = v->take();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].subscription(), "map/*");
  ASSERT_EQ(m[0].runner_states().runners_size(), 1);
  EXPECT_EQ(m[0].runner_states().runners(0).bib(), "1");
  EXPECT_EQ(passings(m[1].passings()), (std::vector<std::string>{"1@5k#4"}));
  const v1::StandingsDelta& second = m[2].standings_delta();
  EXPECT_EQ(second.from_version(), 3u);
  EXPECT_EQ(second.to_version(), 4u);
  ASSERT_EQ(second.upserted_size(), 1);
  EXPECT_EQ(second.upserted(0).bib(), "1");
  EXPECT_EQ(second.upserted(0).rank(), 2u);
  EXPECT_EQ(second.upserted(0).gap_ms(), 1 * kMin);
}

PushHubOptions keeping(std::size_t passings) {
  PushHubOptions options;
  options.passings_kept = passings;
  return options;
}

// Passings 1..4, published.
void four_passings(LiveRace& race) {
  race.read("start", "c1", kGun + 5 * kSec);  // 1
  race.read("start", "c2", kGun + 6 * kSec);  // 2
  race.read("k5", "c1", kGun + 20 * kMin);    // 3
  race.read("k5", "c2", kGun + 21 * kMin);    // 4
  race.hub().publish();
}

std::string passings_since(std::uint64_t version) {
  return R"({"kind":"SUBSCRIPTION_KIND_PASSINGS","sinceVersion":")" + std::to_string(version) +
         R"("})";
}

TEST(PushHub, PassingsResumedFromAVersionStillKeptAreExactlyTheOnesAfterIt) {
  LiveRace race(keeping(3));  // 2..4: passing 1 dropped
  four_passings(race);
  auto v = viewer();
  race.subscribe(v, passings_since(2));
  ASSERT_EQ(v->frames.size(), 1u);
  EXPECT_EQ(v->frames[0]->kind, LiveFrame::Kind::append);  // not a snapshot: added to what it has
  v1::LiveMessage m = v->take()[0];
  EXPECT_EQ(m.version(), 4u);
  EXPECT_FALSE(m.passings().snapshot());
  EXPECT_EQ(passings(m.passings()), (std::vector<std::string>{"1@5k#3", "2@5k#4"}));
  // The newest dropped is version 1: everything after it is still kept.
  race.subscribe(v, passings_since(1));
  m = v->take()[0];
  EXPECT_FALSE(m.passings().snapshot());
  EXPECT_EQ(passings(m.passings()), (std::vector<std::string>{"2@start#2", "1@5k#3", "2@5k#4"}));
  // Up to date: an empty batch.
  race.subscribe(v, passings_since(4));
  m = v->take()[0];
  EXPECT_FALSE(m.passings().snapshot());
  EXPECT_EQ(m.passings().passings_size(), 0);
  // At one timing point: only its passings.
  race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_PASSINGS","timingPointId":"start",)"
                    R"("sinceVersion":"1"})");
  m = v->take()[0];
  EXPECT_EQ(m.subscription(), "passings/start");
  EXPECT_EQ(passings(m.passings()), (std::vector<std::string>{"2@start#2"}));
}

TEST(PushHub, PassingsResumedFromAVersionNoLongerKeptGetASnapshot) {
  LiveRace race(keeping(2));  // 3..4: the newest dropped is 2
  four_passings(race);
  auto v = viewer();
  race.subscribe(v, passings_since(1));
  ASSERT_EQ(v->frames.size(), 1u);
  EXPECT_EQ(v->frames[0]->kind, LiveFrame::Kind::snapshot);
  v1::LiveMessage m = v->take()[0];
  EXPECT_EQ(m.version(), 4u);
  EXPECT_TRUE(m.passings().snapshot());
  EXPECT_EQ(passings(m.passings()), (std::vector<std::string>{"1@5k#3", "2@5k#4"}));
  // A version this node has not published (another node ahead of it): a snapshot too.
  race.subscribe(v, passings_since(5));
  EXPECT_EQ(v->frames[0]->kind, LiveFrame::Kind::snapshot);
  EXPECT_TRUE(v->take()[0].passings().snapshot());
}

TEST(PushHub, AStandingsPageHearsOnlyOfChangesOnItsPage) {
  LiveRace race;
  auto top = viewer();
  auto next = viewer();
  race.subscribe(top, kStandings2);
  race.subscribe(next, R"({"kind":"SUBSCRIPTION_KIND_STANDINGS","raceId":"10k","offset":2,)"
                       R"("limit":2})");
  ASSERT_EQ(top->take()[0].standings_snapshot().rows_size(), 0);
  ASSERT_EQ(next->take()[0].subscription(), "standings/10k/overall/2/2");

  race.read("k5", "c1", kGun + 20 * kMin);  // 1
  race.read("k5", "c2", kGun + 21 * kMin);  // 2
  race.read("k5", "c3", kGun + 22 * kMin);  // 3
  race.hub().publish();
  ASSERT_EQ(top->frames.size(), 1u);
  v1::StandingsDelta d = top->take()[0].standings_delta();
  EXPECT_EQ(bibs(d.upserted()), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(d.total(), 3u);
  ASSERT_EQ(next->frames.size(), 1u);
  d = next->take()[0].standings_delta();
  ASSERT_EQ(bibs(d.upserted()), (std::vector<std::string>{"3"}));
  EXPECT_EQ(d.upserted(0).rank(), 3u);
  EXPECT_EQ(d.from_version(), 0u);
  EXPECT_EQ(d.to_version(), 3u);

  // Runners 1 and 2 finish, still 1st and 2nd: the second page does not change.
  race.read("finish", "c1", kGun + 40 * kMin);  // 4
  race.read("finish", "c2", kGun + 41 * kMin);  // 5
  race.hub().publish();
  ASSERT_EQ(top->frames.size(), 1u);
  d = top->take()[0].standings_delta();
  EXPECT_EQ(bibs(d.upserted()), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(d.from_version(), 3u);
  EXPECT_EQ(d.to_version(), 5u);
  EXPECT_TRUE(next->frames.empty());

  // Runner 3 finishes third: only the second page changes, and its delta starts at the
  // version its viewers hold (3, not 5).
  race.read("finish", "c3", kGun + 50 * kMin);  // 6
  race.hub().publish();
  EXPECT_TRUE(top->frames.empty());
  ASSERT_EQ(next->frames.size(), 1u);
  d = next->take()[0].standings_delta();
  EXPECT_EQ(bibs(d.upserted()), (std::vector<std::string>{"3"}));
  EXPECT_EQ(d.upserted(0).last_split_id(), "finish");
  EXPECT_EQ(d.from_version(), 3u);
  EXPECT_EQ(d.to_version(), 6u);
}

TEST(PushHub, ARunnerJoiningTheStandingsBelowAPageChangesItsTotal) {
  LiveRace race;
  auto top = viewer();
  race.read("k5", "c1", kGun + 20 * kMin);  // 1
  race.read("k5", "c2", kGun + 21 * kMin);  // 2
  race.hub().publish();
  race.subscribe(top, kStandings2);
  EXPECT_EQ(top->take()[0].standings_snapshot().total(), 2u);
  // Runner 3 is ranked 3rd, off the page: the page's rows are the same but not its total.
  race.read("k5", "c3", kGun + 22 * kMin);  // 3
  race.hub().publish();
  ASSERT_EQ(top->frames.size(), 1u);
  const v1::StandingsDelta d = top->take()[0].standings_delta();
  EXPECT_EQ(d.upserted_size(), 0);
  EXPECT_EQ(d.removed_bibs_size(), 0);
  EXPECT_EQ(d.total(), 3u);
  EXPECT_EQ(d.from_version(), 2u);
  EXPECT_EQ(d.to_version(), 3u);
}

TEST(PushHub, ViewersOfOneSubscriptionShareOneFrameInTheFormatsTheyUse) {
  LiveRace race;
  auto json = viewer(LiveFormat::json);
  auto protobuf = viewer(LiveFormat::protobuf);
  race.subscribe(json, kPassings);
  race.subscribe(protobuf, kPassings);
  json->frames.clear();
  protobuf->frames.clear();
  EXPECT_EQ(race.hub().stats().shapes, 1u);
  EXPECT_EQ(race.hub().stats().subscriptions, 2u);
  race.read("start", "c1", kGun + 5 * kSec);  // 1
  race.hub().publish();
  ASSERT_EQ(json->frames.size(), 1u);
  ASSERT_EQ(protobuf->frames.size(), 1u);
  EXPECT_EQ(json->frames[0], protobuf->frames[0]);  // built once, bytes shared
  EXPECT_EQ(race.hub().stats().frames_built, 1u);
  EXPECT_EQ(race.hub().stats().frames_delivered, 2u);
  EXPECT_EQ(passings(json->take()[0].passings()), (std::vector<std::string>{"1@start#1"}));
  EXPECT_EQ(passings(protobuf->take()[0].passings()), (std::vector<std::string>{"1@start#1"}));
}

TEST(PushHub, ConsoleFeedsGoOutWholeWhenTheyChangeAndNewSubscribersGetTheLatest) {
  LiveRace race;
  EXPECT_FALSE(race.hub().has_subscribers(v1::SUBSCRIPTION_KIND_DEVICES));
  auto early = viewer(LiveFormat::json);
  race.subscribe(early, R"({"kind":"SUBSCRIPTION_KIND_DEVICES"})");
  EXPECT_TRUE(race.hub().has_subscribers(v1::SUBSCRIPTION_KIND_DEVICES));
  EXPECT_FALSE(race.hub().has_subscribers(v1::SUBSCRIPTION_KIND_REVIEW));
  std::vector<v1::LiveMessage> got = early->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subscription(), "console/devices");
  EXPECT_EQ(got[0].console().json(), "{}");  // nothing built yet

  race.hub().publish_console(v1::SUBSCRIPTION_KIND_DEVICES, R"({"devices":[1]})", 1000);
  race.hub().publish_console(v1::SUBSCRIPTION_KIND_DEVICES, R"({"devices":[1]})", 3000);
  race.hub().publish_console(v1::SUBSCRIPTION_KIND_REVIEW, R"({"runners":[]})", 3000);
  got = early->take();
  ASSERT_EQ(got.size(), 1u);  // the same content twice goes out once; review is not theirs
  EXPECT_EQ(got[0].console().json(), R"({"devices":[1]})");
  EXPECT_EQ(got[0].console().server_time_ms(), 1000);

  auto late = viewer(LiveFormat::protobuf);
  race.subscribe(late, R"({"kind":"SUBSCRIPTION_KIND_REVIEW"})");
  got = late->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subscription(), "console/review");
  EXPECT_EQ(got[0].console().json(), R"({"runners":[]})");
}

TEST(PushHub, UnsubscribedRemovedAndGoneViewersHearNothingMore) {
  LiveRace race;
  auto a = viewer();
  auto b = viewer();
  auto c = viewer();
  for (const auto& v : {a, b, c}) {
    race.subscribe(v, kPassings);
    race.subscribe(v, R"({"kind":"SUBSCRIPTION_KIND_MAP"})");
    v->frames.clear();
  }
  EXPECT_EQ(race.hub().stats().subscriptions, 6u);
  race.hub().unsubscribe(a.get(), "passings/*");  // a keeps the map
  race.hub().remove(b.get());                     // b keeps nothing
  EXPECT_EQ(race.hub().stats().subscriptions, 3u);
  race.read("start", "c1", kGun + 5 * kSec);  // 1
  race.hub().publish();
  ASSERT_EQ(a->frames.size(), 1u);
  EXPECT_EQ(a->take()[0].subscription(), "map/*");
  EXPECT_TRUE(b->frames.empty());
  ASSERT_EQ(c->frames.size(), 2u);
  c->frames.clear();
  // A viewer that is gone (its connection closed before the hub heard) is dropped at the next
  // publish, and a subscription with no viewers left goes with it.
  c.reset();
  race.hub().unsubscribe(a.get(), "map/*");
  race.read("start", "c2", kGun + 6 * kSec);  // 2
  race.hub().publish();
  EXPECT_TRUE(a->frames.empty());
  EXPECT_EQ(race.hub().stats().shapes, 0u);
  EXPECT_EQ(race.hub().stats().subscriptions, 0u);
}

TEST(PushHub, ASnapshotAskedAgainIsThePageTheDeltasContinueFrom) {
  LiveRace race;
  auto v = viewer();
  race.subscribe(v, kStandings2);
  race.read("k5", "c1", kGun + 20 * kMin);  // 1
  race.read("k5", "c2", kGun + 21 * kMin);  // 2
  race.hub().publish();
  race.read("k5", "c3", kGun + 22 * kMin);  // 3: applied, not yet published
  v->frames.clear();
  // The viewer dropped the delta to version 2 (its queue was full) and asks again.
  race.hub().resend_snapshot(v, "standings/10k/overall/0/2");
  ASSERT_EQ(v->frames.size(), 1u);
  EXPECT_EQ(v->frames[0]->kind, LiveFrame::Kind::snapshot);
  const v1::StandingsSnapshot page = v->take()[0].standings_snapshot();
  EXPECT_EQ(page.version(), 2u);  // as last published, not with read 3
  EXPECT_EQ(page.total(), 2u);
  EXPECT_EQ(bibs(page.rows()), (std::vector<std::string>{"1", "2"}));
  race.hub().publish();
  EXPECT_EQ(v->take()[0].standings_delta().from_version(), 2u);
  // A subscription nobody follows any more: nothing.
  race.hub().resend_snapshot(v, "standings/10k/overall/0/5");
  EXPECT_TRUE(v->frames.empty());
}

}  // namespace
}  // namespace splitstream::testing
