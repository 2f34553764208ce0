// A share of the plain (not TLS) viewer connections that all live on one strand, as the fastest
// WebSocket servers keep a loop per thread: the hub's frames for every viewer of a shard cross
// threads in one handoff (not one post per viewer and frame), each viewer queues its frames, and
// then each writes everything new in one system call. A server has one shard per thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "push/push_hub.hpp"

namespace splitstream {

// A viewer connection that lives on a shard's strand.
class ShardViewer {
 public:
  virtual ~ShardViewer() = default;
  // On the shard's strand: queue the frame (no write yet).
  virtual void take(std::shared_ptr<const LiveFrame> frame) = 0;
  // On the shard's strand, after a batch: write what was queued.
  virtual void flush() = 0;
};

// Held shared: a drain in flight keeps its shard.
class ViewerShard : public std::enable_shared_from_this<ViewerShard> {
 public:
  explicit ViewerShard(boost::asio::any_io_executor strand) : strand_(std::move(strand)) {}
  ViewerShard(const ViewerShard&) = delete;
  ViewerShard& operator=(const ViewerShard&) = delete;

  const boost::asio::any_io_executor& strand() const { return strand_; }

  // Any thread: the frame for the viewer. The first frame of a batch posts its drain.
  void deliver(std::shared_ptr<ShardViewer> viewer, std::shared_ptr<const LiveFrame> frame);

  // Drops what waits for a drain that will not run (the node's threads have stopped): the
  // viewers it holds hold the context that holds the shard.
  void clear();

  // On the strand, during a drain: `viewer` has frames to write once the batch is taken.
  // Outside a drain: false (the caller writes at once).
  bool defer_flush(std::shared_ptr<ShardViewer> viewer);

 private:
  struct Item {
    std::shared_ptr<ShardViewer> viewer;
    std::shared_ptr<const LiveFrame> frame;
  };
  void drain();

  boost::asio::any_io_executor strand_;
  std::mutex mutex_;
  std::vector<Item> inbox_;  // guarded by mutex_
  // On the strand only.
  std::vector<Item> batch_;
  std::vector<std::shared_ptr<ShardViewer>> to_flush_;
  bool draining_ = false;
};

}  // namespace splitstream
