// What the WebSocket load tools share: viewers on one client thread (Beast, the Protobuf
// subprotocol) that subscribe and time every message against the moment Redis wrote the read it
// names, as an observer following the stream learns from the entry's ID.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "splitstream/v1/live.pb.h"
#include "support/redis_server.hpp"

namespace splitstream::bench {

// Latencies: 0.1 ms buckets up to 10 s, then 10 ms buckets up to 10 minutes. Shared by every
// viewer (one client thread).
class Histogram {
 public:
  void add(double ms) {
    ms = std::clamp(ms, 0.0, kMaxMs);
    const auto b = ms < kFineMs ? static_cast<std::size_t>(ms * 10)
                                : kFineBuckets + static_cast<std::size_t>((ms - kFineMs) / 10);
    ++buckets_[std::min(b, buckets_.size() - 1)];
    ++count_;
    max_ = std::max(max_, ms);
  }
  double percentile(double p) const {
    const auto wanted = static_cast<std::uint64_t>(p * static_cast<double>(count_));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      seen += buckets_[b];
      if (seen > wanted)
        return b < kFineBuckets ? static_cast<double>(b) / 10.0
                                : kFineMs + static_cast<double>(b - kFineBuckets) * 10.0;
    }
    return kMaxMs;
  }
  std::uint64_t count() const { return count_; }
  double max() const { return max_; }

 private:
  static constexpr double kFineMs = 10'000;
  static constexpr double kMaxMs = 600'000;
  static constexpr std::size_t kFineBuckets = 100'000;
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(
      kFineBuckets + static_cast<std::size_t>((kMaxMs - kFineMs) / 10) + 1);
  std::uint64_t count_ = 0;
  double max_ = 0;
};

// Wall-clock microseconds since the Unix epoch: what a stream entry's ID is measured in (its
// first part is Redis's clock in milliseconds when it wrote the entry; same host, same clock).
inline std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// When Redis wrote each stream entry (1-based), from the entry's ID: exact to the millisecond
// however late the observer reads it, so a busy load tool does not shorten the latencies.
class StreamClock {
 public:
  explicit StreamClock(std::size_t entries) : written_ms_(entries + 1) {}
  void mark(std::size_t entry, std::string_view id) {
    if (entry < written_ms_.size())
      written_ms_[entry].store(std::strtoll(std::string(id).c_str(), nullptr, 10));
  }
  // The write time in wall-clock microseconds, if the observer has seen the entry.
  std::optional<std::int64_t> written_us(std::size_t entry) const {
    if (entry >= written_ms_.size()) return std::nullopt;
    const auto ms = written_ms_[entry].load();
    if (ms == 0) return std::nullopt;
    return ms * 1000;
  }
  std::size_t capacity() const { return written_ms_.size() - 1; }
  // Whether an observer marks this clock: without one, viewers time nothing and keep nothing.
  void set_observed() { observed_ = true; }
  bool observed() const { return observed_.load(); }

 private:
  std::vector<std::atomic<std::int64_t>> written_ms_;
  std::atomic<bool> observed_{false};
};

// Follows a stream (XREAD on a connection of its own, on a thread of its own) and marks each
// entry's write time on the clock until `entries` are seen, or until stopped and every entry
// written by then is marked (a load tool that fell behind catches up before it reports).
class StreamObserver {
 public:
  StreamObserver(const test_support::RedisServer& redis, std::string stream, StreamClock& clock,
                 std::size_t entries = std::numeric_limits<std::size_t>::max()) {
    clock.set_observed();
    thread_ = std::thread([this, &redis, stream = std::move(stream), &clock, entries] {
      std::string last = "0";
      std::size_t entry = 0;
      while (entry < entries) {
        const bool finishing = stopping_.load();
        const auto reply =
            redis.command({"XREAD", "COUNT", "10000", "BLOCK", "200", "STREAMS", stream, last});
        if (!reply.is_array() || reply.elements().empty()) {
          if (finishing) break;  // nothing more since stop() was called
          continue;
        }
        for (const auto& e : reply.elements()[0].elements()[1].elements()) {
          last = e.elements()[0].as_string();
          clock.mark(++entry, last);
        }
      }
    });
  }
  ~StreamObserver() { stop(); }
  StreamObserver(const StreamObserver&) = delete;
  StreamObserver& operator=(const StreamObserver&) = delete;

