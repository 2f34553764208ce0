#include "store/decoder_read_log.hpp"

#include "observe/server_metrics.hpp"
#include "splitstream/v1/read.pb.h"
#include "store/ingest_script.hpp"
#include "store/redis_connection.hpp"
#include "store/replica_confirm.hpp"

namespace splitstream {
namespace {

// Built outside the coroutine: GCC 12 rejects braced initializer lists in a coroutine body.
std::vector<std::string> hgetall_command(const KeySchema& keys, const std::string& decoder_id) {
  return {"HGETALL", keys.decoder(decoder_id)};
}

void append_decoder_hash_key(std::vector<std::string>& args, const KeySchema& keys,
                             const std::string& decoder_id) {
  args.push_back("1");
  args.push_back(keys.decoder(decoder_id));
}

}  // namespace

std::string_view decoder_load_script() {
  // KEYS: decoder hash. One field written back with its own value: a write after everything
  // the hash holds, so a WAIT after it covers the cursors returned, whoever stored them.
  return R"lua(
local all = redis.call('HGETALL', KEYS[1])
if #all > 0 then redis.call('HSET', KEYS[1], all[1], all[2]) end
return all
)lua";
}

std::string_view decoder_ingest_script() {
  // KEYS: stream, decoder hash, decoder seen set, gun markers hash.
  // ARGV: decoder, now_ms, reads, markers, cursors, then per read: seq, tp, chip, time_ms, line,
  // rssi; per marker: id, source, label, time_ms; per cursor: field, value.
  return R"lua(
local stream, dec, seen, guns = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local decoder, now = ARGV[1], ARGV[2]
local reads, markers, cursors = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local appended, duplicates, new_markers = 0, 0, 0
local last_read = nil
local i = 6
for _ = 1, reads do
  if redis.call('SADD', seen, ARGV[i]) == 1 then
    redis.call('XADD', stream, '*', 'd', decoder, 's', ARGV[i], 'tp', ARGV[i + 1],
               'c', ARGV[i + 2], 't', ARGV[i + 3], 'l', ARGV[i + 4], 'r', ARGV[i + 5])
    appended = appended + 1
    last_read = ARGV[i + 3]
  else
    duplicates = duplicates + 1
  end
  i = i + 6
end
for _ = 1, markers do
  if redis.call('HSETNX', guns, decoder .. ':' .. ARGV[i],
                decoder .. '|' .. ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. ARGV[i + 3]) == 1 then
    new_markers = new_markers + 1
  end
  i = i + 4
end
for _ = 1, cursors do
  local current = tonumber(redis.call('HGET', dec, ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > current then redis.call('HSET', dec, ARGV[i], ARGV[i + 1]) end
  i = i + 2
end
redis.call('HSET', dec, 'last_seen_ms', now)
if last_read then redis.call('HSET', dec, 'last_read_ms', last_read) end
redis.call('HINCRBY', dec, 'reads', appended)
redis.call('HINCRBY', dec, 'duplicates', duplicates)
return {appended, duplicates, new_markers}
)lua";
}

void append_decoder_ingest_args(std::vector<std::string>& args, const KeySchema& keys,
                                std::string_view decoder_id, std::int64_t now_ms,
                                const DecoderBatchToStore& batch) {
  args.reserve(args.size() + 10 + 6 * batch.reads.size() + 4 * batch.markers.size() +
               2 * batch.cursors.size());
  args.push_back("4");
  args.push_back(keys.reads());
  args.push_back(keys.decoder(decoder_id));
  args.push_back(keys.decoder_seen(decoder_id));
  args.push_back(keys.gun_markers());
  args.emplace_back(decoder_id);
  args.push_back(std::to_string(now_ms));
  args.push_back(std::to_string(batch.reads.size()));
  args.push_back(std::to_string(batch.markers.size()));
  args.push_back(std::to_string(batch.cursors.size()));
  for (const v1::Read& read : batch.reads)
    append_read_args(args, read);
  for (const StoredGunMarker& marker : batch.markers) {
    args.push_back(std::to_string(marker.id));
    args.push_back(marker.source);
    args.push_back(marker.label);
    args.push_back(std::to_string(marker.time_ms));
  }
  for (const auto& [field, value] : batch.cursors) {
    args.push_back(field);
    args.push_back(std::to_string(value));
  }
}

std::optional<DecoderStoreResult> parse_decoder_ingest_reply(const RedisReply& reply) {
  if (!reply.is_array() || reply.elements().size() != 3) return std::nullopt;
  std::uint64_t n[3];
  for (std::size_t i = 0; i < 3; ++i) {
    auto v = reply.elements()[i].to_integer();
    if (!v || *v < 0) return std::nullopt;
    n[i] = static_cast<std::uint64_t>(*v);
  }
  DecoderStoreResult result;
  result.appended = n[0];
  result.duplicates = n[1];
  result.new_markers = n[2];
  return result;
}

DecoderReadLog::DecoderReadLog(std::shared_ptr<RedisConnection> redis, KeySchema keys)
    : redis_(std::move(redis)),
      confirmer_(ReplicaConfirmer::create(redis_)),
      keys_(std::move(keys)) {}

boost::asio::awaitable<DecoderStoreResult> DecoderReadLog::append(std::string decoder_id,
                                                                  std::int64_t now_ms,
                                                                  DecoderBatchToStore batch) {
  DecoderStoreResult out;
  const RedisConnection::CommandResult result =
      co_await script_.call(*redis_, [&](std::vector<std::string>& command) {
        append_decoder_ingest_args(command, keys_, decoder_id, now_ms, batch);
      });
  const boost::system::error_code& error = std::get<0>(result);
  const RedisReply& reply = std::get<1>(result);
  if (error) {
    out.error = error;
    out.detail = error.message();
  } else if (auto parsed = parse_decoder_ingest_reply(reply)) {
    metrics::ServerMetrics& m = metrics::server();
    m.reads_stored.inc(parsed->appended);
    m.reads_duplicate.inc(parsed->duplicates);
    out = std::move(*parsed);
    // Replicated durability: no acknowledgement before the replicas hold the batch.
    ReplicaConfirmation confirmed = co_await confirmer_->confirm();
    if (confirmed.error) {
      out.error = confirmed.error;
      out.detail = std::move(confirmed.detail);
    }
  } else {
    out.error = make_error_code(boost::system::errc::io_error);
    out.detail = "decoder ingest script: " + reply.debug_string();
  }
  co_return out;
}

boost::asio::awaitable<std::pair<boost::system::error_code, std::map<std::string, std::string>>>
DecoderReadLog::load(std::string decoder_id) {
  std::map<std::string, std::string> fields;
  RedisConnection::CommandResult result;
  const bool replicated = redis_->options().durability.mode == DurabilityMode::replicated;
  if (replicated) {
    // RACE RESULT resumes after the cursors: in the replicated mode only cursors the replicas
    // hold (a batch whose WAIT fell short raised them already).
    result = co_await load_script_.call(*redis_, [&](std::vector<std::string>& command) {
      append_decoder_hash_key(command, keys_, decoder_id);
    });
  } else {
    result = co_await redis_->command(hgetall_command(keys_, decoder_id));
  }
  boost::system::error_code ec = std::get<0>(result);
  const RedisReply& reply = std::get<1>(result);
  if (!ec && reply.is_array()) {
    const auto& e = reply.elements();
    for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
      fields.emplace(e[i].as_string(), e[i + 1].as_string());
    }
    ReplicaConfirmation confirmed = co_await confirmer_->confirm();
    if (confirmed.error) {
      ec = confirmed.error;
      fields.clear();
    }
  } else if (!ec) {
    ec = make_error_code(boost::system::errc::io_error);
  }
  co_return std::make_pair(ec, std::move(fields));
}

}  // namespace splitstream
