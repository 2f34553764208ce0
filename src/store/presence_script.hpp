// The Lua script that writes a node's presence keys (docs/redis.md, "Presence"): one call per
// publishing round, `SET <key> <json> PX <ttl>` for each device or decoder the node holds. A
// node's entry that is not "connected" (a decoder still dialing or listening here, a device
// that left) never overwrites another node's "connected" entry: the device is connected there,
// and two nodes must not flap its state every round.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace splitstream {

// The script's source; load it once with SCRIPT LOAD and call it with EVALSHA.
std::string_view presence_script();

// One key's write: the key, its JSON value, and whether its state is "connected".
struct PresenceWrite {
  std::string key;
  std::string value;
  bool connected = false;
};

// Appends the arguments after the script's SHA: numkeys, the keys, then the TTL in ms, the
// node's name, and per key its value and "1" (connected) or "0". The script returns how many
// keys it wrote.
void append_presence_script_args(std::vector<std::string>& args,
                                 const std::vector<PresenceWrite>& writes, std::string_view node,
                                 std::int64_t ttl_ms);

}  // namespace splitstream
