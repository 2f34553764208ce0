#include "sim/device_player.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "ingest/device_protocol.hpp"
#include "ingest/frame_codec.hpp"
#include "splitstream/v1/device.pb.h"

// GCC 12 reports a mismatched new/delete on play_device's coroutine frame, which Asio allocates
// and frees with its own operators: a false positive of that compiler (the same code without
// the outage check compiles clean), silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace splitstream {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

std::string hello_frame(const std::string& device, const std::string& token,
                        std::uint64_t last_acked) {
  v1::DeviceMessage m;
  m.mutable_hello()->set_device_id(device);
  m.mutable_hello()->set_token(token);
  m.mutable_hello()->set_software("splitstream-sim");
  m.mutable_hello()->set_last_acked_seq(last_acked);
  return encode_frame(m);
}

std::string batch_frame(const DevicePlan& plan, std::size_t from, std::size_t to) {
  v1::DeviceMessage m;
  v1::ReadBatch* batch = m.mutable_batch();
  for (std::size_t i = from; i < to; ++i) {
    const PlannedRead& r = plan.reads[i];
    v1::Read* read = batch->add_reads();
    read->set_seq(r.seq);
    read->set_chip(r.chip);
    read->set_timing_point_id(r.timing_point_id);
    read->set_time_ms(r.time);
    read->set_line(to_wire(r.line));
  }
  return encode_frame(m);
}

std::string heartbeat_frame() {
  v1::DeviceMessage m;
  m.mutable_heartbeat();
  return encode_frame(m);
}

// Error codes after which trying again cannot help.
bool is_final(v1::ErrorCode code) {
  return code == v1::ERROR_CODE_BAD_TOKEN || code == v1::ERROR_CODE_UNKNOWN_DEVICE;
}

// One connection: its socket, frame decoder and a watchdog that closes the socket when the
// server does not answer in time.
class Line_ {
 public:
  Line_(tcp::socket socket, std::chrono::milliseconds timeout)
      : socket_(std::move(socket)),
        watchdog_(socket_.get_executor()),
        timeout_(timeout),
        decoder_(64u << 20) {}

  asio::awaitable<bool> send(const std::string& frame) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(frame), kNoThrow);
    (void)n;
    co_return !ec;
  }

  // The next message other than a heartbeat, or nullopt when the line failed or timed out.
  asio::awaitable<std::optional<v1::ServerMessage>> receive() {
    watchdog_.expires_after(timeout_);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        socket_.close(ignored);
      }
    });
    std::optional<v1::ServerMessage> result;
    for (;;) {
      const FrameResult r = decoder_.next();
      if (r.is_frame()) {
        v1::ServerMessage m;
        if (!m.ParseFromArray(r.payload.data(), static_cast<int>(r.payload.size()))) break;
        if (m.has_heartbeat()) continue;
        result = std::move(m);
        break;
      }
      if (r.error != FrameError::none) break;
      if (!unread_.empty()) {  // bytes read earlier that the decoder had no room for
        unread_.remove_prefix(decoder_.feed(unread_));
        continue;
      }
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer_), kNoThrow);
      if (ec) break;
      unread_ = std::string_view(buffer_.data(), n);
    }
    watchdog_.cancel();
    co_return result;
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  tcp::socket socket_;
  asio::steady_timer watchdog_;
  std::chrono::milliseconds timeout_;
  FrameDecoder decoder_;
  std::array<char, 16384> buffer_{};
  std::string_view unread_;
};

asio::awaitable<void> sleep_for(asio::steady_timer& timer, std::chrono::milliseconds d) {
  timer.expires_after(d);
  co_await timer.async_wait(kNoThrow);
}

// The end of the outage that covers race time `t`, or nullopt.
std::optional<TimeMs> outage_until(const std::vector<Outage>& outages, TimeMs t) {
  for (const Outage& o : outages)
    if (t >= o.from && t < o.to) return o.to;
  return std::nullopt;
}

}  // namespace

