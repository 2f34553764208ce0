// libFuzzer target: a checkpoint's bytes as Redis may hold them (decode_checkpoint), and the
// engine restored from what decodes (RaceEngine::restore), on a small event built here.
//
// Invariants (abort on violation, so libFuzzer reports it):
//   * no crash, no throw, no leak, whatever the bytes (lengths, indexes, chip ids, times);
//   * a refusal names its reason; what decodes encodes to bytes that decode to the same;
//   * a restore that fails leaves the engine as it was (an empty snapshot);
//   * a restored engine's own snapshot restores into another engine, which then has the same
//     snapshot.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine_snapshot.hpp"
#include "fuzz_support.hpp"
#include "pipeline/checkpoint.hpp"

namespace {

using namespace splitstream;
using splitstream::fuzz::check;

// Three timing points, one race over them, four runners (one with two chips).
Event make_event() {
  Event e;
  e.id = "fuzz";
  e.year = 2025;
  for (const char* id : {"start", "mid", "finish"}) {
    TimingPoint tp;
    tp.id = tp.name = id;
    e.timing_points.push_back(tp);
  }
  Race race;
  race.id = race.name = "race";
  race.gun_time = 1'743'894'000'000;
  race.distance_m = 10'000;
  for (std::uint32_t i = 0; i < 3; ++i) {
    Split s;
    s.id = e.timing_points[i].id;
    s.timing_point = i;
    s.distance_m = 5'000.0 * i;
    race.splits.push_back(s);
  }
  race.timing_points = {0, 1, 2};
  e.races.push_back(race);
  for (int i = 0; i < 4; ++i) {
    Participant p;
    p.bib = std::to_string(i + 1);
    p.chips = {"C" + p.bib};
    if (i == 3) p.chips.push_back("C4B");
    p.race = 0;
    p.gender = i % 2 == 0 ? Gender::male : Gender::female;
    e.participants.push_back(p);
  }
  e.reindex();
  return e;
}

const Event& event() {
  static const Event e = make_event();
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<NodeCheckpoint> decoded = decode_checkpoint(bytes, error);
  check(decoded.has_value() == error.empty(), "a reason exactly when refused");
  if (!decoded) return 0;
  const std::string again = encode_checkpoint(*decoded);
  std::string error_again;
  const std::optional<NodeCheckpoint> redecoded = decode_checkpoint(again, error_again);
  check(redecoded.has_value(), "what decodes encodes to bytes that decode");
  check(encode_checkpoint(*redecoded) == again, "and decode to the same");
  check(redecoded->engine == decoded->engine, "the same engine snapshot");

  RaceEngine engine(event());
  const EngineSnapshot empty = engine.snapshot();
  const std::optional<std::string> refused = engine.restore(decoded->engine);
  if (refused) {
    check(!refused->empty(), "a refusal names its reason");
    check(engine.snapshot() == empty, "a refused restore changes nothing");
    return 0;
  }
  const EngineSnapshot taken = engine.snapshot();
  RaceEngine other(event());
  check(!other.restore(taken), "a restored engine's snapshot restores");
  check(other.snapshot() == taken, "to an engine with the same snapshot");
  return 0;
}
