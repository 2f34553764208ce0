#include "api/device_status.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace splitstream {
namespace {

std::vector<std::string> device_hash_command(const KeySchema& keys, const std::string& device) {
  return {"HGETALL", keys.device(device)};
}

// The decoders' part: this node's view, with the counters and cursors Redis holds ("stored").
boost::json::array decoders_json(const DecoderServices* decoders,
                                 const std::vector<RedisReply>& replies, std::size_t first) {
  boost::json::array out;
  if (!decoders) return out;
  const TimeMs now = wall_clock_now();
  std::size_t i = first;
  for (const auto& decoder : decoders->fleet.all()) {
    boost::json::object o = decoder->status.to_json(now);
    boost::json::object stored;
    if (i < replies.size() && replies[i].is_array()) {
      const auto& kv = replies[i].elements();
      for (std::size_t k = 0; k + 1 < kv.size(); k += 2) {
        if (auto n = kv[k + 1].to_integer()) stored[kv[k].as_string()] = *n;
      }
    }
    o["stored"] = std::move(stored);
    out.push_back(std::move(o));
    ++i;
  }
  return out;
}

// Gun markers: field "<decoder>:<id>", value "<decoder>|<location>|<label>|<time_ms>".
boost::json::array gun_markers_json(const RedisReply& reply) {
  boost::json::array out;
  if (!reply.is_array()) return out;
  const auto& kv = reply.elements();
  for (std::size_t k = 0; k + 1 < kv.size(); k += 2) {
    const std::string& value = kv[k + 1].as_string();
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t bar = value.find('|'); bar != std::string::npos;
         bar = value.find('|', start)) {
      parts.push_back(value.substr(start, bar - start));
      start = bar + 1;
    }
    parts.push_back(value.substr(start));
    if (parts.size() < 4) continue;
    // The label may hold '|': the time is the last part, the location the second.
    std::string label = parts[2];
    for (std::size_t p = 3; p + 1 < parts.size(); ++p)
      label += "|" + parts[p];
    boost::json::object m;
    m["decoder"] = parts[0];
    m["location"] = parts[1];
    m["label"] = label;
    m["time_ms"] = std::strtoll(parts.back().c_str(), nullptr, 10);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const boost::json::value& a, const boost::json::value& b) {
    return a.at("time_ms").as_int64() < b.at("time_ms").as_int64();
  });
  return out;
}

// The body of GET /api/v1/devices (outside the coroutine: GCC 12 and braced lists).
std::string device_status_json(const Event& event, const std::map<std::string, int>& online,
                               const DecoderServices* decoders,
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
  boost::json::object body;
  body["devices"] = std::move(devices);
  body["decoders"] = decoders_json(decoders, replies, event.devices.size());
  body["gun_markers"] = replies.empty() ? boost::json::array() : gun_markers_json(replies.back());
  return boost::json::serialize(body);
}

// HGETALL of each device, of each decoder, then of the gun markers.
std::vector<std::vector<std::string>> device_status_commands(const Event& event,
                                                             const DecoderServices* decoders,
                                                             const KeySchema& keys) {
  std::vector<std::vector<std::string>> commands;
  for (const Device& d : event.devices)
    commands.push_back(device_hash_command(keys, d.id));
  if (decoders) {
    for (const auto& decoder : decoders->fleet.all())
      commands.push_back({"HGETALL", keys.decoder(decoder->config.id)});
  }
  commands.push_back({"HGETALL", keys.gun_markers()});
  return commands;
}

}  // namespace

// GET /api/v1/devices, on the ingest strand: each device of the event with its counters from
// Redis (shared by every node) and whether it is connected to this node.
boost::asio::awaitable<HttpResponse> device_status(HttpRequest request,
                                                   std::shared_ptr<DeviceIngest> ingest,
                                                   std::shared_ptr<DecoderServices> decoders,
                                                   std::shared_ptr<RedisConnection> redis,
                                                   KeySchema keys) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    co_return error_response(request, http::status::method_not_allowed, "method_not_allowed",
                             "/api/v1/devices is read-only: use GET");
  }
  auto [ec, replies] =
      co_await redis->pipeline(device_status_commands(ingest->event, decoders.get(), keys));
  if (ec) {
    co_return error_response(request, http::status::service_unavailable, "unavailable",
                             "Redis: " + ec.message());
  }
  co_return json_response(
      request, http::status::ok,
      device_status_json(ingest->event, ingest->online(), decoders.get(), replies));
}

}  // namespace splitstream
