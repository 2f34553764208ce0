// The read-only REST API under /api/v1/ with no I/O: the event, participants, standings, a
// runner, recent passings and results CSV, answered from this node's engine and push hub.
// The server calls it on the engine's strand. Errors are JSON {"error":{"code","message"}}.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "engine/race_engine.hpp"
#include "http/router.hpp"
#include "push/live_protocol.hpp"
#include "push/push_hub.hpp"

namespace splitstream {

struct RestContext {
  const RaceEngine& engine;
  const PushHub& hub;
  const LiveCatalog& catalog;
};

// GET (or HEAD) of a path under /api/v1/ other than /api/v1/reads and /api/v1/devices.
HttpResponse handle_rest(const HttpRequest& request, const RestContext& context);

// The server settings the browser app reads at start: the map's tile source.
struct ClientConfig {
  std::string map_tiles_url;  // empty: no tiles
  std::string map_attribution;
};

// GET (or HEAD) /api/v1/config: {"map_tiles":{"url":...,"attribution":...}} or
// {"map_tiles":null}. Needs no engine: the server answers it on any thread.
HttpResponse handle_client_config(const HttpRequest& request, const ClientConfig& config);

// "a=1&b=x%20y" -> {a: "1", b: "x y"} ('+' is a space). Later keys win.
std::map<std::string, std::string, std::less<>> parse_query(std::string_view query);

}  // namespace splitstream
