// The WebSocket viewer session as a template over its stream (plain TCP or TLS), shared by
// websocket_session.cpp (plain) and websocket_session_tls.cpp (TLS): each stream type is
// instantiated in its own translation unit, because Beast's WebSocket over TLS alone takes
// minutes to compile and the two then build in parallel. Internal to src/push.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/connection_limiter.hpp"
#include "core/text.hpp"
#include "http/http_stream.hpp"
#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "observe/spawn_completion.hpp"
#include "push/websocket_fsm.hpp"
#include "push/websocket_session.hpp"

namespace splitstream::websocket_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// `Next` is PlainStream or TlsStream, already on the connection's own strand (the HTTP
// listener accepts each connection onto one), which the session keeps.
// Frames gathered into one write: up to this many, or until this many bytes are taken.
// 63 frames and a buffer of control frames: the 64 buffers one sendmsg takes.
inline constexpr std::size_t kMaxGatherFrames = 63;
inline constexpr std::size_t kMaxGatherBytes = 256 * 1024;
// A TLS viewer's reads go through this much room (a plain viewer reads into a buffer its
// thread shares, so an idle one holds none).
inline constexpr std::size_t kTlsReadChunk = 2048;
// How long a viewer that took nothing for the stall timeout gets to take the close frame.
inline constexpr std::chrono::milliseconds kStalledCloseWait{1000};

// Reads what a plain socket has ready, one buffer's worth at most (so that a client that never
// pauses is parsed, and bounded, as it goes), into the reader through a buffer each thread
// shares (not a coroutine: the thread-local must not be cached across a suspension). The bytes
// read; `ec` is set at the end of the stream or on an error (not when nothing was ready).
std::size_t read_ready(tcp::socket& socket, ws::ClientFrameReader& reader,
                       boost::system::error_code& ec);

// The connection's socket, moved onto `strand` (a shard's); nullopt when the socket could not
// be released (it is closed).
std::optional<PlainStream> move_to_strand(PlainStream& stream, const asio::any_io_executor& strand);

// Bytes in the connection's send queue that its peer has not acknowledged yet (SIOCOUTQ: sent
// or not); nullopt when the kernel does not tell.
std::optional<std::size_t> unacknowledged_bytes(tcp::socket& socket);

// The 101 answer to a valid upgrade request.
beast::http::response<beast::http::empty_body> handshake_response(const HttpRequest& request,
                                                                  LiveFormat format);

