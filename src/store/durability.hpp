// What "stored" means when a batch is acknowledged (DurabilityOptions, docs/redis.md
// "Durability"): the commands that check Redis keeps the promise, and the WAIT of the replicated
// mode with the judgement of its reply. Pure: no I/O (the connection sends the probe after
// AUTH/SELECT; store/replica_confirm sends the WAIT).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/redis_options.hpp"
#include "store/redis_reply.hpp"

namespace splitstream {

// Commands the connection sends after AUTH/SELECT; empty for local and replicated (a missing
// replica must hold acknowledgements back, not take the node's reading side down). fsync:
// CONFIG GET appendonly, CONFIG GET appendfsync.
std::vector<std::vector<std::string>> durability_probe_commands(const DurabilityOptions& options);

// Null when the replies (one per probe command, in order) show Redis keeps the promise, else
// the problem in words the crew can act on ("--durability fsync needs appendfsync always; Redis
// has everysec").
std::optional<std::string> durability_probe_problem(const DurabilityOptions& options,
                                                    const std::vector<RedisReply>& replies);

// WAIT <replicas> <timeout ms>: returns once that many replicas hold every write this connection
// made so far, or at the timeout with how many do.
std::vector<std::string> wait_command(const DurabilityOptions& options);

// Null when WAIT's reply counts at least `replicas`, else why the write is not confirmed
// ("replicated durability: 0 of 1 replicas confirmed the write within 1000 ms").
std::optional<std::string> wait_problem(const DurabilityOptions& options, const RedisReply& reply);

}  // namespace splitstream
