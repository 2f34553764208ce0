#include "pipeline/correction_log.hpp"

namespace splitstream {

void CorrectionLog::add(CorrectionRecord record) {
  records_.push_back(std::move(record));
  ++total_;
  while (records_.size() > kept_)
    records_.pop_front();
}

const CorrectionRecord* CorrectionLog::find(std::string_view id) const {
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (it->id == id) return &*it;
  }
  return nullptr;
}

}  // namespace splitstream
