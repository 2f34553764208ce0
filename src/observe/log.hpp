// The one logging facade: a line per event on stderr, as text or as one JSON object per line.
// Never call it per read or per message on hot paths; log connections, state changes and
// errors.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace splitstream::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

void set_level(Level level);
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);
void set_format(Format format);

// Named values of an event (device id, remote address, counts): `key=value` after the message
// in text, their own members in JSON.
using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;

void write(Level level, std::string_view component, std::string_view message, Fields fields = {});

// One log line as written (no trailing newline); for tests.
std::string format_line(Format format, std::string_view time, Level level,
                        std::string_view component, std::string_view message, Fields fields);

inline void debug(std::string_view component, std::string_view message, Fields fields = {}) {
  write(Level::debug, component, message, fields);
}
inline void info(std::string_view component, std::string_view message, Fields fields = {}) {
  write(Level::info, component, message, fields);
}
inline void warn(std::string_view component, std::string_view message, Fields fields = {}) {
  write(Level::warn, component, message, fields);
}
inline void error(std::string_view component, std::string_view message, Fields fields = {}) {
  write(Level::error, component, message, fields);
}

}  // namespace splitstream::log
