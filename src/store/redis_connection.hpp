// One Redis connection driven by Asio: hiredis's async API over our own event hooks (hiredis has
// no Asio adapter), C++20 coroutines on top. Many commands may be in flight at once; hiredis
// pipelines them on the socket and replies complete them in order.
//
// Threading: everything runs on the executor given to create() (use a strand if the io_context
// has several threads). command(), pipeline(), wait_connected() and run() may be awaited from a
// coroutine on another executor: they then hop onto the connection's executor. stop() may be
// called from anywhere (it is dispatched there). connected() may be read from any thread.
//
// Failures never retry silently: a command whose connection drops completes with an error, and
// whether Redis executed it is unknown. The caller decides (ingest must not ack such a read).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "store/redis_options.hpp"
#include "store/redis_reply.hpp"

struct redisAsyncContext;  // hiredis

namespace splitstream {

// Transport-level outcomes of a command. A Redis error reply (-ERR, -WRONGTYPE, ...) is not one
// of these: it is a RedisReply with is_error(), and the connection stays up.
enum class RedisErrc {
  not_connected = 1,  // no connection when the command was issued: it was not sent
  disconnected,       // the connection dropped with the command in flight: outcome unknown
  command_timeout,    // no reply in time; the connection was dropped: outcome unknown
  stopped,            // stop() with the command in flight: outcome unknown
  invalid_command,    // empty, pub/sub, MONITOR or CLIENT REPLY (replies unpaired): not sent
  connect_failed,     // run() could not connect (reported through the event handler)
  connect_timeout,    // run() gave up on a connect attempt (reported through the event handler)
};

const boost::system::error_category& redis_category();
boost::system::error_code make_error_code(RedisErrc e);

// What run() reports to the event handler: for logs and health checks.
struct RedisConnectionEvent {
  enum class Kind { connected, disconnected, connect_failed };
  Kind kind = Kind::connected;
  boost::system::error_code error;        // why, for disconnected and connect_failed
  std::string detail;                     // e.g. hiredis's "Connection refused"
  std::chrono::milliseconds retry_in{0};  // delay before the next attempt
};

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  using Executor = boost::asio::any_io_executor;
  using EventHandler = std::function<void(const RedisConnectionEvent&)>;
  using CommandResult = std::tuple<boost::system::error_code, RedisReply>;
  using PipelineResult = std::tuple<boost::system::error_code, std::vector<RedisReply>>;

  static std::shared_ptr<RedisConnection> create(Executor executor, RedisOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  const Executor& executor() const { return executor_; }
  const RedisOptions& options() const { return options_; }

  // Connects, and reconnects with backoff whenever the connection drops, until stop(). Await it
  // once (co_spawn it); it returns after stop(). Throws std::logic_error if already running.
  boost::asio::awaitable<void> run();
  // Drops the connection now: in-flight commands complete with `stopped`, waiters wake, run()
  // returns. Final: the connection does not start again.
  void stop();

  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // Called on the connection's executor from run(). Set it before run().
  void set_event_handler(EventHandler handler) { event_handler_ = std::move(handler); }
  // True once connected (at once if already), false after `timeout` or stop().
  boost::asio::awaitable<bool> wait_connected(std::chrono::milliseconds timeout);

  // Sends one command (binary-safe arguments) and awaits its reply. The error code is set only
  // for transport failures (RedisErrc); a Redis error reply comes back as a reply.
  boost::asio::awaitable<CommandResult> command(std::vector<std::string> args);
  // The same with the arguments listed: command("HGET", key, "acked"). Each is anything that
  // converts to std::string_view; embedded NULs in std::string arguments are kept. Prefer it in
  // coroutines: GCC 12 rejects a braced list inside co_await (`co_await c.command({"PING"})`).
  template <typename... Args>
  requires(sizeof...(Args) > 0 &&
           (std::is_convertible_v<const Args&, std::string_view> &&
            ...)) boost::asio::awaitable<CommandResult> command(const Args&... args) {
    return command(std::vector<std::string>{std::string(std::string_view(args))...});
  }
  // Sends every command at once, then awaits every reply in order. On an error, the replies are
  // those Redis confirmed before it (a prefix); the rest have an unknown outcome.
  boost::asio::awaitable<PipelineResult> pipeline(std::vector<std::vector<std::string>> commands);

 private:
  struct Pending;  // one in-flight command

  RedisConnection(Executor executor, RedisOptions options);

  // hiredis callbacks and event hooks; privdata / ac->data is the RedisConnection.
  static void hook_add_read(void* privdata);
  static void hook_del_read(void* privdata);
  static void hook_add_write(void* privdata);
  static void hook_del_write(void* privdata);
  static void hook_cleanup(void* privdata);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);

  bool on_own_executor(const Executor& current) const { return current == executor_; }
  boost::asio::awaitable<void> run_here();
  boost::asio::awaitable<boost::system::error_code> connect_once();
  boost::asio::awaitable<void> hold_until_dropped();
  boost::asio::awaitable<void> sleep_unless_stopped(std::chrono::milliseconds delay);
  void arm_read();
  void arm_write();
  void on_socket_ready(bool readable, const boost::system::error_code& ec, std::uint64_t epoch);
  void handle_cleanup();
  // Frees the hiredis context now; in-flight commands complete with `reason`.
  void drop(RedisErrc reason, std::string detail);
  void stop_here();
  std::shared_ptr<Pending> submit(const std::vector<std::string>& args);
  boost::asio::awaitable<CommandResult> await_reply(std::shared_ptr<Pending> pending);
  void wake_run();
  void wake_connect_waiters();
  void emit(RedisConnectionEvent::Kind kind, std::chrono::milliseconds retry_in);

  Executor executor_;
  RedisOptions options_;
  EventHandler event_handler_;

  redisAsyncContext* context_ = nullptr;  // owned: freed by drop() or by hiredis on an error
  // Bumped whenever the hiredis context (and its fd) comes or goes: socket waits and commands
  // carry it, so a late wake-up never touches a newer connection that reuses the fd number.
  std::uint64_t epoch_ = 0;
  boost::asio::posix::stream_descriptor socket_;  // non-owning view of hiredis's fd
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_armed_ = false;  // an async_wait is outstanding
  bool write_armed_ = false;
  std::atomic<bool> connected_{false};
  bool running_ = false;
  bool stopping_ = false;
  boost::system::error_code drop_reason_;  // set while drop() frees the context
  boost::system::error_code last_error_;   // why the last connection or attempt ended
  std::string last_error_detail_;

  boost::asio::steady_timer run_wakeup_;                   // run() sleeps on it; events cancel it
  std::list<boost::asio::steady_timer*> connect_waiters_;  // timers of wait_connected() calls
};

}  // namespace splitstream

template <>
struct boost::system::is_error_code_enum<splitstream::RedisErrc> : std::true_type {};
