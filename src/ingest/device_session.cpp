#include "ingest/device_session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>

#include "ingest/frame_codec.hpp"
#include "ingest/write_within.hpp"
#include "observe/log.hpp"
#include "observe/spawn_completion.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kTick{1};

using TlsSocket = asio::ssl::stream<tcp::socket>;

tcp::socket& lowest(tcp::socket& s) {
  return s;
}
tcp::socket& lowest(TlsSocket& s) {
  return s.next_layer();
}

// `Stream` is tcp::socket or TlsSocket (handshake done).
template <typename Stream>
class DeviceSession {
 public:
  DeviceSession(Stream stream, std::shared_ptr<DeviceIngest> ingest, std::string peer)
      : socket_(std::move(stream)),
        ingest_(std::move(ingest)),
        protocol_(ingest_->event, ingest_->tokens, ingest_->protocol, wall_clock_now()),
        decoder_(ingest_->protocol.max_frame_bytes),
        peer_(std::move(peer)),
        opened_(std::chrono::steady_clock::now()) {
    ingest_->session_opened(&lowest(socket_));
  }
  ~DeviceSession() {
    if (!online_as_.empty()) ingest_->device_offline(online_as_);
    if (presence_) presence_->session_closed(wall_clock_now());
    ingest_->session_closed(&lowest(socket_));
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
            if (presence_) presence_->record_refused(0, 1);
            open = co_await carry_out(protocol_.on_frame_error(r.error, "", wall_clock_now()));
            break;
          }
          const auto message = decode_device_message(r.payload);
          DeviceProtocolOutput out;
          if (message) {
            if (message->has_batch()) batch_received_ = std::chrono::steady_clock::now();
            out = protocol_.on_message(*message, wall_clock_now());
          } else {
            if (presence_) presence_->record_refused(0, 1);
            out = protocol_.on_undecodable_frame("", wall_clock_now());
          }
          open = co_await carry_out(std::move(out));
          sync_presence();
          if (online_as_.empty() && protocol_.state() == DeviceProtocol::State::established) {
            online_as_ = protocol_.device_id();
            ingest_->device_online(online_as_);
            presence_ = ingest_->presence(online_as_);
            if (presence_) {
              presence_->session_opened(peer_, wall_clock_now());
              sync_presence();
            }
            log::info("devices", "device connected",
                      {{"device", online_as_},
                       {"remote", peer_},
                       {"tls", std::is_same_v<Stream, TlsSocket> ? "yes" : "no"},
                       {"acked_seq", std::to_string(protocol_.acked_seq())}});
          }
        }
      }
    }
    // Stopping: nothing is in flight here (carry_out finished every batch it started).
    if (open && ingest_->draining()) co_await carry_out(protocol_.on_shutdown(wall_clock_now()));
    log_end();
    boost::system::error_code ignored;
    lowest(socket_).shutdown(tcp::socket::shutdown_both, ignored);
    lowest(socket_).close(ignored);
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
          if (presence_)
            presence_->record_stored(stored.ingest.appended, stored.ingest.gaps, wall_clock_now());
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
    for (const v1::ServerMessage& m : messages) {
      if (m.has_error())
        last_error_ = std::string(v1::ErrorCode_Name(m.error().code())) + ": " + m.error().text();
    }
    // A device that takes none of this for the idle timeout is as gone as one that sends nothing.
    const boost::system::error_code ec = co_await write_within(
        socket_, bytes, std::chrono::milliseconds(ingest_->protocol.idle_timeout_ms));
    if (ec == asio::error::timed_out)
      last_error_ = "write timed out: the device took none of our bytes for the idle timeout";
    if (!ec && batch_received_ &&
        std::any_of(messages.begin(), messages.end(),
                    [](const v1::ServerMessage& m) { return m.has_ack(); })) {
      metrics::server().ack_latency.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - *batch_received_)
              .count());
      batch_received_.reset();
    }
    co_return !ec;
  }

  // Refusals and the device's clock, as the protocol counted them, into the node's presence of
  // the device (per frame: the protocol's counters are the session's, these the node's).
  void sync_presence() {
    if (!presence_) return;
    const DeviceSessionStats& st = protocol_.stats();
    const std::uint64_t rejected = st.reads_rejected - st.reads_malformed;
    presence_->record_refused(rejected - rejected_synced_, st.reads_malformed - malformed_synced_);
    rejected_synced_ = rejected;
    malformed_synced_ = st.reads_malformed;
    presence_->record_clock(st.clock_offset_ms);
  }

  // One line per session: who, from where, what it sent, and why it ended when we ended it.
  void log_end() const {
    const DeviceSessionStats& st = protocol_.stats();
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - opened_)
            .count();
    const log::Level level = last_error_.empty() ? log::Level::info : log::Level::warn;
    log::write(
        level, "devices",
        last_error_.empty() ? "device disconnected" : "device disconnected by the server",
        {{"device", protocol_.device_id().empty() ? "(unidentified)" : protocol_.device_id()},
         {"remote", peer_},
         {"seconds", std::to_string(seconds)},
         {"batches", std::to_string(st.batches)},
         {"accepted", std::to_string(st.reads_accepted)},
         {"rejected", std::to_string(st.reads_rejected)},
         {"acked_seq", std::to_string(protocol_.acked_seq())},
         {"error", last_error_}});
  }

  Stream socket_;
  std::shared_ptr<DeviceIngest> ingest_;
  DeviceProtocol protocol_;
  FrameDecoder decoder_;
  // When the batch being stored arrived (for the ack latency metric).
  std::optional<std::chrono::steady_clock::time_point> batch_received_;
  std::string online_as_;   // the device id once Welcome was sent
  std::string peer_;        // remote address
  std::string last_error_;  // the last Error the server sent ("CODE: text"), or why it closed
  std::chrono::steady_clock::time_point opened_;

  DevicePresence* presence_ = nullptr;  // the node's statistics of that device, once Welcome
  std::uint64_t rejected_synced_ = 0;   // the protocol's counts already in presence_
  std::uint64_t malformed_synced_ = 0;
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

