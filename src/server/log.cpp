#include "server/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/time.hpp"

namespace splitstream::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;

const char* name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "?";
}

}  // namespace

void set_level(Level level) {
  g_level = level;
}

bool parse_level(std::string_view text, Level& out) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (text == name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

bool enabled(Level level) {
  return level >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  const std::string line = format_iso8601(wall_clock_now(), 0) + " " + name(level) + " " +
                           std::string(component) + ": " + std::string(message) + "\n";
  const std::lock_guard lock(g_mutex);
  std::fputs(line.c_str(), stderr);
}

}  // namespace splitstream::log
