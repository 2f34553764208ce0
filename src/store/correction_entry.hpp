// An official's correction as a read-stream entry (docs/redis.md, "Corrections"): plain fields
// next to the reads, so that every node applies it in stream order and `redis-cli XRANGE`
// shows who changed what.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/corrections.hpp"

namespace splitstream {

// XADD <stream> * k KIND [field value]...
std::vector<std::string> correction_xadd_command(const std::string& stream, const Correction& c);

// The correction an entry's fields describe (the field `k` present); nullopt when `k` names no
// kind this server knows or a field it needs is missing or malformed.
std::optional<Correction> parse_correction(
    const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace splitstream
