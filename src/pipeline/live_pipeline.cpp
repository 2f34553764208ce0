#include "pipeline/live_pipeline.hpp"

#include <algorithm>
#include <cstdlib>

#include "engine/corrections.hpp"
#include "observe/log.hpp"
#include "observe/server_metrics.hpp"

namespace splitstream {
namespace {

// While a race is hidden, the gate is looked at this often at least (the wall clock may step).
constexpr DurationMs kGateCheckAtMost = 1000;

}  // namespace

LivePipeline::LivePipeline(RaceEngine& engine, PushHub& hub, DerivedStateSink& state,
                           CorrectionLog& corrections, LivePipelineOptions options, Now now,
                           WallNow wall_now)
    : engine_(engine),
      hub_(hub),
      state_(state),
      corrections_(corrections),
      options_(options),
      now_(std::move(now)),
      wall_now_(std::move(wall_now)),
      fingerprint_(event_fingerprint(engine.event())) {
  arm_gate_check();
}

void LivePipeline::apply_correction(const StreamEntry& entry, std::uint64_t& applied,
                                    std::uint64_t& skipped) {
  const Correction& c = *entry.correction;
  CorrectionResult result;
  CorrectionRecord record = apply_and_record(engine_, entry.id, c, result);
  if (result.error) {
    ++skipped;
    log::warn(
        "corrections", "not applied",
        {{"id", entry.id}, {"kind", std::string(to_string(c.kind))}, {"error", *result.error}});
  } else {
    for (const RunnerChange& change : result.changes)
      state_.runner_changed(change.runner);
    hub_.note_corrected(result.changes, entries_seen_);
    metrics::corrections(to_string(c.kind)).inc();
    ++applied;
  }
  corrections_.add(std::move(record));
}

void LivePipeline::apply(const std::vector<StreamEntry>& entries, bool caught_up) {
  std::uint64_t applied = 0, skipped = 0;
  const Event& event = engine_.event();
  const auto chip_at = [&entries](std::size_t j) -> std::string_view { return entries[j].chip; };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const StreamEntry& e = entries[i];
    engine_.prefetch_ahead(i, entries.size(), chip_at);
    ++entries_seen_;
    if (e.correction) {
      apply_correction(e, applied, skipped);
      continue;
    }
    const auto tp = event.find_timing_point(e.timing_point);
    if (!tp) {
      ++skipped;
      continue;
    }
    const ApplyResult result = engine_.apply({*tp, e.chip, e.time_ms});
    if (result.outcome == ReadOutcome::applied) state_.runner_changed(result.runner);
    hub_.note_applied(result, entries_seen_, e.time_ms);
    ++applied;
  }
  metrics::server().engine_applied.inc(applied);
  if (live_ && !entries.empty() && oldest_unpublished_ms_ == 0)
    oldest_unpublished_ms_ = std::strtoll(entries.front().id.c_str(), nullptr, 10);
  if (caught_up) live_ = true;

  if (!publish_due_) {
    const auto now = now_();
    if (now - last_publish_ >= options_.publish_interval) {
      last_publish_ = now;
      publish();
    } else {
      publish_due_ = last_publish_ + options_.publish_interval;
    }
  }

  std::string version;
  std::uint64_t total_applied = 0;
  bool is_caught_up = false;
  {
    const std::lock_guard lock(progress_mutex_);
    progress_.applied += applied;
    progress_.skipped += skipped;
    if (!entries.empty()) progress_.last_id = entries.back().id;
    if (caught_up && !progress_.caught_up) {
      progress_.caught_up = true;
      log::info("engine", "caught up with the stream: " + std::to_string(progress_.applied) +
                              " reads applied");
    }
    version = progress_.last_id;
    total_applied = progress_.applied;
    is_caught_up = progress_.caught_up;
  }
  state_.applied_up_to(std::move(version), total_applied, is_caught_up);
}

