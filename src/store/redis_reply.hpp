// An owned, copyable Redis reply, as store/resp_reader builds it from the bytes Redis sent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace splitstream {

class RedisReply {
 public:
  // The RESP2 reply kinds (the connection never asks for RESP3).
  enum class Kind { nil, status, error, integer, string, array };

  RedisReply() = default;  // nil
  static RedisReply nil() { return RedisReply(); }
  static RedisReply status(std::string text) { return RedisReply(Kind::status, std::move(text)); }
  static RedisReply error(std::string text) { return RedisReply(Kind::error, std::move(text)); }
  static RedisReply string(std::string bytes) { return RedisReply(Kind::string, std::move(bytes)); }
  static RedisReply integer(std::int64_t value);
  static RedisReply array(std::vector<RedisReply> elements);

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::nil; }
  bool is_status() const { return kind_ == Kind::status; }
  bool is_error() const { return kind_ == Kind::error; }
  bool is_integer() const { return kind_ == Kind::integer; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_array() const { return kind_ == Kind::array; }

  // The bytes of a string reply, or the text of a status or error reply; empty for other kinds.
  const std::string& as_string() const { return text_; }
  // The value of an integer reply; 0 for other kinds (check is_integer() first).
  std::int64_t as_integer() const { return integer_; }
  // An integer reply, or a string reply that is exactly a decimal integer (HGET, Lua results
  // and stream fields carry numbers as strings); nullopt otherwise.
  std::optional<std::int64_t> to_integer() const;
  // The elements of an array reply; empty for other kinds.
  const std::vector<RedisReply>& elements() const { return elements_; }

  // A compact rendering for logs and test failures: nil, +OK, -ERR ..., :42, "bytes", [a, b].
  std::string debug_string() const;

  friend bool operator==(const RedisReply&, const RedisReply&) = default;

 private:
  RedisReply(Kind kind, std::string text) : kind_(kind), text_(std::move(text)) {}

  Kind kind_ = Kind::nil;
  std::int64_t integer_ = 0;
  std::string text_;
  std::vector<RedisReply> elements_;
};

}  // namespace splitstream