namespace {

// The answer to a device over its address's connection limit: an Error frame, then close.
asio::awaitable<void> refuse_device(tcp::socket socket, std::size_t limit, bool tls) {
  if (!tls) {
    v1::ServerMessage message;
    message.mutable_error()->set_code(v1::ERROR_CODE_OVERLOADED);
    message.mutable_error()->set_text("this address holds " + std::to_string(limit) +
                                      " device connections already (one per device is enough)");
    message.mutable_error()->set_retry_after_ms(5000);
    co_await asio::async_write(socket, asio::buffer(encode_frame(message)), kNoThrow);
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> run_tls_device_session(tcp::socket socket,
                                             std::shared_ptr<DeviceIngest> ingest,
                                             std::shared_ptr<asio::ssl::context> tls,
                                             std::string peer,
                                             std::shared_ptr<ConnectionLimiter::Slot> /*held*/) {
  TlsSocket stream(std::move(socket), *tls);
  // The handshake is bounded like the Hello: a connection that says nothing is dropped.
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(ingest->protocol.idle_timeout_ms));
  auto done = co_await (stream.async_handshake(asio::ssl::stream_base::server, kNoThrow) ||
                        timer.async_wait(kNoThrow));
  if (done.index() == 1 || std::get<0>(std::get<0>(done))) {
    log::warn("devices", "TLS handshake failed", {{"remote", peer}});
    boost::system::error_code ignored;
    stream.next_layer().close(ignored);
    co_return;
  }
  DeviceSession<TlsSocket> session(std::move(stream), std::move(ingest), std::move(peer));
  co_await session.run();
}

}  // namespace

asio::awaitable<void> run_device_session(tcp::socket socket, std::shared_ptr<DeviceIngest> ingest) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  DeviceSession<tcp::socket> session(std::move(socket), std::move(ingest),
                                     ec ? std::string() : peer.address().to_string());
  co_await session.run();
}

asio::awaitable<void> run_device_listener(tcp::acceptor& acceptor,
                                          std::shared_ptr<DeviceIngest> ingest,
                                          std::shared_ptr<ConnectionLimiter> per_address,
                                          std::shared_ptr<asio::ssl::context> tls) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    const auto peer = socket.remote_endpoint(ec);
    const std::string address = ec ? std::string() : peer.address().to_string();
    auto slot = per_address->acquire(address);
    if (!slot) {
      metrics::connections_refused("devices", "per_address_limit").inc();
      if (auto n = per_address->refusals_to_report(std::chrono::steady_clock::now(),
                                                   std::chrono::seconds(10))) {
        log::warn("devices", "connections refused over the per-address limit",
                  {{"count", std::to_string(*n)},
                   {"latest", address},
                   {"limit", std::to_string(per_address->limit())}});
      }
      asio::co_spawn(executor,
                     refuse_device(std::move(socket), per_address->limit(), tls != nullptr),
                     LogAndDrop("devices"));
      continue;
    }
    auto held = std::make_shared<ConnectionLimiter::Slot>(std::move(*slot));
    if (tls) {
      asio::co_spawn(
          executor,
          run_tls_device_session(std::move(socket), ingest, tls, address, std::move(held)),
          LogAndDrop("devices"));
    } else {
      asio::co_spawn(
          executor,
          [](tcp::socket s, std::shared_ptr<DeviceIngest> i,
             std::shared_ptr<ConnectionLimiter::Slot>) -> asio::awaitable<void> {
            co_await run_device_session(std::move(s), std::move(i));
          }(std::move(socket), ingest, std::move(held)),
          LogAndDrop("devices"));
    }
  }
}

}  // namespace splitstream