std::optional<LivePipeline::Clock::time_point> LivePipeline::publish_due() const {
  if (publish_due_ && gate_check_) return std::min(*publish_due_, *gate_check_);
  return publish_due_ ? publish_due_ : gate_check_;
}

void LivePipeline::publish_if_due() {
  const auto due = publish_due();
  if (!due) return;
  const auto now = now_();
  if (now < *due) return;
  publish_due_.reset();
  gate_check_.reset();
  last_publish_ = now;
  publish();
}

void LivePipeline::publish() {
  hub_.publish(oldest_unpublished_ms_);
  if (oldest_unpublished_ms_ > 0) {
    metrics::server().stored_to_publish.observe(
        static_cast<double>(wall_now_() - oldest_unpublished_ms_) / 1000.0);
  }
  oldest_unpublished_ms_ = 0;
  arm_gate_check();
}

void LivePipeline::arm_gate_check() {
  const std::optional<DurationMs> until = hub_.until_gate_opens();
  if (!until) {
    gate_check_.reset();
    return;
  }
  if (gate_check_) return;  // one is due already: the timer waits for it
  gate_check_ =
      now_() + std::chrono::milliseconds(std::clamp<DurationMs>(*until, 0, kGateCheckAtMost));
}

NodeCheckpoint LivePipeline::checkpoint() {
  if (publish_due_) {
    publish_due_.reset();
    last_publish_ = now_();
    publish();
  }
  NodeCheckpoint out;
  out.event_fingerprint = fingerprint_;
  out.entries = entries_seen_;
  {
    const std::lock_guard lock(progress_mutex_);
    out.stream_id = progress_.last_id;
    out.applied = progress_.applied;
    out.skipped = progress_.skipped;
  }
  out.engine = engine_.snapshot();
  out.hub = hub_.snapshot();
  out.corrections.assign(corrections_.records().begin(), corrections_.records().end());
  out.corrections_total = corrections_.total();
  return out;
}

std::optional<std::string> LivePipeline::restore(const NodeCheckpoint& checkpoint) {
  if (entries_seen_ != 0) return "the node has applied stream entries already";
  if (checkpoint.event_fingerprint != fingerprint_) {
    return "taken of another version of the event (fingerprint " + checkpoint.event_fingerprint +
           ", this event's " + fingerprint_ + ")";
  }
  if (auto misfit = hub_.misfit(checkpoint.hub)) return misfit;
  if (auto error = engine_.restore(checkpoint.engine)) return error;
  hub_.restore(checkpoint.hub);
  corrections_.restore(checkpoint.corrections, checkpoint.corrections_total);
  entries_seen_ = checkpoint.entries;
  // The runners a replay would have changed: those with anything kept, and those a chip was
  // moved away from. Redis's state of them is written again once caught up, and viewers that
  // subscribed meanwhile get them with the next publish.
  std::vector<RunnerChange> changed;
  for (const EngineSnapshot::RunnerRecord& r : checkpoint.engine.runners)
    changed.push_back({r.runner, true, {}});
  const Event& event = engine_.event();
  for (const EngineSnapshot::ChipHolder& h : checkpoint.engine.holders) {
    const auto first = event.participant_by_chip.find(h.chip);
    if (first != event.participant_by_chip.end()) changed.push_back({first->second, true, {}});
  }
  for (const RunnerChange& c : changed)
    state_.runner_changed(c.runner);
  hub_.note_corrected(changed, entries_seen_);
  const std::lock_guard lock(progress_mutex_);
  progress_.applied = checkpoint.applied;
  progress_.skipped = checkpoint.skipped;
  progress_.last_id = checkpoint.stream_id;
  return std::nullopt;
}

PipelineProgress LivePipeline::progress() const {
  const std::lock_guard lock(progress_mutex_);
  return progress_;
}

bool LivePipeline::flushed_to(std::string_view id) const {
  std::string last_id;
  {
    const std::lock_guard lock(progress_mutex_);
    last_id = progress_.last_id;
  }
  return compare_stream_ids(last_id, id) >= 0 && state_.idle();
}

}  // namespace splitstream
