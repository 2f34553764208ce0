// References for the RESP reader's tests (unit tests and fuzz target): a RedisReply written back
// as RESP, and the stream follower's reading of an XREAD reply tree as it was before
// parse_xread_reply read the bytes directly, which the byte parser must agree with.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "store/redis_reply.hpp"
#include "store/stream_reply.hpp"

namespace splitstream::testing {

// The RESP2 bytes of `reply`; a nil is written as the nil bulk string ($-1), or as the nil array
// (*-1) with `nil_as_array`.
inline void append_resp(std::string& out, const RedisReply& reply, bool nil_as_array = false) {
  switch (reply.kind()) {
    case RedisReply::Kind::nil:
      out += nil_as_array ? "*-1\r\n" : "$-1\r\n";
      return;
    case RedisReply::Kind::status:
      out += "+" + reply.as_string() + "\r\n";
      return;
    case RedisReply::Kind::error:
      out += "-" + reply.as_string() + "\r\n";
      return;
    case RedisReply::Kind::integer:
      out += ":" + std::to_string(reply.as_integer()) + "\r\n";
      return;
    case RedisReply::Kind::string:
      out += "$" + std::to_string(reply.as_string().size()) + "\r\n" + reply.as_string() + "\r\n";
      return;
    case RedisReply::Kind::array:
      out += "*" + std::to_string(reply.elements().size()) + "\r\n";
      for (const RedisReply& element : reply.elements())
        append_resp(out, element, nil_as_array);
      return;
  }
}

inline std::string to_resp(const RedisReply& reply, bool nil_as_array = false) {
  std::string out;
  append_resp(out, reply, nil_as_array);
  return out;
}

// Appends the entries parse_stream_entry accepts; counts every entry in `received` and takes the
// id of each [id, fields] as `last_id`.
inline void xread_entries_from_tree(const RedisReply& reply, std::vector<StreamEntry>& out,
                                    std::string& last_id, std::size_t& received) {
  if (!reply.is_array()) return;
  for (const RedisReply& stream : reply.elements()) {
    if (stream.elements().size() != 2) continue;
    for (const RedisReply& raw : stream.elements()[1].elements()) {
      ++received;
      if (raw.elements().size() == 2) last_id = raw.elements()[0].as_string();
      if (auto entry = parse_stream_entry(raw)) out.push_back(std::move(*entry));
    }
  }
}

}  // namespace splitstream::testing