  // Returns once every entry written before the call is marked.
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The LiveMessage's version (field 1, a varint, encoded first) without parsing the rest.
inline std::uint64_t message_version(std::string_view bytes) {
  if (bytes.empty() || static_cast<unsigned char>(bytes[0]) != 0x08) return 0;
  std::uint64_t v = 0;
  for (std::size_t i = 1, shift = 0; i < bytes.size() && shift < 64; ++i, shift += 7) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return v;
}

// What a viewer asks for, and how many messages answer it before the live ones (Subscribed,
// then one snapshot per subscription id).
struct ViewerRequest {
  std::string bytes;
  int setup_messages = 2;
  bool record = false;  // keep every live message and its arrival (ViewerStats::recorded)
};

inline ViewerRequest subscribe_request(const splitstream::v1::Subscribe& subscribe) {
  splitstream::v1::ClientMessage message;
  *message.mutable_subscribe() = subscribe;
  const int snapshots =
      subscribe.kind() == splitstream::v1::SUBSCRIPTION_KIND_RUNNERS ? subscribe.bibs_size() : 1;
  return {message.SerializeAsString(), 1 + snapshots};
}

struct ViewerStats {
  std::size_t connected = 0;
  std::size_t subscribed = 0;  // got its snapshots
  std::size_t failed = 0;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  Histogram latency;
  // Messages that named an entry the observer had not seen yet when they arrived: their version
  // and arrival (wall-clock microseconds), timed once it has (resolve_waiting).
  std::vector<std::pair<std::uint64_t, std::int64_t>> waiting;
  std::uint64_t unseen = 0;  // named an entry the observer never saw

  // Times the waiting messages, once the observer has seen everything.
  void resolve_waiting(const StreamClock& clock) {
    for (const auto& [version, arrived_us] : waiting) {
      if (auto written = clock.written_us(version)) {
        latency.add(static_cast<double>(arrived_us - *written) / 1000.0);
      } else {
        ++unseen;
      }
    }
    waiting.clear();
  }
  // The live messages of the viewers that record (ViewerRequest::record), as they arrived.
  std::vector<std::pair<Clock::time_point, std::string>> recorded;
};

inline boost::asio::awaitable<void> viewer(int port, const ViewerRequest& request,
                                           const StreamClock& clock, ViewerStats& stats,
                                           const std::atomic<bool>& stop) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
  auto [connect_error] = co_await beast::get_lowest_layer(ws).async_connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, kNoThrow);
  if (connect_error) {
    ++stats.failed;
    co_return;
  }
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, "splitstream.v1.protobuf");
  }));
  auto [handshake_error] = co_await ws.async_handshake("127.0.0.1", "/ws", kNoThrow);
  if (handshake_error) {
    ++stats.failed;
    co_return;
  }
  ++stats.connected;
  ws.binary(true);
  auto [write_error, written] = co_await ws.async_write(asio::buffer(request.bytes), kNoThrow);
  if (write_error) {
    ++stats.failed;
    co_return;
  }
  // From here the viewer reads the socket itself: server frames are unmasked and whole
  // (FIN), so a frame is a 2- to 10-byte header and the message. One read takes every frame
  // waiting, which keeps the load tool's cost per message low (Beast's read costs a few
  // microseconds per message, which made this tool the bottleneck at 20,000 viewers).
  auto& socket = beast::get_lowest_layer(ws).socket();
  std::string in;
  std::size_t used = 0;
  std::array<char, 64 * 1024> chunk{};
  int replies = 0;
  while (!stop.load()) {
    auto [read_error, n] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
    if (read_error) break;
    const auto now = Clock::now();
    const std::int64_t now_us = wall_us();
    in.append(chunk.data(), n);
    for (;;) {
      const std::size_t available = in.size() - used;
      if (available < 2) break;
      const auto* h = reinterpret_cast<const unsigned char*>(in.data() + used);
      const unsigned opcode = h[0] & 0x0f;
      std::size_t header = 2;
      std::uint64_t length = h[1] & 0x7f;
      if (length == 126) {
        header = 4;
        if (available < header) break;
        length = (std::uint64_t{h[2]} << 8) | h[3];
      } else if (length == 127) {
        header = 10;
        if (available < header) break;
        length = 0;
        for (int i = 2; i < 10; ++i)
          length = (length << 8) | h[i];
      }
      if (available - header < length) break;
      const std::string_view bytes(in.data() + used + header, length);
      used += header + length;
      if (opcode == 0x9) {  // ping: a masked pong (mask 0: the payload as is)
        auto pong = std::make_shared<std::string>();
        *pong += static_cast<char>(0x8a);
        *pong += static_cast<char>(0x80 | bytes.size());
        pong->append(4, '\0');
        *pong += bytes;
        asio::async_write(socket, asio::buffer(*pong), [pong](auto, auto) {});
        continue;
      }
      if (opcode == 0x8) break;  // the server closed
      if (opcode != 0x1 && opcode != 0x2) continue;
      if (replies < request.setup_messages) {
        if (++replies == request.setup_messages) ++stats.subscribed;
        continue;
      }
      ++stats.messages;
      stats.bytes += bytes.size();
      if (request.record) stats.recorded.emplace_back(now, std::string(bytes));
      const std::uint64_t version = message_version(bytes);
      if (auto written_at = clock.written_us(version)) {
        stats.latency.add(static_cast<double>(now_us - *written_at) / 1000.0);
      } else if (clock.observed()) {
        stats.waiting.emplace_back(version, now_us);
      }
    }
    if (used == in.size()) {
      in.clear();
      used = 0;
    } else if (used > 64 * 1024) {
      in.erase(0, used);
      used = 0;
    }
  }
  beast::error_code ignored;
  socket.close(ignored);
}

