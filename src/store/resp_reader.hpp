// RESP2, the Redis protocol, without I/O: where a reply ends in a buffer (scan), the reply as a
// RedisReply tree (build), a walk over a reply's elements without a tree (RespCursor, for parsers
// such as the stream follower's), and the bytes of a command (append_resp_command).
//
// Only RESP2: + status, - error, : integer, $ bulk string, * array, with the nil bulk string
// $-1 and the nil array *-1. Any other type byte (RESP3's %, _, # and the rest included) is
// malformed: the connection cannot stay in step with the server after it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis_reply.hpp"

namespace splitstream {

struct RespLimits {
  // The longest bulk string, and the longest status or error line.
  std::size_t max_bulk = 512u * 1024u * 1024u;
  // The most elements of one array.
  std::size_t max_elements = std::size_t{1} << 24;
  // The deepest nesting of arrays: a top-level array is at depth 1. At most 64 (more acts as 64).
  int max_depth = 16;
};

enum class RespScan { complete, incomplete, malformed };

struct RespScanResult {
  RespScan status = RespScan::incomplete;
  std::size_t length = 0;  // the bytes of the reply, when complete
  std::string error;       // what is wrong and at which offset, when malformed
};

// Looks at one reply at the start of `data`: its length when complete. Incomplete while the
// bytes end inside the reply (and nothing seen so far is wrong); malformed as soon as a byte is
// wrong or a limit is passed. Allocates nothing unless malformed.
RespScanResult scan_resp_reply(std::string_view data, const RespLimits& limits = {});

// The same, resumable: for a reply that arrives in pieces, each call goes on from where the last
// one stopped instead of scanning the reply again from its first byte. While incomplete, `data`
// must start with the bytes given to the previous call (the same reply, more of it). After a
// complete reply the next call starts afresh; a malformed one stays malformed until reset(),
// which also drops a partly scanned reply (a new connection).
class RespScanner {
 public:
  static constexpr int kMaxDepth = 64;

  explicit RespScanner(const RespLimits& limits = {});
  RespScanResult scan(std::string_view data);
  void reset();

 private:
  RespLimits limits_;
  std::size_t offset_ = 0;                          // where the next element starts
  int depth_ = 0;                                   // arrays open around it
  std::array<std::uint64_t, kMaxDepth> remaining_;  // elements still to come in each of them
  bool failed_ = false;
  std::string error_;
};

// Builds the tree of one complete reply (as scanned: precondition complete). Bytes after the
// reply are ignored. Should the precondition not hold, the result is an error reply saying so
// (never a crash).
RedisReply build_resp_reply(std::string_view complete_reply);

// One element of a reply as RespCursor reads it: the text views into the reply's bytes.
struct RespValue {
  RedisReply::Kind kind = RedisReply::Kind::nil;
  // The bytes of a string, the text of a status or error (as RedisReply::as_string()); empty
  // for the other kinds.
  std::string_view text;
  std::int64_t integer = 0;  // an integer's value
  std::size_t elements = 0;  // an array's element count (its elements follow)
};

// Walks the elements of a complete reply in order, depth first: an array's next() gives its
// count, and the next calls give its elements. Bounds are checked: on bytes that are not RESP it
// fails (returns false) rather than read past them, and stays failed.
class RespCursor {
 public:
  explicit RespCursor(std::string_view complete_reply) : data_(complete_reply) {}

  bool next(RespValue& value);
  // Skips `count` whole elements (an array with everything in it).
  bool skip(std::size_t count);
  // Where the next element starts: the reply's length once its last element was read.
  std::size_t offset() const { return offset_; }
  bool failed() const { return failed_; }

 private:
  bool fail() {
    failed_ = true;
    return false;
  }

  std::string_view data_;
  std::size_t offset_ = 0;
  bool failed_ = false;
};

// Appends the RESP encoding of a command (array of bulk strings) to `out`.
void append_resp_command(std::string& out, const std::vector<std::string>& args);

}  // namespace splitstream
