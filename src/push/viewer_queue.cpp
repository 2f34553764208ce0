#include "push/viewer_queue.hpp"

#include <algorithm>
#include <utility>

#include "observe/server_metrics.hpp"

namespace splitstream {

ViewerQueue::ViewerQueue(ViewerQueueOptions options, LiveFormat format)
    : options_(options), format_(format) {}

ViewerQueue::~ViewerQueue() {
  metrics::server().viewer_queue_bytes.add(-static_cast<std::int64_t>(bytes_));
}

bool ViewerQueue::stalled(std::int64_t now_ms) const {
  if (frames_.empty()) return false;
  const std::int64_t waiting_since = std::max(frames_.front().since_ms, progress_ms_);
  return now_ms - waiting_since > options_.stall_timeout_ms;
}

bool ViewerQueue::check_stalled(std::int64_t now_ms) {
  if (shed_ || !stalled(now_ms)) return false;
  shed_for_stall_ = true;
  shed_all("too slow: the oldest of " + std::to_string(frames_.size()) + " messages (" +
           std::to_string(bytes_) + " bytes) has waited " +
           std::to_string((now_ms - std::max(frames_.front().since_ms, progress_ms_)) / 1000) +
           " s");
  return true;
}

ViewerQueue::Decision ViewerQueue::push(std::shared_ptr<const LiveFrame> frame,
                                        std::int64_t now_ms) {
  if (shed_) return Decision::shed;
  if (check_stalled(now_ms)) return Decision::shed;
  const std::string& key = frame->subscription;
  if (frame->kind == LiveFrame::Kind::delta) {
    // A delta only applies to the state before it: once one is dropped, the others are
    // useless until a snapshot arrives.
    if (awaiting_snapshot_.contains(key)) {
      metrics::server().messages_coalesced.inc();
      return Decision::coalesced;
    }
    if (frames_.size() >= options_.coalesce_at) {
      metrics::server().messages_coalesced.inc();
      awaiting_snapshot_.insert(key);
      resync_.insert(key);
      return Decision::coalesced;
    }
  }
  if (frame->kind == LiveFrame::Kind::snapshot) {
    if (auto it = awaiting_snapshot_.find(key); it != awaiting_snapshot_.end())
      awaiting_snapshot_.erase(it);
  }
  const std::size_t size = frame->bytes(format_).size();
  // A frame larger than the whole limit still goes out to a viewer that has caught up.
  if (!frames_.empty() &&
      (frames_.size() >= options_.max_queue_frames || bytes_ + size > options_.max_queue_bytes)) {
    shed_all("too slow: " + std::to_string(frames_.size()) + " messages (" +
             std::to_string(bytes_) + " bytes) waiting");
    return Decision::shed;
  }
  frames_.push_back({std::move(frame), now_ms});
  bytes_ += size;
  metrics::server().viewer_queue_bytes.add(static_cast<std::int64_t>(size));
  return Decision::queued;
}

void ViewerQueue::pop() {
  const std::size_t size = frames_.front().frame->bytes(format_).size();
  frames_.pop_front();
  if (writing_ > 0) --writing_;
  bytes_ -= size;
  metrics::server().viewer_queue_bytes.add(-static_cast<std::int64_t>(size));
}

void ViewerQueue::finish_write() {
  while (writing_ > 0 && !frames_.empty())
    pop();
  writing_ = 0;
}

std::vector<std::string> ViewerQueue::take_resync() {
  std::vector<std::string> keys;
  if (resync_.empty() || frames_.size() > options_.resync_below) return keys;
  keys.assign(resync_.begin(), resync_.end());
  resync_.clear();
  return keys;
}

void ViewerQueue::forget(std::string_view key) {
  if (auto it = awaiting_snapshot_.find(key); it != awaiting_snapshot_.end())
    awaiting_snapshot_.erase(it);
}

void ViewerQueue::shed_all(std::string reason) {
  shed_ = true;
  shed_reason_ = std::move(reason);
  metrics::ServerMetrics& m = metrics::server();
  m.viewers_shed.inc();
  m.messages_shed.inc(frames_.size() - writing_);
  // The frames being written stay until their write completes.
  while (frames_.size() > writing_) {
    const std::size_t size = frames_.back().frame->bytes(format_).size();
    frames_.pop_back();
    bytes_ -= size;
    m.viewer_queue_bytes.add(-static_cast<std::int64_t>(size));
  }
  resync_.clear();
  awaiting_snapshot_.clear();
}

}  // namespace splitstream
