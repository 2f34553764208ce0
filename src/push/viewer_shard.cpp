#include "push/viewer_shard.hpp"

#include <boost/asio/post.hpp>
#include <utility>

namespace splitstream {

void ViewerShard::deliver(std::shared_ptr<ShardViewer> viewer,
                          std::shared_ptr<const LiveFrame> frame) {
  bool first = false;
  {
    const std::lock_guard lock(mutex_);
    first = inbox_.empty();
    inbox_.push_back({std::move(viewer), std::move(frame)});
  }
  if (first) boost::asio::post(strand_, [self = shared_from_this()] { self->drain(); });
}

bool ViewerShard::defer_flush(std::shared_ptr<ShardViewer> viewer) {
  if (!draining_) return false;
  to_flush_.push_back(std::move(viewer));
  return true;
}

void ViewerShard::clear() {
  std::vector<Item> dropped;
  {
    const std::lock_guard lock(mutex_);
    dropped.swap(inbox_);
  }
  batch_.clear();
  to_flush_.clear();
}

void ViewerShard::drain() {
  {
    const std::lock_guard lock(mutex_);
    batch_.swap(inbox_);
  }
  draining_ = true;
  for (Item& item : batch_)
    item.viewer->take(std::move(item.frame));
  batch_.clear();  // keeps its capacity for the next batch
  draining_ = false;
  for (const auto& viewer : to_flush_)
    viewer->flush();
  to_flush_.clear();
}

}  // namespace splitstream
