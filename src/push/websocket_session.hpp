// One viewer's WebSocket (/ws): the subscription protocol in, live frames out. Each connection
// has a bounded send queue: when a viewer falls behind, its standings deltas are dropped and a
// fresh snapshot follows once it has caught up; a viewer whose queue still overflows is closed
// with a reason. Nothing a slow viewer does reaches the hub or the other viewers.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "push/live_protocol.hpp"
#include "push/push_hub.hpp"
#include "push/viewer_queue.hpp"
#include "push/viewer_shard.hpp"

namespace splitstream {

// The send queue's limits (coalesce_at, resync_below, max_queue_frames, max_queue_bytes) come
// from ViewerQueueOptions.
struct WebSocketOptions : ViewerQueueOptions {
  LiveLimits limits;
  std::vector<std::string> allowed_origins;  // empty: any Origin
  std::chrono::seconds idle_timeout{60};     // pings at half of it; closed without pongs
  std::chrono::seconds handshake_timeout{10};
  std::size_t max_client_message_bytes = 16 * 1024;
  int socket_send_buffer = 256 * 1024;    // SO_SNDBUF: bounds kernel memory per viewer
  std::chrono::seconds close_timeout{5};  // a closed viewer's last chance to read
  std::size_t max_connections = 50'000;
  double subscribe_rate = 5;    // subscribe/unsubscribe messages per second, after...
  double subscribe_burst = 20;  // ... a burst of this many
};

// What every viewer connection shares. The hub lives on `engine_strand`.
struct PushContext {
  PushContext(PushHub& h, boost::asio::any_io_executor strand, const LiveCatalog& c,
              WebSocketOptions o)
      : hub(h), engine_strand(std::move(strand)), catalog(c), options(std::move(o)) {}

  PushHub& hub;
  boost::asio::any_io_executor engine_strand;
  const LiveCatalog& catalog;
  WebSocketOptions options;
  // Whether an upgrade request may have the console feeds (DEVICES, REVIEW): a signed-in
  // official's session (set by the composition root; empty: no connection may).
  std::function<bool(const HttpRequest&)> console_access;
  // Plain viewer connections are spread over these (push/viewer_shard), one per thread, set
  // by the composition root; none: each viewer on a strand of its own, as TLS viewers are.
  std::vector<std::shared_ptr<ViewerShard>> shards;
  std::atomic<std::size_t> next_shard{0};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::uint64_t> shed{0};  // viewers closed for falling behind
};

// Serves an upgrade request on `stream` (from http_session, plain or TLS, on the connection's
// strand): refuses a bad Origin, an unknown subprotocol or a full server with an HTTP error;
// otherwise moves the stream into a WebSocket session and returns at once. `hold` lives as long
// as the session (the connection's place in the per-address count).
boost::asio::awaitable<void> serve_websocket(HttpStreamRef stream, HttpRequest request,
                                             std::shared_ptr<PushContext> context,
                                             std::shared_ptr<void> hold);

// serve_websocket as the route table's upgrade handler for /ws.
Router::UpgradeHandler websocket_upgrade(std::shared_ptr<PushContext> context);

// Picks the format from the Sec-WebSocket-Protocol list; nullopt when none is ours.
std::optional<LiveFormat> choose_subprotocol(std::string_view offered);

}  // namespace splitstream
