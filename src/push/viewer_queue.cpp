#include "push/viewer_queue.hpp"

#include <utility>

#include "observe/server_metrics.hpp"

namespace splitstream {

ViewerQueue::ViewerQueue(ViewerQueueOptions options, LiveFormat format)
    : options_(options), format_(format) {}

ViewerQueue::~ViewerQueue() {
  metrics::server().viewer_queue_bytes.add(-static_cast<std::int64_t>(bytes_));
}

ViewerQueue::Decision ViewerQueue::push(std::shared_ptr<const LiveFrame> frame) {
  if (shed_) return Decision::shed;
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
    shed_all();
    return Decision::shed;
  }
  frames_.push_back(std::move(frame));
  bytes_ += size;
  metrics::server().viewer_queue_bytes.add(static_cast<std::int64_t>(size));
  return Decision::queued;
}

void ViewerQueue::pop() {
  const std::size_t size = frames_.front()->bytes(format_).size();
  frames_.pop_front();
  bytes_ -= size;
  metrics::server().viewer_queue_bytes.add(-static_cast<std::int64_t>(size));
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

void ViewerQueue::shed_all() {
  shed_ = true;
  metrics::ServerMetrics& m = metrics::server();
  m.viewers_shed.inc();
  m.messages_shed.inc(frames_.size());  // the frame being written, if any, included
  m.viewer_queue_bytes.add(-static_cast<std::int64_t>(bytes_));
  frames_.clear();  // the frame being written, if any, is held by its write
  bytes_ = 0;
  resync_.clear();
  awaiting_snapshot_.clear();
}

}  // namespace splitstream
