#include "store/redis_connection.hpp"

#include <openssl/ssl.h>
#include <strings.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <climits>
#include <stdexcept>
#include <utility>

#include "observe/server_metrics.hpp"
#include "store/reconnect_fsm.hpp"
#include "store/redis_handshake.hpp"
#include "store/resp_reader.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 64 * 1024;

class RedisCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "splitstream.redis"; }
  std::string message(int value) const override {
    switch (static_cast<RedisErrc>(value)) {
      case RedisErrc::not_connected:
        return "not connected to Redis";
      case RedisErrc::disconnected:
        return "Redis connection lost with the command in flight";
      case RedisErrc::command_timeout:
        return "Redis command timed out";
      case RedisErrc::stopped:
        return "Redis connection stopped";
      case RedisErrc::invalid_command:
        return "invalid Redis command for this client";
      case RedisErrc::connect_failed:
        return "cannot connect to Redis";
      case RedisErrc::connect_timeout:
        return "timed out connecting to Redis";
      case RedisErrc::protocol_error:
        return "Redis sent a reply that is not RESP";
    }
    return "unknown Redis error";
  }
};

// Commands whose replies do not pair one-to-one with requests would shift every later reply
// onto the wrong caller (pub/sub and MONITOR keep calling back; CLIENT REPLY OFF/SKIP silences
// replies; HELLO 3 switches to RESP3, which the reader does not speak): not sent.
bool is_sendable(const std::vector<std::string>& args) {
  if (args.empty() || args.size() > static_cast<std::size_t>(INT_MAX)) return false;
  const std::string& name = args.front();
  for (const char* multi : {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
                            "sunsubscribe", "monitor", "hello"}) {
    if (::strcasecmp(name.c_str(), multi) == 0) return false;
  }
  return !(::strcasecmp(name.c_str(), "client") == 0 && args.size() > 1 &&
           ::strcasecmp(args[1].c_str(), "reply") == 0);
}

ReconnectPolicy reconnect_policy(const RedisOptions& options) {
  ReconnectPolicy policy;
  policy.initial = options.reconnect_initial;
  policy.max = options.reconnect_max;
  policy.factor = options.reconnect_factor;
  return policy;
}

ReconnectFsm::Input connect_outcome(const error_code& connect_error) {
  if (!connect_error) return ReconnectFsm::Input::connect_succeeded;
  if (connect_error == RedisErrc::connect_timeout) return ReconnectFsm::Input::connect_timed_out;
  return ReconnectFsm::Input::connect_failed;
}

RedisConnectionEvent::Kind event_kind(ReconnectFsm::Report report) {
  switch (report) {
    case ReconnectFsm::Report::connected:
      return RedisConnectionEvent::Kind::connected;
    case ReconnectFsm::Report::disconnected:
      return RedisConnectionEvent::Kind::disconnected;
    case ReconnectFsm::Report::connect_failed:
      return RedisConnectionEvent::Kind::connect_failed;
  }
  return RedisConnectionEvent::Kind::connect_failed;
}

std::string address_text(const RedisAddress& a) {
  const bool ipv6 = a.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

// The TLS settings become a context once, at create(): a file that cannot be loaded stops the
// node at start-up, naming it. Without TLS the context only gives the stream its type.
std::shared_ptr<ssl::context> make_tls_context(const RedisTlsOptions& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  if (!tls.enabled) return context;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (tls.ca_file.empty()) {
    context->set_default_verify_paths(ec);
    if (ec)
      throw std::runtime_error("redis TLS: cannot load the system's trust store: " + ec.message());
  } else {
    context->load_verify_file(tls.ca_file, ec);
    if (ec)
      throw std::runtime_error("redis TLS: cannot load CA file " + tls.ca_file + ": " +
                               ec.message());
  }
  if (!tls.cert_file.empty()) {
    context->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) {
      throw std::runtime_error("redis TLS: cannot load certificate " + tls.cert_file + ": " +
                               ec.message());
    }
    context->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec)
      throw std::runtime_error("redis TLS: cannot load key " + tls.key_file + ": " + ec.message());
  }
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

// "certificate verify failed", without OpenSSL's "(SSL routines)" suffix noise.
std::string tls_error_text(const error_code& ec) {
  std::string text = ec.message();
  if (const auto paren = text.find(" ("); paren != std::string::npos) text.resize(paren);
  return text;
}

}  // namespace

