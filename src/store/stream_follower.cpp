#include "store/stream_follower.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "store/correction_entry.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {
namespace {

constexpr std::size_t kBatch = 1000;

template <typename T>
bool to_number(const std::string& s, T& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Built outside the coroutine: GCC 12 rejects braced initializer lists in a coroutine body.
// Replaying, it reads without blocking so that an empty or short stream is caught up at once;
// caught up, it blocks up to a second for new entries.
std::vector<std::string> xread_command(const std::string& key, const std::string& last_id,
                                       bool block) {
  if (!block) return {"XREAD", "COUNT", std::to_string(kBatch), "STREAMS", key, last_id};
  return {"XREAD", "COUNT", std::to_string(kBatch), "BLOCK", "1000", "STREAMS", key, last_id};
}

struct StreamId {
  std::uint64_t ms = 0, seq = 0;
  bool valid = false;
};

StreamId parse_stream_id(std::string_view id) {
  StreamId out;
  const std::size_t dash = id.find('-');
  const std::string_view ms = id.substr(0, dash);
  const std::string_view seq = dash == std::string_view::npos ? "0" : id.substr(dash + 1);
  const auto a = std::from_chars(ms.data(), ms.data() + ms.size(), out.ms);
  const auto b = std::from_chars(seq.data(), seq.data() + seq.size(), out.seq);
  out.valid = a.ec == std::errc() && a.ptr == ms.data() + ms.size() && b.ec == std::errc() &&
              b.ptr == seq.data() + seq.size() && !ms.empty() && !seq.empty();
  return out;
}

}  // namespace

int compare_stream_ids(std::string_view a, std::string_view b) {
  const StreamId x = parse_stream_id(a), y = parse_stream_id(b);
  if (x.valid != y.valid) return x.valid ? 1 : -1;
  if (x.ms != y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq != y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

std::optional<StreamEntry> parse_stream_entry(const RedisReply& entry) {
  const auto& parts = entry.elements();
  if (!entry.is_array() || parts.size() != 2 || !parts[0].is_string() || !parts[1].is_array()) {
    return std::nullopt;
  }
  StreamEntry out;
  out.id = parts[0].as_string();
  const auto& fields = parts[1].elements();
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].as_string() != "k") continue;
    std::vector<std::pair<std::string, std::string>> named;
    for (std::size_t j = 0; j + 1 < fields.size(); j += 2)
      named.emplace_back(fields[j].as_string(), fields[j + 1].as_string());
    out.correction = parse_correction(named);
    if (!out.correction) return std::nullopt;
    return out;
  }
  bool has_tp = false, has_chip = false, has_time = false;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].as_string();
    const std::string& value = fields[i + 1].as_string();
    if (name == "d") {
      out.device = value;
    } else if (name == "s") {
      if (!to_number(value, out.seq)) return std::nullopt;
    } else if (name == "tp") {
      out.timing_point = value;
      has_tp = true;
    } else if (name == "c") {
      out.chip = value;
      has_chip = !value.empty();
    } else if (name == "t") {
      has_time = to_number(value, out.time_ms);
    } else if (name == "l") {
      out.line = value;
    }
  }
  if (!has_tp || !has_chip || !has_time) return std::nullopt;
  return out;
}

boost::asio::awaitable<void> follow_stream(std::shared_ptr<RedisConnection> redis,
                                           std::string stream_key, StreamHandler handler) {
  std::string last_id = "0";
  bool caught_up = false;
  std::vector<StreamEntry> entries;
  boost::asio::steady_timer retry(co_await boost::asio::this_coro::executor);
  for (;;) {
    const RedisConnection::CommandResult result =
        co_await redis->command(xread_command(stream_key, last_id, caught_up));
    const boost::system::error_code& error = std::get<0>(result);
    const RedisReply& reply = std::get<1>(result);
    if (error == make_error_code(RedisErrc::stopped)) co_return;
    if (error) {
      // Redis is away: wait for the connection, then read on from last_id. After stop() this
      // returns at once and the next command reports `stopped`.
      co_await redis->wait_connected(std::chrono::seconds(1));
      continue;
    }
    if (reply.is_error()) {  // e.g. the key holds something else: do not hammer Redis
      retry.expires_after(std::chrono::seconds(1));
      co_await retry.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      continue;
    }
    entries.clear();
    std::size_t received = 0;
    if (reply.is_array()) {
      for (const RedisReply& stream : reply.elements()) {
        if (stream.elements().size() != 2) continue;
        for (const RedisReply& raw : stream.elements()[1].elements()) {
          ++received;
          if (raw.elements().size() == 2) last_id = raw.elements()[0].as_string();
          if (auto entry = parse_stream_entry(raw)) entries.push_back(std::move(*entry));
        }
      }
    }
    const bool newly_caught_up = !caught_up && received < kBatch;
    caught_up = caught_up || newly_caught_up;
    if (!entries.empty() || newly_caught_up) handler(entries, caught_up);
  }
}

}  // namespace splitstream
