// `splitstream serve` on an event (the demo's unless told) as a test process: free ports, a given
// Redis and tokens file, extra flags; and waits on its /readyz.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"

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
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (http_get(node.http, "/readyz").status != 200 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  return node;
}

// Waits (up to 10 s) until the node's engine reports `applied` reads; the /readyz body then.
inline std::string wait_engine_applied(int http_port, std::uint64_t applied) {
  using namespace std::chrono_literals;
  const std::string wanted = "\"detail\":\"" + std::to_string(applied) + " reads applied";
  std::string body;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    body = http_get(http_port, "/readyz").body;
    if (body.find(wanted) != std::string::npos) return wanted;
    std::this_thread::sleep_for(20ms);
  }
  return body;
}

}  // namespace splitstream::testing
