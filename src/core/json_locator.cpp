#include "core/json_locator.hpp"

namespace splitstream {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A number as JSON writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_number(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

JsonLocator::JsonLocator(std::string_view text) : text_(text) {
  skip_ws();
  value("", 1);
  skip_ws();
  if (ok() && pos_ != text_.size()) fail("unexpected text after the JSON value");
}

std::size_t JsonLocator::line_of(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = lines_.find(p);
    if (it != lines_.end()) return it->second;
    const auto cut = p.find_last_of(".[");
    if (cut == std::string::npos || p.empty()) return 1;
    p.resize(cut);
  }
}

void JsonLocator::fail(const char* message) {
  if (!ok()) return;
  error_ = message;
  error_line_ = line_;
  pos_ = text_.size();
}

void JsonLocator::skip_ws() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c == '\n') {
      ++line_;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      break;
    }
    ++pos_;
  }
}

void JsonLocator::string_token(std::string* out) {
  ++pos_;  // opening quote
  while (pos_ < text_.size()) {
    const char c = text_[pos_++];
    if (c == '"') return;
    if (c == '\n') {
      fail("line break inside a string");
      return;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      fail("control character inside a string (write it escaped)");
      return;
    }
    if (c == '\\' && pos_ < text_.size()) {
      const char e = text_[pos_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i, ++pos_) {
          if (pos_ >= text_.size() || !is_hex(text_[pos_])) {
            fail("bad \\u escape in a string (four hex digits)");
            return;
          }
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        fail("bad escape in a string");
        return;
      }
      if (out) out->push_back(e);
      continue;
    }
    if (out) out->push_back(c);
  }
  fail("unterminated string");
}

void JsonLocator::value(const std::string& path, std::size_t key_line) {
  if (!ok()) return;
  if (++depth_ > 64) {
    fail("nesting deeper than 64 levels");
    return;
  }
  lines_.emplace(path, key_line);
  if (pos_ >= text_.size()) {
    fail("unexpected end of input");
    return;
  }
  const char c = text_[pos_];
  if (c == '{') {
    ++pos_;
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
    } else {
      while (ok()) {
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] != '"') {
          fail("expected a key in quotes");
          break;
        }
        const std::size_t line = line_;
        std::string key;
        string_token(&key);
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] != ':') {
          fail("expected ':' after a key");
          break;
        }
        ++pos_;
        skip_ws();
        value(path.empty() ? key : path + "." + key, line);
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == '}') {
          ++pos_;
          break;
        }
        fail("expected ',' or '}' in an object");
      }
    }
  } else if (c == '[') {
    ++pos_;
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
    } else {
      for (std::size_t i = 0; ok(); ++i) {
        skip_ws();
        value(path + "[" + std::to_string(i) + "]", line_);
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ']') {
          ++pos_;
          break;
        }
        fail("expected ',' or ']' in an array");
      }
    }
  } else if (c == '"') {
    string_token(nullptr);
  } else {
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos) {
      ++pos_;
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    if (token != "true" && token != "false" && token != "null" && !is_number(token)) {
      fail("expected a value (a string, number, object, array, true, false or null)");
    }
  }
  --depth_;
}

}  // namespace splitstream
