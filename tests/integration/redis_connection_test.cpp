// RedisConnection against a real redis-server: pipelining, binary safety, error replies, EVAL,
// the server dying mid-flight and coming back, a stuck server, stop() with commands in flight.
#include "store/redis_connection.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/stream_follower.hpp"
#include "support/redis_server.hpp"

// GCC 12 false positive (bug 109224, fixed in 13): inlining an Asio coroutine lambda pairs the
// frame's class operator delete with the global operator new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace std::string_literals;
using boost::system::error_code;
using test_support::RedisServer;
using Clock = std::chrono::steady_clock;
using Kind = RedisConnectionEvent::Kind;
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

// support/wait_until.hpp inside a coroutine: true as soon as `condition()` holds, false if it
// still does not at the deadline. That helper sleeps the thread, which here is the one that runs
// the connection under test; this one waits on a timer, so the connection keeps working.
asio::awaitable<bool> co_wait_until(std::function<bool()> condition,
                                    std::chrono::milliseconds deadline = 10s) {
  const auto until = Clock::now() + deadline;
  asio::steady_timer poll(co_await asio::this_coro::executor);
  while (Clock::now() < until) {
    if (condition()) co_return true;
    poll.expires_after(10ms);
    co_await poll.async_wait(kAwaitTuple);
  }
  co_return condition();
}

// Counts finished background coroutines; wait() wakes when all are done or at a timeout.
class Latch {
 public:
  Latch(const asio::any_io_executor& executor, int count)
      : timer_(executor, Clock::time_point::max()), remaining_(count) {}
  void count_down() {
    if (--remaining_ == 0) timer_.cancel();
  }
  asio::awaitable<bool> wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (remaining_ > 0 && Clock::now() < deadline) {
      timer_.expires_at(deadline);
      co_await timer_.async_wait(kAwaitTuple);
    }
    co_return remaining_ == 0;
  }

 private:
  asio::steady_timer timer_;
  int remaining_;
};

struct Outcome {
  bool done = false;
  error_code ec;
  RedisReply reply;
  Clock::duration elapsed{};
};

// Runs one command as its own coroutine, so several can be in flight at once.
std::shared_ptr<Outcome> start_command(const std::shared_ptr<RedisConnection>& connection,
                                       std::vector<std::string> args,
                                       const std::shared_ptr<Latch>& latch) {
  auto outcome = std::make_shared<Outcome>();
  asio::co_spawn(
      connection->executor(),
      [connection, args = std::move(args), outcome, latch]() -> asio::awaitable<void> {
        const auto start = Clock::now();
        auto [ec, reply] = co_await connection->command(args);
        outcome->elapsed = Clock::now() - start;
        outcome->done = true;
        outcome->ec = ec;
        outcome->reply = std::move(reply);
        latch->count_down();
      },
      asio::detached);
  return outcome;
}

bool is_pong(const RedisReply& reply) {
  return reply == RedisReply::status("PONG");
}

// True when the server holds a client blocked in a command (CLIENT LIST flags=b) with nothing
// left in its output buffer (obl=0 oll=0): every reply before the blocking command has been
// written to the client's socket, and everything sent after it waits in its query buffer.
bool has_blocked_client(const RedisServer& redis) {
  const RedisReply list = redis.command({"CLIENT", "LIST"});
  if (!list.is_string()) return false;
  std::istringstream lines(list.as_string());
  std::string line;
  while (std::getline(lines, line)) {
    const std::string fields = " " + line + " ";
    if (fields.find(" flags=b ") != std::string::npos &&
        fields.find(" obl=0 ") != std::string::npos && fields.find(" oll=0 ") != std::string::npos)
      return true;
  }
  return false;
}

// Blocks until the server answers a PING of its own client. CLIENT PAUSE ALL holds every
// client's commands, this one's too, so the answer means the pause is over. A paused reply can
// outlast the client's read timeout: then ask again.
bool wait_out_pause(const RedisServer& redis) {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    try {
      if (is_pong(redis.command({"PING"}))) return true;
    } catch (const std::runtime_error&) {
      // Timed out while still paused (or could not connect): ask again shortly.
      std::this_thread::sleep_for(10ms);
    }
  }
  return false;
}

