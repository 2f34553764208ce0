#include "api/device_status.hpp"

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

namespace splitstream {
namespace {

std::vector<std::string> device_hash_command(const KeySchema& keys, const std::string& device) {
  return {"HGETALL", keys.device(device)};
}

// The body of GET /api/v1/devices (outside the coroutine: GCC 12 and braced lists).
std::string device_status_json(const Event& event, const std::map<std::string, int>& online,
                               const std::vector<RedisReply>& replies) {
  boost::json::array devices;
  for (std::size_t i = 0; i < event.devices.size(); ++i) {
    const Device& d = event.devices[i];
    boost::json::object o{{"id", d.id},
                          {"timing_point_id", event.timing_points[d.timing_point].id},
                          {"line", std::string(to_string(d.line))},
                          {"connected_here", online.contains(d.id)}};
    for (const char* field :
         {"acked", "reads", "duplicates", "rejected", "last_read_ms", "last_seen_ms"}) {
      o[field] = nullptr;
    }
    if (i < replies.size() && replies[i].is_array()) {
      const auto& kv = replies[i].elements();
      for (std::size_t k = 0; k + 1 < kv.size(); k += 2) {
        if (auto n = kv[k + 1].to_integer()) o[kv[k].as_string()] = *n;
      }
    }
    devices.push_back(std::move(o));
  }
  return boost::json::serialize(boost::json::object{{"devices", std::move(devices)}});
}

std::vector<std::vector<std::string>> device_status_commands(const Event& event,
                                                             const KeySchema& keys) {
  std::vector<std::vector<std::string>> commands;
  for (const Device& d : event.devices)
    commands.push_back(device_hash_command(keys, d.id));
  return commands;
}

}  // namespace

// GET /api/v1/devices, on the ingest strand: each device of the event with its counters from
// Redis (shared by every node) and whether it is connected to this node.
boost::asio::awaitable<HttpResponse> device_status(HttpRequest request,
                                                   std::shared_ptr<DeviceIngest> ingest,
                                                   std::shared_ptr<RedisConnection> redis,
                                                   KeySchema keys) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    co_return error_response(request, http::status::method_not_allowed, "method_not_allowed",
                             "/api/v1/devices is read-only: use GET");
  }
  auto [ec, replies] = co_await redis->pipeline(device_status_commands(ingest->event, keys));
  if (ec) {
    co_return error_response(request, http::status::service_unavailable, "unavailable",
                             "Redis: " + ec.message());
  }
  co_return json_response(request, http::status::ok,
                          device_status_json(ingest->event, ingest->online(), replies));
}

}  // namespace splitstream
