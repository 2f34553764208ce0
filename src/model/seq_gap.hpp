// A range of a device's sequence numbers that the store does not hold: the device protocol asks
// for it again, and the ingest script reports it.
#pragma once

#include <cstdint>

namespace splitstream {

struct SeqGap {
  std::uint64_t from;  // inclusive
  std::uint64_t to;    // inclusive
};

}  // namespace splitstream