// wait_out_pause() on a thread of its own, not the one that runs the connection. Plain functions:
// written inline in the test's coroutine (make_shared of std::async, a lambda holding the
// shared_ptr as a temporary in the co_await), GCC 12 crashed in future::get().
std::shared_ptr<std::future<bool>> wait_out_pause_elsewhere(const RedisServer& redis) {
  return std::make_shared<std::future<bool>>(
      std::async(std::launch::async, [&redis] { return wait_out_pause(redis); }));
}

std::function<bool()> is_ready(std::shared_ptr<std::future<bool>> future) {
  return
      [future] { return future->wait_for(std::chrono::seconds(0)) == std::future_status::ready; };
}

// A loopback listener whose accept queue is full: the kernel drops further SYNs, so a connect to
// it hangs (as to a host that vanished) until the client gives up.
class BlackHoleListener {
 public:
  BlackHoleListener() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool listening =
        ::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
        ::listen(listener_, 0) == 0 &&
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    port_ = ntohs(address.sin_port);
    // Backlog 0 holds one connection: this one, never accepted.
    filler_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool filled =
        ::connect(filler_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    EXPECT_TRUE(listening && filled);
  }
  ~BlackHoleListener() {
    ::close(filler_);
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  int filler_ = -1;
  std::uint16_t port_ = 0;
};

class RedisConnectionTest : public ::testing::Test {
 protected:
  using Body = std::function<asio::awaitable<void>(std::shared_ptr<RedisConnection>)>;

  RedisOptions options() const {
    RedisOptions options;
    options.port = redis_->port();
    options.connect_timeout = 1000ms;
    options.command_timeout = 5000ms;
    options.reconnect_initial = 50ms;
    options.reconnect_max = 400ms;
    return options;
  }

  // Runs `body` against a running connection, then stops it and checks that run() returned.
  void run_with(const RedisOptions& options, Body body) {
    auto connection = RedisConnection::create(ioc_.get_executor(), options);
    connection->set_event_handler(
        [this](const RedisConnectionEvent& event) { events_.push_back(event); });
    bool run_returned = false;
    bool body_returned = false;
    asio::co_spawn(ioc_, connection->run(), [&](const std::exception_ptr& error) {
      EXPECT_FALSE(error) << "run() threw";
      run_returned = true;
    });
    asio::co_spawn(ioc_, body(connection), [&](const std::exception_ptr& error) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "the test body threw: " << e.what();
        }
      }
      body_returned = true;
      connection->stop();
    });
    ioc_.restart();  // a test may run more than one connection in turn
    ioc_.run_for(60s);
    EXPECT_TRUE(body_returned) << "the test body hung";
    EXPECT_TRUE(run_returned) << "run() did not return after stop()";
    EXPECT_FALSE(connection->connected());
  }

  std::size_t count_events(Kind kind) const {
    std::size_t count = 0;
    for (const auto& event : events_) {
      if (event.kind == kind) ++count;
    }
    return count;
  }

  std::vector<Kind> event_kinds() const {
    std::vector<Kind> kinds;
    for (const auto& event : events_)
      kinds.push_back(event.kind);
    return kinds;
  }

  asio::io_context ioc_;
  std::unique_ptr<RedisServer> redis_ = std::make_unique<RedisServer>();
  std::vector<RedisConnectionEvent> events_;
};

TEST_F(RedisConnectionTest, ConnectsAndPings) {
  run_with(options(), [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    EXPECT_TRUE(connection->connected());
    auto [ec, reply] = co_await connection->command("PING");
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(is_pong(reply)) << reply.debug_string();
    // Already connected: wait_connected is true even with no time to wait.
    EXPECT_TRUE(co_await connection->wait_connected(0ms));
  });
  EXPECT_EQ(event_kinds(), std::vector<Kind>{Kind::connected});
}

TEST_F(RedisConnectionTest, TenThousandCommandsInFlightCompleteInOrder) {
  run_with(options(), [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    constexpr int kCount = 10000;
    auto latch = std::make_shared<Latch>(connection->executor(), kCount);
    std::vector<std::shared_ptr<Outcome>> outcomes;
    for (int i = 0; i < kCount; ++i) {
      outcomes.push_back(start_command(connection, {"INCR", "counter"}, latch));
    }
    EXPECT_TRUE(co_await latch->wait(30s));
    // Sent in order on one socket, executed in order: the i-th INCR saw i + 1.
    int in_order = 0;
    for (int i = 0; i < kCount; ++i) {
      const Outcome& outcome = *outcomes[i];
      if (outcome.done && !outcome.ec && outcome.reply == RedisReply::integer(i + 1)) ++in_order;
    }
    EXPECT_EQ(in_order, kCount);
  });
}

