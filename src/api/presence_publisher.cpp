#include "api/presence_publisher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/redis_script.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;

}  // namespace

std::vector<PresenceWrite> presence_writes(const DeviceIngest& devices,
                                           const DecoderFleet* decoders, const KeySchema& keys,
                                           std::string_view node, std::vector<bool>& was_connected,
                                           TimeMs now) {
  std::vector<PresenceWrite> writes;
  const std::vector<DevicePresence>& presence = devices.presence();
  was_connected.resize(presence.size(), false);
  const DurationMs hold = devices.protocol.idle_timeout_ms;
  for (std::size_t i = 0; i < presence.size(); ++i) {
    const std::string_view state = presence[i].state(now, hold);
    const bool connected = state == "connected";
    if (!connected && !(was_connected[i] && state == "offline")) continue;
    was_connected[i] = connected;
    PresenceWrite w;
    w.key = keys.presence(devices.event.devices[i].id);
    w.value = presence_value_json(presence[i].record(now, hold), node, now);
    w.connected = connected;
    writes.push_back(std::move(w));
  }
  if (decoders) {
    for (const auto& decoder : decoders->all()) {
      const PresenceRecord record = decoder->status.presence(now);
      PresenceWrite w;
      w.key = keys.presence(decoder->config.id);
      w.connected = record.state == "connected";
      w.value = presence_value_json(record, node, now);
      writes.push_back(std::move(w));
    }
  }
  return writes;
}

asio::awaitable<void> run_presence_publisher(std::shared_ptr<DeviceIngest> devices,
                                             std::shared_ptr<DecoderServices> decoders,
                                             std::shared_ptr<RedisConnection> redis, KeySchema keys,
                                             PresenceOptions options) {
  RedisScript script(presence_script());
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::vector<bool> was_connected;
  const DecoderFleet* fleet = nullptr;
  if (decoders) fleet = &decoders->fleet;
  while (!devices->draining()) {
    std::vector<PresenceWrite> writes =
        presence_writes(*devices, fleet, keys, options.node, was_connected, wall_clock_now());
    if (!writes.empty() && redis->connected()) {
      // A failure is not retried: the next round writes every key again.
      co_await script.call(*redis, [&writes, &options](std::vector<std::string>& command) {
        append_presence_script_args(command, writes, options.node, options.ttl_ms);
      });
    }
    timer.expires_after(options.interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace splitstream
