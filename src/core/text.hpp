// Small text helpers shared by parsers (CSV fields, HTTP header values).
#pragma once

#include <string_view>

namespace splitstream {

// Without leading and trailing spaces and tabs (and a trailing carriage return).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace splitstream
