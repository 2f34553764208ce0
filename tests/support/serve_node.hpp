// `splitstream serve` on an event (the demo's unless told) as a test process: free ports, a given
// Redis and tokens file, extra flags; and waits on its /readyz. What it reports: the reads its
// engine applied, its /metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {

struct ServeNode {
  std::unique_ptr<ChildProcess> process;
  int http = 0;
  int devices = 0;
};

// The arguments of `splitstream serve` on an event, a Redis and two listen addresses, logging
// errors only (a later --log-level wins).
inline std::vector<std::string> serve_args(int redis_port, const std::string& http,
                                           const std::string& devices,
                                           const std::string& event_dir = SPLITSTREAM_SOURCE_DIR
                                           "/events/pyongyang-2025") {
  return {"serve",
          "--event",
          event_dir,
          "--redis",
          "redis://127.0.0.1:" + std::to_string(redis_port),
          "--http",
          http,
          "--devices",
          devices,
          "--log-level",
          "error"};
}

// Points serve_args() at another Redis: a full --redis URL (a password, rediss://, a database).
inline void set_redis_url(std::vector<std::string>& args, const std::string& url) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--redis") args[i + 1] = url;
  }
}

// Starts a node and waits (up to 10 s) until /readyz answers 200. Reuses `http` and `devices`
// ports when given (a restart). The demo event unless `event_dir` is given; its stderr (the
// log) into `log_path` when given.
inline ServeNode start_serve_node(int redis_port, const std::filesystem::path& tokens,
                                  const std::vector<std::string>& extra = {}, int http = 0,
                                  int devices = 0,
                                  const std::string& event_dir = SPLITSTREAM_SOURCE_DIR
                                  "/events/pyongyang-2025",
                                  const std::string& log_path = "") {
  using namespace std::chrono_literals;
  ServeNode node;
  node.http = http ? http : free_port();
  node.devices = devices ? devices : free_port();
  std::vector<std::string> args =
      serve_args(redis_port, "127.0.0.1:" + std::to_string(node.http),
                 "127.0.0.1:" + std::to_string(node.devices), event_dir);
  args.insert(args.end(), {"--device-tokens-file", tokens.string()});
  args.insert(args.end(), extra.begin(), extra.end());
  node.process = std::make_unique<ChildProcess>(SPLITSTREAM_BIN_DIR "/splitstream", args, log_path);
  wait_for_http(node.http, "/healthz", 10s);
  wait_until([&] { return http_get(node.http, "/readyz").status == 200; }, 10s, 20ms);
  return node;
}

// The reads the node's engine has applied, from its /readyz ("N reads applied"); nullopt when
// the node does not answer with that detail.
inline std::optional<std::uint64_t> reads_applied(int http_port) {
  const std::string body = http_get(http_port, "/readyz").body;
  const auto words = body.find(" reads applied");
  const auto quote = body.rfind('"', words);
  if (words == std::string::npos || quote == std::string::npos) return std::nullopt;
  try {
    return std::stoull(body.substr(quote + 1, words - quote - 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Sample values of a Prometheus text exposition by series ("name{labels}" as written).
inline std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// One series of the node's /metrics; -1 when it is not there.
inline double metric(int http_port, const std::string& series) {
  const auto all = parse_metrics(http_get(http_port, "/metrics").body);
  const auto it = all.find(series);
  return it == all.end() ? -1 : it->second;
}

// Waits (up to 10 s) until the node's engine reports `applied` reads; the /readyz body then.
inline std::string wait_engine_applied(int http_port, std::uint64_t applied) {
  using namespace std::chrono_literals;
  const std::string wanted = "\"detail\":\"" + std::to_string(applied) + " reads applied";
  std::string body;
  const bool reached = wait_until(
      [&] {
        body = http_get(http_port, "/readyz").body;
        return body.find(wanted) != std::string::npos;
      },
      10s, 20ms);
  return reached ? wanted : body;
}

}  // namespace splitstream::testing