TEST_F(RedisConnectionTest, PipelineReturnsEveryReplyInOrder) {
  run_with(options(), [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    std::vector<std::vector<std::string>> commands;
    for (int i = 0; i < 10000; ++i)
      commands.push_back({"INCR", "piped"});
    auto [ec, replies] = co_await connection->pipeline(commands);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(replies.size(), 10000u);
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i] != RedisReply::integer(static_cast<std::int64_t>(i) + 1)) {
        ADD_FAILURE() << "reply " << i << ": " << replies[i].debug_string();
        break;
      }
    }

    const std::vector<std::vector<std::string>> mixed_commands = {
        {"SET", "k", "1"}, {"INCR", "k"}, {"GET", "k"}, {"LPUSH", "k", "x"}, {"GET", "none"}};
    auto [mixed_ec, mixed] = co_await connection->pipeline(mixed_commands);
    EXPECT_FALSE(mixed_ec);
    EXPECT_EQ(mixed.size(), 5u);
    if (mixed.size() == 5) {
      EXPECT_EQ(mixed[0], RedisReply::status("OK"));
      EXPECT_EQ(mixed[1], RedisReply::integer(2));
      EXPECT_EQ(mixed[2], RedisReply::string("2"));
      EXPECT_TRUE(mixed[3].is_error());
      EXPECT_TRUE(mixed[4].is_nil());
    }

    const std::vector<std::vector<std::string>> no_commands;
    auto [empty_ec, empty] = co_await connection->pipeline(no_commands);
    EXPECT_FALSE(empty_ec);
    EXPECT_TRUE(empty.empty());
  });
}

TEST_F(RedisConnectionTest, ArgumentsAreBinarySafe) {
  run_with(options(), [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    const std::string key = "key\0with\r\nnul"s;
    std::string value = "v\0\r\n\xff\x01 %s %b"s;
    value += std::string(100000, '\0');  // larger than one socket read or write
    auto [set_ec, set] = co_await connection->command("SET", key, value);
    EXPECT_FALSE(set_ec);
    EXPECT_EQ(set, RedisReply::status("OK"));
    auto [get_ec, got] = co_await connection->command("GET", key);
    EXPECT_FALSE(get_ec);
    EXPECT_TRUE(got.is_string());
    EXPECT_EQ(got.as_string().size(), value.size());
    EXPECT_TRUE(got.as_string() == value);
    auto [len_ec, length] = co_await connection->command("STRLEN", key);
    EXPECT_EQ(length, RedisReply::integer(static_cast<std::int64_t>(value.size())));
    // An empty argument is an argument too.
    auto [empty_ec, empty] = co_await connection->command("SET", "", "");
    EXPECT_EQ(empty, RedisReply::status("OK"));
  });
}

TEST_F(RedisConnectionTest, ErrorReplyIsAReplyNotABrokenConnection) {
  run_with(options(), [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    co_await connection->command("SET", "string", "x");
    auto [ec, reply] = co_await connection->command("LPUSH", "string", "y");
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(reply.is_error());
    EXPECT_EQ(reply.as_string().rfind("WRONGTYPE", 0), 0u) << reply.as_string();
    auto [unknown_ec, unknown] = co_await connection->command("NO-SUCH-COMMAND");
    EXPECT_FALSE(unknown_ec);
    EXPECT_TRUE(unknown.is_error());
    EXPECT_TRUE(connection->connected());
    auto [ping_ec, pong] = co_await connection->command("PING");
    EXPECT_FALSE(ping_ec);
    EXPECT_TRUE(is_pong(pong));
  });
  EXPECT_EQ(event_kinds(), std::vector<Kind>{Kind::connected});
}

