#include "observe/log.hpp"

#include <atomic>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/time.hpp"

namespace splitstream::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};
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

// A JSON string literal (quoted, escaped).
std::string quoted(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

// A text-format value: bare when it has no space, quote or equals sign, else quoted.
std::string text_value(std::string_view s) {
  if (!s.empty() && s.find_first_of(" \"=\t\n") == std::string_view::npos) return std::string(s);
  return quoted(s);
}

}  // namespace

void set_level(Level level) {
  g_level = level;
}

void set_format(Format format) {
  g_format = format;
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

std::string format_line(Format format, std::string_view time, Level level,
                        std::string_view component, std::string_view message, Fields fields) {
  std::string line;
  if (format == Format::json) {
    line = "{\"time\":" + quoted(time) + ",\"level\":\"" + name(level) +
           "\",\"component\":" + quoted(component) + ",\"message\":" + quoted(message);
    for (const auto& [key, value] : fields)
      line += "," + quoted(key) + ":" + quoted(value);
    line += "}";
    return line;
  }
  line = std::string(time) + " " + name(level) + " " + std::string(component) + ": " +
         std::string(message);
  for (const auto& [key, value] : fields)
    line += " " + std::string(key) + "=" + text_value(value);
  return line;
}

void write(Level level, std::string_view component, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  const std::string line =
      format_line(g_format.load(std::memory_order_relaxed), format_iso8601(wall_clock_now(), 0),
                  level, component, message, fields) +
      "\n";
  const std::lock_guard lock(g_mutex);
  std::fputs(line.c_str(), stderr);
}

}  // namespace splitstream::log
