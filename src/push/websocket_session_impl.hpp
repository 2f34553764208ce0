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
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "core/connection_limiter.hpp"
#include "core/text.hpp"
#include "http/http_stream.hpp"
#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "observe/spawn_completion.hpp"
#include "push/websocket_session.hpp"

namespace splitstream::websocket_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// `Next` is PlainStream or TlsStream, already on the connection's own strand (the HTTP
// listener accepts each connection onto one), which the session keeps.
template <typename Next>
class WebSocketSession final : public LiveSubscriber,
                               public std::enable_shared_from_this<WebSocketSession<Next>> {
 public:
  WebSocketSession(Next&& stream, std::shared_ptr<PushContext> context, LiveFormat format,
                   std::shared_ptr<void> hold)
      : ws_(std::move(stream)),
        strand_(ws_.get_executor()),
        context_(std::move(context)),
        hold_(std::move(hold)),
        format_(format),
        subscriptions_(context_->options.limits.max_subscriptions),
        subscribe_rate_(context_->options.subscribe_rate, context_->options.subscribe_burst),
        close_timer_(strand_),
        queue_(context_->options, format) {
    ++context_->connections;
    boost::system::error_code ec;
    const auto peer = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
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
    asio::post(strand_, [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  void start(HttpRequest request) {
    console_allowed_ = context_->console_access && context_->console_access(request);
    asio::co_spawn(strand_, run(this->shared_from_this(), std::move(request)), LogAndDrop("ws"));
  }

 private:
  // `self` keeps the session alive while it runs.
  asio::awaitable<void> run([[maybe_unused]] std::shared_ptr<WebSocketSession> self,
                            HttpRequest request) {
    const WebSocketOptions& o = context_->options;
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = o.handshake_timeout;
    timeouts.idle_timeout = o.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(o.max_client_message_bytes);
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket's own timeouts take over
    beast::get_lowest_layer(ws_).socket().set_option(
        asio::socket_base::send_buffer_size(o.socket_send_buffer), ignored);
    // Whole messages, written straight from the shared frame: no per-connection write buffer.
    ws_.auto_fragment(false);
    const std::string_view protocol =
        format_ == LiveFormat::protobuf ? kProtobufSubprotocol : kJsonSubprotocol;
    const bool echo_protocol = request.count(beast::http::field::sec_websocket_protocol) > 0;
    ws_.set_option(
        websocket::stream_base::decorator([protocol, echo_protocol](websocket::response_type& res) {
          res.set(beast::http::field::server, "splitstream");
          if (echo_protocol) res.set(beast::http::field::sec_websocket_protocol, protocol);
        }));
    auto [accept_error] = co_await ws_.async_accept(request, kNoThrow);
    if (accept_error) co_return;
    request = {};  // its headers are not needed again: an idle viewer should cost little
    ws_.binary(format_ == LiveFormat::protobuf);
    accepted_ = true;
    log::debug(
        "viewers", "viewer connected",
        {{"remote", peer_}, {"format", format_ == LiveFormat::protobuf ? "protobuf" : "json"}});
    write_next();
    beast::flat_buffer buffer;
    for (;;) {
      auto [read_error, n] = co_await ws_.async_read(buffer, kNoThrow);
      if (read_error) break;
      const std::string payload = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      handle(payload, ws_.got_binary());
    }
    closing_ = true;
    asio::post(context_->engine_strand,
               [context = context_, id = static_cast<const LiveSubscriber*>(this)] {
                 context->hub.remove(id);
               });
  }

  void reply(const v1::LiveMessage& message) {
    const bool json = format_ == LiveFormat::json;
    enqueue(make_frame(message, LiveFrame::Kind::reply, json, !json));
  }

  void handle(const std::string& payload, bool binary) {
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
    const ViewerQueueDepth before = queue_.depth();
    switch (queue_.push(std::move(frame))) {
      case ViewerQueue::Decision::queued:
        if (!writing_) write_next();
        break;
      case ViewerQueue::Decision::coalesced:
        break;
      case ViewerQueue::Decision::shed:
        shed("too slow: " + std::to_string(before.frames) + " messages (" +
             std::to_string(before.bytes) + " bytes) waiting");
        break;
    }
  }

  void shed(std::string reason) {
    // The queue has dropped its frames (the frame being written, if any, is held by its write)
    // and counted them.
    closing_ = true;
    ++context_->shed;
    close_reason_ = std::move(reason);
    // A viewer that reads nothing more is cut off after the close timeout.
    close_timer_.expires_after(context_->options.close_timeout);
    close_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
    if (!writing_) send_close();  // else once the write in flight completes
  }

  // The close frame with the reason, after any frame in flight (one write at a time).
  void send_close() {
    if (close_sent_) return;
    close_sent_ = true;
    websocket::close_reason why(websocket::close_code::try_again_later, close_reason_);
    ws_.async_close(why, [self = this->shared_from_this()](beast::error_code) {
      self->close_timer_.cancel();
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
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
  // thousands of viewers the per-frame overhead is what counts).
  void write_next() {
    if (!accepted_ || writing_ || closing_) return;
    if (queue_.empty()) {
      ask_snapshots_again();
      return;
    }
    writing_ = true;
    // The completion keeps the frame (and so its bytes) alive, whatever happens to the queue.
    std::shared_ptr<const LiveFrame> frame = queue_.front();
    const std::string& bytes = frame->bytes(format_);
    ws_.async_write(asio::buffer(bytes), [self = this->shared_from_this(), frame](
                                             beast::error_code error, std::size_t) {
      self->writing_ = false;
      if (error) return;
      if (self->closing_) {
        if (!self->close_reason_.empty()) self->send_close();
        return;
      }
      self->queue_.pop();
      metrics::ServerMetrics& m = metrics::server();
      m.messages_sent.inc();
      ++self->messages_sent_;
      if (frame->stored_ms > 0) {
        m.device_to_viewer.observe(
            static_cast<double>(std::max<TimeMs>(0, wall_clock_now() - frame->stored_ms)) / 1000.0);
      }
      self->ask_snapshots_again();
      self->write_next();
    });
  }

  websocket::stream<Next> ws_;
  asio::any_io_executor strand_;  // the connection's strand, from the listener
  std::shared_ptr<PushContext> context_;
  std::shared_ptr<void> hold_;  // the connection's place in the per-address count
  LiveFormat format_;
  bool console_allowed_ = false;  // the upgrade carried an official's session
  SubscriptionSet subscriptions_;
  RateLimiter subscribe_rate_;
  std::string peer_;
  std::uint64_t messages_sent_ = 0;
  asio::steady_timer close_timer_;  // cuts off a shed viewer that reads nothing more
  ViewerQueue queue_;
  std::string close_reason_;  // set when shed
  bool close_sent_ = false;
  bool accepted_ = false;  // the handshake is done: frames may be written
  bool writing_ = false;
  bool closing_ = false;
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
  auto session = std::make_shared<WebSocketSession<Next>>(std::move(stream), std::move(context),
                                                          format, std::move(hold));
  session->start(std::move(request));
}

// The two instantiations, one per translation unit.
asio::awaitable<void> serve_plain(PlainStream& stream, HttpRequest request,
                                  std::shared_ptr<PushContext> context, std::shared_ptr<void> hold);
asio::awaitable<void> serve_tls(TlsStream& stream, HttpRequest request,
                                std::shared_ptr<PushContext> context, std::shared_ptr<void> hold);

}  // namespace splitstream::websocket_detail
