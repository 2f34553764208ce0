// The presence publisher: every 2 s this node writes, for each device and vendor decoder it
// holds, what it knows of it to `{ev:E}:presence:<id>` with a 10 s TTL (store/presence_script),
// so that GET /api/v1/devices on any node shows every device once, whichever node holds it
// (docs/redis.md, "Presence"). A device that left this node is written once more as "offline";
// then its key expires unless another node holds it. Runs on the ingest strand, where the device
// sessions, the decoders and their Redis connection live.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/decoder_session.hpp"
#include "store/key_schema.hpp"
#include "store/presence_script.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

struct PresenceOptions {
  std::string node;  // this node's name (--node-name)
  std::chrono::milliseconds interval{2000};
  std::int64_t ttl_ms = 10'000;
};

// One round's writes (no I/O): each device of `devices` connected here now, or that was at the
// last round (`was_connected`, by device index, updated here: a device that left gets one
// "offline" write, then none), then each decoder of `decoders` (may be null) in its state.
std::vector<PresenceWrite> presence_writes(const DeviceIngest& devices,
                                           const DecoderFleet* decoders, const KeySchema& keys,
                                           std::string_view node, std::vector<bool>& was_connected,
                                           TimeMs now);

// Writes a round every options.interval until the node drains. A failed round (Redis down) is
// skipped: the next one writes again, and until then the keys keep their TTL.
boost::asio::awaitable<void> run_presence_publisher(std::shared_ptr<DeviceIngest> devices,
                                                    std::shared_ptr<DecoderServices> decoders,
                                                    std::shared_ptr<RedisConnection> redis,
                                                    KeySchema keys, PresenceOptions options);

}  // namespace splitstream