TEST_F(RedisConnectionTest, EvalReturnsNestedArrays) {
  run_with(options(), [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    const std::string script =
        "redis.call('SET', KEYS[1], ARGV[1]) "
        "return {1, redis.call('GET', KEYS[1]), {3, false}, redis.status_reply('FINE')}";
    const std::string binary_arg = "bin\0ary"s;
    auto [ec, reply] = co_await connection->command("EVAL", script, "1", "{ev:test}:k", binary_arg);
    EXPECT_FALSE(ec) << ec.message();
    // Lua false becomes a nil reply.
    const RedisReply expected =
        RedisReply::array({RedisReply::integer(1), RedisReply::string("bin\0ary"s),
                           RedisReply::array({RedisReply::integer(3), RedisReply::nil()}),
                           RedisReply::status("FINE")});
    EXPECT_EQ(reply, expected) << reply.debug_string();

    auto [error_ec, error] = co_await connection->command("EVAL", "return redis.call('NOPE')", "0");
    EXPECT_FALSE(error_ec);
    EXPECT_TRUE(error.is_error()) << error.debug_string();
  });
}

TEST_F(RedisConnectionTest, InvalidCommandsAreNotSent) {
  run_with(options(), [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    const std::vector<std::vector<std::string>> rejected = {
        {}, {"SUBSCRIBE", "c"}, {"monitor"}, {"CLIENT", "REPLY", "OFF"}};
    for (const std::vector<std::string>& args : rejected) {
      auto [ec, reply] = co_await connection->command(args);
      EXPECT_EQ(ec, RedisErrc::invalid_command);
    }
    const std::vector<std::vector<std::string>> one_bad = {{"INCR", "n"}, {}};
    auto [pipe_ec, replies] = co_await connection->pipeline(one_bad);
    EXPECT_EQ(pipe_ec, RedisErrc::invalid_command);
    EXPECT_TRUE(replies.empty());
    auto [ec, reply] = co_await connection->command("GET", "n");
    EXPECT_FALSE(ec);
    EXPECT_TRUE(reply.is_nil()) << "nothing of a rejected pipeline was sent";
  });
}

TEST_F(RedisConnectionTest, ServerKilledMidFlightFailsPendingCommandsThenReconnects) {
  redis_ = std::make_unique<RedisServer>(
      RedisServer::Options{.append_only = true, .extra_args = {"--appendfsync", "always"}});
  run_with(options(), [this](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    auto [set_ec, set] = co_await connection->command("SET", "durable", "yes");
    EXPECT_EQ(set, RedisReply::status("OK"));

    // The pipeline's first PING is answered, then its BLPOP blocks the connection server-side:
    // everything behind it is certainly in flight when the server dies.
    auto latch = std::make_shared<Latch>(connection->executor(), 4);
    auto pipeline_result = std::make_shared<RedisConnection::PipelineResult>();
    asio::co_spawn(
        connection->executor(),
        [connection, pipeline_result, latch]() -> asio::awaitable<void> {
          const std::vector<std::vector<std::string>> commands = {
              {"PING"}, {"BLPOP", "never-either", "0"}, {"PING"}};
          *pipeline_result = co_await connection->pipeline(commands);
          latch->count_down();
        },
        asio::detached);
    std::vector<std::shared_ptr<Outcome>> blocked;
    for (int i = 0; i < 3; ++i) {
      blocked.push_back(start_command(connection, {"BLPOP", "never", "0"}, latch));
    }
    // Until Redis holds the pipeline's BLPOP, the PONG before it sent. From then on nothing
    // behind the BLPOP can complete, whenever this looks.
    EXPECT_TRUE(co_await co_wait_until([this] { return has_blocked_client(*redis_); }));
    for (const auto& outcome : blocked)
      EXPECT_FALSE(outcome->done);

    redis_->kill();
    EXPECT_TRUE(co_await latch->wait(10s));
    for (const auto& outcome : blocked) {
      EXPECT_EQ(outcome->ec, RedisErrc::disconnected) << outcome->ec.message();
    }
    // What Redis confirmed before the failure, and nothing after it.
    const auto& [pipeline_ec, pipeline_replies] = *pipeline_result;
    EXPECT_EQ(pipeline_ec, RedisErrc::disconnected);
    EXPECT_EQ(pipeline_replies, std::vector<RedisReply>{RedisReply::status("PONG")});
    EXPECT_FALSE(connection->connected());
    auto [down_ec, down] = co_await connection->command("PING");
    EXPECT_EQ(down_ec, RedisErrc::not_connected);

    // Down for three failed attempts (after 50, 100 and 200 ms of backoff), then back.
    EXPECT_TRUE(co_await co_wait_until([this] { return count_events(Kind::connect_failed) >= 3; }));
    redis_->restart();
    EXPECT_TRUE(co_await connection->wait_connected(10s));
    auto [ping_ec, pong] = co_await connection->command("PING");
    EXPECT_FALSE(ping_ec) << ping_ec.message();
    EXPECT_TRUE(is_pong(pong));
    auto [get_ec, durable] = co_await connection->command("GET", "durable");
    EXPECT_EQ(durable, RedisReply::string("yes")) << "the AOF survives kill + restart";
  });

  // connected, disconnected, connect_failed..., connected; delays grow 50, 100, 200, 400, 400.
  ASSERT_GE(events_.size(), 6u);
  EXPECT_EQ(events_.front().kind, Kind::connected);
  EXPECT_EQ(events_[1].kind, Kind::disconnected);
  EXPECT_EQ(events_[1].error, RedisErrc::disconnected);
  EXPECT_EQ(events_[1].retry_in, 50ms);
  EXPECT_EQ(events_.back().kind, Kind::connected);
  std::chrono::milliseconds expected_delay = 100ms;
  for (std::size_t i = 2; i + 1 < events_.size(); ++i) {
    EXPECT_EQ(events_[i].kind, Kind::connect_failed);
    EXPECT_EQ(events_[i].error, RedisErrc::connect_failed);
    EXPECT_FALSE(events_[i].detail.empty());
    EXPECT_EQ(events_[i].retry_in, expected_delay) << "attempt " << i;
    expected_delay = std::min(expected_delay * 2, std::chrono::milliseconds(400));
  }
}

