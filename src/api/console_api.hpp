// The race-day console's read-only JSON under /api/v1/console/ (docs/api.md, "Console (race
// director)"): the race overview, overdue runners, the sweep, cut-offs, the review queue,
// unknown chips and the runners each timing point still expects. No I/O: the server calls it on
// the engine's strand, with the clock that gives `now`.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "engine/race_director.hpp"
#include "engine/race_engine.hpp"
#include "http/http_message.hpp"

namespace splitstream {

inline constexpr std::string_view kConsolePathPrefix = "/api/v1/console/";

struct ConsoleContext {
  const RaceEngine& engine;
  const Event& event;
  int utc_offset_minutes = 0;     // local times in flag texts
  std::function<TimeMs()> clock;  // now: DNS, overdue, ETAs
  DirectorOptions options;
};

// The console's now. A live race: the wall clock. A replay of a past race (a rehearsal, the
// demo): the race clock, the latest read's time, or every runner would be a year overdue.
enum class ConsoleClock : std::uint8_t { automatic, wall, race };
inline constexpr DurationMs kReplayLag = 6 * 3'600'000;  // automatic: race when this far behind
TimeMs console_now(ConsoleClock mode, TimeMs wall, TimeMs race);

// GET (or HEAD) of a path under /api/v1/console/. 400 invalid_parameter naming a bad query
// parameter, 404 not_found for an unknown path, 405 for other methods.
HttpResponse handle_console(const HttpRequest& request, const ConsoleContext& context);

}  // namespace splitstream
