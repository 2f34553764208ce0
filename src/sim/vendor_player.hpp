// The simulator as a vendor's hardware (`--protocol raceresult|ctp01|mylaps|impinj`): each
// decoder of the event plays its reads as they fall due on the replay clock, through the sim's
// fake of that vendor (sim/raceresult_decoder, sim/ctp01_client, sim/mylaps_exporter) or, for
// Impinj, as Speedway Connect's HTTP posts. A RACE RESULT decoder is a server the node dials;
// the others connect or post to the node. Faults: outages (the line dark, the backlog after),
// lines dropped on purpose, and each vendor's own (a new RACE RESULT passing file mid-race,
// missed and interleaved #P lines, MYLAPS resend storms).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "sim/device_player.hpp"
#include "sim/vendor_plan.hpp"

namespace splitstream {

struct VendorPlayOptions {
  PlayerOptions common;   // outages, reconnect_every (here: every N reads delivered)
  std::string http_host;  // impinj: the node's HTTP address
  std::string http_port;
  std::string token;          // impinj: the decoder's token
  TimeMs new_file_at = 0;     // raceresult: race time when the decoder opens a new file (0: never)
  bool resend_storm = false;  // mylaps: resend everything unacknowledged on every tick
  std::uint64_t seed = 1;
  // A connection-based decoder is done once everything was delivered and the line then stayed
  // up this long (RACE RESULT and CTP01 have no acknowledgement).
  std::chrono::milliseconds settle{2000};
};

// Plays `plan` as its decoder's hardware; returns when every read was delivered (acknowledged,
// where the protocol acknowledges). `options` and `stats` must outlive the coroutine.
boost::asio::awaitable<void> play_vendor(const VendorPlan& plan, ReplayClock clock,
                                         std::chrono::steady_clock::time_point start,
                                         const VendorPlayOptions& options, PlayerStats& stats);

}  // namespace splitstream
