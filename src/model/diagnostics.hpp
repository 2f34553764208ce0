// Problems found while loading input, each naming the file, line and field to fix.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace splitstream {

struct Diagnostic {
  std::string file;
  std::size_t line = 0;  // 0: the file as a whole
  std::string field;
  std::string message;

  // "event.json:12: races[0].splits[3].timing_point: unknown timing point \"sqare\""
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace splitstream
