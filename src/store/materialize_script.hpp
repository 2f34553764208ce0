// The Lua script that writes the engine's derived state next to the stream: per-runner hashes
// and per-race/category standings, versioned by the stream ID the state was computed at, so
// that a node that is behind never overwrites a newer state (docs/redis.md, "Materialised
// state").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/race_engine.hpp"
#include "store/key_schema.hpp"

namespace splitstream {

// The script's source, for RedisScript.
std::string_view materialize_script();

// Appends the script's arguments: numkeys, the meta key and every runner and standings key it
// touches, then the version (a stream ID), the number of reads applied, and one operation per
// hash write, standings entry and standings removal for `runners`.
void append_materialize_args(std::vector<std::string>& args, const RaceEngine& engine,
                             const KeySchema& keys, std::span<const RunnerIndex> runners,
                             std::string_view version, std::uint64_t reads_applied);

// A standings key as one sorted-set score: fewer splits reached sorts later, then the time at
// the furthest split. Exact in a double for up to 4,095 splits and times under 31 years.
double standing_score(const RankKey& key);

// The runner hash's fields and values, in a fixed order (docs/redis.md lists them).
std::vector<std::pair<std::string, std::string>> runner_fields(const RaceEngine& engine,
                                                               RunnerIndex runner,
                                                               std::string_view version);

}  // namespace splitstream
