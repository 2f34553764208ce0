#include "store/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <strings.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <climits>
#include <csignal>
#include <stdexcept>
#include <utility>

#include "observe/server_metrics.hpp"
#include "store/reconnect_fsm.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

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
    }
    return "unknown Redis error";
  }
};

// Commands whose replies do not pair one-to-one with requests would shift every later reply
// onto the wrong caller (pub/sub and MONITOR keep calling back; CLIENT REPLY OFF/SKIP silences
// replies): this client does not send them.
bool is_sendable(const std::vector<std::string>& args) {
  if (args.empty() || args.size() > static_cast<std::size_t>(INT_MAX)) return false;
  const std::string& name = args.front();
  for (const char* multi : {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
                            "sunsubscribe", "monitor"}) {
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

}  // namespace

const boost::system::error_category& redis_category() {
  static const RedisCategory category;
  return category;
}

boost::system::error_code make_error_code(RedisErrc e) {
  return {static_cast<int>(e), redis_category()};
}

// One in-flight command. Shared by the awaiting coroutine and hiredis's callback (which holds a
// heap-allocated shared_ptr as privdata), so whichever finishes last frees it: the coroutine may
// give up (timeout) long before hiredis calls back with a NULL reply on disconnect.
struct RedisConnection::Pending {
  explicit Pending(const Executor& executor) : timer(executor) {}
  // Waited on by the coroutine: expires at the command's deadline, cancelled by the reply.
  asio::steady_timer timer;
  bool done = false;
  std::uint64_t epoch = 0;
  error_code error;
  RedisReply reply;
};

std::shared_ptr<RedisConnection> RedisConnection::create(Executor executor, RedisOptions options) {
  // hiredis writes with write(2): a peer that went away must not kill the process. io_context
  // does the same; other execution contexts may not.
  std::signal(SIGPIPE, SIG_IGN);
  return std::shared_ptr<RedisConnection>(
      new RedisConnection(std::move(executor), std::move(options)));
}

RedisConnection::RedisConnection(Executor executor, RedisOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      socket_(executor_),
      run_wakeup_(executor_) {
  // options() shows the delays run() applies (a zero delay would spin on a dead server).
  const ReconnectPolicy policy = normalized(reconnect_policy(options_));
  options_.reconnect_initial = policy.initial;
  options_.reconnect_max = policy.max;
}

RedisConnection::~RedisConnection() {
  // Only reached with a live context if the execution context was torn down under run().
  // Detach first: hiredis must not call back into a half-destroyed object.
  if (context_ == nullptr) return;
  if (socket_.is_open()) socket_.release();
  redisAsyncContext* ac = context_;
  context_ = nullptr;
  ac->data = nullptr;
  ac->ev.data = nullptr;
  ac->ev.addRead = nullptr;
  ac->ev.delRead = nullptr;
  ac->ev.addWrite = nullptr;
  ac->ev.delWrite = nullptr;
  ac->ev.cleanup = nullptr;
  redisAsyncFree(ac);  // in-flight commands complete with `stopped`
}

// ---- hiredis hooks ------------------------------------------------------------------------

void RedisConnection::hook_add_read(void* privdata) {
  static_cast<RedisConnection*>(privdata)->arm_read();
}

void RedisConnection::hook_del_read(void* privdata) {
  // The outstanding wait, if any, stays: it finds want_read_ false and does nothing.
  static_cast<RedisConnection*>(privdata)->want_read_ = false;
}

void RedisConnection::hook_add_write(void* privdata) {
  static_cast<RedisConnection*>(privdata)->arm_write();
}

void RedisConnection::hook_del_write(void* privdata) {
  static_cast<RedisConnection*>(privdata)->want_write_ = false;
}

void RedisConnection::hook_cleanup(void* privdata) {
  static_cast<RedisConnection*>(privdata)->handle_cleanup();
}

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self == nullptr) return;
  if (status == REDIS_OK) {
    self->connected_ = true;
    self->wake_connect_waiters();
  } else {
    // hiredis frees the context right after this returns; handle_cleanup() follows.
    self->last_error_ = RedisErrc::connect_failed;
    self->last_error_detail_ = ac->c.errstr;
  }
  self->wake_run();
}

