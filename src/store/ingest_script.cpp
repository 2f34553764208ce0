#include "store/ingest_script.hpp"

#include "splitstream/v1/read.pb.h"

namespace splitstream {

std::string_view ingest_script() {
  // KEYS: stream, device hash, device pending set.
  // ARGV: device, now_ms, count, then per read: kind, seq, tp, chip, time_ms, line, rssi.
  return R"lua(
local stream, dev, pending = KEYS[1], KEYS[2], KEYS[3]
local device, now, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local acked = tonumber(redis.call('HGET', dev, 'acked') or '0')
-- Sequences arriving in order advance acked directly; only those beyond a gap are kept in the
-- pending set, so the common case costs one XADD per read and nothing more.
local waiting_count = redis.call('ZCARD', pending)
local appended, duplicates, rejected = 0, 0, 0
local last_read = nil
local i = 4
for _ = 1, count do
  local kind, seq = ARGV[i], tonumber(ARGV[i + 1])
  if seq <= acked or (waiting_count > 0 and redis.call('ZSCORE', pending, ARGV[i + 1])) then
    duplicates = duplicates + 1
  else
    if kind == 'a' then
      redis.call('XADD', stream, '*', 'd', device, 's', ARGV[i + 1], 'tp', ARGV[i + 2],
                 'c', ARGV[i + 3], 't', ARGV[i + 4], 'l', ARGV[i + 5], 'r', ARGV[i + 6])
      appended = appended + 1
      last_read = ARGV[i + 4]
    else
      rejected = rejected + 1
    end
    if seq == acked + 1 then
      acked = seq
    else
      redis.call('ZADD', pending, ARGV[i + 1], ARGV[i + 1])
      waiting_count = waiting_count + 1
    end
  end
  i = i + 7
end
-- Move acked over the waiting sequences that now follow it without a gap.
local waiting = {}
local consumed = 0
if waiting_count > 0 then
  waiting = redis.call('ZRANGE', pending, 0, -1)
  for _, member in ipairs(waiting) do
    local s = tonumber(member)
    if s > acked + 1 then break end
    if s == acked + 1 then acked = s end
    consumed = consumed + 1
  end
  if consumed > 0 then redis.call('ZREMRANGEBYRANK', pending, 0, consumed - 1) end
end
redis.call('HSET', dev, 'acked', acked, 'last_seen_ms', now)
if last_read then redis.call('HSET', dev, 'last_read_ms', last_read) end
redis.call('HINCRBY', dev, 'reads', appended)
redis.call('HINCRBY', dev, 'duplicates', duplicates)
redis.call('HINCRBY', dev, 'rejected', rejected)
-- Gaps: missing ranges above acked, up to 100.
local result = {acked, appended, duplicates}
local expect = acked + 1
local gaps = 0
for j = consumed + 1, #waiting do
  local s = tonumber(waiting[j])
  if s > expect and gaps < 100 then
    table.insert(result, expect)
    table.insert(result, s - 1)
    gaps = gaps + 1
  end
  expect = s + 1
end
return result
)lua";
}

void append_read_args(std::vector<std::string>& args, const v1::Read& read) {
  args.push_back(std::to_string(read.seq()));
  args.push_back(read.timing_point_id());
  args.push_back(read.chip());
  args.push_back(std::to_string(read.time_ms()));
  args.push_back(read.line() == v1::LINE_MAIN     ? "main"
                 : read.line() == v1::LINE_BACKUP ? "backup"
                                                  : "");
  args.push_back(read.has_rssi_dbm() ? std::to_string(read.rssi_dbm()) : "");
}

void append_ingest_script_args(std::vector<std::string>& args, const KeySchema& keys,
                               std::string_view device_id, std::int64_t now_ms,
                               const std::vector<v1::Read>& accepted,
                               const std::vector<std::uint64_t>& rejected_seqs) {
  args.reserve(args.size() + 7 + 7 * (accepted.size() + rejected_seqs.size()));
  args.push_back("3");
  args.push_back(keys.reads());
  args.push_back(keys.device(device_id));
  args.push_back(keys.device_pending(device_id));
  args.emplace_back(device_id);
  args.push_back(std::to_string(now_ms));
  args.push_back(std::to_string(accepted.size() + rejected_seqs.size()));
  for (const v1::Read& read : accepted) {
    args.push_back("a");
    append_read_args(args, read);
  }
  for (std::uint64_t seq : rejected_seqs) {
    args.push_back("r");
    args.push_back(std::to_string(seq));
    for (int k = 0; k < 5; ++k)
      args.emplace_back();
  }
}

}  // namespace splitstream
