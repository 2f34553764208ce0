// What a Redis connection says and checks before it is ready, and the replies that send it
// elsewhere, as pure functions (the transport, store/redis_connection, does the I/O): tested
// with literal replies, no server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis_options.hpp"
#include "store/redis_reply.hpp"

namespace splitstream {

// The commands sent right after connecting, in order: AUTH (when a password is set), SELECT
// (database not 0), ROLE (with Sentinel), the durability probe, PING (proves the server
// answers, and says NOAUTH when it wants a password we do not have).
std::vector<std::vector<std::string>> redis_handshake_commands(const RedisOptions& options);

// Null when the replies (one per command above, in order) let the connection be used; else the
// problem in words safe to log (never the password), naming `where`.
std::optional<std::string> redis_handshake_problem(const RedisOptions& options,
                                                   std::string_view where,
                                                   const std::vector<RedisReply>& replies);

// The command asking a sentinel for the primary's address.
std::vector<std::string> sentinel_primary_command(const RedisOptions& options);
// The primary's address from the sentinel's reply, or nullopt (an unknown name: nil; an error).
std::optional<RedisAddress> sentinel_primary_address(const RedisReply& reply);

// A Redis Cluster redirect, "MOVED <slot> <host>:<port>" (the host may be empty: the same host
// as `current_host`); nullopt for any other error text.
std::optional<RedisAddress> parse_moved_error(std::string_view error,
                                              std::string_view current_host);

// Why an error reply means this connection no longer reaches the right server (so it is dropped
// after the reply is delivered and the next attempt finds the primary again), or nullopt:
// MOVED always; with Sentinel, READONLY (a demoted primary refuses writes), UNBLOCKED (a
// blocked XREAD on a primary being demoted) and MASTERDOWN.
std::optional<std::string> reroute_reason(std::string_view error, bool with_sentinel);

}  // namespace splitstream