TEST_F(RedisConnectionTest, StartsBeforeRedisAndConnectsWhenItAppears) {
  redis_->kill();
  run_with(options(), [this](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await co_wait_until([this] { return count_events(Kind::connect_failed) >= 2; }));
    // Redis is down: however long this waits, it can only time out.
    EXPECT_FALSE(co_await connection->wait_connected(300ms));
    auto [ec, reply] = co_await connection->command("PING");
    EXPECT_EQ(ec, RedisErrc::not_connected);
    redis_->restart();
    EXPECT_TRUE(co_await connection->wait_connected(10s));
    auto [ping_ec, pong] = co_await connection->command("PING");
    EXPECT_TRUE(is_pong(pong));
  });
  ASSERT_GE(events_.size(), 3u);
  EXPECT_EQ(events_.front().kind, Kind::connect_failed);
  EXPECT_EQ(events_.front().retry_in, 50ms);
  EXPECT_EQ(events_.back().kind, Kind::connected);
}

TEST_F(RedisConnectionTest, CommandTimeoutFailsFastAndReconnects) {
  RedisOptions short_timeout = options();
  short_timeout.command_timeout = 200ms;
  run_with(short_timeout, [this](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    // A stuck Redis: every client's commands wait until the pause ends.
    // CLIENT UNPAUSE would be paused too: wait the pause out instead.
    EXPECT_EQ(redis_->command({"CLIENT", "PAUSE", "1500", "ALL"}), RedisReply::status("OK"));
    auto latch = std::make_shared<Latch>(connection->executor(), 2);
    auto first = start_command(connection, {"PING"}, latch);
    auto second = start_command(connection, {"INCR", "x"}, latch);
    EXPECT_TRUE(co_await latch->wait(4s)) << "a stuck Redis hung the callers";
    EXPECT_EQ(first->ec, RedisErrc::command_timeout) << first->ec.message();
    // The second timed out too, or failed with the connection the first one dropped.
    EXPECT_TRUE(second->ec == RedisErrc::command_timeout || second->ec == RedisErrc::disconnected)
        << second->ec.message();
    // Timed out (not answered once the 1.5 s pause ended: that would be a reply, no error).
    EXPECT_GE(first->elapsed, 190ms);

    // Reconnected by itself, while Redis is still paused (it accepts connections meanwhile).
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    const std::shared_ptr<std::future<bool>> pause_over = wait_out_pause_elsewhere(*redis_);
    const std::function<bool()> pause_is_over = is_ready(pause_over);
    EXPECT_TRUE(co_await co_wait_until(pause_is_over));
    EXPECT_TRUE(pause_over->get()) << "Redis still paused";
    auto [ec, pong] = co_await connection->command("PING");
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(is_pong(pong));
  });
  ASSERT_GE(events_.size(), 3u);
  EXPECT_EQ(events_[1].kind, Kind::disconnected);
  EXPECT_NE(events_[1].detail.find("timed out"), std::string::npos) << events_[1].detail;
}

