// One Redis connection driven by Asio: our own transport (TCP, or TLS with boost::asio::ssl)
// and RESP reader (store/resp_reader), C++20 coroutines on top. Many commands may be in flight at
// once; they are pipelined on the socket and replies complete them in order.
//
// After connecting it proves who it is and checks where it landed before anyone may send:
// TLS handshake, AUTH, SELECT, ROLE (with Sentinel: the server must be the primary), the
// durability probe (store/durability.hpp), PING. A failure there is a failed attempt like a
// refused connection: reported, retried with backoff, explained by last_problem().
//
// Where it connects: the options' host and port; with sentinels, the address they give for the
// primary, asked again before every attempt; after a `-MOVED slot host:port` reply (Redis
// Cluster), that address until a connection to it fails. A reply that says the server is no
// longer the primary (READONLY, UNBLOCKED, MASTERDOWN, with Sentinel) or MOVED drops the
// connection after it is delivered, so the next attempt asks again.
//
// Threading: everything runs on the executor given to create() (use a strand if the io_context
// has several threads). command(), pipeline(), wait_connected() and run() may be awaited from a
// coroutine on another executor: they then hop onto the connection's executor. stop() may be
// called from anywhere (it is dispatched there). connected() and last_problem() may be read
// from any thread.
//
// Failures never retry silently: a command whose connection drops completes with an error, and
// whether Redis executed it is unknown. The caller decides (ingest must not ack such a read).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "store/redis_options.hpp"
#include "store/redis_reply.hpp"

namespace boost::asio::ssl {
class context;
}

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
  protocol_error,     // Redis sent bytes that are not RESP: the connection was dropped
};

const boost::system::error_category& redis_category();
boost::system::error_code make_error_code(RedisErrc e);

// What run() reports to the event handler: for logs and health checks.
struct RedisConnectionEvent {
  enum class Kind { connected, disconnected, connect_failed };
  Kind kind = Kind::connected;
  boost::system::error_code error;  // why, for disconnected and connect_failed
  std::string detail;  // connected: the HOST:PORT; else e.g. "Connection refused" (never a secret)
  std::chrono::milliseconds retry_in{0};  // delay before the next attempt
};

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  using Executor = boost::asio::any_io_executor;
  using EventHandler = std::function<void(const RedisConnectionEvent&)>;
  using CommandResult = std::tuple<boost::system::error_code, RedisReply>;
  using PipelineResult = std::tuple<boost::system::error_code, std::vector<RedisReply>>;
  using RawResult = std::tuple<boost::system::error_code, std::string>;

  // Throws std::runtime_error naming the file when a TLS file of the options cannot be loaded.
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
  // Why the last attempt or connection failed, safe to show (no secret); empty while connected.
  std::string last_problem() const;
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
  // The same, with the reply's RESP bytes as they came (one complete reply), for parsers that
  // skip the reply tree (the stream follower).
  boost::asio::awaitable<RawResult> command_raw(std::vector<std::string> args);
  // Sends every command at once, then awaits every reply in order. On an error, the replies are
  // those Redis confirmed before it (a prefix); the rest have an unknown outcome.
  boost::asio::awaitable<PipelineResult> pipeline(std::vector<std::vector<std::string>> commands);

 private:
  struct Pending;  // one in-flight command
  struct Stream;   // the socket, with TLS or without

  RedisConnection(Executor executor, RedisOptions options);

  bool on_own_executor(const Executor& current) const { return current == executor_; }
  boost::asio::awaitable<void> run_here();
  // One attempt: find the address, connect, TLS, handshake. Sets the problem on failure.
  boost::asio::awaitable<boost::system::error_code> connect_once();
  boost::asio::awaitable<std::optional<RedisAddress>> ask_sentinels(std::string& problem);
  // Reads replies and hands them to the commands in flight until the connection drops.
  boost::asio::awaitable<void> read_replies(std::shared_ptr<Stream> stream, std::uint64_t epoch);
  boost::asio::awaitable<void> sleep_unless_stopped(std::chrono::milliseconds delay);
  // Completes the oldest command in flight with this reply; notes a reroute.
  void deliver(std::string_view reply_bytes);
  void start_write();
  // Closes the connection now: in-flight commands complete with `reason`.
  void drop(RedisErrc reason, std::string detail);
  void stop_here();
  std::shared_ptr<Pending> submit(const std::vector<std::string>& args, bool raw);
  // command() and command_raw(): onto the connection's executor, send, await, count.
  boost::asio::awaitable<std::shared_ptr<Pending>> exchange(std::vector<std::string> args,
                                                            bool raw);
  boost::asio::awaitable<void> await_reply(const std::shared_ptr<Pending>& pending);
  void wake_run();
  void wake_connect_waiters();
  void set_problem(std::string problem);
  void emit(RedisConnectionEvent::Kind kind, std::chrono::milliseconds retry_in);

  Executor executor_;
  RedisOptions options_;
  EventHandler event_handler_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // also for plain: the stream type

  std::shared_ptr<Stream> stream_;  // null while not connected
  // Bumped whenever a connection comes or goes: late completions of an older one do nothing.
  std::uint64_t epoch_ = 0;
  std::deque<std::shared_ptr<Pending>> in_flight_;  // sent, awaiting replies, oldest first
  std::string outgoing_;                            // encoded commands not yet written
  bool writing_ = false;
  RedisAddress connected_to_;             // where the current connection goes
  std::optional<RedisAddress> redirect_;  // set by MOVED: where the next attempt goes
  std::string reroute_;                   // set by a reply: why to drop after delivering it
  std::size_t next_sentinel_ = 0;         // the sentinel that answered last is asked first
  std::atomic<bool> connected_{false};
  bool running_ = false;
  bool stopping_ = false;
  boost::system::error_code last_error_;  // why the last connection or attempt ended
  std::string last_error_detail_;
  mutable std::mutex problem_mutex_;
  std::string problem_;  // last_problem()

  boost::asio::steady_timer run_wakeup_;                   // run() sleeps on it; events cancel it
  std::list<boost::asio::steady_timer*> connect_waiters_;  // timers of wait_connected() calls
};

}  // namespace splitstream

template <>
struct boost::system::is_error_code_enum<splitstream::RedisErrc> : std::true_type {};
