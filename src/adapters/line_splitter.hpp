// Cuts a byte stream into records at a terminator, for the text protocols of timing hardware
// (RACE RESULT and CTP01 lines end in LF with an optional CR; MYLAPS frames end in '$' and are
// preceded by CR, LF and NUL bytes). Bounded: a record longer than the limit is dropped up to its
// terminator and reported, so one bad record never costs the ones around it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace splitstream {

struct SplitRecords {
  std::vector<std::string> records;  // complete records, terminator and strip bytes removed
  std::size_t overlong = 0;          // records dropped for exceeding max_record_bytes
};

class LineSplitter {
 public:
  // `terminator` ends a record. Bytes of `strip` are removed where a record starts and where it
  // ends (before the terminator). Empty records are returned too (RACE RESULT ends a range
  // reply with an empty line); protocols without that meaning skip them.
  LineSplitter(char terminator, std::size_t max_record_bytes, std::string_view strip = "\r");

  SplitRecords feed(std::string_view bytes);
  // Bytes held for an incomplete record.
  std::size_t pending_bytes() const { return partial_.size(); }

 private:
  char terminator_;
  std::size_t max_record_bytes_;
  std::string strip_;
  std::string partial_;
  bool discarding_ = false;  // inside an overlong record, until its terminator
};

}  // namespace splitstream