// `Next` is PlainStream or TlsStream, already on the connection's own strand (the HTTP
// listener accepts each connection onto one), which the session keeps. The WebSocket protocol
// is ws::ClientFrameReader's (push/websocket_fsm); the session only moves bytes: the frames
// waiting for the viewer go out together in one write, each as the bytes the hub built once for
// every viewer.
template <typename Next>
class WebSocketSession final : public LiveSubscriber,
                               public ShardViewer,
                               public std::enable_shared_from_this<WebSocketSession<Next>> {
  static constexpr bool kPlain = std::is_same_v<Next, PlainStream>;

 public:
  // `shard`: the shard whose strand `stream` is on (plain streams), or none.
  WebSocketSession(Next&& stream, std::shared_ptr<PushContext> context, LiveFormat format,
                   std::shared_ptr<void> hold, ViewerShard* shard)
      : shard_(shard),
        stream_(std::move(stream)),
        strand_(stream_.get_executor()),
        context_(std::move(context)),
        hold_(std::move(hold)),
        format_(format),
        subscriptions_(context_->options.limits.max_subscriptions),
        subscribe_rate_(context_->options.subscribe_rate, context_->options.subscribe_burst),
        reader_(context_->options.max_client_message_bytes),
        tick_timer_(strand_),
        close_timer_(strand_),
        queue_(context_->options, format) {
    ++context_->connections;
    boost::system::error_code ec;
    const auto peer = socket().remote_endpoint(ec);
    if (!ec) peer_ = peer.address().to_string();
  }
  ~WebSocketSession() override {
    --context_->connections;
    if (accepted_) {
      log::debug("viewers", "viewer disconnected",
                 {{"remote", peer_},
                  {"messages", std::to_string(messages_sent_)},
                  {"reason", close_reason_.empty() ? "closed" : close_reason_}});
    }
  }

  LiveFormat format() const override { return format_; }

  void deliver(std::shared_ptr<const LiveFrame> frame) override {
    if (shard_ != nullptr) {
      shard_->deliver(this->shared_from_this(), std::move(frame));
      return;
    }
    asio::post(strand_, [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  // ShardViewer: a frame of the shard's batch, then the write once the batch is taken.
  void take(std::shared_ptr<const LiveFrame> frame) override { enqueue(std::move(frame)); }
  void flush() override {
    flush_deferred_ = false;
    write_next();
  }

  void start(HttpRequest request) {
    console_allowed_ = context_->console_access && context_->console_access(request);
    asio::co_spawn(strand_, run(this->shared_from_this(), std::move(request)), LogAndDrop("ws"));
  }

 private:
  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }
  // What frames are read from and written to: the socket itself, or the TLS stream over it.
  auto& io() {
    if constexpr (kPlain) {
      return socket();
    } else {
      return stream_;
    }
  }

  // `self` keeps the session alive while it runs.
  asio::awaitable<void> run([[maybe_unused]] std::shared_ptr<WebSocketSession> self,
                            HttpRequest request) {
    const WebSocketOptions& o = context_->options;
    boost::system::error_code ignored;
    socket().set_option(asio::socket_base::send_buffer_size(o.socket_send_buffer), ignored);
    socket().set_option(tcp::no_delay(true), ignored);
    {
      const auto response = handshake_response(request, format_);
      beast::get_lowest_layer(stream_).expires_after(o.handshake_timeout);
      auto [handshake_error, n] = co_await beast::http::async_write(stream_, response, kNoThrow);
      if (handshake_error) co_return;
    }
    beast::get_lowest_layer(stream_).expires_never();  // the session's own timers take over
    request = {};  // its headers are not needed again: an idle viewer should cost little
    if constexpr (kPlain) socket().non_blocking(true, ignored);
    accepted_ = true;
    last_heard_ms_ = steady_ms();
    progress_ms_ = last_heard_ms_;
    log::debug(
        "viewers", "viewer connected",
        {{"remote", peer_}, {"format", format_ == LiveFormat::protobuf ? "protobuf" : "json"}});
    arm_tick();
    write_next();
    bool peer_gone = false;
    for (;;) {
      if constexpr (kPlain) {
        auto [wait_error] = co_await socket().async_wait(tcp::socket::wait_read, kNoThrow);
        if (wait_error) {
          peer_gone = true;
          break;
        }
        boost::system::error_code read_error;
        const std::size_t got = read_ready(socket(), reader_, read_error);
        // What came before the end of the stream is handled first (a close frame, say).
        if (!take_read(got)) break;
        if (read_error) {
          peer_gone = true;
          break;
        }
      } else {
        char* room = reader_.prepare(kTlsReadChunk);
        auto [read_error, got] =
            co_await stream_.async_read_some(asio::buffer(room, kTlsReadChunk), kNoThrow);
        reader_.commit(got);
        if (!take_read(got)) break;
        if (read_error) {
          peer_gone = true;
          break;
        }
      }
    }
    end_reading(peer_gone);
  }

  // After a read of `got` bytes: its events, then one write for the pongs they asked for.
  // False once nothing more is to be read.
  bool take_read(std::size_t got) {
    if (got == 0) return true;
    last_heard_ms_ = steady_ms();
    const bool more = handle_events();
    if (!pong_.empty()) write_next();
    return more;
  }

  // The events in what was read; false once nothing more is to be read (a close or an error).
  bool handle_events() {
    for (;;) {
      ws::ClientEvent event = reader_.next();
      switch (event.kind) {
        case ws::ClientEvent::Kind::none:
          return true;
        case ws::ClientEvent::Kind::text:
        case ws::ClientEvent::Kind::binary:
          if (!closing_) handle(event.payload, event.kind == ws::ClientEvent::Kind::binary);
          break;
        case ws::ClientEvent::Kind::ping:
          if (close_sent_) break;  // nothing may follow our close frame
          // Only the latest ping needs its pong (RFC 6455 5.5.3): a flood costs nothing.
          pong_.clear();
          ws::append_frame_header(pong_, ws::Opcode::pong, event.payload.size());
          pong_ += event.payload;
          break;
        case ws::ClientEvent::Kind::pong:
          break;
        case ws::ClientEvent::Kind::close:
          send_close(event.code == ws::close_code::no_status ? ws::close_code::normal : event.code,
                     "");
          return false;
        case ws::ClientEvent::Kind::error:
          close_reason_ = event.reason;
          send_close(event.code, event.reason);
          return false;
      }
    }
  }

  // Nothing more is read: the hub forgets the viewer. A peer that is gone ends the connection
  // now; after a close or a protocol error, once our close frame is out (or the close timeout).
  void end_reading(bool peer_gone) {
    reading_done_ = true;
    closing_ = true;
    asio::post(context_->engine_strand,
               [context = context_, id = static_cast<const LiveSubscriber*>(this)] {
                 context->hub.remove(id);
               });
    if (peer_gone || !close_sent_ || close_written_) shutdown_now();
  }

  void shutdown_now() {
    if (ended_) return;
    ended_ = true;
    closing_ = true;
    tick_timer_.cancel();
    close_timer_.cancel();
    boost::system::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  // Pings a viewer silent for half the idle timeout and drops one that has not answered
  // within another half; sheds one whose oldest frame has waited past the stall timeout
  // (push() checks that as frames arrive; this covers a quiet race).
  void arm_tick() {
    const WebSocketOptions& o = context_->options;
    auto period = std::chrono::milliseconds(o.idle_timeout) / 2;
    if (o.stall_timeout_ms > 0)
      period = std::min(period, std::chrono::milliseconds(o.stall_timeout_ms) / 2);
    tick_timer_.expires_after(std::max(period, std::chrono::milliseconds(100)));
    tick_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->tick();
    });
  }

  void tick() {
    if (ended_) return;
    const std::int64_t now = steady_ms();
    const std::int64_t half_idle_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(context_->options.idle_timeout)
            .count() /
        2;
    if (ping_sent_ms_ >= 0 && last_heard_ms_ < ping_sent_ms_ &&
        now - ping_sent_ms_ >= half_idle_ms) {
      close_reason_ = "silent for " + std::to_string((now - last_heard_ms_) / 1000) + " s";
      shutdown_now();
      return;
    }
    if (!closing_ && queue_.check_stalled(now)) on_shed();
    if constexpr (kPlain) {
      if (!closing_) check_network_progress(now);
    }
    const bool awaiting_answer = ping_sent_ms_ >= 0 && last_heard_ms_ < ping_sent_ms_;
    if (!awaiting_answer && !close_sent_ && now - last_heard_ms_ >= half_idle_ms) {
      ping_sent_ms_ = now;
      ping_due_ = true;
      write_next();
    }
    if (!ended_) arm_tick();
  }

  // A viewer that stopped reading fills the kernel's send buffer before its own queue grows:
  // one whose peer acknowledged nothing for the stall timeout while bytes waited for it is shed
  // as one whose oldest frame waited that long.
  void check_network_progress(std::int64_t now) {
    const auto waiting = unacknowledged_bytes(socket());
    if (!waiting) return;
    const std::uint64_t acked = bytes_written_ - *waiting;
    if (*waiting == 0 || acked != acked_) {
      acked_ = acked;
      progress_ms_ = now;
      return;
    }
    if (now - progress_ms_ <= context_->options.stall_timeout_ms) return;
    ++context_->shed;
    metrics::server().viewers_shed.inc();
    close_reason_ = "too slow: nothing of " + std::to_string(*waiting) +
                    " bytes on their way was taken for " +
                    std::to_string((now - progress_ms_) / 1000) + " s";
    stalled_ = true;
    send_close(ws::close_code::try_again_later, close_reason_);
  }

  void reply(const v1::LiveMessage& message) {
    const bool json = format_ == LiveFormat::json;
    enqueue(make_frame(message, LiveFrame::Kind::reply, json, !json));
  }

  void handle(std::string_view payload, bool binary) {
    if (!subscribe_rate_.allow(steady_ms())) {
      metrics::server().rate_limited.inc();
      reply(error_message({"rate_limited", "more than " +
                                               std::to_string(context_->options.subscribe_rate) +
                                               " messages a second (after a burst of " +
                                               std::to_string(context_->options.subscribe_burst) +
                                               "): this one was ignored; wait and send it again"}));
      return;
    }
    auto parsed = parse_client_message(payload, binary);
    if (auto* error = std::get_if<LiveRequestError>(&parsed)) {
      reply(error_message(*error));
      return;
    }
    const v1::ClientMessage& message = std::get<v1::ClientMessage>(parsed);
    if (message.has_unsubscribe()) {
      const std::string& key = message.unsubscribe().subscription();
      if (!subscriptions_.remove(key)) {
        reply(error_message({"unknown_subscription", "no subscription \"" + key + "\""}));
        return;
      }
      queue_.forget(key);
      asio::post(context_->engine_strand, [context = context_, self = this->shared_from_this(),
                                           key] { context->hub.unsubscribe(self.get(), key); });
      return;
    }
    const v1::Subscribe& subscribe = message.subscribe();
    if (is_console_feed(subscribe.kind()) && !console_allowed_) {
      reply(error_message({"forbidden",
                           "the console feeds need a signed-in official: sign in (POST "
                           "/api/v1/session) before opening the WebSocket"}));
      return;
    }
    auto resolved = resolve_subscribe(context_->catalog, subscribe, context_->options.limits);
    if (auto* error = std::get_if<LiveRequestError>(&resolved)) {
      reply(error_message(*error));
      return;
    }
    auto added = subscriptions_.add(std::move(std::get<std::vector<SubscriptionShape>>(resolved)));
    if (auto* error = std::get_if<LiveRequestError>(&added)) {
      reply(error_message(*error));
      return;
    }
    std::vector<SubscriptionShape> shapes =
        std::move(std::get<std::vector<SubscriptionShape>>(added));
    v1::LiveMessage answer;
    for (const SubscriptionShape& s : shapes)
      answer.mutable_subscribed()->add_subscriptions(s.key);
    reply(answer);
    const std::uint32_t snapshot_size = subscribe.limit() == 0 ? 50 : subscribe.limit();
    asio::post(context_->engine_strand,
               [context = context_, self = this->shared_from_this(), shapes = std::move(shapes),
                since = subscribe.since_version(),
                snapshot_size] { context->hub.subscribe(self, shapes, since, snapshot_size); });
  }

  // On the strand: the queue decides whether the frame waits, is coalesced or sheds the viewer.
  void enqueue(std::shared_ptr<const LiveFrame> frame) {
    if (closing_) return;
    if (frame->kind != LiveFrame::Kind::reply && !subscriptions_.contains(frame->subscription))
      return;
    switch (queue_.push(std::move(frame), steady_ms())) {
      case ViewerQueue::Decision::queued:
        // In a shard's batch, the write waits for the batch's other frames.
        if (writing_ || flush_deferred_) break;
        if (shard_ != nullptr && shard_->defer_flush(this->shared_from_this())) {
          flush_deferred_ = true;
        } else {
          write_next();
        }
        break;
      case ViewerQueue::Decision::coalesced:
        break;
      case ViewerQueue::Decision::shed:
        on_shed();
        break;
    }
  }

  // The queue has dropped its frames but those being written, and counted them.
  void on_shed() {
    ++context_->shed;
    close_reason_ = queue_.shed_reason();
    stalled_ = queue_.shed_for_stall();
    send_close(ws::close_code::try_again_later, close_reason_);
  }

  // The close frame goes after the frames being written, and nothing after it. A viewer that
  // reads nothing more is cut off after the close timeout.
  void send_close(std::uint16_t code, std::string_view reason) {
    closing_ = true;
    if (close_sent_ || ended_) return;
    close_sent_ = true;
    close_ = ws::close_frame(code, reason);
    // A viewer that takes nothing will not take the close frame either: not long to wait.
    close_timer_.expires_after(stalled_
                                   ? std::min<std::chrono::milliseconds>(
                                         context_->options.close_timeout, kStalledCloseWait)
                                   : std::chrono::milliseconds(context_->options.close_timeout));
    close_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->shutdown_now();
    });
    write_next();
  }

  // Once the queue has drained enough, the snapshots of the subscriptions it coalesced.
  void ask_snapshots_again() {
    for (std::string& key : queue_.take_resync()) {
      asio::post(context_->engine_strand,
                 [context = context_, self = this->shared_from_this(), key = std::move(key)] {
                   context->hub.resend_snapshot(self, key);
                 });
    }
  }

  // One write at a time, chained from its completion (no coroutine or timer per frame: with
  // thousands of viewers the per-frame overhead is what counts). A write takes the pong, ping
  // and close due and every frame waiting (up to the gather limits), so a viewer that fell
  // behind catches up in few system calls.
  void write_next() {
    if (!accepted_ || writing_ || ended_) return;
    gather_.clear();
    control_.clear();
    control_ += pong_;
    pong_.clear();
    if (ping_due_) {
      ws::append_frame_header(control_, ws::Opcode::ping, 0);
      ping_due_ = false;
    }
    writing_close_ = !close_.empty();
    control_ += close_;
    close_.clear();
    std::size_t frames = 0;
    if (!close_sent_) {
      std::size_t bytes = 0;
      for (; frames < queue_.size() && frames < kMaxGatherFrames && bytes < kMaxGatherBytes;
           ++frames) {
        const std::string& wire = queue_.at(frames).wire(format_);
        gather_.emplace_back(wire.data(), wire.size());
        bytes += wire.size();
      }
    }
    // Control frames first: between two messages is where they may go.
    if (!control_.empty()) gather_.insert(gather_.begin(), asio::buffer(control_));
    if (gather_.empty()) {
      if (!closing_) ask_snapshots_again();
      return;
    }
    writing_ = true;
    queue_.begin_write(frames);
    if constexpr (kPlain) {
      // Most writes fit in the socket's buffer: written at once, with no operation to start
      // and no completion to run (the socket is non-blocking).
      boost::system::error_code error;
      std::size_t sent = socket().write_some(gather_, error);
      if (error == asio::error::would_block || error == asio::error::try_again) {
        error = {};
        sent = 0;
      }
      note_sent(sent);
      if (error || sent == asio::buffer_size(gather_)) {
        written(error);
        return;
      }
      skip_written(sent);
    }
    write_rest();
  }

  // What the kernel did not take at once, as it takes it: each part counts as progress, so a
  // large snapshot on a slow link is not taken for a stall.
  void write_rest() {
    io().async_write_some(
        std::span<const asio::const_buffer>(gather_),
        [self = this->shared_from_this()](const boost::system::error_code& error, std::size_t n) {
          self->note_sent(n);
          if (!error && n < asio::buffer_size(self->gather_)) {
            self->skip_written(n);
            self->write_rest();
            return;
          }
          self->written(error);
        });
  }

  void note_sent(std::size_t n) {
    if (n == 0) return;
    bytes_written_ += n;
    queue_.note_progress(steady_ms());
  }

  // Drops the first `n` bytes from the gathered buffers: what a partial write sent.
  void skip_written(std::size_t n) {
    std::size_t whole = 0;
    while (whole < gather_.size() && n >= gather_[whole].size()) {
      n -= gather_[whole].size();
      ++whole;
    }
    gather_.erase(gather_.begin(), gather_.begin() + static_cast<std::ptrdiff_t>(whole));
    if (!gather_.empty()) gather_.front() += n;
  }

  void written(const boost::system::error_code& error) {
    writing_ = false;
    if (error) {
      queue_.finish_write();
      shutdown_now();
      return;
    }
    if (const std::size_t sent = queue_.writing(); sent > 0) {
      metrics::ServerMetrics& m = metrics::server();
      const TimeMs now = wall_clock_now();
      for (std::size_t i = 0; i < sent; ++i) {
        const TimeMs stored = queue_.at(i).stored_ms;
        if (stored > 0)
          m.device_to_viewer.observe(static_cast<double>(std::max<TimeMs>(0, now - stored)) /
                                     1000.0);
      }
      queue_.finish_write();
      m.messages_sent.inc(sent);
      messages_sent_ += sent;
    }
    if (writing_close_) {
      writing_close_ = false;
      close_written_ = true;
      if (reading_done_) {
        shutdown_now();
      } else {
        // The viewer answers with its close and its end, which the read loop sees.
        boost::system::error_code ignored;
        if constexpr (kPlain) socket().shutdown(tcp::socket::shutdown_send, ignored);
      }
      return;
    }
    if (!closing_) ask_snapshots_again();
    write_next();
  }

  ViewerShard* shard_;  // plain viewers: the shard whose strand they are on
  Next stream_;
  asio::any_io_executor strand_;  // the connection's (or its shard's) strand
  std::shared_ptr<PushContext> context_;
  std::shared_ptr<void> hold_;  // the connection's place in the per-address count
  LiveFormat format_;
  bool console_allowed_ = false;  // the upgrade carried an official's session
  SubscriptionSet subscriptions_;
  RateLimiter subscribe_rate_;
  ws::ClientFrameReader reader_;
  std::string peer_;
  std::uint64_t messages_sent_ = 0;
  asio::steady_timer tick_timer_;   // pings, the idle and stall cut-offs
  asio::steady_timer close_timer_;  // cuts off a viewer that does not read our close
  ViewerQueue queue_;
  std::vector<asio::const_buffer> gather_;  // the write in flight
  std::string control_;                     // its control frames
  std::string pong_;                        // the pong due, if any
  std::string close_;                       // the close frame due, if any
  std::string close_reason_;                // why the server closed, for the log
  std::int64_t last_heard_ms_ = 0;          // steady clock: the viewer's last bytes
  std::int64_t ping_sent_ms_ = -1;          // steady clock: the last ping (-1: none yet)
  bool ping_due_ = false;
  bool accepted_ = false;  // the handshake is done: frames may be written
  bool writing_ = false;
  bool writing_close_ = false;       // the write in flight carries the close frame
  bool flush_deferred_ = false;      // the shard's batch calls flush()
  bool stalled_ = false;             // shed for taking nothing
  std::uint64_t bytes_written_ = 0;  // to the socket, all told
  std::uint64_t acked_ = 0;          // bytes the peer had acknowledged at progress_ms_
  std::int64_t progress_ms_ = 0;     // steady clock: the last sign the peer takes what is sent
  bool closing_ = false;             // no more frames are queued
  bool close_sent_ = false;          // the close frame is due or written
  bool close_written_ = false;
  bool reading_done_ = false;
  bool ended_ = false;  // the socket is closed
};