TEST_F(RedisConnectionTest, StopWithCommandsInFlightCompletesThemWithStopped) {
  run_with(options(), [this](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s));
    constexpr int kCount = 100;
    auto latch = std::make_shared<Latch>(connection->executor(), kCount);
    std::vector<std::shared_ptr<Outcome>> outcomes;
    for (int i = 0; i < kCount / 2; ++i) {
      outcomes.push_back(start_command(connection, {"BLPOP", "never", "0"}, latch));
      outcomes.push_back(start_command(connection, {"INCR", "n"}, latch));
    }
    // In flight: Redis holds the first BLPOP, everything behind it is queued.
    EXPECT_TRUE(co_await co_wait_until([this] { return has_blocked_client(*redis_); }));
    connection->stop();
    EXPECT_FALSE(connection->connected());
    EXPECT_TRUE(co_await latch->wait(5s));
    for (const auto& outcome : outcomes) {
      EXPECT_TRUE(outcome->done);
      EXPECT_EQ(outcome->ec, RedisErrc::stopped) << outcome->ec.message();
    }
    auto [after_ec, after] = co_await connection->command("PING");
    EXPECT_EQ(after_ec, RedisErrc::stopped);
    EXPECT_FALSE(co_await connection->wait_connected(1s));
    connection->stop();  // idempotent
  });
}

TEST_F(RedisConnectionTest, ConnectTimeoutGivesUpAndRetries) {
  BlackHoleListener black_hole;
  RedisOptions options = this->options();
  options.port = black_hole.port();
  options.connect_timeout = 200ms;
  run_with(options, [this](auto connection) -> asio::awaitable<void> {
    // Two attempts that gave up; the black hole never lets one through.
    EXPECT_TRUE(co_await co_wait_until([this] { return events_.size() >= 2; }));
    EXPECT_FALSE(connection->connected());
    auto [ec, reply] = co_await connection->command("PING");
    EXPECT_EQ(ec, RedisErrc::not_connected);
  });
  ASSERT_GE(events_.size(), 2u);
  for (const auto& event : events_) {
    EXPECT_EQ(event.kind, Kind::connect_failed);
    EXPECT_EQ(event.error, RedisErrc::connect_timeout) << event.error.message();
  }
  // A timed-out attempt backs off like a refused one.
  EXPECT_EQ(events_[0].retry_in, 50ms);
  EXPECT_EQ(events_[1].retry_in, 100ms);
}

TEST_F(RedisConnectionTest, StopWhileConnectingEndsRun) {
  redis_->kill();
  RedisOptions options = this->options();
  options.reconnect_initial = 10ms;
  run_with(options, [this](auto connection) -> asio::awaitable<void> {
    // A waiter that could only succeed if Redis came back: stop() must wake it.
    auto waiter = std::make_shared<std::optional<bool>>();
    auto latch = std::make_shared<Latch>(connection->executor(), 1);
    asio::co_spawn(
        connection->executor(),
        [connection, waiter, latch]() -> asio::awaitable<void> {
          *waiter = co_await connection->wait_connected(30s);
          latch->count_down();
        },
        asio::detached);
    // Retrying: stop() finds run() connecting or backing off.
    EXPECT_TRUE(co_await co_wait_until([this] { return !events_.empty(); }));
    EXPECT_FALSE(waiter->has_value());
    connection->stop();
    EXPECT_TRUE(co_await latch->wait(1s));
    EXPECT_EQ(*waiter, std::optional<bool>(false));
  });
  EXPECT_FALSE(events_.empty());
}

