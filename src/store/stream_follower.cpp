#include "store/stream_follower.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/redis_connection.hpp"

namespace splitstream {
namespace {

constexpr std::size_t kBatch = 1000;

// Built outside the coroutine: GCC 12 rejects braced initializer lists in a coroutine body.
// Replaying, it reads without blocking so that an empty or short stream is caught up at once;
// caught up, it blocks up to a second for new entries.
std::vector<std::string> xread_command(const std::string& key, const std::string& last_id,
                                       bool block) {
  if (!block) return {"XREAD", "COUNT", std::to_string(kBatch), "STREAMS", key, last_id};
  return {"XREAD", "COUNT", std::to_string(kBatch), "BLOCK", "1000", "STREAMS", key, last_id};
}

}  // namespace

boost::asio::awaitable<void> follow_stream(std::shared_ptr<RedisConnection> redis,
                                           std::string stream_key, StreamHandler handler) {
  std::string last_id = "0";
  bool caught_up = false;
  std::vector<StreamEntry> entries;
  boost::asio::steady_timer retry(co_await boost::asio::this_coro::executor);
  for (;;) {
    // The reply's bytes, read straight into entries: no reply tree for the stream every node
    // reads whole (docs/benchmarks.md, "Stream follower: reply parsing").
    const auto result = co_await redis->command_raw(xread_command(stream_key, last_id, caught_up));
    const boost::system::error_code& error = std::get<0>(result);
    if (error == make_error_code(RedisErrc::stopped)) co_return;
    if (error) {
      // Redis is away: wait for the connection, then read on from last_id. After stop() this
      // returns at once and the next command reports `stopped`.
      co_await redis->wait_connected(std::chrono::seconds(1));
      continue;
    }
    entries.clear();
    std::size_t received = 0;
    if (!parse_xread_reply(std::get<1>(result), entries, last_id, received)) {
      // An error reply (e.g. the key holds something else): do not hammer Redis.
      retry.expires_after(std::chrono::seconds(1));
      co_await retry.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      continue;
    }
    const bool newly_caught_up = !caught_up && received < kBatch;
    caught_up = caught_up || newly_caught_up;
    if (!entries.empty() || newly_caught_up) handler(entries, caught_up);
  }
}

}  // namespace splitstream
