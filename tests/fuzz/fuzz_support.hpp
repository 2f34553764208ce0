// What every libFuzzer target here shares: an invariant check that aborts with its name (so the
// fuzzer saves the input), and chunk sizes to feed a stream in, so that records split at every
// kind of place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace splitstream::fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

// Chunk sizes from a tiny xorshift generator seeded by an input byte: mostly small, sometimes
// large.
class ChunkSizes {
 public:
  explicit ChunkSizes(std::uint8_t seed) : state_(0x9E3779B97F4A7C15ull ^ seed) {}
  std::size_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    static constexpr std::size_t kCaps[] = {1, 2, 3, 8, 64, 1000, 1u << 20};
    return 1 + static_cast<std::size_t>(state_ >> 8) % kCaps[state_ % 7];
  }
  // The generator's state: more numbers from the same seed (e.g. how far a clock moves).
  std::uint64_t raw() const { return state_; }

 private:
  std::uint64_t state_;
};

}  // namespace splitstream::fuzz
