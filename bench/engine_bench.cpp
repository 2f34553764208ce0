// The race engine in memory: a 60,000-runner, 12-split race with main and backup lines and
// raw duplicate reads (about three reads per crossing), applied in order, shuffled, the cost of
// single standings updates, and a node's checkpoint of the whole race taken and loaded.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "engine/engine_snapshot.hpp"
#include "engine/projection.hpp"
#include "engine/race_engine.hpp"
#include "pipeline/checkpoint.hpp"
#include "synth/synthetic_race.hpp"

namespace {

using namespace splitstream;

constexpr std::size_t kRunners = 60'000;
constexpr std::size_t kSplits = 12;

struct Race {
  Event event = make_synthetic_event(kRunners, kSplits);
  std::vector<FileRead> reads;
  std::vector<FileRead> shuffled;
  Race() {
    SynthOptions options;
    options.seed = 42;
    options.max_raw_reads = 2;  // 1-2 raw reads per line, two lines: ~3 reads per crossing
    options.dns_rate = 0.01;
    reads = synthesize_reads(event, options);
    shuffled = reads;
    SplitMix64 rng(9);
    for (std::size_t i = shuffled.size(); i > 1; --i)
      std::swap(shuffled[i - 1], shuffled[rng.below(i)]);
  }
};

const Race& race() {
  static const Race r;
  return r;
}

// Heap bytes in use (including large mmapped blocks): what the engine holds, unlike RSS,
// which keeps pages freed by an earlier iteration.
double heap_mib() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

void apply_all(benchmark::State& state, const std::vector<FileRead>& reads) {
  const Race& r = race();
  std::uint64_t applied = 0;
  double memory_mib = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const double before = heap_mib();
    auto engine = std::make_unique<RaceEngine>(r.event);
    state.ResumeTiming();
    // As the server applies a batch from the stream.
    const auto chip_at = [&reads](std::size_t j) -> std::string_view { return reads[j].chip; };
    for (std::size_t i = 0; i < reads.size(); ++i) {
      engine->prefetch_ahead(i, reads.size(), chip_at);
      engine->apply({reads[i].timing_point, reads[i].chip, reads[i].time});
    }
    state.PauseTiming();
    applied = engine->counters().applied;
    memory_mib = heap_mib() - before;
    benchmark::DoNotOptimize(engine->standings(0, RaceEngine::kOverall, 0, 10));
    engine.reset();
    state.ResumeTiming();
  }
  state.counters["reads"] = static_cast<double>(reads.size());
  state.counters["crossings"] = static_cast<double>(applied);
  state.counters["reads_per_s"] = benchmark::Counter(static_cast<double>(reads.size()),
                                                     benchmark::Counter::kIsIterationInvariantRate);
  state.counters["engine_MiB"] = memory_mib;
}

void BM_WholeRaceInOrder(benchmark::State& state) {
  apply_all(state, race().reads);
}
void BM_WholeRaceShuffled(benchmark::State& state) {
  apply_all(state, race().shuffled);
}

// One standings update: a runner reaching the finish moves in the overall, gender and age
// group standings and enters the finish split rankings.
void BM_StandingsUpdate(benchmark::State& state) {
  const Race& r = race();
  const TimingPointIndex finish = r.event.races[0].splits.back().timing_point;
  std::vector<const FileRead*> finishes;
  std::vector<bool> seen(r.event.participants.size(), false);
  for (const FileRead& read : r.reads) {
    if (read.timing_point != finish) continue;
    const RunnerIndex runner = r.event.participant_by_chip.at(read.chip);
    if (!seen[runner]) finishes.push_back(&read);
    seen[runner] = true;
  }
  std::uint64_t updates = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto engine = std::make_unique<RaceEngine>(r.event);
    for (const FileRead& read : r.reads) {
      if (read.timing_point != finish) engine->apply({read.timing_point, read.chip, read.time});
    }
    state.ResumeTiming();
    for (const FileRead* read : finishes) {
      updates += engine->apply({read->timing_point, read->chip, read->time}).standing_changed;
    }
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.counters["updates"] = static_cast<double>(finishes.size());
  state.counters["ns_per_update"] = benchmark::Counter(
      static_cast<double>(finishes.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  benchmark::DoNotOptimize(updates);
}

// A raw duplicate: the cheapest and most common read.
void BM_DuplicateRead(benchmark::State& state) {
  const Race& r = race();
  // The race applied once per process, not once per call: the library calls this a few times
  // while it settles on an iteration count, and the whole race takes seconds to apply.
  static const std::unique_ptr<RaceEngine> engine = [&r] {
    auto e = std::make_unique<RaceEngine>(r.event);
    for (const FileRead& read : r.reads)
      e->apply({read.timing_point, read.chip, read.time});
    return e;
  }();
  const FileRead& read = r.reads[r.reads.size() / 2];
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine->apply({read.timing_point, read.chip, read.time}));
  }
}

