#include "server/graceful_stop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

#include "observe/log.hpp"
#include "store/stream_follower.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kDrainPoll{10};

// Built outside the coroutine: GCC 12 rejects braced initializer lists in a coroutine body.
std::vector<std::string> last_entry_command(const std::string& stream) {
  return {"XREVRANGE", stream, "+", "-", "COUNT", "1"};
}

}  // namespace

asio::awaitable<void> drain(std::shared_ptr<DeviceIngest> ingest,
                            std::shared_ptr<RedisConnection> redis, std::string stream,
                            PipelineService* pipeline, asio::any_io_executor engine_strand,
                            Clock::time_point deadline) {
  ingest->drain();
  asio::steady_timer poll(co_await asio::this_coro::executor);
  while (!ingest->drained() && Clock::now() < deadline) {
    poll.expires_after(kDrainPoll);
    co_await poll.async_wait(kNoThrow);
  }
  if (!ingest->drained())
    log::warn("server", "drain timeout: closing sessions with batches in flight");
  std::string last_id = "0";
  if (redis->connected()) {
    auto [ec, reply] = co_await redis->command(last_entry_command(stream));
    if (!ec && reply.is_array() && !reply.elements().empty()) {
      if (auto entry = parse_stream_entry(reply.elements().front())) last_id = entry->id;
    }
  }
  co_await asio::co_spawn(engine_strand, pipeline->flush(std::move(last_id), deadline),
                          asio::use_awaitable);
}

}  // namespace splitstream
