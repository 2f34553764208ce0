#include "store/redis_reply.hpp"

#include <charconv>

namespace splitstream {

RedisReply RedisReply::integer(std::int64_t value) {
  RedisReply reply;
  reply.kind_ = Kind::integer;
  reply.integer_ = value;
  return reply;
}

RedisReply RedisReply::array(std::vector<RedisReply> elements) {
  RedisReply reply;
  reply.kind_ = Kind::array;
  reply.elements_ = std::move(elements);
  return reply;
}

std::optional<std::int64_t> RedisReply::to_integer() const {
  if (kind_ == Kind::integer) return integer_;
  if (kind_ != Kind::string || text_.empty()) return std::nullopt;
  std::int64_t value = 0;
  const char* end = text_.data() + text_.size();
  const auto [stop, ec] = std::from_chars(text_.data(), end, value);
  if (ec != std::errc() || stop != end) return std::nullopt;
  return value;
}

std::string RedisReply::debug_string() const {
  switch (kind_) {
    case Kind::nil:
      return "nil";
    case Kind::status:
      return "+" + text_;
    case Kind::error:
      return "-" + text_;
    case Kind::integer:
      return ":" + std::to_string(integer_);
    case Kind::string: {
      // Escape bytes that would garble a log line (binary values, embedded NULs).
      std::string out = "\"";
      for (const char c : text_) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
          out += '\\';
          out += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
          constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
      }
      return out + "\"";
    }
    case Kind::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements_.size(); ++i) {
        if (i > 0) out += ", ";
        out += elements_[i].debug_string();
      }
      return out + "]";
    }
  }
  return "?";
}

}  // namespace splitstream
