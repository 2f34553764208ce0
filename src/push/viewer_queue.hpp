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
  std::size_t max_queue_frames = 1024;  // beyond either limit: closed
  std::size_t max_queue_bytes = 4u << 20;
  // A viewer whose oldest unsent frame has waited longer than this is closed, however little
  // is queued: a phone that stops reading is gone in seconds, not once it holds megabytes.
  std::int64_t stall_timeout_ms = 5000;
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
  // the queue stays empty and every later frame is refused (and not counted again). `now_ms`
  // is the steady clock (ms) that the stall cut-off compares with the oldest frame's arrival.
  Decision push(std::shared_ptr<const LiveFrame> frame, std::int64_t now_ms = 0);

  // The writer's side: it takes frames from the front, writes them together and calls
  // finish_write() once they are out. Frames being written stay in the queue (and its depth)
  // until then, even when the viewer is shed meanwhile. Frames are held shared, never copied.
  bool empty() const { return frames_.empty(); }
  std::size_t size() const { return frames_.size(); }
  const LiveFrame& at(std::size_t i) const { return *frames_[i].frame; }
  const std::shared_ptr<const LiveFrame>& front() const { return frames_.front().frame; }
  void pop();
  void begin_write(std::size_t frames) { writing_ = frames; }
  std::size_t writing() const { return writing_; }
  void finish_write();

  // Whether the viewer has stalled: its oldest unsent frame waited past the stall timeout, and
  // no byte went out to it for as long (for a timer's check: push() checks by itself). Sheds
  // the viewer when it has.
  bool check_stalled(std::int64_t now_ms);
  // Bytes of the frames being written went out (a part of a large frame counts).
  void note_progress(std::int64_t now_ms) { progress_ms_ = now_ms; }

  ViewerQueueDepth depth() const { return {frames_.size(), bytes_}; }
  bool shed() const { return shed_; }
  // Whether it was shed for the age of its oldest frame (not for the size of its queue).
  bool shed_for_stall() const { return shed_for_stall_; }
  // Why the viewer was shed, for its close frame and the log.
  const std::string& shed_reason() const { return shed_reason_; }

  // The subscriptions whose deltas were coalesced, once the queue has drained to resync_below
  // frames or fewer (each returned once; empty otherwise). Their deltas stay dropped until a
  // snapshot of them is pushed.
  std::vector<std::string> take_resync();

  // An unsubscribed key: its deltas are no longer waiting for a snapshot.
  void forget(std::string_view key);

 private:
  struct Queued {
    std::shared_ptr<const LiveFrame> frame;
    std::int64_t since_ms;  // when it was queued
  };
  bool stalled(std::int64_t now_ms) const;
  void shed_all(std::string reason);

  ViewerQueueOptions options_;
  LiveFormat format_;
  std::deque<Queued> frames_;
  std::size_t bytes_ = 0;
  std::size_t writing_ = 0;       // frames at the front being written
  std::int64_t progress_ms_ = 0;  // when bytes of them last went out
  std::string shed_reason_;
  std::set<std::string, std::less<>> resync_;             // snapshots to ask for again
  std::set<std::string, std::less<>> awaiting_snapshot_;  // deltas dropped until one arrives
  bool shed_ = false;
  bool shed_for_stall_ = false;
};

}  // namespace splitstream
