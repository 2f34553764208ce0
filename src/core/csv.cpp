#include "core/csv.hpp"

namespace splitstream {

CsvReader::CsvReader(std::string_view text) : text_(text) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool CsvReader::next(CsvRow& row, std::string& error) {
  error.clear();
  row.fields.clear();
  // Skip blank lines.
  while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= text_.size()) return false;
  row.line = line_;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  while (pos_ < text_.size()) {
    const char c = text_[pos_++];
    if (quoted) {
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          field.push_back('"');
          ++pos_;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !was_quoted && trim(field).empty()) {
      field.clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      row.fields.push_back(was_quoted ? std::move(field) : std::string(trim(field)));
      field.clear();
      was_quoted = false;
    } else if (c == '\n') {
      ++line_;
      break;
    } else if (c != '\r' && !(was_quoted && (c == ' ' || c == '\t'))) {
      field.push_back(c);  // blanks after a closing quote are dropped, as before an opening one
    }
  }
  if (quoted) error = "unterminated quoted field";
  row.fields.push_back(was_quoted ? std::move(field) : std::string(trim(field)));
  return true;
}

CsvHeader::CsvHeader(const std::vector<std::string>& names) : size_(names.size()) {
  for (std::size_t i = 0; i < names.size(); ++i)
    index_.emplace(std::string(trim(names[i])), i);
}

std::optional<std::size_t> CsvHeader::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace splitstream
