// The read log of the vendor decoders (RACE RESULT, CTP01, MYLAPS, Impinj): one Lua script
// appends a decoder's batch to the event's read stream, deduplicated by each read's identity,
// records gun markers, and moves the decoder's cursors forward, in one atomic step
// (docs/redis.md, "Ingesting a vendor decoder's batch"). The native device protocol has its own
// script (store/ingest_script): its reads carry the device's contiguous sequence numbers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/key_schema.hpp"
#include "store/redis_reply.hpp"
#include "store/redis_script.hpp"

namespace splitstream {

namespace v1 {
class Read;
}

class RedisConnection;
class ReplicaConfirmer;

// A gun marker in the terms the crew sees it.
struct StoredGunMarker {
  std::uint64_t id = 0;  // identity, as a read's seq
  std::string source;    // the decoder's location name
  std::string label;
  std::int64_t time_ms = 0;
};

struct DecoderBatchToStore {
  // Reads with seq = their identity within the decoder (a hash of the vendor's own identity),
  // device_id = the decoder, timing point, chip, UTC time, line, rssi filled in.
  std::vector<v1::Read> reads;
  std::vector<StoredGunMarker> markers;
  // Fields of the decoder's hash raised to at least this value ("cursor:<file>" -> n).
  std::vector<std::pair<std::string, std::uint64_t>> cursors;
};

struct DecoderStoreResult {
  boost::system::error_code error;  // transport failure or a Redis error reply (detail says)
  std::string detail;
  std::uint64_t appended = 0;    // reads new to the stream
  std::uint64_t duplicates = 0;  // reads Redis already had (resends, refetches)
  std::uint64_t new_markers = 0;
};

// The script's source (for SCRIPT LOAD), and its arguments after the SHA.
std::string_view decoder_ingest_script();
// KEYS[1] a decoder hash: HGETALL, with one field written back unchanged so that a WAIT after it
// covers whatever the hash holds (--durability replicated).
std::string_view decoder_load_script();
void append_decoder_ingest_args(std::vector<std::string>& args, const KeySchema& keys,
                                std::string_view decoder_id, std::int64_t now_ms,
                                const DecoderBatchToStore& batch);
// The script's reply {appended, duplicates, new_markers}; nullopt when it is not that.
std::optional<DecoderStoreResult> parse_decoder_ingest_reply(const RedisReply& reply);

class DecoderReadLog {
 public:
  DecoderReadLog(std::shared_ptr<RedisConnection> redis, KeySchema keys);

  boost::asio::awaitable<DecoderStoreResult> append(std::string decoder_id, std::int64_t now_ms,
                                                    DecoderBatchToStore batch);
  // The decoder's hash (cursors and counters); empty for a decoder never seen. `error` set on
  // failure, or with --durability replicated when the replicas do not confirm the hash
  // (DurabilityErrc::unconfirmed).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::map<std::string, std::string>>>
  load(std::string decoder_id);

  const KeySchema& keys() const { return keys_; }

 private:
  std::shared_ptr<RedisConnection> redis_;
  std::shared_ptr<ReplicaConfirmer> confirmer_;  // --durability replicated: the WAITs
  KeySchema keys_;
  RedisScript script_{decoder_ingest_script()};
  RedisScript load_script_{decoder_load_script()};
};

}  // namespace splitstream
