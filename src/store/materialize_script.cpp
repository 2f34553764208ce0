#include "store/materialize_script.hpp"

#include <algorithm>
#include <unordered_map>

namespace splitstream {

std::string_view materialize_script() {
  // KEYS: meta, then the runner and standings keys the operations name by index.
  // ARGV: version, reads_applied, then operations:
  //   H key n field value ... (HSET), Z key score member (ZADD), R key member (ZREM).
  return R"lua(
local function id_parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local version = ARGV[1]
local current = redis.call('HGET', KEYS[1], 'version')
if current then
  local vm, vs = id_parts(version)
  local cm, cs = id_parts(current)
  -- Not newer than what is there: a node further along has written this state already.
  if vm < cm or (vm == cm and vs <= cs) then return 0 end
end
local i, n = 3, #ARGV
while i <= n do
  local op, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if op == 'H' then
    local count = tonumber(ARGV[i + 2])
    redis.call('HSET', key, unpack(ARGV, i + 3, i + 2 + 2 * count))
    i = i + 3 + 2 * count
  elseif op == 'Z' then
    redis.call('ZADD', key, ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif op == 'R' then
    redis.call('ZREM', key, ARGV[i + 2])
    i = i + 3
  else
    return redis.error_reply('materialize: unknown operation ' .. tostring(op))
  end
end
redis.call('HSET', KEYS[1], 'version', version, 'reads_applied', ARGV[2])
return 1
)lua";
}

double standing_score(const RankKey& key) {
  constexpr std::int64_t kMaxSplits = 4096;
  constexpr std::int64_t kTimeSpan = 1'000'000'000'000;  // ms, about 31 years
  const std::int64_t furthest = std::clamp<std::int64_t>(-key.primary, 0, kMaxSplits - 1);
  const std::int64_t time = std::clamp<std::int64_t>(key.secondary, 0, kTimeSpan - 1);
  return static_cast<double>((kMaxSplits - 1 - furthest) * kTimeSpan + time);
}

namespace {

std::string split_list(const RaceEngine& engine, RunnerIndex r) {
  const Race& race = engine.event().races[engine.event().participants[r].race];
  const SplitAssignment& a = engine.splits(r);
  std::string out;
  for (std::size_t s = 0; s < a.times.size(); ++s) {
    if (a.times[s] == kNoTime) continue;
    if (!out.empty()) out += ',';
    out += race.splits[s].id + '=' + std::to_string(a.times[s]);
  }
  return out;
}

std::string flag_list(const RaceEngine& engine, RunnerIndex r) {
  const Race& race = engine.event().races[engine.event().participants[r].race];
  std::string out;
  for (const Flag& f : engine.splits(r).flags) {
    if (!out.empty()) out += ',';
    out += flag_label(race, f);
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> runner_fields(const RaceEngine& engine,
                                                               RunnerIndex r,
                                                               std::string_view version) {
  const Event& event = engine.event();
  const Participant& p = event.participants[r];
  const Race& race = event.races[p.race];
  const int furthest = engine.splits(r).furthest;
  std::string furthest_id, time;
  if (furthest >= 0) {
    furthest_id = race.splits[static_cast<std::size_t>(furthest)].id;
    if (auto t = engine.ranked_time_at(r, static_cast<std::size_t>(furthest)))
      time = std::to_string(*t);
  }
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(8);
  fields.emplace_back("race", race.id);
  fields.emplace_back("status", std::string(to_string(engine.status(r))));
  fields.emplace_back("furthest", std::move(furthest_id));
  fields.emplace_back("time_ms", std::move(time));
  fields.emplace_back("start_ms", std::to_string(engine.start_time(r)));
  fields.emplace_back("splits", split_list(engine, r));
  fields.emplace_back("flags", flag_list(engine, r));
  fields.emplace_back("version", std::string(version));
  return fields;
}

void append_materialize_args(std::vector<std::string>& args, const RaceEngine& engine,
                             const KeySchema& keys, std::span<const RunnerIndex> runners,
                             std::string_view version, std::uint64_t reads_applied) {
  // Keys are listed once each (Redis Cluster needs every key a script touches in KEYS); the
  // operations refer to them by their 1-based index.
  std::vector<std::string> key_list{keys.meta()};
  std::unordered_map<std::string, std::size_t> key_index;
  auto index_of = [&](std::string key) {
    auto [it, inserted] = key_index.try_emplace(key, key_list.size() + 1);
    if (inserted) key_list.push_back(std::move(key));
    return std::to_string(it->second);
  };
  std::vector<std::string> ops;
  ops.reserve(runners.size() * 30);
  const Event& event = engine.event();
  for (RunnerIndex r : runners) {
    const Participant& p = event.participants[r];
    const auto fields = runner_fields(engine, r, version);
    ops.emplace_back("H");
    ops.push_back(index_of(keys.runner(p.bib)));
    ops.push_back(std::to_string(fields.size()));
    for (const auto& [field, value] : fields) {
      ops.push_back(field);
      ops.push_back(value);
    }
    const std::optional<RankKey> key = engine.standing_key(r);
    const std::string score =
        key ? std::to_string(static_cast<std::int64_t>(standing_score(*key))) : std::string();
    for (const std::string& category : RaceEngine::categories_of(p)) {
      const std::string standings = index_of(keys.standings(event.races[p.race].id, category));
      if (key) {
        ops.emplace_back("Z");
        ops.push_back(standings);
        ops.push_back(score);
      } else {
        ops.emplace_back("R");
        ops.push_back(standings);
      }
      ops.push_back(p.bib);
    }
  }
  args.reserve(args.size() + 3 + key_list.size() + ops.size());
  args.push_back(std::to_string(key_list.size()));
  for (std::string& k : key_list)
    args.push_back(std::move(k));
  args.emplace_back(version);
  args.push_back(std::to_string(reads_applied));
  for (std::string& op : ops)
    args.push_back(std::move(op));
}

}  // namespace splitstream
