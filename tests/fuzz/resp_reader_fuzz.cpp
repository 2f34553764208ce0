// libFuzzer target: the RESP2 reader (store/resp_reader) and the XREAD reply parser
// (store/stream_reply) on arbitrary bytes, as whatever answers on the Redis port could send them.
//
// Invariants (abort on violation, so libFuzzer reports it):
//   * no crash, no throw, no leak, no read past the bytes (build and parse_xread_reply included,
//     on bytes that were not scanned);
//   * a malformed result names what and where ("RESP: ... at offset N");
//   * a complete reply's length does not depend on the bytes after it, and a prefix of it is
//     incomplete; the resumable scanner fed in chunks agrees with one scan; tighter limits never
//     accept what the defaults refuse;
//   * a complete reply is walked by the cursor to its last byte (so it builds), and its tree
//   written
//     back as RESP scans complete and builds to the same tree;
//   * parse_xread_reply on a complete reply agrees with the tree path (parse_stream_entry on the
//     built tree, as the follower did before); on an error reply it refuses and changes nothing;
//   * what a connection makes of a reply (store/redis_handshake: the handshake's verdict, a
//     sentinel's answer, a -MOVED or other error that sends it elsewhere) neither crashes nor
//     takes a port outside 1-65535.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "store/redis_handshake.hpp"
#include "store/resp_reader.hpp"
#include "store/stream_reply.hpp"
#include "support/resp_reference.hpp"

namespace {

using splitstream::RespScan;
using splitstream::RespScanResult;
using splitstream::fuzz::check;

void check_malformed_message(const RespScanResult& result) {
  check(
      result.error.rfind("RESP: ", 0) == 0 && result.error.find(" at offset ") != std::string::npos,
      "a malformed reply's error names what and where");
  check(result.length == 0, "a malformed reply has no length");
}

// The connection's readings of a reply from whatever answers on the Redis or sentinel port.
void check_connection_readings(const splitstream::RedisReply& tree) {
  if (const auto primary = splitstream::sentinel_primary_address(tree)) {
    check(!primary->host.empty() && primary->port > 0, "a sentinel's primary has a host and port");
  }
  if (tree.is_error()) {
    const std::string text = tree.as_string();
    if (const auto moved = splitstream::parse_moved_error(text, "127.0.0.1")) {
      check(!moved->host.empty() && moved->port > 0, "a MOVED target has a host and port");
    }
    (void)splitstream::reroute_reason(text, true);
  }
  // The same reply as each answer of a handshake with every step on.
  splitstream::RedisOptions options;
  options.username = "u";
  options.password = "p";
  options.database = 3;
  options.sentinels.push_back(splitstream::RedisAddress{"127.0.0.1", 26379});
  options.primary_name = "m";
  options.durability.mode = splitstream::DurabilityMode::fsync;
  const std::size_t steps = splitstream::redis_handshake_commands(options).size();
  const std::vector<splitstream::RedisReply> replies(steps, tree);
  if (const auto problem = splitstream::redis_handshake_problem(options, "h:1", replies)) {
    check(!problem->empty(), "a handshake problem says what it is");
  }
}

void check_complete_reply(std::string_view reply) {
  splitstream::RespCursor cursor(reply);
  check(cursor.skip(1) && cursor.offset() == reply.size(),
        "the cursor walks exactly the scanned reply");
  const splitstream::RedisReply tree = splitstream::build_resp_reply(reply);
  // Written back canonically, it reads the same.
  const std::string again = splitstream::testing::to_resp(tree, reply.size() % 2 == 0);
  const RespScanResult rescan = splitstream::scan_resp_reply(again);
  check(rescan.status == RespScan::complete && rescan.length == again.size(),
        "a built tree written back scans complete");
  check(splitstream::build_resp_reply(again) == tree, "a built tree written back builds the same");
  check_connection_readings(tree);

  // The follower's parser agrees with the tree path.
  std::vector<splitstream::StreamEntry> entries(1), expected(1);
  std::string last_id = "0", expected_last_id = "0";
  std::size_t received = 0, expected_received = 0;
  const bool ok = splitstream::parse_xread_reply(reply, entries, last_id, received);
  if (tree.is_error()) {
    check(!ok, "an error reply is refused");
    check(entries.size() == 1 && last_id == "0" && received == 0, "a refusal changes nothing");
    return;
  }
  check(ok, "a complete reply that is not an error parses");
  splitstream::testing::xread_entries_from_tree(tree, expected, expected_last_id,
                                                expected_received);
  check(entries == expected, "the same entries as parse_stream_entry on the tree");
  check(last_id == expected_last_id, "the same last id as the tree path");
  check(received == expected_received, "the same count as the tree path");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const RespScanResult result = splitstream::scan_resp_reply(bytes);

  // Tighter limits never accept what the defaults refuse, nor end a reply elsewhere.
  splitstream::RespLimits tight;
  tight.max_bulk = 16;
  tight.max_elements = 8;
  tight.max_depth = 3;
  const RespScanResult tight_result = splitstream::scan_resp_reply(bytes, tight);
  if (tight_result.status == RespScan::malformed) check_malformed_message(tight_result);
  if (result.status == RespScan::malformed) {
    check_malformed_message(result);
    check(tight_result.status == RespScan::malformed, "tighter limits refuse what the defaults do");
  }
  if (tight_result.status == RespScan::complete) {
    check(result.status == RespScan::complete && result.length == tight_result.length,
          "tighter limits accept only what the defaults accept, to the same length");
  }

  // The resumable scanner, fed in chunks, agrees with one scan.
  if (size > 0) {
    splitstream::RespScanner scanner;
    splitstream::fuzz::ChunkSizes chunks(data[0]);
    RespScanResult fed;
    std::size_t given = 0;
    do {
      given = std::min(size, given + chunks.next());
      fed = scanner.scan(bytes.substr(0, given));
    } while (fed.status == RespScan::incomplete && given < size);
    check(fed.status == result.status && fed.length == result.length && fed.error == result.error,
          "the resumable scanner in chunks agrees with one scan");
  }

  // Not scanned first: the tree builder and the follower's parser must stay within the bytes.
  (void)splitstream::build_resp_reply(bytes);
  {
    std::vector<splitstream::StreamEntry> entries;
    std::string last_id;
    std::size_t received = 0;
    (void)splitstream::parse_xread_reply(bytes, entries, last_id, received);
  }

  if (result.status != RespScan::complete) return 0;
  check(result.length > 0 && result.length <= size, "a complete reply lies within the bytes");
  const std::string_view reply = bytes.substr(0, result.length);
  const RespScanResult alone = splitstream::scan_resp_reply(reply);
  check(alone.status == RespScan::complete && alone.length == result.length,
        "the bytes after a reply do not change its length");
  for (const std::size_t cut : {result.length - 1, result.length / 2, result.length / 3}) {
    check(splitstream::scan_resp_reply(reply.substr(0, cut)).status == RespScan::incomplete,
          "a prefix of a complete reply is incomplete");
  }
  check_complete_reply(reply);
  return 0;
}
