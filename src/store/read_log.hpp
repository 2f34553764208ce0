// The event's read log in Redis: appends a device's batch through the ingest script (atomic,
// deduplicated by device and sequence) and reads a device's acked sequence.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/ingest_script.hpp"
#include "store/key_schema.hpp"
#include "store/redis_reply.hpp"
#include "store/redis_script.hpp"

namespace splitstream {

class RedisConnection;
class ReplicaConfirmer;

// KEYS[1] a device hash: its `acked` (nil for a device never seen), written back unchanged so
// that a WAIT after it covers the write that stored it.
std::string_view acked_seq_script();

struct ReadLogResult {
  boost::system::error_code error;  // transport failure, or a Redis error reply (detail says)
  std::string detail;
  IngestResult ingest;
};

class ReadLog {
 public:
  ReadLog(std::shared_ptr<RedisConnection> redis, KeySchema keys);

  boost::asio::awaitable<ReadLogResult> append(std::string device_id, std::int64_t now_ms,
                                               std::vector<v1::Read> accepted,
                                               std::vector<std::uint64_t> rejected_seqs);
  // The device's highest contiguous stored sequence (0 for a new device) in ingest.acked_seq.
  // With --durability replicated, through acked_seq_script() and then a WAIT: an error when the
  // replicas do not confirm it (the device must not be told to drop reads they may lack).
  boost::asio::awaitable<ReadLogResult> acked_seq(std::string device_id);

  const KeySchema& keys() const { return keys_; }

 private:
  std::shared_ptr<RedisConnection> redis_;
  std::shared_ptr<ReplicaConfirmer> confirmer_;  // --durability replicated: the WAITs
  KeySchema keys_;
  RedisScript script_{ingest_script()};
  RedisScript acked_script_{acked_seq_script()};
};

// The script's reply: {acked, appended, duplicates, gap_from, gap_to, ...}.
std::optional<IngestResult> parse_ingest_reply(const RedisReply& reply);

}  // namespace splitstream
