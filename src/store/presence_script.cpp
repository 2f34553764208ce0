#include "store/presence_script.hpp"

namespace splitstream {

std::string_view presence_script() {
  // KEYS: the presence keys. ARGV: ttl_ms, node, then per key: value, connected ('1' or '0').
  return R"lua(
local ttl, node = ARGV[1], ARGV[2]
local written = 0
for i, key in ipairs(KEYS) do
  local value, connected = ARGV[1 + 2 * i], ARGV[2 + 2 * i] == '1'
  local write = connected
  if not write then
    local current = redis.call('GET', key)
    write = true
    if current then
      local ok, held = pcall(cjson.decode, current)
      if ok and type(held) == 'table' and held.state == 'connected' and held.node ~= node then
        write = false
      end
    end
  end
  if write then
    redis.call('SET', key, value, 'PX', ttl)
    written = written + 1
  end
end
return written
)lua";
}

void append_presence_script_args(std::vector<std::string>& args,
                                 const std::vector<PresenceWrite>& writes, std::string_view node,
                                 std::int64_t ttl_ms) {
  args.reserve(args.size() + 3 + writes.size() * 3);
  args.push_back(std::to_string(writes.size()));
  for (const PresenceWrite& w : writes)
    args.push_back(w.key);
  args.push_back(std::to_string(ttl_ms));
  args.emplace_back(node);
  for (const PresenceWrite& w : writes) {
    args.push_back(w.value);
    args.emplace_back(w.connected ? "1" : "0");
  }
}

}  // namespace splitstream
