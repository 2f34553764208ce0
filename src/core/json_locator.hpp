// Line numbers for JSON values by path ("races[0].splits[3].timing_point"), so that problems
// found after parsing can name the line a person has to fix. Also finds the line of a syntax
// error, which Boost.JSON does not report.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace splitstream {

class JsonLocator {
 public:
  explicit JsonLocator(std::string_view text);

  // Line of the value at `path` (of its key, inside an object), else of the nearest
  // enclosing path that is known, else 1.
  std::size_t line_of(const std::string& path) const;
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t error_line() const { return error_line_; }

 private:
  void value(const std::string& path, std::size_t key_line);
  void skip_ws();
  void string_token(std::string* out);
  void fail(const char* message);

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  int depth_ = 0;
  std::unordered_map<std::string, std::size_t> lines_;
  std::string error_;
  std::size_t error_line_ = 0;
};

}  // namespace splitstream
