// Follows the event's read stream (XREAD BLOCK from the last applied ID) so every node applies
// every accepted read, whichever node ingested it, and a starting node replays the race.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/corrections.hpp"
#include "store/redis_reply.hpp"

namespace splitstream {

class RedisConnection;

// One accepted read as the ingest script stored it (docs/redis.md, "Stream entries"), or an
// official's correction (then `correction` is set and the read fields are empty).
struct StreamEntry {
  std::string id;  // the stream ID: the event's version after this entry
  std::string device;
  std::uint64_t seq = 0;
  std::string timing_point;
  std::string chip;
  std::int64_t time_ms = 0;
  std::string line;
  std::optional<Correction> correction;
};

// One element of an XREAD/XRANGE entry list: [id, [field, value, ...]]. Nullopt when it is
// not such an entry, lacks a field the engine needs (a read: tp, c, t), or is a correction
// this server does not know.
std::optional<StreamEntry> parse_stream_entry(const RedisReply& entry);

// Orders two stream IDs ("ms-seq", or "0"): negative, zero or positive. Unparsable IDs sort
// first.
int compare_stream_ids(std::string_view a, std::string_view b);

// `caught_up` turns true once a read of the stream came back with less than a full batch:
// everything stored before the node started has been handed over.
using StreamHandler = std::function<void(std::vector<StreamEntry>& entries, bool caught_up)>;

// Runs until the connection is stopped. `redis` must be dedicated to it (XREAD BLOCK holds the
// connection) and run on the caller's executor.
boost::asio::awaitable<void> follow_stream(std::shared_ptr<RedisConnection> redis,
                                           std::string stream_key, StreamHandler handler);

}  // namespace splitstream
