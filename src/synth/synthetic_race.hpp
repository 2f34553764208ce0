// A deterministic synthetic race: paces, fatigue, dropouts and the raw reads timing devices
// would send (duplicates, main and backup lines, missed reads). Feeds the demo event, tests
// and benchmarks; the full device simulator builds on it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/event.hpp"
#include "results/reads_file.hpp"

namespace splitstream {

struct SynthOptions {
  std::uint64_t seed = 1;
  double capture_rate = 0.99;          // chance that one line reads a chip crossing it
  int max_raw_reads = 3;               // raw reads per line and crossing: 1 .. this
  double dnf_rate = 0.03;              // runners who stop at some split
  double dns_rate = 0.02;              // runners with no read at all
  std::size_t unknown_chip_reads = 0;  // reads of chips no runner holds
  // Runners were seeded into their race's waves by expected pace (`generate_field`): the first
  // wave runs fastest, the last slowest, each with the usual spread.
  bool seeded_waves = false;
  // Finish gun times by bib for runners whose result is known in advance (e.g. the winners).
  std::unordered_map<std::string, DurationMs> target_finish;
};

// Every read of the race, sorted by time.
std::vector<FileRead> synthesize_reads(const Event& event, const SynthOptions& options);

// An event for benchmarks and tests: one race of `splits` splits (a straight course, one
// timing point per split, two devices each), `runners` participants with one chip each.
Event make_synthetic_event(std::size_t runners, std::size_t splits, double distance_m = 42195);

// A small deterministic generator with portable distributions (same numbers on every
// platform, unlike std::normal_distribution).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();  // [0, 1)
  double uniform(double lo, double hi);
  double normal();                   // mean 0, sd 1
  std::size_t below(std::size_t n);  // [0, n)

 private:
  std::uint64_t state_;
};

}  // namespace splitstream
