#include "push/push_hub.hpp"

#include <algorithm>
#include <utility>

#include "push/live_view.hpp"
#include "push/websocket_fsm.hpp"

namespace splitstream {

std::shared_ptr<const LiveFrame> make_frame(const v1::LiveMessage& message, LiveFrame::Kind kind,
                                            bool json, bool protobuf, TimeMs stored_ms) {
  auto frame = std::make_shared<LiveFrame>();
  frame->kind = kind;
  frame->stored_ms = stored_ms;
  frame->subscription = message.subscription();
  if (json) frame->set(LiveFormat::json, encode_live_message(message, LiveFormat::json));
  if (protobuf)
    frame->set(LiveFormat::protobuf, encode_live_message(message, LiveFormat::protobuf));
  return frame;
}

void LiveFrame::set(LiveFormat format, std::string_view message) {
  const bool binary = format == LiveFormat::protobuf;
  std::string& wire = binary ? protobuf_wire_ : json_wire_;
  wire.clear();
  wire.reserve(message.size() + 10);
  ws::append_frame_header(wire, binary ? ws::Opcode::binary : ws::Opcode::text, message.size());
  (binary ? protobuf_header_ : json_header_) = static_cast<std::uint8_t>(wire.size());
  wire += message;
}

PushHub::PushHub(const RaceEngine& engine, PushHubOptions options, WallClock wall_clock)
    : engine_(engine),
      options_(options),
      gate_(engine.event(), options.live_gate),
      wall_clock_(std::move(wall_clock)),
      hidden_races_(engine.event().races.size(), false),
      is_changed_(engine.event().participants.size(), false) {
  look_at_gate();
}

std::vector<RaceIndex> PushHub::look_at_gate() {
  std::vector<RaceIndex> flipped;
  if (!gate_.enabled()) return flipped;
  const TimeMs now = wall_clock_();
  for (RaceIndex r = 0; r < hidden_races_.size(); ++r) {
    const bool closed = gate_.closed(r, now);
    if (closed != hidden_races_[r]) flipped.push_back(r);
    hidden_races_[r] = closed;
  }
  return flipped;
}

std::optional<DurationMs> PushHub::until_gate_opens() const {
  std::optional<TimeMs> first;
  for (RaceIndex r = 0; r < hidden_races_.size(); ++r) {
    if (hidden_races_[r] && (!first || gate_.opens_at(r) < *first)) first = gate_.opens_at(r);
  }
  if (!first) return std::nullopt;
  return *first - wall_clock_();
}

bool PushHub::hidden(RunnerIndex runner) const {
  return hidden_races_[engine_.event().participants[runner].race];
}

v1::StandingsSnapshot PushHub::page_of(const SubscriptionShape& s) const {
  if (hidden_races_[s.race])
    return make_standings_before_gun(engine_, s.race, s.category, s.offset, version_);
  return make_standings(engine_, s.race, s.category, s.offset, s.limit, version_);
}

v1::RunnerDetail PushHub::runner_detail(RunnerIndex runner) const {
  if (hidden(runner)) return make_runner_detail_before_gun(engine_, runner);
  return make_runner_detail(engine_, runner, race_clock_);
}

void PushHub::add_started_runners(v1::RunnerStateBatch& batch, RaceIndex race) const {
  const auto& participants = engine_.event().participants;
  for (RunnerIndex r = 0; r < participants.size(); ++r) {
    if (race != kNoIndex && participants[r].race != race) continue;
    if (hidden(r) || engine_.status(r) == RunnerStatus::not_started) continue;
    *batch.add_runners() = make_runner_state(engine_, r);
  }
}

HubSnapshot PushHub::snapshot() const {
  HubSnapshot out;
  out.version = version_;
  out.race_clock = race_clock_;
  out.passings_floor = passings_floor_;
  out.passings.assign(passings_.begin(), passings_.end());
  out.hidden_races = hidden_races_;
  return out;
}

std::optional<std::string> PushHub::misfit(const HubSnapshot& snapshot) const {
  if (snapshot.hidden_races.size() != hidden_races_.size())
    return "taken of an event with " + std::to_string(snapshot.hidden_races.size()) + " races";
  for (std::size_t r = 0; r < hidden_races_.size(); ++r) {
    if (snapshot.hidden_races[r] != hidden_races_[r]) {
      return "race " + engine_.event().races[r].id + " was " +
             (snapshot.hidden_races[r] ? "hidden" : "shown") + " by the live gate then, not now";
    }
  }
  return std::nullopt;
}

void PushHub::restore(HubSnapshot snapshot) {
  version_ = published_version_ = snapshot.version;
  race_clock_ = snapshot.race_clock;
  passings_floor_ = snapshot.passings_floor;
  passings_.assign(std::make_move_iterator(snapshot.passings.begin()),
                   std::make_move_iterator(snapshot.passings.end()));
  while (passings_.size() > options_.passings_kept) {
    passings_floor_ = passings_.front().version();
    passings_.pop_front();
  }
}

void PushHub::note_applied(const ApplyResult& result, std::uint64_t version, TimeMs time_ms) {
  version_ = version;
  race_clock_ = std::max(race_clock_, time_ms);
  if (result.outcome != ReadOutcome::applied || result.runner == kNoIndex) return;
  note_runner(result.runner, result.changed_splits, version);
}

void PushHub::note_corrected(const std::vector<RunnerChange>& changes, std::uint64_t version) {
  version_ = version;
  for (const RunnerChange& c : changes)
    note_runner(c.runner, c.changed_splits, version);
}

void PushHub::note_runner(RunnerIndex runner, std::span<const std::uint16_t> changed_splits,
                          std::uint64_t version) {
  if (!is_changed_[runner]) {
    is_changed_[runner] = true;
    changed_.push_back(runner);
  }
  const SplitAssignment& a = engine_.splits(runner);
  for (std::uint16_t s : changed_splits) {
    if (a.times[s] == kNoTime) continue;  // a split lost its time (a re-assignment)
    new_passings_.push_back(make_passing(engine_, runner, s, version));
  }
}

bool PushHub::passing_matches(const SubscriptionShape& shape, const v1::Passing& passing) const {
  return shape.timing_point == kNoIndex ||
         engine_.event().timing_points[shape.timing_point].id == passing.timing_point_id();
}

void PushHub::deliver(Shape& shape, const v1::LiveMessage& message, LiveFrame::Kind kind) {
  bool json = false, protobuf = false;
  std::erase_if(shape.subscribers, [](const Subscriber& s) { return s.subscriber.expired(); });
  for (const Subscriber& s : shape.subscribers)
    (s.format == LiveFormat::json ? json : protobuf) = true;
  if (!json && !protobuf) return;
  const auto frame = make_frame(message, kind, json, protobuf, publishing_stored_ms_);
  ++frames_built_;
  for (const Subscriber& s : shape.subscribers) {
    if (auto live = s.subscriber.lock()) {
      live->deliver(frame);
      ++frames_delivered_;
    }
  }
}

void PushHub::publish(TimeMs stored_ms) {
  published_version_ = version_;
  publishing_stored_ms_ = stored_ms;
  // Races whose gun passed since the last publish (or, should the clock step back, that are
  // hidden again): their pages and runners are sent afresh below.
  const std::vector<RaceIndex> flipped = look_at_gate();
  auto has_flipped = [&](RaceIndex race) {
    return std::find(flipped.begin(), flipped.end(), race) != flipped.end();
  };
  // Passings of a race the gate hides are neither delivered nor kept.
  if (std::find(hidden_races_.begin(), hidden_races_.end(), true) != hidden_races_.end()) {
    const Event& event = engine_.event();
    std::erase_if(new_passings_, [&](const v1::Passing& p) {
      const auto race = event.race_by_id.find(p.race_id());
      return race != event.race_by_id.end() && hidden_races_[race->second];
    });
  }
  // Which standings tables the changed runners belong to.
  std::set<std::pair<RaceIndex, std::string>> touched;
  for (RunnerIndex r : changed_) {
    const Participant& p = engine_.event().participants[r];
    for (std::string& c : RaceEngine::categories_of(p))
      touched.emplace(p.race, std::move(c));
  }
  for (auto it = shapes_.begin(); it != shapes_.end();) {
    Shape& shape = it->second;
    std::erase_if(shape.subscribers, [](const Subscriber& s) { return s.subscriber.expired(); });
    if (shape.subscribers.empty()) {
      it = shapes_.erase(it);
      continue;
    }
    const SubscriptionShape& s = shape.shape;
    v1::LiveMessage message;
    message.set_version(version_);
    message.set_subscription(s.key);
    switch (s.kind) {
      case v1::SUBSCRIPTION_KIND_STANDINGS: {
        if (has_flipped(s.race)) {
          shape.page = page_of(s);
          *message.mutable_standings_snapshot() = shape.page;
          deliver(shape, message, LiveFrame::Kind::snapshot);
          break;
        }
        // A hidden race's page stays the empty page it was built as.
        if (hidden_races_[s.race] || !touched.contains({s.race, s.category})) break;
        v1::StandingsSnapshot page =
            make_standings(engine_, s.race, s.category, s.offset, s.limit, version_);
        // An unchanged page keeps its version: the next delta must start where clients are.
        if (auto delta = diff_standings(shape.page, page)) {
          *message.mutable_standings_delta() = std::move(*delta);
          deliver(shape, message, LiveFrame::Kind::delta);
          shape.page = std::move(page);
        }
        break;
      }
      case v1::SUBSCRIPTION_KIND_PASSINGS: {
        v1::PassingBatch* batch = message.mutable_passings();
        for (const v1::Passing& p : new_passings_) {
          if (passing_matches(s, p)) *batch->add_passings() = p;
        }
        if (batch->passings_size() > 0) deliver(shape, message, LiveFrame::Kind::append);
        break;
      }
      case v1::SUBSCRIPTION_KIND_RUNNERS:
        if (has_flipped(engine_.event().participants[s.runner].race) ||
            (is_changed_[s.runner] && !hidden(s.runner))) {
          *message.mutable_runner() = runner_detail(s.runner);
          deliver(shape, message, LiveFrame::Kind::snapshot);
        }
        break;
      case v1::SUBSCRIPTION_KIND_MAP: {
        v1::RunnerStateBatch* batch = message.mutable_runner_states();
        for (RunnerIndex r : changed_) {
          const RaceIndex race = engine_.event().participants[r].race;
          // A race that just opened comes whole, below.
          if (hidden(r) || has_flipped(race)) continue;
          if (s.race == kNoIndex || race == s.race)
            *batch->add_runners() = make_runner_state(engine_, r);
        }
        for (RaceIndex race : flipped) {
          if (s.race == kNoIndex || race == s.race) add_started_runners(*batch, race);
        }
        batch->set_server_time_ms(race_clock_);
        if (batch->runners_size() > 0) deliver(shape, message, LiveFrame::Kind::append);
        break;
      }
      default:
        break;
    }
    ++it;
  }
  for (RunnerIndex r : changed_)
    is_changed_[r] = false;
  changed_.clear();
  // Passings kept for resume and REST: moved there once the messages above have copied them.
  for (v1::Passing& p : new_passings_)
    passings_.push_back(std::move(p));
  while (passings_.size() > options_.passings_kept) {
    passings_floor_ = passings_.front().version();
    passings_.pop_front();
  }
  new_passings_.clear();
  publishing_stored_ms_ = 0;
}

void PushHub::publish_console(v1::SubscriptionKind kind, std::string json, TimeMs server_time_ms) {
  auto& [last, built] = console_feeds_[kind];
  if (last == json) return;
  last = std::move(json);
  built = server_time_ms;
  for (auto& [key, shape] : shapes_) {
    if (shape.shape.kind != kind) continue;
    deliver(shape, snapshot_message(shape, 0), LiveFrame::Kind::snapshot);
  }
}

bool PushHub::has_subscribers(v1::SubscriptionKind kind) const {
  return std::any_of(shapes_.begin(), shapes_.end(), [&](const auto& entry) {
    return entry.second.shape.kind == kind && !entry.second.subscribers.empty();
  });
}

v1::LiveMessage PushHub::snapshot_message(Shape& shape, std::uint32_t passings_snapshot) {
  const SubscriptionShape& s = shape.shape;
  v1::LiveMessage message;
  message.set_version(version_);
  message.set_subscription(s.key);
  switch (s.kind) {
    case v1::SUBSCRIPTION_KIND_STANDINGS:
      *message.mutable_standings_snapshot() = shape.page;
      break;
    case v1::SUBSCRIPTION_KIND_PASSINGS: {
      // Passings not yet published come with the next publish(): label what this holds.
      message.set_version(published_version_);
      v1::PassingBatch* batch = message.mutable_passings();
      batch->set_snapshot(true);
      std::vector<v1::Passing> recent = recent_passings(s.timing_point, passings_snapshot);
      for (auto it = recent.rbegin(); it != recent.rend(); ++it)
        *batch->add_passings() = std::move(*it);
      break;
    }
    case v1::SUBSCRIPTION_KIND_RUNNERS:
      *message.mutable_runner() = runner_detail(s.runner);
      break;
    case v1::SUBSCRIPTION_KIND_MAP: {
      v1::RunnerStateBatch* batch = message.mutable_runner_states();
      add_started_runners(*batch, s.race);
      batch->set_server_time_ms(race_clock_);
      break;
    }
    case v1::SUBSCRIPTION_KIND_DEVICES:
    case v1::SUBSCRIPTION_KIND_REVIEW: {
      v1::ConsoleFeed* feed = message.mutable_console();
      if (auto it = console_feeds_.find(s.kind); it != console_feeds_.end()) {
        feed->set_json(it->second.first);
        feed->set_server_time_ms(it->second.second);
      } else {
        feed->set_json("{}");  // nothing built yet: the next feed follows within seconds
      }
      break;
    }
    default:
      break;
  }
  return message;
}

void PushHub::subscribe(const std::shared_ptr<LiveSubscriber>& subscriber,
                        const std::vector<SubscriptionShape>& shapes, std::uint64_t since_version,
                        std::uint32_t passings_snapshot) {
  for (const SubscriptionShape& wanted : shapes) {
    auto [it, fresh] = shapes_.try_emplace(wanted.key);
    Shape& shape = it->second;
    if (fresh) {
      shape.shape = wanted;
      if (wanted.kind == v1::SUBSCRIPTION_KIND_STANDINGS) shape.page = page_of(wanted);
    }
    const bool already = std::any_of(shape.subscribers.begin(), shape.subscribers.end(),
                                     [&](const Subscriber& s) { return s.id == subscriber.get(); });
    if (!already) shape.subscribers.push_back({subscriber, subscriber.get(), subscriber->format()});
    const bool json = subscriber->format() == LiveFormat::json;
    // Passings resumed from a version still kept: exactly what was missed, no snapshot.
    if (wanted.kind == v1::SUBSCRIPTION_KIND_PASSINGS && since_version > 0 &&
        since_version >= passings_floor_ && since_version <= published_version_) {
      v1::LiveMessage message;
      message.set_version(published_version_);
      message.set_subscription(wanted.key);
      v1::PassingBatch* batch = message.mutable_passings();
      for (const v1::Passing& p : passings_) {
        if (p.version() > since_version && passing_matches(wanted, p)) *batch->add_passings() = p;
      }
      subscriber->deliver(make_frame(message, LiveFrame::Kind::append, json, !json));
      continue;
    }
    subscriber->deliver(make_frame(snapshot_message(shape, passings_snapshot),
                                   LiveFrame::Kind::snapshot, json, !json));
  }
}

void PushHub::resend_snapshot(const std::shared_ptr<LiveSubscriber>& subscriber,
                              std::string_view key) {
  auto it = shapes_.find(key);
  if (it == shapes_.end()) return;
  const bool json = subscriber->format() == LiveFormat::json;
  subscriber->deliver(
      make_frame(snapshot_message(it->second, 50), LiveFrame::Kind::snapshot, json, !json));
}

void PushHub::unsubscribe(const LiveSubscriber* subscriber, std::string_view key) {
  auto it = shapes_.find(key);
  if (it == shapes_.end()) return;
  std::erase_if(it->second.subscribers, [&](const Subscriber& s) { return s.id == subscriber; });
  if (it->second.subscribers.empty()) shapes_.erase(it);
}

void PushHub::remove(const LiveSubscriber* subscriber) {
  for (auto it = shapes_.begin(); it != shapes_.end();) {
    std::erase_if(it->second.subscribers, [&](const Subscriber& s) { return s.id == subscriber; });
    it = it->second.subscribers.empty() ? shapes_.erase(it) : std::next(it);
  }
}

std::vector<v1::Passing> PushHub::recent_passings(TimingPointIndex timing_point,
                                                  std::size_t limit) const {
  std::vector<v1::Passing> out;
  SubscriptionShape filter;
  filter.timing_point = timing_point;
  for (auto it = passings_.rbegin(); it != passings_.rend() && out.size() < limit; ++it) {
    if (passing_matches(filter, *it)) out.push_back(*it);
  }
  return out;
}

PushHubStats PushHub::stats() const {
  PushHubStats s;
  s.shapes = shapes_.size();
  for (const auto& [key, shape] : shapes_)
    s.subscriptions += shape.subscribers.size();
  s.frames_built = frames_built_;
  s.frames_delivered = frames_delivered_;
  return s;
}

}  // namespace splitstream
