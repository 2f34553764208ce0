// The console's live feeds on the WebSocket (SUBSCRIPTION_KIND_DEVICES and _REVIEW): every
// couple of seconds this node builds the bodies GET /api/v1/devices and GET
// /api/v1/console/review answer and hands them to the push hub, which sends a feed to its
// subscribers (signed-in officials) only when it changed. The same functions build the REST
// answers and the feeds, so a page that polls and a page that listens see the same thing.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "api/console_api.hpp"
#include "api/device_status.hpp"
#include "push/push_hub.hpp"

namespace splitstream {

struct ConsoleFeedsOptions {
  std::chrono::milliseconds interval{2000};
};

// Runs until `stopping` turns true. `devices` is null on a node without the ingest role (no
// DEVICES feed there: its subscribers get "{}"); the review feed needs only the engine.
// Starts and stays on the ingest strand when there is one, else on the engine strand.
boost::asio::awaitable<void> run_console_feeds(std::shared_ptr<const DeviceStatusContext> devices,
                                               std::shared_ptr<const ConsoleContext> console,
                                               PushHub& hub,
                                               boost::asio::any_io_executor engine_strand,
                                               const std::atomic<bool>& stopping,
                                               ConsoleFeedsOptions options);

// The review queue's body as GET /api/v1/console/review answers it (on the engine strand).
std::string console_review_body(const ConsoleContext& console);

}  // namespace splitstream