template <typename Next>
asio::awaitable<void> serve_on(Next& stream, HttpRequest request,
                               std::shared_ptr<PushContext> context, std::shared_ptr<void> hold) {
  const WebSocketOptions& o = context->options;
  auto refuse = [&](beast::http::status status, std::string_view code,
                    std::string message) -> HttpResponse {
    HttpResponse res = error_response(request, status, code, message);
    res.keep_alive(false);
    return res;
  };
  std::optional<HttpResponse> refusal;
  const std::string_view origin = request[beast::http::field::origin];
  if (!o.allowed_origins.empty() && !origin.empty() &&
      std::find(o.allowed_origins.begin(), o.allowed_origins.end(), origin) ==
          o.allowed_origins.end()) {
    refusal = refuse(beast::http::status::forbidden, "origin_not_allowed",
                     "Origin " + std::string(origin) + " is not in the allowed origins");
  }
  if (!refusal && request[beast::http::field::sec_websocket_version] != "13") {
    refusal = refuse(beast::http::status::upgrade_required, "unsupported_websocket_version",
                     "Sec-WebSocket-Version: this server speaks version 13 (RFC 6455)");
    refusal->set(beast::http::field::sec_websocket_version, "13");
  }
  if (!refusal && !ws::valid_client_key(request[beast::http::field::sec_websocket_key])) {
    refusal = refuse(beast::http::status::bad_request, "invalid_websocket_key",
                     "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.1)");
  }
  LiveFormat format = LiveFormat::json;
  if (!refusal && request.count(beast::http::field::sec_websocket_protocol) > 0) {
    const auto chosen = choose_subprotocol(request[beast::http::field::sec_websocket_protocol]);
    if (chosen) {
      format = *chosen;
    } else {
      refusal = refuse(beast::http::status::bad_request, "unsupported_subprotocol",
                       "Sec-WebSocket-Protocol: offer " + std::string(kJsonSubprotocol) + " or " +
                           std::string(kProtobufSubprotocol));
    }
  }
  if (!refusal && context->connections.load() >= o.max_connections) {
    metrics::connections_refused("http", "too_many_viewers").inc();
    refusal = refuse(beast::http::status::service_unavailable, "too_many_viewers",
                     "this node serves " + std::to_string(o.max_connections) +
                         " viewers already; retry or use another node");
  }
  if (refusal) {
    metrics::http_responses(refusal->result_int()).inc();
    co_await beast::http::async_write(stream, *refusal, kNoThrow);
    co_return;
  }
  if constexpr (std::is_same_v<Next, PlainStream>) {
    if (!context->shards.empty()) {
      ViewerShard& shard = *context->shards[context->next_shard++ % context->shards.size()];
      auto moved = move_to_strand(stream, shard.strand());
      if (!moved) co_return;
      auto session = std::make_shared<WebSocketSession<Next>>(std::move(*moved), std::move(context),
                                                              format, std::move(hold), &shard);
      session->start(std::move(request));
      co_return;
    }
  }
  auto session = std::make_shared<WebSocketSession<Next>>(std::move(stream), std::move(context),
                                                          format, std::move(hold), nullptr);
  session->start(std::move(request));
}

// The two instantiations, one per translation unit.
asio::awaitable<void> serve_plain(PlainStream& stream, HttpRequest request,
                                  std::shared_ptr<PushContext> context, std::shared_ptr<void> hold);
asio::awaitable<void> serve_tls(TlsStream& stream, HttpRequest request,
                                std::shared_ptr<PushContext> context, std::shared_ptr<void> hold);

}  // namespace splitstream::websocket_detail