void RedisConnection::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  // hiredis calls this exactly once per command: with the reply, or with NULL when the context
  // is freed (disconnect, drop(), stop()). The reply is freed when this returns: copy it.
  std::unique_ptr<std::shared_ptr<Pending>> holder(
      static_cast<std::shared_ptr<Pending>*>(privdata));
  Pending& pending = **holder;
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (pending.done) return;  // the awaiting coroutine already gave up (timeout)
  pending.done = true;
  if (reply != nullptr) {
    pending.reply = convert_hiredis_reply(*static_cast<const redisReply*>(reply));
  } else if (self == nullptr) {
    pending.error = RedisErrc::stopped;
  } else {
    pending.error = self->drop_reason_ ? self->drop_reason_ : error_code(RedisErrc::disconnected);
  }
  // Wakes the coroutine (never inline: Asio posts the cancelled wait's completion). Skipped in
  // the destructor, where nothing waits any more.
  if (self != nullptr) pending.timer.cancel();
}

// ---- socket readiness ---------------------------------------------------------------------

void RedisConnection::arm_read() {
  want_read_ = true;
  if (read_armed_ || !socket_.is_open()) return;
  read_armed_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this(), epoch = epoch_](const error_code& ec) {
                       self->on_socket_ready(true, ec, epoch);
                     });
}

void RedisConnection::arm_write() {
  want_write_ = true;
  if (write_armed_ || !socket_.is_open()) return;
  write_armed_ = true;
  socket_.async_wait(asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this(), epoch = epoch_](const error_code& ec) {
                       self->on_socket_ready(false, ec, epoch);
                     });
}

void RedisConnection::on_socket_ready(bool readable, const error_code& ec, std::uint64_t epoch) {
  if (epoch != epoch_) return;  // a wait on a context that is gone (its release() aborted it)
  (readable ? read_armed_ : write_armed_) = false;
  if (context_ == nullptr) return;
  if (ec) {
    drop(RedisErrc::disconnected, "socket wait failed: " + ec.message());
    return;
  }
  // hiredis re-arms through the hooks; it may also free the context (cleanup hook) in here.
  if (readable && want_read_) {
    redisAsyncHandleRead(context_);
  } else if (!readable && want_write_) {
    redisAsyncHandleWrite(context_);
  }
}

void RedisConnection::handle_cleanup() {
  // Called by hiredis while it frees the context: after the NULL replies to in-flight commands,
  // before it closes the fd. Give the fd back first so Asio neither closes it nor waits on it.
  if (socket_.is_open()) socket_.release();
  if (drop_reason_) {
    last_error_ = drop_reason_;
  } else if (connected_) {
    last_error_ = RedisErrc::disconnected;
    const bool has_detail = context_ != nullptr && context_->c.err != 0;
    last_error_detail_ = has_detail ? context_->c.errstr : "connection closed";
  } else if (!last_error_) {
    last_error_ = RedisErrc::connect_failed;
  }
  context_ = nullptr;
  ++epoch_;
  want_read_ = want_write_ = read_armed_ = write_armed_ = false;
  connected_ = false;
  wake_run();
}