asio::awaitable<void> play_device(const DevicePlan& plan, std::string token, tcp::endpoint server,
                                  ReplayClock clock, std::chrono::steady_clock::time_point start,
                                  const PlayerOptions& options, PlayerStats& stats) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  std::chrono::milliseconds backoff{200};
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
  };
  while (!stats.done && !stats.gave_up) {
    stats.online = false;
    if (!clock.as_fast_as_possible()) {
      if (auto back = outage_until(options.outages, clock.race_time(elapsed_ms()))) {
        ++stats.outages;
        co_await sleep_for(timer, std::chrono::milliseconds(std::max<std::int64_t>(
                                      1, clock.wall_ms_for(*back) - elapsed_ms())));
        continue;
      }
    }
    tcp::socket socket(executor);
    auto [connect_error] = co_await socket.async_connect(server, kNoThrow);
    if (connect_error) {
      stats.last_error = "connect: " + connect_error.message();
      co_await sleep_for(timer, backoff);
      backoff = std::min(backoff * 2, options.max_backoff);
      continue;
    }
    ++stats.connects;
    Line_ line(std::move(socket), options.reply_timeout);
    std::optional<v1::ServerMessage> welcome;
    if (co_await line.send(hello_frame(plan.device_id, token, stats.acked)))
      welcome = co_await line.receive();
    if (!welcome || !welcome->has_welcome()) {
      if (welcome && welcome->has_error()) {
        stats.last_error = welcome->error().text();
        stats.gave_up = is_final(welcome->error().code());
      } else {
        stats.last_error = "no Welcome";
      }
      line.close();
      if (!stats.gave_up) {
        co_await sleep_for(timer, backoff);
        backoff = std::min(backoff * 2, options.max_backoff);
      }
      continue;
    }
    stats.online = true;
    backoff = std::chrono::milliseconds{200};
    stats.acked = welcome->welcome().acked_seq();
    // Sequences are positions + 1: resume at the first read not acknowledged.
    std::size_t next = std::min<std::size_t>(stats.acked, plan.reads.size());
    bool healthy = true;
    std::uint32_t batches = 0;
    while (healthy && next < plan.reads.size()) {
      const TimeMs now = clock.race_time(elapsed_ms());
      if (!clock.as_fast_as_possible() && outage_until(options.outages, now))
        break;  // the line goes dark
      const std::size_t end = due_until(plan, next, now, options.max_batch);
      if (end == next) {
        // Nothing due: sleep until the next read is (a heartbeat at least every 5 s).
        const std::int64_t due = clock.wall_ms_for(plan.reads[next].time) - elapsed_ms();
        if (due >= 5000) healthy = co_await line.send(heartbeat_frame());
        co_await sleep_for(timer,
                           std::chrono::milliseconds(std::clamp<std::int64_t>(due, 1, 5000)));
        continue;
      }
      stats.sent += end - next;
      if (!(co_await line.send(batch_frame(plan, next, end)))) break;
      if (options.reconnect_every > 0 && ++batches % options.reconnect_every == 0) {
        ++stats.dropped_lines;
        break;  // dropped before the Ack: the next Welcome says what arrived
      }
      std::optional<v1::ServerMessage> reply = co_await line.receive();
      if (!reply || !reply->has_ack()) {
        if (reply && reply->has_error()) {
          stats.last_error = reply->error().text();
          stats.gave_up = is_final(reply->error().code());
        } else {
          stats.last_error = "no Ack";
        }
        healthy = false;
        break;
      }
      stats.rejected += static_cast<std::uint64_t>(reply->ack().rejected_size());
      stats.acked = std::max<std::uint64_t>(stats.acked, reply->ack().acked_seq());
      // Resend from the first gap, if the server reports one; else go on after the batch.
      next = reply->ack().gaps_size() > 0 ? reply->ack().gaps(0).from() - 1 : end;
      next = std::max<std::size_t>(next, stats.acked);
    }
    line.close();
    stats.online = false;
    if (stats.acked >= plan.reads.size()) stats.done = true;
  }
}

}  // namespace splitstream
