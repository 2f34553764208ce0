#include "store/read_log.hpp"

#include "observe/server_metrics.hpp"
#include "splitstream/v1/read.pb.h"
#include "store/redis_connection.hpp"
#include "store/replica_confirm.hpp"

namespace splitstream {
namespace {

// Commands are built here, outside the coroutines: GCC 12 rejects braced initializer lists in
// a coroutine body ("array used as initializer").
void append_acked_seq_script_args(std::vector<std::string>& args, const KeySchema& keys,
                                  const std::string& device_id) {
  args.push_back("1");
  args.push_back(keys.device(device_id));
}

std::vector<std::string> acked_command(const KeySchema& keys, const std::string& device_id) {
  return {"HGET", keys.device(device_id), "acked"};
}

bool replicated(const RedisConnection& redis) {
  return redis.options().durability.mode == DurabilityMode::replicated;
}

}  // namespace

std::string_view acked_seq_script() {
  // KEYS: device hash. Rewriting `acked` with its own value changes nothing, but it is a write
  // that follows the one that stored `acked`, so a WAIT after it covers that one too, whichever
  // connection made it.
  return R"lua(
local acked = redis.call('HGET', KEYS[1], 'acked')
if acked then redis.call('HSET', KEYS[1], 'acked', acked) end
return acked
)lua";
}

std::optional<IngestResult> parse_ingest_reply(const RedisReply& reply) {
  const auto& e = reply.elements();
  if (!reply.is_array() || e.size() < 3 || (e.size() - 3) % 2 != 0) return std::nullopt;
  std::vector<std::int64_t> n;
  for (const RedisReply& item : e) {
    auto v = item.to_integer();
    if (!v || *v < 0) return std::nullopt;
    n.push_back(*v);
  }
  IngestResult result;
  result.acked_seq = static_cast<std::uint64_t>(n[0]);
  result.appended = static_cast<std::uint64_t>(n[1]);
  result.duplicates = static_cast<std::uint64_t>(n[2]);
  for (std::size_t i = 3; i + 1 < n.size(); i += 2) {
    result.gaps.push_back({static_cast<std::uint64_t>(n[i]), static_cast<std::uint64_t>(n[i + 1])});
  }
  return result;
}

ReadLog::ReadLog(std::shared_ptr<RedisConnection> redis, KeySchema keys)
    : redis_(std::move(redis)),
      confirmer_(ReplicaConfirmer::create(redis_)),
      keys_(std::move(keys)) {}

boost::asio::awaitable<ReadLogResult> ReadLog::append(std::string device_id, std::int64_t now_ms,
                                                      std::vector<v1::Read> accepted,
                                                      std::vector<std::uint64_t> rejected_seqs) {
  ReadLogResult out;
  const RedisConnection::CommandResult result =
      co_await script_.call(*redis_, [&](std::vector<std::string>& command) {
        append_ingest_script_args(command, keys_, device_id, now_ms, accepted, rejected_seqs);
      });
  const boost::system::error_code& error = std::get<0>(result);
  const RedisReply& reply = std::get<1>(result);
  if (error) {
    out.error = error;
    out.detail = error.message();
  } else if (auto parsed = parse_ingest_reply(reply)) {
    metrics::ServerMetrics& m = metrics::server();
    m.reads_stored.inc(parsed->appended);
    m.reads_duplicate.inc(parsed->duplicates);
    out.ingest = std::move(*parsed);
    // Replicated durability: no Ack before the replicas hold the batch (its reads stay in the
    // stream either way; the device's resend is a duplicate).
    ReplicaConfirmation confirmed = co_await confirmer_->confirm();
    if (confirmed.error) {
      out.error = confirmed.error;
      out.detail = std::move(confirmed.detail);
    }
  } else {
    out.error = make_error_code(boost::system::errc::io_error);
    out.detail = "ingest script: " + reply.debug_string();
  }
  co_return out;
}

boost::asio::awaitable<ReadLogResult> ReadLog::acked_seq(std::string device_id) {
  ReadLogResult out;
  RedisConnection::CommandResult result;
  if (replicated(*redis_)) {
    // The Welcome tells the device it may drop everything up to `acked`: in the replicated
    // mode only once the replicas hold it (a batch whose WAIT fell short moved it already).
    result = co_await acked_script_.call(*redis_, [&](std::vector<std::string>& command) {
      append_acked_seq_script_args(command, keys_, device_id);
    });
  } else {
    result = co_await redis_->command(acked_command(keys_, device_id));
  }
  const boost::system::error_code& ec = std::get<0>(result);
  const RedisReply& reply = std::get<1>(result);
  if (ec) {
    out.error = ec;
    out.detail = ec.message();
  } else if (reply.is_nil()) {
    out.ingest.acked_seq = 0;
  } else if (auto v = reply.to_integer(); v && *v >= 0) {
    out.ingest.acked_seq = static_cast<std::uint64_t>(*v);
  } else {
    out.error = make_error_code(boost::system::errc::io_error);
    out.detail = "HGET acked: " + reply.debug_string();
  }
  if (!out.error) {
    ReplicaConfirmation confirmed = co_await confirmer_->confirm();
    if (confirmed.error) {
      out.error = confirmed.error;
      out.detail = std::move(confirmed.detail);
    }
  }
  co_return out;
}

}  // namespace splitstream
