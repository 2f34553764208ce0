// The read stream's entries as the ingest script and the officials' console write them
// (docs/redis.md, "Stream entries" and "Corrections"): from a reply tree (parse_stream_entry), or
// straight from the bytes of an XREAD reply without building a tree (parse_xread_reply, the
// stream follower's path: it reads every entry of the race on every node).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/corrections.hpp"
#include "store/redis_reply.hpp"

namespace splitstream {

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

  friend bool operator==(const StreamEntry&, const StreamEntry&) = default;
};

// One element of an XREAD/XRANGE entry list: [id, [field, value, ...]]. Nullopt when it is
// not such an entry, lacks a field the engine needs (a read: tp, c, t), or is a correction
// this server does not know.
std::optional<StreamEntry> parse_stream_entry(const RedisReply& entry);

// Orders two stream IDs ("ms-seq", or "0"): negative, zero or positive. Unparsable IDs sort
// first.
int compare_stream_ids(std::string_view a, std::string_view b);

// The entries of one XREAD reply, from its RESP bytes (one complete reply, as scanned): each
// entry of each stream [key, [[id, [field, value, ...]], ...]] counts in `received` and, if it is
// [id, fields], makes its id `last_id`; those parse_stream_entry accepts are appended to `out`,
// the same values it gives. A nil reply (no new entries) adds nothing. False, with `out`,
// `last_id` and `received` unchanged, when the reply is a Redis error (its text in `problem`)
// or the bytes are not a RESP reply.
bool parse_xread_reply(std::string_view raw, std::vector<StreamEntry>& out, std::string& last_id,
                       std::size_t& received, std::string* problem = nullptr);

}  // namespace splitstream
