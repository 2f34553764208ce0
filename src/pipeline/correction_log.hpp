// The officials' corrections this node's engine met in the stream, oldest first, with why one
// could not be applied. Lives on the engine strand, next to the engine; the admin API shows it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "engine/corrections.hpp"

namespace splitstream {

struct CorrectionRecord {
  std::string id;  // its stream entry
  Correction correction;
  std::optional<std::string> error;  // why the engine could not apply it
};

class CorrectionLog {
 public:
  explicit CorrectionLog(std::size_t kept = 10'000) : kept_(kept) {}
  void add(CorrectionRecord record);
  // The record of stream entry `id`, if kept.
  const CorrectionRecord* find(std::string_view id) const;
  // The records kept, oldest first.
  const std::deque<CorrectionRecord>& records() const { return records_; }
  std::uint64_t total() const { return total_; }

 private:
  std::size_t kept_;
  std::deque<CorrectionRecord> records_;
  std::uint64_t total_ = 0;
};

}  // namespace splitstream
