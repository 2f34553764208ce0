// GET /api/v1/devices: each device of the event with its counters from Redis (shared by every
// node) and whether it is connected to this node; each vendor decoder (decoders.json) with what
// this node sees of it and what Redis holds of it; the gun markers the timing software sent. Each
// device and decoder also carries its presence: what the node holding it published
// (api/presence_publisher), whichever node that is, or null.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "adapters/decoder_session.hpp"
#include "engine/race_engine.hpp"
#include "http/http_message.hpp"
#include "ingest/device_session.hpp"
#include "model/device_timing_points.hpp"
#include "store/key_schema.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

// What GET /api/v1/devices and the console's DEVICES feed need.
struct DeviceStatusContext {
  std::shared_ptr<DeviceIngest> ingest;
  std::shared_ptr<DecoderServices> decoders;  // on the ingest strand
  std::shared_ptr<RedisConnection> redis;     // on the ingest strand
  KeySchema keys{""};
  DurationMs clock_warn_ms = 2000;  // a presence's clock_warning beyond this
  // The alerts: a device silent this long (or offline) while its timing point still expects
  // runners (runners_expected_at(), on the engine strand).
  DurationMs silent_after_ms = 120'000;
  std::vector<DeviceTimingPoints> timing_points;  // device_timing_points()
  const RaceEngine* engine = nullptr;             // on engine_strand
  boost::asio::any_io_executor engine_strand;
};

// The body of GET /api/v1/devices, on the ingest strand (Redis), the engine strand visited for
// the runners each timing point expects; an error names what failed (Redis).
boost::asio::awaitable<std::variant<std::string, std::string>> device_status_body(
    std::shared_ptr<const DeviceStatusContext> context);

// On the ingest strand (the connection `redis` runs there).
boost::asio::awaitable<HttpResponse> device_status(
    HttpRequest request, std::shared_ptr<const DeviceStatusContext> context);

// Marks each device and decoder of a devices body (its "presence" as presence_view() made it)
// with "silent_alert", and lists the alerts in "alerts": [{"id","state","silent_ms",
// "timing_points":[ids],"expected"}] (expected: the runners its timing points still expect).
void add_device_alerts(boost::json::object& body, const Event& event,
                       const std::vector<DeviceTimingPoints>& timing_points,
                       const std::vector<std::size_t>& expected, DurationMs silent_after_ms);

}  // namespace splitstream