// A viewer that subscribes and then never reads again, with a small receive buffer (as a phone
// that lost its signal keeps its connection): its socket stays open in `held` until the server
// closes it or the pool stops.
inline boost::asio::awaitable<void> stalled_viewer(
    int port, const ViewerRequest& request,
    std::vector<std::shared_ptr<boost::beast::websocket::stream<boost::beast::tcp_stream>>>& held,
    std::size_t& subscribed, std::size_t& failed) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  auto ws =
      std::make_shared<websocket::stream<beast::tcp_stream>>(co_await asio::this_coro::executor);
  auto& socket = beast::get_lowest_layer(*ws).socket();
  boost::system::error_code ec;
  socket.open(asio::ip::tcp::v4(), ec);
  socket.set_option(asio::socket_base::receive_buffer_size(4096), ec);
  auto [connect_error] = co_await socket.async_connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, kNoThrow);
  if (connect_error) {
    ++failed;
    co_return;
  }
  ws->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, "splitstream.v1.protobuf");
  }));
  auto [handshake_error] = co_await ws->async_handshake("127.0.0.1", "/ws", kNoThrow);
  if (handshake_error) {
    ++failed;
    co_return;
  }
  ws->binary(true);
  auto [write_error, written] = co_await ws->async_write(asio::buffer(request.bytes), kNoThrow);
  if (write_error) {
    ++failed;
    co_return;
  }
  ++subscribed;
  held.push_back(std::move(ws));
}

// Viewers on one client thread of their own. Open them, read their stats at any time, stop.
class ViewerPool {
 public:
  ViewerPool() : work_(boost::asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}
  ~ViewerPool() { stop(); }
  ViewerPool(const ViewerPool&) = delete;
  ViewerPool& operator=(const ViewerPool&) = delete;

  // Opens one viewer per request on 127.0.0.1:port, 500 at a time, each wave subscribed (or
  // failed, or 30 s gone) before the next so the listen backlog never overflows. `requests`
  // and `clock` must outlive the pool. Returns how many are subscribed.
  std::size_t open(int port, const std::vector<ViewerRequest>& requests, const StreamClock& clock) {
    namespace asio = boost::asio;
    using namespace std::chrono_literals;
    for (std::size_t opened = 0; opened < requests.size();) {
      const std::size_t wave = std::min<std::size_t>(500, requests.size() - opened);
      asio::post(ioc_, [this, port, &requests, &clock, opened, wave] {
        for (std::size_t i = opened; i < opened + wave; ++i)
          asio::co_spawn(ioc_, viewer(port, requests[i], clock, stats_, stop_), asio::detached);
      });
      opened += wave;
      const auto deadline = Clock::now() + 30s;
      while (Clock::now() < deadline) {
        const ViewerStats now = stats();
        if (now.subscribed + now.failed >= opened) break;
        std::this_thread::sleep_for(5ms);
      }
    }
    return stats().subscribed;
  }

  // Opens `count` stalled viewers (stalled_viewer) with `request`, which must outlive the pool;
  // how many subscribed.
  std::size_t open_stalled(int port, const ViewerRequest& request, std::size_t count) {
    namespace asio = boost::asio;
    return asio::co_spawn(
               ioc_,
               [this, port, &request, count]() -> asio::awaitable<std::size_t> {
                 std::size_t subscribed = 0, failed = 0;
                 for (std::size_t i = 0; i < count; ++i)
                   co_await stalled_viewer(port, request, stalled_, subscribed, failed);
                 co_return subscribed;
               },
               asio::use_future)
        .get();
  }

  // A copy of the stats, taken on the client thread.
  ViewerStats stats() {
    return boost::asio::post(ioc_, boost::asio::use_future([this] {
                               // Not the messages waiting for the observer: a long list, only
                               // needed at the end.
                               auto waiting = std::move(stats_.waiting);
                               ViewerStats copy = stats_;
                               stats_.waiting = std::move(waiting);
                               return copy;
                             }))
        .get();
  }

  // The stats with the messages that waited for the observer timed: once it has stopped
  // (StreamObserver::stop).
  ViewerStats final_stats(const StreamClock& clock) {
    return boost::asio::post(ioc_, boost::asio::use_future([this, &clock] {
                               stats_.resolve_waiting(clock);
                               return stats_;
                             }))
        .get();
  }

  // Stops the viewers and the thread (idempotent).
  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    work_.reset();
    ioc_.stop();
    thread_.join();
    stalled_.clear();
  }

 private:
  boost::asio::io_context ioc_{1};
  std::vector<std::shared_ptr<boost::beast::websocket::stream<boost::beast::tcp_stream>>> stalled_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  ViewerStats stats_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace splitstream::bench
