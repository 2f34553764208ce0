// Follows the event's read stream (XREAD BLOCK from the last applied ID) so every node applies
// every accepted read, whichever node ingested it, and a starting node replays the race (from
// the start, or from a checkpoint's entry).
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
// everything stored before the node started has been handed over. The handler may take the
// entries (move them out). The follower reads on once the returned awaitable completes, so a
// handler that hands the entries to another thread can hold it back while that thread is busy.
using StreamHandler =
    std::function<boost::asio::awaitable<void>(std::vector<StreamEntry>& entries, bool caught_up)>;

// A handler that deals with each batch at once, on the follower's executor.
using StreamCallback = std::function<void(std::vector<StreamEntry>& entries, bool caught_up)>;
StreamHandler handle_at_once(StreamCallback callback);

// Called when the stream turned out to lack entries the node had applied (a failover lost the
// last writes): the node's state holds reads the stream no longer has.
using StreamRewound = std::function<void()>;

// Runs until the connection is stopped. `redis` must be dedicated to it (XREAD BLOCK holds the
// connection) and run on the caller's executor. Reads the entries after `after_id` ("0": the
// whole stream; a checkpoint's entry: the rest, the entries up to it counted as applied).
boost::asio::awaitable<void> follow_stream(std::shared_ptr<RedisConnection> redis,
                                           std::string stream_key, StreamHandler handler,
                                           std::string after_id = "0",
                                           StreamRewound rewound = nullptr);

}  // namespace splitstream