TEST_F(RedisConnectionTest, CallersOnOtherThreadsHopOntoTheConnectionStrand) {
  asio::io_context threaded(2);
  auto connection = RedisConnection::create(asio::make_strand(threaded), options());
  std::promise<void> run_returned;
  asio::co_spawn(connection->executor(), connection->run(),
                 [&](const std::exception_ptr&) { run_returned.set_value(); });

  constexpr int kCallers = 4;
  constexpr int kCommandsEach = 500;
  std::vector<std::promise<bool>> callers_ok(kCallers);
  for (int caller = 0; caller < kCallers; ++caller) {
    // Plain io_context executor: these coroutines run on either thread, off the strand.
    asio::co_spawn(
        threaded,
        [connection, &ok = callers_ok[caller]]() -> asio::awaitable<void> {
          bool all_ok = co_await connection->wait_connected(5s);
          std::int64_t last = 0;
          const std::vector<std::string> incr = {"INCR", "shared"};
          for (int i = 0; i < kCommandsEach; ++i) {
            auto [ec, reply] = co_await connection->command(incr);
            all_ok = all_ok && !ec && reply.is_integer() && reply.as_integer() > last;
            last = reply.as_integer();
          }
          ok.set_value(all_ok);
        },
        asio::detached);
  }
  std::thread second([&threaded] { threaded.run(); });
  std::thread first([&threaded] { threaded.run(); });
  for (auto& ok : callers_ok)
    EXPECT_TRUE(ok.get_future().get());
  connection->stop();  // from the test thread: dispatched onto the strand
  EXPECT_EQ(run_returned.get_future().wait_for(10s), std::future_status::ready);
  first.join();
  second.join();
  EXPECT_EQ(redis_->command({"GET", "shared"}),
            RedisReply::string(std::to_string(kCallers * kCommandsEach)));
}

}  // namespace
}  // namespace splitstream

namespace splitstream {
namespace {

// The handshake against a Redis that wants a password: the default user's password, an ACL
// user with its own, a database; a wrong or missing password fails each attempt with a problem
// that says so and never shows the password.
class RedisAuthTest : public RedisConnectionTest {
 protected:
  void SetUp() override {
    redis_->command({"ACL", "SETUSER", "timing", "on", ">pw-two", "~*", "&*", "+@all"});
    redis_->command({"CONFIG", "SET", "requirepass", "pw-one"});
  }
};

TEST_F(RedisAuthTest, PasswordUserAndDatabase) {
  RedisOptions o = options();
  o.password = "pw-one";
  run_with(o, [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s)) << connection->last_problem();
    auto [ec, reply] = co_await connection->command("PING");
    EXPECT_TRUE(is_pong(reply)) << reply.debug_string();
    EXPECT_EQ(connection->last_problem(), "");
  });
  o.username = "timing";
  o.password = "pw-two";
  o.database = 2;
  run_with(o, [](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connection->wait_connected(5s)) << connection->last_problem();
    auto [ec, reply] = co_await connection->command("CLIENT", "INFO");
    EXPECT_FALSE(ec);
    EXPECT_NE(reply.as_string().find(" db=2 "), std::string::npos) << reply.as_string();
    EXPECT_NE(reply.as_string().find(" user=timing "), std::string::npos) << reply.as_string();
  });
}

TEST_F(RedisAuthTest, WrongOrMissingPasswordFailsEachAttemptAndSaysWhy) {
  RedisOptions o = options();
  o.password = "not-the-pw";
  run_with(o, [this](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await co_wait_until([this] { return count_events(Kind::connect_failed) >= 2; }));
    EXPECT_FALSE(connection->connected());
    const std::string problem = connection->last_problem();
    EXPECT_NE(problem.find("refused the password: WRONGPASS"), std::string::npos) << problem;
    EXPECT_EQ(problem.find("not-the-pw"), std::string::npos) << problem;
  });
  for (const auto& event : events_)
    EXPECT_EQ(event.detail.find("not-the-pw"), std::string::npos);
  events_.clear();
  run_with(options(), [this](auto connection) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await co_wait_until([this] { return count_events(Kind::connect_failed) >= 1; }));
    EXPECT_NE(connection->last_problem().find("wants a password"), std::string::npos)
        << connection->last_problem();
  });
}