// Positions and ETAs of the whole field at one moment mid-race (the map's work).
void BM_ProjectField(benchmark::State& state) {
  const Race& r = race();
  RaceEngine engine(r.event);
  const TimeMs at = r.event.races[0].gun_time + 2 * 3600 * 1000;
  for (const FileRead& read : r.reads) {
    if (read.time <= at) engine.apply({read.timing_point, read.chip, read.time});
  }
  std::size_t running = 0;
  for (auto _ : state) {
    running = 0;
    for (RunnerIndex i = 0; i < r.event.participants.size(); ++i) {
      if (auto p = project_runner(engine, i, at)) {
        ++running;
        benchmark::DoNotOptimize(p->position);
      }
    }
  }
  state.counters["running"] = static_cast<double>(running);
  state.counters["ns_per_runner"] = benchmark::Counter(
      static_cast<double>(r.event.participants.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The engine after the whole race, built once per process.
const RaceEngine& raced_engine() {
  static const std::unique_ptr<RaceEngine> engine = [] {
    auto e = std::make_unique<RaceEngine>(race().event);
    for (const FileRead& read : race().reads)
      e->apply({read.timing_point, read.chip, read.time});
    return e;
  }();
  return *engine;
}

// What the engine strand spends on a checkpoint after the race: the snapshot and its bytes.
void BM_CheckpointTake(benchmark::State& state) {
  const RaceEngine& engine = raced_engine();
  std::size_t bytes = 0;
  double snapshot_s = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    NodeCheckpoint checkpoint;
    checkpoint.stream_id = "1-0";
    checkpoint.engine = engine.snapshot();
    snapshot_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bytes = encode_checkpoint(checkpoint).size();
  }
  state.counters["reads"] = static_cast<double>(engine.counters().reads);
  // Of the time, the snapshot alone (the rest is encoding it).
  state.counters["snapshot_ms"] = 1000 * snapshot_s / static_cast<double>(state.iterations());
  state.counters["checkpoint_MB"] = static_cast<double>(bytes) / 1e6;
}

// What a starting node spends on it: the bytes decoded, an engine restored (every runner
// derived again from its kept reads).
void BM_CheckpointLoad(benchmark::State& state) {
  const RaceEngine& engine = raced_engine();
  NodeCheckpoint checkpoint;
  checkpoint.stream_id = "1-0";
  checkpoint.engine = engine.snapshot();
  const std::string bytes = encode_checkpoint(checkpoint);
  for (auto _ : state) {
    std::string error;
    const auto decoded = decode_checkpoint(bytes, error);
    auto restored = std::make_unique<RaceEngine>(race().event);
    if (!decoded || restored->restore(decoded->engine)) state.SkipWithError("checkpoint refused");
    benchmark::DoNotOptimize(restored->standings(0, RaceEngine::kOverall, 0, 10));
    state.PauseTiming();
    restored.reset();
    state.ResumeTiming();
  }
  state.counters["reads_per_s"] = benchmark::Counter(static_cast<double>(engine.counters().reads),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_WholeRaceInOrder)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_WholeRaceShuffled)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_StandingsUpdate)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_DuplicateRead);
BENCHMARK(BM_ProjectField)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CheckpointTake)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CheckpointLoad)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
