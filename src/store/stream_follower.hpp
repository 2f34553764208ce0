// Follows the event's read stream (XREAD BLOCK from the last applied ID) so every node applies
// every accepted read, whichever node ingested it, and a starting node replays the race.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/redis_reply.hpp"
#include "store/stream_reply.hpp"

namespace splitstream {

class RedisConnection;

// `caught_up` turns true once a read of the stream came back with less than a full batch:
// everything stored before the node started has been handed over.
using StreamHandler = std::function<void(std::vector<StreamEntry>& entries, bool caught_up)>;

// Runs until the connection is stopped. `redis` must be dedicated to it (XREAD BLOCK holds the
// connection) and run on the caller's executor.
boost::asio::awaitable<void> follow_stream(std::shared_ptr<RedisConnection> redis,
                                           std::string stream_key, StreamHandler handler);

}  // namespace splitstream
