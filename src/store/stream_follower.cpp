#include "store/stream_follower.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <unordered_set>

#include "observe/log.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {
namespace {

constexpr std::size_t kBatch = 10000;

// Built outside the coroutine: GCC 12 rejects braced initializer lists in a coroutine body.
// Replaying, it reads without blocking so that an empty or short stream is caught up at once;
// caught up, it blocks up to a second for new entries.
std::vector<std::string> xread_command(const std::string& key, const std::string& last_id,
                                       bool block) {
  if (!block) return {"XREAD", "COUNT", std::to_string(kBatch), "STREAMS", key, last_id};
  return {"XREAD", "COUNT", std::to_string(kBatch), "BLOCK", "1000", "STREAMS", key, last_id};
}

// The IDs of the entries handed over last, newest last: after a failover, which of the stream's
// entries this node has applied.
class RecentIds {
 public:
  static constexpr std::size_t kKept = 4096;

  void add(const std::string& id) {
    if (!set_.insert(id).second) return;
    order_.push_back(id);
    if (order_.size() > kKept) {
      set_.erase(order_.front());
      order_.pop_front();
    }
  }
  bool contains(const std::string& id) const { return set_.count(id) > 0; }

 private:
  std::deque<std::string> order_;
  std::unordered_set<std::string> set_;
};

// The entry this node applied last, looked up after a reconnect; and the entries at or before it.
std::vector<std::string> entry_command(const std::string& key, const std::string& id) {
  return {"XRANGE", key, id, id};
}
std::vector<std::string> entries_up_to_command(const std::string& key, const std::string& id) {
  return {"XREVRANGE", key, id, "-", "COUNT", std::to_string(RecentIds::kKept)};
}

std::string entry_id(const RedisReply& entry) {
  if (!entry.is_array() || entry.elements().empty()) return {};
  return entry.elements().front().as_string();
}

// Where to read on from when the stream lacks the entry applied last: the newest entry before it
// that this node applied (every later one it has not), or before everything the reply lists.
std::string read_on_from(const RedisReply& newest_first, const RecentIds& recent) {
  const auto& entries = newest_first.elements();
  for (const RedisReply& entry : entries) {
    if (recent.contains(entry_id(entry))) return entry_id(entry);
  }
  // None applied: all of them are new, unless the reply was cut at its count.
  if (entries.size() < RecentIds::kKept || entries.empty()) return "0";
  return entry_id(entries.back());
}

// The IDs of an XREVRANGE reply (newest first), oldest first into `recent`.
void note_applied(const RedisReply& newest_first, RecentIds& recent) {
  const auto& entries = newest_first.elements();
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    recent.add(entry_id(*it));
}

// Outside the coroutine: GCC 12 rejects the braced field list in a coroutine body.
void log_stream_rewound(const std::string& applied_up_to, const std::string& reading_from) {
  log::warn("stream",
            "the stream lacks entries this node applied (a failover?); reading on from the last "
            "entry it has",
            {{"applied_up_to", applied_up_to}, {"reading_from", reading_from}});
}

// Back after a loss: a replica promoted by a failover may lack the last entries this node
// applied (written on the old primary after the replica's last sync: never acknowledged, their
// devices resend them). Then read on from the newest entry the stream still has that this node
// applied, so that nothing the new primary stored is skipped, even entries whose IDs sort before
// the lost ones (another host's clock). False when Redis did not answer (try again).
boost::asio::awaitable<bool> read_on_from_what_the_stream_has(RedisConnection& redis,
                                                              const std::string& stream_key,
                                                              std::string& last_id,
                                                              const RecentIds& recent) {
  // No structured bindings across these awaits (GCC 12): the results are named whole.
  const auto found = co_await redis.command(entry_command(stream_key, last_id));
  if (std::get<0>(found) || !std::get<1>(found).is_array()) co_return false;
  if (!std::get<1>(found).elements().empty()) co_return true;  // still there: nothing was lost
  const auto back = co_await redis.command(entries_up_to_command(stream_key, last_id));
  if (std::get<0>(back) || !std::get<1>(back).is_array()) co_return false;
  std::string from = read_on_from(std::get<1>(back), recent);
  log_stream_rewound(last_id, from);
  last_id = std::move(from);
  co_return true;
}

// A coroutine function, not a coroutine lambda: GCC 12 mishandles the captures of those.
boost::asio::awaitable<void> call_at_once(const StreamCallback& callback,
                                          std::vector<StreamEntry>& entries, bool caught_up) {
  callback(entries, caught_up);
  co_return;
}

}  // namespace

StreamHandler handle_at_once(StreamCallback callback) {
  return [callback = std::move(callback)](std::vector<StreamEntry>& entries, bool caught_up) {
    return call_at_once(callback, entries, caught_up);
  };
}

boost::asio::awaitable<void> follow_stream(std::shared_ptr<RedisConnection> redis,
                                           std::string stream_key, StreamHandler handler,
                                           std::string after_id, StreamRewound rewound) {
  std::string last_id = std::move(after_id);
  bool caught_up = false;
  bool check_last_entry = false;
  // From a checkpoint: the entries up to it were applied; note the last of them, as a replay
  // would have, for a failover that loses the checkpoint's own entry.
  bool note_applied_before = last_id != "0";
  RecentIds recent;
  std::vector<StreamEntry> entries;
  boost::asio::steady_timer retry(co_await boost::asio::this_coro::executor);
  for (;;) {
    if (note_applied_before) {
      const auto before = co_await redis->command(entries_up_to_command(stream_key, last_id));
      if (std::get<0>(before) == make_error_code(RedisErrc::stopped)) co_return;
      if (std::get<0>(before) || !std::get<1>(before).is_array()) {
        co_await redis->wait_connected(std::chrono::seconds(1));
        continue;
      }
      note_applied(std::get<1>(before), recent);
      note_applied_before = false;
    }
    if (check_last_entry) {
      const std::string applied_up_to = last_id;
      check_last_entry =
          !co_await read_on_from_what_the_stream_has(*redis, stream_key, last_id, recent);
      if (last_id != applied_up_to && rewound) rewound();
    }
    // The reply's bytes, read straight into entries: no reply tree for the stream every node
    // reads whole (docs/benchmarks.md, "Stream follower: reply parsing").
    const auto result = co_await redis->command_raw(xread_command(stream_key, last_id, caught_up));
    const boost::system::error_code& error = std::get<0>(result);
    if (error == make_error_code(RedisErrc::stopped)) co_return;
    if (error) {
      // Redis is away: wait for the connection, then read on from last_id. After stop() this
      // returns at once and the next command reports `stopped`.
      co_await redis->wait_connected(std::chrono::seconds(1));
      check_last_entry = last_id != "0";
      continue;
    }
    entries.clear();
    std::size_t received = 0;
    if (!parse_xread_reply(std::get<1>(result), entries, last_id, received)) {
      // An error reply (e.g. the key holds something else): do not hammer Redis. One that made
      // the connection move (-UNBLOCKED from a demoted primary, -MOVED) may have left the
      // stream behind: check it as after a lost connection.
      check_last_entry = last_id != "0";
      retry.expires_after(std::chrono::seconds(1));
      co_await retry.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      continue;
    }
    const bool newly_caught_up = !caught_up && received < kBatch;
    caught_up = caught_up || newly_caught_up;
    for (const StreamEntry& entry : entries)
      recent.add(entry.id);
    if (!entries.empty() || newly_caught_up) co_await handler(entries, caught_up);
  }
}

}  // namespace splitstream
