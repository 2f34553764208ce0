#include "api/device_status.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/race_director.hpp"
#include "ingest/device_presence.hpp"

namespace splitstream {
namespace {

std::vector<std::string> device_hash_command(const KeySchema& keys, const std::string& device) {
  return {"HGETALL", keys.device(device)};
}

// The value of each presence key, in the order they were asked for (nullopt: no such key).
class PresenceValues {
 public:
  explicit PresenceValues(const RedisReply& mget) : reply_(mget) {}
  std::optional<std::string> at(std::size_t i) const {
    const auto& values = reply_.elements();
    if (i >= values.size() || !values[i].is_string()) return std::nullopt;
    return values[i].as_string();
  }

 private:
  const RedisReply& reply_;
};

// The decoders' part: this node's view, with the counters and cursors Redis holds ("stored"),
// and the presence of each (whichever node holds it).
boost::json::array decoders_json(const DecoderServices* decoders,
                                 const std::vector<RedisReply>& replies, std::size_t first,
                                 const PresenceValues& presence, std::size_t first_presence,
                                 TimeMs now, DurationMs clock_warn_ms) {
  boost::json::array out;
  if (!decoders) return out;
  std::size_t i = first;
  std::size_t p = first_presence;
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
    o["presence"] = presence_view(presence.at(p), now, clock_warn_ms);
    out.push_back(std::move(o));
    ++i;
    ++p;
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

// The body of GET /api/v1/devices (outside the coroutine: GCC 12 and braced lists). `replies`:
// device_status_commands()' answers.
boost::json::object device_status_json(const Event& event, const std::map<std::string, int>& online,
                                       const DecoderServices* decoders,
                                       const std::vector<RedisReply>& replies, TimeMs now,
                                       DurationMs clock_warn_ms) {
  const std::size_t decoder_count = decoders ? decoders->fleet.all().size() : 0;
  const std::size_t gun_markers = event.devices.size() + decoder_count;
  const RedisReply none;
  const PresenceValues presence(gun_markers + 1 < replies.size() ? replies[gun_markers + 1] : none);
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
    o["presence"] = presence_view(presence.at(i), now, clock_warn_ms);
    devices.push_back(std::move(o));
  }
  boost::json::object body;
  body["devices"] = std::move(devices);
  body["decoders"] = decoders_json(decoders, replies, event.devices.size(), presence,
                                   event.devices.size(), now, clock_warn_ms);
  body["gun_markers"] =
      gun_markers < replies.size() ? gun_markers_json(replies[gun_markers]) : boost::json::array();
  return body;
}

// HGETALL of each device, of each decoder, then of the gun markers; then one MGET of the
// presence keys of every device and decoder (in that order).
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
  std::vector<std::string> presence = {"MGET"};
  for (const Device& d : event.devices)
    presence.push_back(keys.presence(d.id));
  if (decoders) {
    for (const auto& decoder : decoders->fleet.all())
      presence.push_back(keys.presence(decoder->config.id));
  }
  if (presence.size() > 1) commands.push_back(std::move(presence));
  return commands;
}

// The runners each timing point expects now, on the engine strand.
boost::asio::awaitable<std::vector<std::size_t>> expected_here(
    std::shared_ptr<const DeviceStatusContext> context, TimeMs now) {
  co_return runners_expected_at(*context->engine, now);
}

}  // namespace

void add_device_alerts(boost::json::object& body, const Event& event,
                       const std::vector<DeviceTimingPoints>& timing_points,
                       const std::vector<std::size_t>& expected, DurationMs silent_after_ms) {
  std::map<std::string, const DeviceTimingPoints*, std::less<>> where;
  for (const DeviceTimingPoints& d : timing_points)
    where[d.id] = &d;
  boost::json::array alerts;
  for (const char* list : {"devices", "decoders"}) {
    boost::json::value* entries = body.if_contains(list);
    if (!entries || !entries->is_array()) continue;
    for (boost::json::value& entry : entries->as_array()) {
      boost::json::object& o = entry.as_object();
      const auto found = where.find(std::string_view(o.at("id").as_string()));
      const boost::json::value* presence = o.if_contains("presence");
      const bool alert =
          found != where.end() && presence &&
          silent_alert(*presence, found->second->timing_points, expected, silent_after_ms);
      o["silent_alert"] = alert;
      if (!alert) continue;
      boost::json::array points;
      std::size_t waiting = 0;
      for (TimingPointIndex tp : found->second->timing_points) {
        points.push_back(boost::json::string(event.timing_points[tp].id));
        if (tp < expected.size()) waiting += expected[tp];
      }
      boost::json::object a;
      a["id"] = o.at("id");
      if (presence->is_object()) {
        a["state"] = presence->as_object().at("state");
        a["silent_ms"] = presence->as_object().at("silent_ms");
      } else {
        a["state"] = "offline";
        a["silent_ms"] = nullptr;
      }
      a["timing_points"] = std::move(points);
      a["expected"] = waiting;
      alerts.push_back(std::move(a));
    }
  }
  body["alerts"] = std::move(alerts);
}

boost::asio::awaitable<std::variant<std::string, std::string>> device_status_body(
    std::shared_ptr<const DeviceStatusContext> context) {
  const Event& event = context->ingest->event;
  auto [ec, replies] = co_await context->redis->pipeline(
      device_status_commands(event, context->decoders.get(), context->keys));
  if (ec)
    co_return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                     "Redis: " + ec.message());
  const TimeMs now = wall_clock_now();
  boost::json::object body =
      device_status_json(event, context->ingest->online(), context->decoders.get(), replies, now,
                         context->clock_warn_ms);
  if (context->engine) {
    const std::vector<std::size_t> expected = co_await boost::asio::co_spawn(
        context->engine_strand, expected_here(context, now), boost::asio::use_awaitable);
    add_device_alerts(body, event, context->timing_points, expected, context->silent_after_ms);
  }
  co_return std::variant<std::string, std::string>(std::in_place_index<0>,
                                                   boost::json::serialize(body));
}

// GET /api/v1/devices, on the ingest strand: each device of the event with its counters from
// Redis (shared by every node), whether it is connected to this node, its presence and alert.
boost::asio::awaitable<HttpResponse> device_status(
    HttpRequest request, std::shared_ptr<const DeviceStatusContext> context) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    co_return error_response(request, http::status::method_not_allowed, "method_not_allowed",
                             "/api/v1/devices is read-only: use GET");
  }
  auto body = co_await device_status_body(context);
  if (body.index() == 1) {
    co_return error_response(request, http::status::service_unavailable, "unavailable",
                             std::get<1>(body));
  }
  co_return json_response(request, http::status::ok, std::move(std::get<0>(body)));
}

}  // namespace splitstream
