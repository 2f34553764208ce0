// The one logging facade: a line per event on stderr. Never call it per read or per message
// on hot paths; log connections, state changes and errors.
#pragma once

#include <string_view>

namespace splitstream::log {

enum class Level { debug, info, warn, error };

void set_level(Level level);
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

inline void info(std::string_view component, std::string_view message) {
  write(Level::info, component, message);
}
inline void warn(std::string_view component, std::string_view message) {
  write(Level::warn, component, message);
}
inline void error(std::string_view component, std::string_view message) {
  write(Level::error, component, message);
}

}  // namespace splitstream::log