const boost::system::error_category& redis_category() {
  static const RedisCategory category;
  return category;
}

boost::system::error_code make_error_code(RedisErrc e) {
  return {static_cast<int>(e), redis_category()};
}

// The connection's byte stream: an ssl::stream whose TCP socket is used directly without TLS.
// Shared by the connection and every operation on it, so a closed stream outlives the
// completions that still refer to it.
struct RedisConnection::Stream {
  Stream(const Executor& executor, ssl::context& context, bool tls_on)
      : ssl_stream(executor, context), tls(tls_on) {}
  tcp::socket& socket() { return ssl_stream.next_layer(); }
  void close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buffer) {
    if (tls) co_return co_await ssl_stream.async_read_some(buffer, kAwaitTuple);
    co_return co_await socket().async_read_some(buffer, kAwaitTuple);
  }
  asio::awaitable<std::tuple<error_code, std::size_t>> write_all(asio::const_buffer buffer) {
    if (tls) co_return co_await asio::async_write(ssl_stream, buffer, kAwaitTuple);
    co_return co_await asio::async_write(socket(), buffer, kAwaitTuple);
  }
  template <typename Handler>
  void async_write_all(asio::const_buffer buffer, Handler&& handler) {
    if (tls) {
      asio::async_write(ssl_stream, buffer, std::forward<Handler>(handler));
    } else {
      asio::async_write(socket(), buffer, std::forward<Handler>(handler));
    }
  }

  ssl::stream<tcp::socket> ssl_stream;
  bool tls;
};

