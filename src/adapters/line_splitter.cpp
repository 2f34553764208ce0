#include "adapters/line_splitter.hpp"

namespace splitstream {

LineSplitter::LineSplitter(char terminator, std::size_t max_record_bytes, std::string_view strip)
    : terminator_(terminator), max_record_bytes_(max_record_bytes), strip_(strip) {}

SplitRecords LineSplitter::feed(std::string_view bytes) {
  SplitRecords out;
  while (!bytes.empty()) {
    std::size_t end = bytes.find(terminator_);
    std::string_view chunk = bytes.substr(0, end);
    if (discarding_) {
      if (end == std::string_view::npos) return out;
      discarding_ = false;
      bytes.remove_prefix(end + 1);
      continue;
    }
    if (partial_.empty()) {
      std::size_t start = chunk.find_first_not_of(strip_);
      chunk.remove_prefix(start == std::string_view::npos ? chunk.size() : start);
    }
    if (partial_.size() + chunk.size() > max_record_bytes_) {
      partial_.clear();
      ++out.overlong;
      if (end == std::string_view::npos) {
        discarding_ = true;
        return out;
      }
      bytes.remove_prefix(end + 1);
      continue;
    }
    partial_.append(chunk);
    if (end == std::string_view::npos) return out;
    bytes.remove_prefix(end + 1);
    std::size_t last = partial_.find_last_not_of(strip_);
    partial_.resize(last == std::string::npos ? 0 : last + 1);
    out.records.push_back(std::move(partial_));
    partial_.clear();
  }
  return out;
}

}  // namespace splitstream