void RedisConnection::drop(RedisErrc reason, std::string detail) {
  if (context_ == nullptr) return;
  // Never from inside a hiredis callback (hiredis would defer the free): only our coroutines and
  // wait handlers get here.
  assert((context_->c.flags & REDIS_IN_CALLBACK) == 0);
  drop_reason_ = reason;
  last_error_detail_ = std::move(detail);
  redisAsyncFree(context_);  // -> on_reply(NULL) for each in-flight command, then cleanup
  drop_reason_ = {};
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
      co_await hold_until_dropped();
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

asio::awaitable<void> RedisConnection::hold_until_dropped() {
  while (context_ != nullptr && !stopping_) {
    run_wakeup_.expires_at(Clock::time_point::max());
    co_await run_wakeup_.async_wait(kAwaitTuple);
  }
}

asio::awaitable<error_code> RedisConnection::connect_once() {
  last_error_ = {};
  last_error_detail_.clear();
  redisAsyncContext* ac = redisAsyncConnect(options_.host.c_str(), options_.port);
  if (ac == nullptr) {
    last_error_detail_ = "cannot allocate a hiredis context";
    co_return last_error_ = RedisErrc::connect_failed;
  }
  if (ac->err != 0) {  // e.g. ECONNREFUSED at once on loopback
    last_error_detail_ = ac->errstr;
    redisAsyncFree(ac);
    co_return last_error_ = RedisErrc::connect_failed;
  }
  error_code ec;
  socket_.assign(ac->c.fd, ec);
  if (ec) {
    last_error_detail_ = "cannot watch the socket: " + ec.message();
    redisAsyncFree(ac);
    co_return last_error_ = RedisErrc::connect_failed;
  }
  context_ = ac;
  const std::uint64_t epoch = ++epoch_;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addRead = &hook_add_read;
  ac->ev.delRead = &hook_del_read;
  ac->ev.addWrite = &hook_add_write;
  ac->ev.delWrite = &hook_del_write;
  ac->ev.cleanup = &hook_cleanup;
  // Keepalive notices a peer that vanished without a FIN (host down, cable pulled) on an idle
  // connection; a failure here is harmless.
  redisEnableKeepAlive(&ac->c);
  // Arms the first write wait: connect(2) completion shows up as writability.
  redisAsyncSetConnectCallback(ac, &on_connect);

  const auto deadline = Clock::now() + options_.connect_timeout;
  while (epoch_ == epoch && !connected_ && !stopping_ && Clock::now() < deadline) {
    run_wakeup_.expires_at(deadline);
    co_await run_wakeup_.async_wait(kAwaitTuple);
  }
  if (epoch_ != epoch) co_return last_error_;  // hiredis freed it: connect failed
  if (connected_) co_return error_code();
  if (stopping_) co_return RedisErrc::stopped;  // stop() has freed the context already
  drop(RedisErrc::connect_timeout,
       "no connection after " + std::to_string(options_.connect_timeout.count()) + " ms");
  co_return RedisErrc::connect_timeout;
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
  if (kind != RedisConnectionEvent::Kind::connected) {
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
    const std::vector<std::string>& args) {
  auto pending = std::make_shared<Pending>(executor_);
  const auto fail = [&](RedisErrc reason) {
    pending->done = true;
    pending->error = reason;
    return pending;
  };
  if (!is_sendable(args)) return fail(RedisErrc::invalid_command);
  if (stopping_) return fail(RedisErrc::stopped);
  if (context_ == nullptr || !connected_) return fail(RedisErrc::not_connected);

  std::vector<const char*> argv;
  std::vector<std::size_t> argv_lengths;
  argv.reserve(args.size());
  argv_lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    argv_lengths.push_back(arg.size());
  }
  auto* holder = new std::shared_ptr<Pending>(pending);
  if (redisAsyncCommandArgv(context_, &on_reply, holder, static_cast<int>(args.size()), argv.data(),
                            argv_lengths.data()) != REDIS_OK) {
    delete holder;  // not queued: hiredis will not call back
    return fail(RedisErrc::not_connected);
  }
  pending->epoch = epoch_;
  if (options_.command_timeout.count() > 0) {
    pending->timer.expires_after(options_.command_timeout);
  } else {
    pending->timer.expires_at(Clock::time_point::max());
  }
  return pending;
}

asio::awaitable<RedisConnection::CommandResult> RedisConnection::await_reply(
    std::shared_ptr<Pending> pending) {
  if (!pending->done) {
    const auto [ec] = co_await pending->timer.async_wait(kAwaitTuple);
    if (!pending->done) {
      pending->done = true;  // a late reply or NULL callback is now ignored
      if (ec == asio::error::operation_aborted) {
        pending->error = ec;  // the caller cancelled the await; the command stays in flight
      } else {
        pending->error = RedisErrc::command_timeout;
        // Replies arrive in order, so nothing behind a stuck command can complete either:
        // reconnect rather than hang every caller.
        if (pending->epoch == epoch_) {
          drop(RedisErrc::disconnected, "command timed out after " +
                                            std::to_string(options_.command_timeout.count()) +
                                            " ms");
        }
      }
    }
  }
  co_return CommandResult{pending->error, std::move(pending->reply)};
}

asio::awaitable<RedisConnection::CommandResult> RedisConnection::command(
    std::vector<std::string> args) {
  auto self = shared_from_this();
  if (!on_own_executor(co_await asio::this_coro::executor)) {
    co_return co_await asio::co_spawn(executor_, self->command(std::move(args)),
                                      asio::use_awaitable);
  }
  // A blocking read waits for new entries by design: not a round trip to time.
  const bool blocking = !args.empty() && args[0] == "XREAD" &&
                        std::find(args.begin(), args.end(), "BLOCK") != args.end();
  const auto started = std::chrono::steady_clock::now();
  CommandResult result = co_await await_reply(submit(args));
  metrics::ServerMetrics& m = metrics::server();
  if (!blocking) {
    m.redis_command.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (std::get<0>(result)) {
    m.redis_errors.inc();
  } else if (std::get<1>(result).is_error()) {
    m.redis_error_replies.inc();
  }
  co_return result;
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
    pendings.push_back(submit(args));
  replies.reserve(commands.size());
  for (auto& pending : pendings) {
    auto [ec, reply] = co_await await_reply(std::move(pending));
    // Any transport error drops the connection, so the commands behind it fail as well.
    if (ec) co_return PipelineResult{ec, std::move(replies)};
    replies.push_back(std::move(reply));
  }
  co_return PipelineResult{error_code(), std::move(replies)};
}

}  // namespace splitstream
