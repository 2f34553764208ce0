// One viewer's send queue without I/O: what to do with each frame the hub delivers (queue it,
// coalesce it, or shed the viewer), the frames and bytes waiting, and the subscriptions whose
// snapshot to ask for again once the viewer has caught up. The WebSocket session asks it and
// does the writing; the policy is tested here without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "push/live_protocol.hpp"
#include "push/push_hub.hpp"

namespace splitstream {

struct ViewerQueueOptions {
  std::size_t coalesce_at = 64;         // queued frames: standings deltas dropped beyond
  std::size_t resync_below = 8;         // ... and snapshots asked again below this
  std::size_t max_queue_frames = 4096;  // beyond either limit: closed
  std::size_t max_queue_bytes = 16u << 20;
};

struct ViewerQueueDepth {
  std::size_t frames = 0;
  std::size_t bytes = 0;  // of the frames in the viewer's format
};

// Counts messages_coalesced, messages_shed and viewers_shed, and keeps its bytes in the
// viewer_queue_bytes gauge for as long as it holds them (so it is neither copied nor moved).
class ViewerQueue {
 public:
  enum class Decision : std::uint8_t {
    queued,     // at the back: to be written
    coalesced,  // a standings delta dropped; the subscription's snapshot is asked again
    shed,       // the viewer is too far behind: everything dropped, to be closed
  };

  ViewerQueue(ViewerQueueOptions options, LiveFormat format);
  ~ViewerQueue();
  ViewerQueue(const ViewerQueue&) = delete;
  ViewerQueue& operator=(const ViewerQueue&) = delete;

  // Snapshots, appends and replies are never coalesced: only shedding drops them. Once shed,
  // the queue stays empty and every later frame is refused (and not counted again).
  Decision push(std::shared_ptr<const LiveFrame> frame);

  // The writer's side: the oldest frame stays at the front (counted in the depth) while it is
  // written, and pop() removes it once written. Frames are held shared, never copied, so a
  // writer could take several from the front at once.
  bool empty() const { return frames_.empty(); }
  const std::shared_ptr<const LiveFrame>& front() const { return frames_.front(); }
  void pop();

  ViewerQueueDepth depth() const { return {frames_.size(), bytes_}; }
  bool shed() const { return shed_; }

  // The subscriptions whose deltas were coalesced, once the queue has drained to resync_below
  // frames or fewer (each returned once; empty otherwise). Their deltas stay dropped until a
  // snapshot of them is pushed.
  std::vector<std::string> take_resync();

  // An unsubscribed key: its deltas are no longer waiting for a snapshot.
  void forget(std::string_view key);

 private:
  void shed_all();

  ViewerQueueOptions options_;
  LiveFormat format_;
  std::deque<std::shared_ptr<const LiveFrame>> frames_;
  std::size_t bytes_ = 0;
  std::set<std::string, std::less<>> resync_;             // snapshots to ask for again
  std::set<std::string, std::less<>> awaiting_snapshot_;  // deltas dropped until one arrives
  bool shed_ = false;
};

}  // namespace splitstream
