#include "ingest/device_session.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "ingest/frame_codec.hpp"
#include "server/log.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kTick{1};

class DeviceSession {
 public:
  DeviceSession(tcp::socket socket, std::shared_ptr<DeviceIngest> ingest)
      : socket_(std::move(socket)),
        ingest_(std::move(ingest)),
        protocol_(ingest_->event, ingest_->tokens, ingest_->protocol, wall_clock_now()),
        decoder_(ingest_->protocol.max_frame_bytes) {
    ingest_->session_opened(&socket_);
  }
  ~DeviceSession() {
    if (!online_as_.empty()) ingest_->device_offline(online_as_);
    ingest_->session_closed(&socket_);
  }
  DeviceSession(const DeviceSession&) = delete;
  DeviceSession& operator=(const DeviceSession&) = delete;

  asio::awaitable<void> run() {
    asio::steady_timer tick(co_await asio::this_coro::executor);
    std::array<char, 16 * 1024> buffer;
    bool open = true;
    while (open && !ingest_->draining()) {
      tick.expires_after(kTick);
      auto event = co_await (socket_.async_read_some(asio::buffer(buffer), kNoThrow) ||
                             tick.async_wait(kNoThrow));
      if (event.index() == 1) {
        open = co_await carry_out(protocol_.on_tick(wall_clock_now()));
        continue;
      }
      auto [read_error, n] = std::get<0>(event);
      if (read_error) break;  // the device went away; it resends what was not acked
      protocol_.note_bytes_received(wall_clock_now());
      std::string_view input(buffer.data(), n);
      while (open && !input.empty()) {
        input.remove_prefix(decoder_.feed(input));
        for (FrameResult r = decoder_.next(); open && !r.need_more(); r = decoder_.next()) {
          if (r.is_error()) {
            open = co_await carry_out(protocol_.on_frame_error(r.error, "", wall_clock_now()));
            break;
          }
          const auto message = decode_device_message(r.payload);
          DeviceProtocolOutput out;
          if (message) {
            out = protocol_.on_message(*message, wall_clock_now());
          } else {
            out = protocol_.on_undecodable_frame("", wall_clock_now());
          }
          open = co_await carry_out(std::move(out));
          if (online_as_.empty() && protocol_.state() == DeviceProtocol::State::established) {
            online_as_ = protocol_.device_id();
            ingest_->device_online(online_as_);
          }
        }
      }
    }
    // Stopping: nothing is in flight here (carry_out finished every batch it started).
    if (open && ingest_->draining()) co_await carry_out(protocol_.on_shutdown(wall_clock_now()));
    log_end();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  // Does what the protocol asked, feeding Redis's answers back until it asks for nothing more.
  // False when the session is over.
  asio::awaitable<bool> carry_out(DeviceProtocolOutput out) {
    for (;;) {
      if (!co_await send(out.send)) co_return false;
      if (out.close_after_send) co_return false;
      if (out.load_acked_seq) {
        const ReadLogResult loaded = co_await ingest_->read_log.acked_seq(protocol_.device_id());
        // (if/else, not ?: -- GCC 12 loses a ?: temporary assigned in a coroutine.)
        if (loaded.error) {
          out = protocol_.on_store_error(loaded.detail, wall_clock_now());
        } else {
          out = protocol_.on_acked_seq_loaded(loaded.ingest.acked_seq, wall_clock_now());
        }
        continue;
      }
      if (out.persist) {
        PersistRequest request = std::move(*out.persist);
        const ReadLogResult stored = co_await ingest_->read_log.append(
            request.device_id, wall_clock_now(), std::move(request.reads),
            std::move(request.to_mark_rejected));
        if (stored.error) {
          out = protocol_.on_store_error(stored.detail, wall_clock_now());
        } else {
          out =
              protocol_.on_persisted(stored.ingest.acked_seq, stored.ingest.gaps, wall_clock_now());
        }
        continue;
      }
      co_return true;
    }
  }

  asio::awaitable<bool> send(const std::vector<v1::ServerMessage>& messages) {
    if (messages.empty()) co_return true;
    std::string bytes;
    for (const v1::ServerMessage& m : messages)
      bytes += encode_frame(m);
    auto [ec, written] = co_await asio::async_write(socket_, asio::buffer(bytes), kNoThrow);
    co_return !ec;
  }

  void log_end() const {
    const DeviceSessionStats& s = protocol_.stats();
    const std::string who =
        protocol_.device_id().empty() ? "unidentified device" : protocol_.device_id();
    log::info("devices", who + " disconnected: " + std::to_string(s.batches) + " batches, " +
                             std::to_string(s.reads_accepted) + " reads accepted, " +
                             std::to_string(s.reads_rejected) + " rejected, acked seq " +
                             std::to_string(protocol_.acked_seq()));
  }

  tcp::socket socket_;
  std::shared_ptr<DeviceIngest> ingest_;
  DeviceProtocol protocol_;
  FrameDecoder decoder_;
  std::string online_as_;  // the device id once Welcome was sent
};

}  // namespace

void DeviceIngest::drain() {
  draining_ = true;
  // Wakes sessions waiting for bytes; one storing a batch notices after its Ack.
  for (tcp::socket* socket : sockets_) {
    boost::system::error_code ignored;
    socket->cancel(ignored);
  }
}

asio::awaitable<void> run_device_session(tcp::socket socket, std::shared_ptr<DeviceIngest> ingest) {
  DeviceSession session(std::move(socket), std::move(ingest));
  co_await session.run();
}

asio::awaitable<void> run_device_listener(tcp::acceptor& acceptor,
                                          std::shared_ptr<DeviceIngest> ingest) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(executor, run_device_session(std::move(socket), ingest), asio::detached);
  }
}

}  // namespace splitstream
