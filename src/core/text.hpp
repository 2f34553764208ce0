// Small text helpers shared by parsers (CSV fields, HTTP header values) and credential checks.
#pragma once

#include <algorithm>
#include <cstddef>
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

// True when the two strings are equal. The running time depends only on the length of
// `presented`, never on the content of `expected` or on where the first difference lies: every
// byte is compared and the differences are OR-ed together, with no early exit. For secrets:
// device tokens, officials' tokens, session signatures.
inline bool constant_time_equals(std::string_view expected, std::string_view presented) {
  // A length mismatch makes the result false, but every byte of `presented` is still compared
  // so that the time taken says nothing about how long a prefix matched.
  unsigned diff = expected.size() == presented.size() ? 0u : 1u;
  if (expected.empty()) return diff == 0;  // never a configured token; keeps indexing valid
  const std::size_t last = expected.size() - 1;
  for (std::size_t i = 0; i < presented.size(); ++i) {
    // Clamp rather than branch on the expected length (already accounted for in `diff`).
    const std::size_t j = std::min(i, last);
    diff |= static_cast<unsigned>(static_cast<unsigned char>(expected[j]) ^
                                  static_cast<unsigned char>(presented[i]));
  }
  return diff == 0;
}

}  // namespace splitstream