namespace {

// Closes a stream when a deadline passes, unless disarmed first: every step of a connect
// attempt (resolve, connect, TLS, handshake) then fails with operation_aborted.
template <typename CloseFn>
class Deadline {
 public:
  Deadline(const asio::any_io_executor& executor, std::chrono::milliseconds after, CloseFn close)
      : state_(std::make_shared<State>(executor)) {
    state_->timer.expires_after(after);
    state_->timer.async_wait([state = state_, close = std::move(close)](const error_code& ec) {
      if (ec || state->disarmed) return;
      state->fired = true;
      close();
    });
  }
  ~Deadline() { disarm(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  void disarm() {
    state_->disarmed = true;
    state_->timer.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    explicit State(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    bool disarmed = false;
    bool fired = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace

namespace {

struct Roundtrip {
  error_code error;                 // transport failure (or the deadline's close)
  std::string problem;              // what went wrong, in words
  std::vector<RedisReply> replies;  // all of them when neither is set
};

// Writes `request` (several encoded commands) and reads `count` replies: the handshake and the
// sentinel's question, before any caller's command may use the stream.
template <typename S>
asio::awaitable<Roundtrip> roundtrip(S& stream, std::string request, std::size_t count) {
  Roundtrip out;
  const auto [write_error, written] = co_await stream.write_all(asio::buffer(request));
  (void)written;
  if (write_error) {
    out.error = write_error;
    out.problem = "cannot send: " + tls_error_text(write_error);
    co_return out;
  }
  std::string buffer;
  std::size_t start = 0;
  while (out.replies.size() < count) {
    const RespScanResult scan = scan_resp_reply(std::string_view(buffer).substr(start));
    if (scan.status == RespScan::complete) {
      out.replies.push_back(build_resp_reply(std::string_view(buffer).substr(start, scan.length)));
      start += scan.length;
      continue;
    }
    if (scan.status == RespScan::malformed) {
      out.error = RedisErrc::protocol_error;
      out.problem = "not a Redis reply: " + scan.error;
      co_return out;
    }
    const std::size_t used = buffer.size();
    buffer.resize(used + kReadChunk);
    const auto [read_error, n] =
        co_await stream.read_some(asio::buffer(buffer.data() + used, kReadChunk));
    buffer.resize(used + n);
    if (read_error) {
      out.error = read_error;
      if (read_error == asio::error::eof || read_error == ssl::error::stream_truncated) {
        out.problem = "the server closed the connection";
      } else {
        out.problem = tls_error_text(read_error);
      }
      co_return out;
    }
  }
  co_return out;
}

std::string encode_command(const std::vector<std::string>& command) {
  std::string out;
  append_resp_command(out, command);
  return out;
}

std::string encode_commands(const std::vector<std::vector<std::string>>& commands) {
  std::string out;
  for (const auto& command : commands)
    append_resp_command(out, command);
  return out;
}

}  // namespace

// One in-flight command, shared by the awaiting coroutine and the queue of commands in flight,
// so whichever finishes last frees it: the coroutine may give up (timeout) before its reply.
struct RedisConnection::Pending {
  explicit Pending(const Executor& executor) : timer(executor) {}
  // Waited on by the coroutine: expires at the command's deadline, cancelled by the reply.
  asio::steady_timer timer;
  bool done = false;
  bool raw = false;  // keep the reply's bytes rather than building its tree
  std::uint64_t epoch = 0;
  error_code error;
  RedisReply reply;
  std::string raw_reply;
};

std::shared_ptr<RedisConnection> RedisConnection::create(Executor executor, RedisOptions options) {
  return std::shared_ptr<RedisConnection>(
      new RedisConnection(std::move(executor), std::move(options)));
}

RedisConnection::RedisConnection(Executor executor, RedisOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      tls_context_(make_tls_context(options_.tls)),
      run_wakeup_(executor_) {
  // options() shows the delays run() applies (a zero delay would spin on a dead server).
  const ReconnectPolicy policy = normalized(reconnect_policy(options_));
  options_.reconnect_initial = policy.initial;
  options_.reconnect_max = policy.max;
}

RedisConnection::~RedisConnection() {
  // Only reached with a live stream if the execution context was torn down under run().
  if (stream_) stream_->close();
}

std::string RedisConnection::last_problem() const {
  const std::lock_guard lock(problem_mutex_);
  return problem_;
}

void RedisConnection::set_problem(std::string problem) {
  const std::lock_guard lock(problem_mutex_);
  problem_ = std::move(problem);
}

// ---- run / stop -----------------------------------------------------------------------------

asio::awaitable<void> RedisConnection::run() {
  auto self = shared_from_this();
  if (!on_own_executor(co_await asio::this_coro::executor)) {
    co_await asio::co_spawn(executor_, self->run_here(), asio::use_awaitable);
  } else {
    co_await run_here();
  }
}

asio::awaitable<void> RedisConnection::run_here() {
  if (running_) throw std::logic_error("RedisConnection::run() is already running");
  running_ = true;
  // The policy decides what comes next; this loop only performs it and reports what happened.
  ReconnectFsm fsm(reconnect_policy(options_));
  ReconnectFsm::Step step = fsm.handle(ReconnectFsm::Input::start);
  while (step.action != ReconnectFsm::Action::stop) {
    if (step.report) emit(event_kind(*step.report), step.delay);
    // stop() may come before run(), during any wait below, or from the event handler.
    ReconnectFsm::Input outcome = ReconnectFsm::Input::stop;
    if (stopping_) {
      // nothing more starts
    } else if (step.action == ReconnectFsm::Action::connect) {
      const error_code connect_error = co_await connect_once();
      outcome = connect_outcome(connect_error);
    } else if (step.action == ReconnectFsm::Action::hold) {
      if (stream_) co_await read_replies(stream_, epoch_);
      outcome = ReconnectFsm::Input::connection_dropped;
    } else if (step.action == ReconnectFsm::Action::wait) {
      co_await sleep_unless_stopped(step.delay);
      outcome = ReconnectFsm::Input::backoff_elapsed;
    }
    if (stopping_) outcome = ReconnectFsm::Input::stop;
    step = fsm.handle(outcome);
  }
  drop(RedisErrc::stopped, "stopped");
}

asio::awaitable<std::optional<RedisAddress>> RedisConnection::ask_sentinels(std::string& problem) {
  const std::size_t n = options_.sentinels.size();
  std::string answers;
  for (std::size_t k = 0; k < n && !stopping_; ++k) {
    const std::size_t index = (next_sentinel_ + k) % n;
    const RedisAddress& sentinel = options_.sentinels[index];
    auto stream = std::make_shared<Stream>(executor_, *tls_context_, false);
    // The deadline covers the name lookup too: it cancels the resolver and closes the socket.
    auto resolver = std::make_shared<tcp::resolver>(executor_);
    Deadline deadline(executor_, options_.connect_timeout, [stream, resolver] {
      resolver->cancel();
      stream->close();
    });
    const auto [resolve_error, endpoints] =
        co_await resolver->async_resolve(sentinel.host, std::to_string(sentinel.port), kAwaitTuple);
    std::string outcome;
    if (resolve_error && deadline.fired()) {
      outcome = "no answer in time";
    } else if (resolve_error) {
      outcome = "cannot resolve: " + resolve_error.message();
    } else {
      const auto [connect_error, endpoint] =
          co_await asio::async_connect(stream->socket(), endpoints, kAwaitTuple);
      (void)endpoint;
      if (connect_error && deadline.fired()) {
        outcome = "no answer in time";
      } else if (connect_error) {
        outcome = connect_error.message();
      } else {
        const Roundtrip asked =
            co_await roundtrip(*stream, encode_command(sentinel_primary_command(options_)), 1);
        if (!asked.problem.empty() && deadline.fired()) {
          outcome = "no answer in time";
        } else if (!asked.problem.empty()) {
          outcome = asked.problem;
        } else if (auto primary = sentinel_primary_address(asked.replies.front())) {
          deadline.disarm();
          stream->close();
          next_sentinel_ = index;
          co_return primary;
        } else if (asked.replies.front().is_error()) {
          outcome = asked.replies.front().as_string();
        } else {
          outcome = "knows no primary named " + options_.primary_name;
        }
      }
    }
    deadline.disarm();
    stream->close();
    if (!answers.empty()) answers += "; ";
    answers += address_text(sentinel) + ": " + outcome;
  }
  problem = "no sentinel named the primary " + options_.primary_name + " (" + answers + ")";
  co_return std::nullopt;
}

asio::awaitable<error_code> RedisConnection::connect_once() {
  last_error_ = {};
  last_error_detail_.clear();
  const auto fail = [this](RedisErrc reason, std::string detail) {
    // A MOVED target that cannot be reached: the next attempt goes to the configured address.
    redirect_.reset();
    last_error_ = reason;
    last_error_detail_ = detail;
    set_problem(std::move(detail));
    return error_code(reason);
  };

  // Built field by field: GCC 12 mishandles braced initializers in coroutines.
  RedisAddress target;
  target.host = options_.host;
  target.port = options_.port;
  if (redirect_) {
    target = *redirect_;
  } else if (!options_.sentinels.empty()) {
    std::string problem;
    std::optional<RedisAddress> primary = co_await ask_sentinels(problem);
    if (stopping_) co_return RedisErrc::stopped;
    if (!primary) co_return fail(RedisErrc::connect_failed, problem);
    target = *primary;
  }
  // A redirect holds until an attempt to it fails (`fail` forgets it), so that a dropped
  // connection comes back to the slot's owner, not to the member that redirected it.
  const std::string where = address_text(target);

  auto stream = std::make_shared<Stream>(executor_, *tls_context_, options_.tls.enabled);
  // The deadline covers the name lookup too: it cancels the resolver and closes the socket.
  auto resolver = std::make_shared<tcp::resolver>(executor_);
  Deadline deadline(executor_, options_.connect_timeout, [stream, resolver] {
    resolver->cancel();
    stream->close();
  });
  const auto timed_out = [&] {
    return fail(RedisErrc::connect_timeout, "no connection to " + where + " after " +
                                                std::to_string(options_.connect_timeout.count()) +
                                                " ms");
  };
  const auto [resolve_error, endpoints] =
      co_await resolver->async_resolve(target.host, std::to_string(target.port), kAwaitTuple);
  if (stopping_) co_return RedisErrc::stopped;
  if (deadline.fired()) co_return timed_out();
  if (resolve_error) {
    co_return fail(RedisErrc::connect_failed,
                   "cannot resolve " + target.host + ": " + resolve_error.message());
  }
  const auto [connect_error, endpoint] =
      co_await asio::async_connect(stream->socket(), endpoints, kAwaitTuple);
  (void)endpoint;
  if (stopping_) co_return RedisErrc::stopped;
  if (deadline.fired()) co_return timed_out();
  if (connect_error) {
    co_return fail(RedisErrc::connect_failed, where + ": " + connect_error.message());
  }
  error_code ignored;
  // Keepalive notices a peer that vanished without a FIN (host down, cable pulled) on an idle
  // connection; no delay: commands are small and latency counts.
  stream->socket().set_option(asio::socket_base::keep_alive(true), ignored);
  stream->socket().set_option(tcp::no_delay(true), ignored);

  if (options_.tls.enabled) {
    std::string name = options_.tls.server_name;
    if (name.empty()) name = target.host;
    // SNI, and the name the certificate must carry (an IP address is matched as one).
    if (!SSL_set_tlsext_host_name(stream->ssl_stream.native_handle(), name.c_str())) {
      co_return fail(RedisErrc::connect_failed, "TLS: cannot set the server name " + name);
    }
    stream->ssl_stream.set_verify_callback(ssl::host_name_verification(name));
    const auto [handshake_error] =
        co_await stream->ssl_stream.async_handshake(ssl::stream_base::client, kAwaitTuple);
    if (stopping_) co_return RedisErrc::stopped;
    if (deadline.fired()) co_return timed_out();
    if (handshake_error) {
      co_return fail(RedisErrc::connect_failed,
                     "TLS handshake with " + where + " failed: " + tls_error_text(handshake_error) +
                         " (check --redis-tls-ca and --redis-tls-server-name)");
    }
  }

  const std::vector<std::vector<std::string>> commands = redis_handshake_commands(options_);
  const Roundtrip handshake =
      co_await roundtrip(*stream, encode_commands(commands), commands.size());
  if (stopping_) co_return RedisErrc::stopped;
  if (deadline.fired()) co_return timed_out();
  if (!handshake.problem.empty()) {
    co_return fail(RedisErrc::connect_failed, "Redis at " + where + ": " + handshake.problem);
  }
  if (auto problem = redis_handshake_problem(options_, where, handshake.replies)) {
    stream->close();
    co_return fail(RedisErrc::connect_failed, *problem);
  }
  deadline.disarm();

  stream_ = std::move(stream);
  connected_to_ = target;
  ++epoch_;
  connected_ = true;
  set_problem(std::string());
  wake_connect_waiters();
  co_return error_code();
}

asio::awaitable<void> RedisConnection::read_replies(std::shared_ptr<Stream> stream,
                                                    std::uint64_t epoch) {
  std::string buffer;
  std::size_t start = 0;  // the first byte not yet handed over
  RespScanner scanner;    // goes on where it stopped while a long reply arrives in pieces
  while (epoch == epoch_ && !stopping_) {
    const std::size_t used = buffer.size();
    buffer.resize(used + kReadChunk);
    const auto [read_error, n] =
        co_await stream->read_some(asio::buffer(buffer.data() + used, kReadChunk));
    buffer.resize(used + n);
    if (epoch != epoch_) co_return;  // dropped meanwhile (stop, timeout, a reroute)
    if (read_error) {
      std::string why = "Redis closed the connection";
      if (read_error != asio::error::eof && read_error != ssl::error::stream_truncated) {
        why = tls_error_text(read_error);
      }
      drop(RedisErrc::disconnected, std::move(why));
      co_return;
    }
    for (;;) {
      const std::string_view rest = std::string_view(buffer).substr(start);
      const RespScanResult scan = scanner.scan(rest);
      if (scan.status == RespScan::incomplete) break;
      if (scan.status == RespScan::malformed) {
        drop(RedisErrc::protocol_error, "Redis sent a reply that is not RESP: " + scan.error);
        co_return;
      }
      deliver(rest.substr(0, scan.length));
      start += scan.length;
    }
    if (!reroute_.empty()) {
      std::string why = std::move(reroute_);
      reroute_.clear();
      drop(RedisErrc::disconnected, std::move(why));
      co_return;
    }
    // Keep the unread tail at the front (the scanner's offsets are relative to it).
    buffer.erase(0, start);
    start = 0;
  }
}

void RedisConnection::deliver(std::string_view reply_bytes) {
  if (in_flight_.empty()) {
    // Nothing asked for it: the pairing of replies is lost. Should not happen; be safe.
    reroute_ = "Redis sent a reply nobody asked for";
    return;
  }
  std::shared_ptr<Pending> pending = std::move(in_flight_.front());
  in_flight_.pop_front();
  const bool is_error = reply_bytes.starts_with('-');
  if (is_error && reroute_.empty()) {
    std::string_view text = reply_bytes.substr(1);
    if (text.ends_with("\r\n")) text.remove_suffix(2);  // the error line without its CRLF
    if (auto moved = parse_moved_error(text, connected_to_.host)) {
      redirect_ = *moved;
    }
    if (auto why = reroute_reason(text, !options_.sentinels.empty())) reroute_ = *why;
  }
  if (pending->done) return;  // the awaiting coroutine already gave up (timeout, cancel)
  pending->done = true;
  if (pending->raw) {
    pending->raw_reply.assign(reply_bytes);
  } else {
    pending->reply = build_resp_reply(reply_bytes);
  }
  // Wakes the coroutine (never inline: Asio posts the cancelled wait's completion).
  pending->timer.cancel();
}

void RedisConnection::start_write() {
  if (writing_ || outgoing_.empty() || !stream_) return;
  writing_ = true;
  auto bytes = std::make_shared<std::string>(std::move(outgoing_));
  outgoing_.clear();
  stream_->async_write_all(
      asio::buffer(*bytes), [self = shared_from_this(), stream = stream_, bytes, epoch = epoch_](
                                const error_code& ec, std::size_t) {
        if (epoch != self->epoch_) return;  // that connection is gone; writing_ was reset
        self->writing_ = false;
        if (ec) {
          self->drop(RedisErrc::disconnected, "cannot send to Redis: " + tls_error_text(ec));
          return;
        }
        self->start_write();
      });
}

void RedisConnection::drop(RedisErrc reason, std::string detail) {
  if (!stream_) return;
  stream_->close();
  stream_.reset();
  ++epoch_;
  connected_ = false;
  writing_ = false;
  outgoing_.clear();
  reroute_.clear();
  last_error_ = reason;
  last_error_detail_ = detail;
  if (reason != RedisErrc::stopped) set_problem(std::move(detail));
  // Whether Redis executed what was in flight is unknown: each caller decides.
  std::deque<std::shared_ptr<Pending>> in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (const auto& pending : in_flight) {
    if (pending->done) continue;
    pending->done = true;
    pending->error = reason;
    pending->timer.cancel();
  }
  wake_run();
}

asio::awaitable<void> RedisConnection::sleep_unless_stopped(std::chrono::milliseconds delay) {
  const auto deadline = Clock::now() + delay;
  while (!stopping_ && Clock::now() < deadline) {
    run_wakeup_.expires_at(deadline);
    co_await run_wakeup_.async_wait(kAwaitTuple);
  }
}

void RedisConnection::stop() {
  asio::dispatch(executor_, [self = shared_from_this()] { self->stop_here(); });
}

void RedisConnection::stop_here() {
  if (stopping_) return;
  stopping_ = true;
  drop(RedisErrc::stopped, "stopped");
  wake_run();
  wake_connect_waiters();
}

void RedisConnection::wake_run() {
  run_wakeup_.cancel();
}

void RedisConnection::wake_connect_waiters() {
  for (asio::steady_timer* timer : connect_waiters_)
    timer->cancel();
}

void RedisConnection::emit(RedisConnectionEvent::Kind kind, std::chrono::milliseconds retry_in) {
  if (!event_handler_) return;
  const EventHandler handler = event_handler_;  // it may replace itself
  RedisConnectionEvent event;
  event.kind = kind;
  if (kind == RedisConnectionEvent::Kind::connected) {
    event.detail = address_text(connected_to_);  // the server it is on (a sentinel's, a MOVED's)
  } else {
    event.error = last_error_;
    event.detail = last_error_detail_;
    event.retry_in = retry_in;
  }
  handler(event);
}

asio::awaitable<bool> RedisConnection::wait_connected(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  if (!on_own_executor(co_await asio::this_coro::executor)) {
    co_return co_await asio::co_spawn(executor_, self->wait_connected(timeout),
                                      asio::use_awaitable);
  }
  const auto deadline = Clock::now() + timeout;
  asio::steady_timer timer(executor_);
  // Unregisters even if this frame is destroyed while suspended.
  struct Registration {
    std::list<asio::steady_timer*>& waiters;
    std::list<asio::steady_timer*>::iterator at;
    ~Registration() { waiters.erase(at); }
  } registration{connect_waiters_, connect_waiters_.insert(connect_waiters_.end(), &timer)};
  while (!connected_ && !stopping_ && Clock::now() < deadline) {
    timer.expires_at(deadline);
    co_await timer.async_wait(kAwaitTuple);
  }
  co_return connected_.load();
}

// ---- commands -------------------------------------------------------------------------------

std::shared_ptr<RedisConnection::Pending> RedisConnection::submit(
    const std::vector<std::string>& args, bool raw) {
  auto pending = std::make_shared<Pending>(executor_);
  pending->raw = raw;
  const auto fail = [&](RedisErrc reason) {
    pending->done = true;
    pending->error = reason;
    return pending;
  };
  if (!is_sendable(args)) return fail(RedisErrc::invalid_command);
  if (stopping_) return fail(RedisErrc::stopped);
  if (!stream_ || !connected_) return fail(RedisErrc::not_connected);
  append_resp_command(outgoing_, args);
  in_flight_.push_back(pending);
  pending->epoch = epoch_;
  if (options_.command_timeout.count() > 0) {
    pending->timer.expires_after(options_.command_timeout);
  } else {
    pending->timer.expires_at(Clock::time_point::max());
  }
  start_write();
  return pending;
}

asio::awaitable<void> RedisConnection::await_reply(const std::shared_ptr<Pending>& pending) {
  if (pending->done) co_return;
  const auto [ec] = co_await pending->timer.async_wait(kAwaitTuple);
  if (pending->done) co_return;
  pending->done = true;  // a late reply is now dropped
  if (ec == asio::error::operation_aborted) {
    pending->error = ec;  // the caller cancelled the await; the command stays in flight
    co_return;
  }
  pending->error = RedisErrc::command_timeout;
  // Replies arrive in order, so nothing behind a stuck command can complete either: reconnect
  // rather than hang every caller.
  if (pending->epoch == epoch_) {
    drop(RedisErrc::disconnected,
         "command timed out after " + std::to_string(options_.command_timeout.count()) + " ms");
  }
}

namespace {

// A blocking read waits for new entries by design: not a round trip to time.
bool is_blocking_read(const std::vector<std::string>& args) {
  return !args.empty() && args[0] == "XREAD" &&
         std::find(args.begin(), args.end(), "BLOCK") != args.end();
}

void count_outcome(bool timed, Clock::time_point started, const error_code& error,
                   bool error_reply) {
  metrics::ServerMetrics& m = metrics::server();
  if (timed) {
    m.redis_command.observe(std::chrono::duration<double>(Clock::now() - started).count());
  }
  if (error) {
    m.redis_errors.inc();
  } else if (error_reply) {
    m.redis_error_replies.inc();
  }
}

}  // namespace

asio::awaitable<std::shared_ptr<RedisConnection::Pending>> RedisConnection::exchange(
    std::vector<std::string> args, bool raw) {
  auto self = shared_from_this();
  if (!on_own_executor(co_await asio::this_coro::executor)) {
    co_return co_await asio::co_spawn(executor_, self->exchange(std::move(args), raw),
                                      asio::use_awaitable);
  }
  const bool timed = !is_blocking_read(args);
  const auto started = Clock::now();
  std::shared_ptr<Pending> pending = submit(args, raw);
  co_await await_reply(pending);
  // No ?: here: GCC 12 mishandles conditional-operator temporaries in coroutines.
  bool error_reply = pending->reply.is_error();
  if (raw) error_reply = pending->raw_reply.starts_with('-');
  count_outcome(timed, started, pending->error, error_reply);
  co_return pending;
}

asio::awaitable<RedisConnection::CommandResult> RedisConnection::command(
    std::vector<std::string> args) {
  const std::shared_ptr<Pending> pending = co_await exchange(std::move(args), false);
  co_return CommandResult{pending->error, std::move(pending->reply)};
}

asio::awaitable<RedisConnection::RawResult> RedisConnection::command_raw(
    std::vector<std::string> args) {
  const std::shared_ptr<Pending> pending = co_await exchange(std::move(args), true);
  co_return RawResult{pending->error, std::move(pending->raw_reply)};
}

asio::awaitable<RedisConnection::PipelineResult> RedisConnection::pipeline(
    std::vector<std::vector<std::string>> commands) {
  auto self = shared_from_this();
  if (!on_own_executor(co_await asio::this_coro::executor)) {
    co_return co_await asio::co_spawn(executor_, self->pipeline(std::move(commands)),
                                      asio::use_awaitable);
  }
  std::vector<RedisReply> replies;
  // All or nothing at submission: one bad command sends none.
  for (const auto& args : commands) {
    if (!is_sendable(args)) co_return PipelineResult{RedisErrc::invalid_command, {}};
  }
  std::vector<std::shared_ptr<Pending>> pendings;
  pendings.reserve(commands.size());
  for (const auto& args : commands)
    pendings.push_back(submit(args, false));
  replies.reserve(commands.size());
  for (auto& pending : pendings) {
    co_await await_reply(pending);
    // Any transport error drops the connection, so the commands behind it fail as well.
    if (pending->error) co_return PipelineResult{pending->error, std::move(replies)};
    replies.push_back(std::move(pending->reply));
  }
  co_return PipelineResult{error_code(), std::move(replies)};
}

}  // namespace splitstream
