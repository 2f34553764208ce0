// One simulated timing device: connects to the device port, says Hello with its token, resumes
// after what the server acknowledged, and sends its reads as they fall due on the replay clock,
// one batch at a time, each acknowledged before the next. Reconnects with a backoff when the
// line drops, resending whatever was not acknowledged (the server drops duplicates).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/replay_plan.hpp"

namespace splitstream {

// A stretch of race time during which the device is off the network: it keeps reading, and
// sends its backlog when it is back.
struct Outage {
  TimeMs from = 0;
  TimeMs to = 0;
};

struct PlayerOptions {
  std::size_t max_batch = 500;
  std::vector<Outage> outages;
  // Drop the line every N batches, before the Nth is acknowledged (0: never): the device
  // reconnects and resends what the server's Welcome says it lacks.
  std::uint32_t reconnect_every = 0;
  std::chrono::milliseconds reply_timeout{10'000};
  std::chrono::milliseconds max_backoff{5'000};
};

// What a player did, read by the progress display (same thread).
struct PlayerStats {
  std::uint64_t sent = 0;      // reads sent, resends included
  std::uint64_t acked = 0;     // highest contiguous seq acknowledged
  std::uint64_t rejected = 0;  // reads the server refused one by one
  std::uint64_t connects = 0;
  std::uint64_t outages = 0;        // times the device went dark (--offline)
  std::uint64_t dropped_lines = 0;  // lines dropped on purpose (--reconnect-every)
  bool online = false;
  bool done = false;
  bool gave_up = false;  // refused for good (bad token, unknown device)
  std::string last_error;
};

// Plays `plan` against `server`; returns when every read is acknowledged or the server refused
// the device for good. `start` is the replay's wall-clock start; `options` and `stats` must
// outlive the coroutine.
boost::asio::awaitable<void> play_device(const DevicePlan& plan, std::string token,
                                         boost::asio::ip::tcp::endpoint server, ReplayClock clock,
                                         std::chrono::steady_clock::time_point start,
                                         const PlayerOptions& options, PlayerStats& stats);

}  // namespace splitstream
