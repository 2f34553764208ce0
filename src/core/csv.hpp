// RFC 4180 CSV reading with line numbers, for participants and reads files.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/text.hpp"

namespace splitstream {

struct CsvRow {
  std::size_t line = 0;  // 1-based line where the row starts
  std::vector<std::string> fields;
};

// Reads rows one at a time from text held by the caller. Handles quotes, doubled quotes,
// quoted line breaks, CRLF, a UTF-8 byte order mark, and skips blank lines.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text);
  // False at the end. A malformed row (an unterminated quote) sets `error` and returns true
  // with the row's line so the caller can report it and go on.
  bool next(CsvRow& row, std::string& error);

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

// Column lookup by header name.
class CsvHeader {
 public:
  explicit CsvHeader(const std::vector<std::string>& names);
  std::optional<std::size_t> find(std::string_view name) const;
  std::size_t size() const { return size_; }

 private:
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t size_ = 0;
};

// Quotes a field when it needs it.
std::string csv_escape(std::string_view field);

}  // namespace splitstream