// The "failover" of the tests below: the new primary's stream has 100-1 and 200-1 but not 300-1,
// and then stored 250-1 (XADD takes no ID below a stream's highest, deleted or not: build it
// anew); the connection is dropped.
void fail_over_losing_300(test_support::RedisServer& redis, const std::string& key) {
  redis.command({"DEL", key});
  for (const char* id : {"100-1", "200-1"})
    redis.command({"XADD", key, id, "d", "mat", "s", "1", "tp", "start", "c", "c1", "t", "1"});
  redis.command({"XADD", key, "250-1", "d", "mat", "s", "2", "tp", "start", "c", "c2", "t", "2"});
  redis.command({"CLIENT", "KILL", "TYPE", "normal"});
}

// A failover to a replica that lacked the last entries this node applied: the follower reads on
// from the last entry the stream still has, so the new primary's entries are not skipped even
// when their IDs sort before the lost ones (another host's clock).
TEST_F(RedisConnectionTest, FollowerReadsOnFromTheLastEntryTheStreamStillHas) {
  const std::string key = "{ev:t}:reads";
  for (const char* id : {"100-1", "200-1", "300-1"})
    redis_->command({"XADD", key, id, "d", "mat", "s", "1", "tp", "start", "c", "c1", "t", "1"});
  auto seen = std::make_shared<std::vector<std::string>>();
  // Built outside the coroutine, and the coroutine lambda captures by reference only: GCC 12
  // releases a shared_ptr captured by value in a coroutine lambda once too often.
  const StreamHandler handler = handle_at_once([seen](std::vector<StreamEntry>& entries, bool) {
    for (const auto& entry : entries)
      seen->push_back(entry.id);
  });
  run_with(options(), [&](auto connection) -> asio::awaitable<void> {
    asio::co_spawn(connection->executor(), follow_stream(connection, key, handler), asio::detached);
    EXPECT_TRUE(co_await co_wait_until([&] { return seen->size() == 3; }));
    fail_over_losing_300(*redis_, key);
    EXPECT_TRUE(co_await co_wait_until([&] { return seen->size() == 4; }));
    redis_->command(
        {"XADD", key, "400-1", "d", "mat", "s", "3", "tp", "start", "c", "c3", "t", "3"});
    EXPECT_TRUE(co_await co_wait_until([&] { return seen->size() == 5; }));
  });
  EXPECT_EQ(*seen, (std::vector<std::string>{"100-1", "200-1", "300-1", "250-1", "400-1"}));
}

// The same failover for a node that started from a checkpoint of entry 300-1: the entries up to
// it count as applied, so only the new primary's own entries follow, and the node is told that
// the stream lost one it applied (it writes no checkpoint from then on).
TEST_F(RedisConnectionTest, FollowerFromACheckpointCountsTheEntriesUpToItAsApplied) {
  const std::string key = "{ev:t}:reads";
  for (const char* id : {"100-1", "200-1", "300-1"})
    redis_->command({"XADD", key, id, "d", "mat", "s", "1", "tp", "start", "c", "c1", "t", "1"});
  auto seen = std::make_shared<std::vector<std::string>>();
  auto rewinds = std::make_shared<int>(0);
  auto caught_up = std::make_shared<bool>(false);
  // Built outside the coroutine (GCC 12: see above).
  const StreamHandler handler =
      handle_at_once([seen, caught_up](std::vector<StreamEntry>& entries, bool done) {
        for (const auto& entry : entries)
          seen->push_back(entry.id);
        *caught_up = done;
      });
  const StreamRewound rewound = [rewinds] { ++*rewinds; };
  run_with(options(), [&](auto connection) -> asio::awaitable<void> {
    asio::co_spawn(connection->executor(),
                   follow_stream(connection, key, handler, "300-1", rewound), asio::detached);
    EXPECT_TRUE(co_await co_wait_until([&] { return *caught_up; }));
    EXPECT_TRUE(seen->empty());
    fail_over_losing_300(*redis_, key);
    EXPECT_TRUE(co_await co_wait_until([&] { return seen->size() == 1; }));
    redis_->command(
        {"XADD", key, "400-1", "d", "mat", "s", "3", "tp", "start", "c", "c3", "t", "3"});
    EXPECT_TRUE(co_await co_wait_until([&] { return seen->size() == 2; }));
  });
  EXPECT_EQ(*seen, (std::vector<std::string>{"250-1", "400-1"}));
  EXPECT_EQ(*rewinds, 1);
}

}  // namespace
}  // namespace splitstream
