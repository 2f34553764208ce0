#include "store/resp_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace splitstream {
namespace {

constexpr std::uint64_t kInt64Max =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

enum class LineStatus { ok, incomplete, bad, out_of_range };

struct NumberLine {
  LineStatus status = LineStatus::bad;
  std::int64_t value = 0;
  std::size_t end = 0;  // the offset after its CRLF
};

// "-?[0-9]+\r\n" from `at`: incomplete while the bytes end before anything is wrong. More than 19
// digits, or a value outside int64, is out of range.
NumberLine read_number_line(std::string_view data, std::size_t at) {
  NumberLine line;
  const std::size_t size = data.size();
  std::size_t i = at;
  const bool negative = i < size && data[i] == '-';
  if (negative) ++i;
  std::uint64_t magnitude = 0;
  std::size_t digits = 0;
  for (; i < size; ++i) {
    const char c = data[i];
    if (c < '0' || c > '9') break;
    if (digits == 19) {
      line.status = LineStatus::out_of_range;
      return line;
    }
    magnitude = magnitude * 10 + static_cast<std::uint64_t>(c - '0');
    ++digits;
  }
  if (i == size) {
    line.status = LineStatus::incomplete;
    return line;
  }
  if (digits == 0 || data[i] != '\r') return line;  // bad
  if (i + 1 == size) {
    line.status = LineStatus::incomplete;
    return line;
  }
  if (data[i + 1] != '\n') return line;  // bad
  if (magnitude > kInt64Max + (negative ? 1 : 0)) {
    line.status = LineStatus::out_of_range;
    return line;
  }
  if (!negative) {
    line.value = static_cast<std::int64_t>(magnitude);
  } else if (magnitude == kInt64Max + 1) {
    line.value = std::numeric_limits<std::int64_t>::min();
  } else {
    line.value = -static_cast<std::int64_t>(magnitude);
  }
  line.status = LineStatus::ok;
  line.end = i + 2;
  return line;
}

std::string at_offset(std::size_t offset) {
  return " at offset " + std::to_string(offset);
}

std::string type_byte_error(char type, std::size_t offset) {
  constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(type);
  std::string out = "RESP: unknown reply type byte 0x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
  if (byte >= 0x21 && byte < 0x7f) {
    out += " '";
    out += type;
    out += '\'';
  }
  return out + at_offset(offset) + " (RESP2 has + - : $ *)";
}

// Appends "<type><n>\r\n".
void append_header(std::string& out, char type, std::size_t n) {
  char buffer[2 + std::numeric_limits<std::size_t>::digits10 + 3];
  buffer[0] = type;
  char* end = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buffer, end);
}

RedisReply build_value(RespCursor& cursor, int depth, bool& ok) {
  RespValue value;
  if (!cursor.next(value)) {
    ok = false;
    return {};
  }
  switch (value.kind) {
    case RedisReply::Kind::nil:
      return RedisReply::nil();
    case RedisReply::Kind::status:
      return RedisReply::status(std::string(value.text));
    case RedisReply::Kind::error:
      return RedisReply::error(std::string(value.text));
    case RedisReply::Kind::integer:
      return RedisReply::integer(value.integer);
    case RedisReply::Kind::string:
      return RedisReply::string(std::string(value.text));
    case RedisReply::Kind::array: {
      // A scanned reply nests at most RespScanner::kMaxDepth arrays deep: so does this recursion.
      if (depth >= RespScanner::kMaxDepth) {
        ok = false;
        return {};
      }
      std::vector<RedisReply> elements;
      elements.reserve(value.elements);  // the cursor caps it by the bytes left
      for (std::size_t i = 0; i < value.elements && ok; ++i)
        elements.push_back(build_value(cursor, depth + 1, ok));
      if (!ok) return {};
      return RedisReply::array(std::move(elements));
    }
  }
  ok = false;
  return {};
}

}  // namespace

// ---- scanning -----------------------------------------------------------------------------

RespScanner::RespScanner(const RespLimits& limits) : limits_(limits) {}

void RespScanner::reset() {
  offset_ = 0;
  depth_ = 0;
  failed_ = false;
  error_.clear();
}

RespScanResult RespScanner::scan(std::string_view data) {
  RespScanResult result;
  auto malformed = [&](std::string error) {
    failed_ = true;
    error_ = error;
    result.status = RespScan::malformed;
    result.error = std::move(error);
    return result;
  };
  if (failed_) return malformed(error_);
  const std::size_t size = data.size();
  const int max_depth = std::clamp(limits_.max_depth, 0, kMaxDepth);
  for (;;) {
    const std::size_t at = offset_;
    if (at >= size) return result;  // incomplete
    const char type = data[at];
    std::size_t end = 0;  // after this element (after the header of a non-empty array)
    switch (type) {
      case '+':
      case '-': {
        const char* what = type == '+' ? "status" : "error";
        const std::size_t from = at + 1;
        const std::size_t available = size - from;
        // A line of max_bulk bytes has its CR at max_bulk.
        const std::size_t window = available > limits_.max_bulk ? limits_.max_bulk + 1 : available;
        const void* cr = std::memchr(data.data() + from, '\r', window);
        if (cr == nullptr) {
          if (available > limits_.max_bulk) {
            return malformed("RESP: " + std::string(what) + " line longer than the limit of " +
                             std::to_string(limits_.max_bulk) + " bytes" + at_offset(at));
          }
          return result;  // incomplete
        }
        const auto cr_at = static_cast<std::size_t>(static_cast<const char*>(cr) - data.data());
        if (cr_at + 1 == size) return result;  // incomplete
        if (data[cr_at + 1] != '\n') {
          return malformed("RESP: missing CRLF after the " + std::string(what) + " line" +
                           at_offset(cr_at));
        }
        end = cr_at + 2;
        break;
      }
      case ':': {
        const NumberLine line = read_number_line(data, at + 1);
        if (line.status == LineStatus::incomplete) return result;
        if (line.status == LineStatus::out_of_range)
          return malformed("RESP: integer out of range" + at_offset(at));
        if (line.status == LineStatus::bad) return malformed("RESP: bad integer" + at_offset(at));
        end = line.end;
        break;
      }
      case '$': {
        const NumberLine line = read_number_line(data, at + 1);
        if (line.status == LineStatus::incomplete) return result;
        if (line.status != LineStatus::ok || line.value < -1) {
          return malformed("RESP: bad bulk string length" + at_offset(at));
        }
        if (line.value == -1) {  // nil
          end = line.end;
          break;
        }
        const auto length = static_cast<std::uint64_t>(line.value);
        if (length > limits_.max_bulk) {
          return malformed("RESP: bulk string of " + std::to_string(length) +
                           " bytes over the limit of " + std::to_string(limits_.max_bulk) +
                           at_offset(at));
        }
        const std::size_t available = size - line.end;  // the payload, then CRLF
        if (available <= length) return result;         // incomplete
        const std::size_t cr_at = line.end + static_cast<std::size_t>(length);
        if (data[cr_at] != '\r' || (cr_at + 1 < size && data[cr_at + 1] != '\n')) {
          return malformed("RESP: missing CRLF after the bulk string of " + std::to_string(length) +
                           " bytes" + at_offset(cr_at));
        }
        if (cr_at + 1 == size) return result;  // incomplete
        end = cr_at + 2;
        break;
      }
      case '*': {
        const NumberLine line = read_number_line(data, at + 1);
        if (line.status == LineStatus::incomplete) return result;
        if (line.status != LineStatus::ok || line.value < -1) {
          return malformed("RESP: bad array length" + at_offset(at));
        }
        if (line.value == -1) {  // nil
          end = line.end;
          break;
        }
        const auto count = static_cast<std::uint64_t>(line.value);
        if (count > limits_.max_elements) {
          return malformed("RESP: array of " + std::to_string(count) +
                           " elements over the limit of " + std::to_string(limits_.max_elements) +
                           at_offset(at));
        }
        if (depth_ >= max_depth) {
          return malformed("RESP: arrays nested deeper than " + std::to_string(max_depth) +
                           at_offset(at));
        }
        if (count > 0) {
          remaining_[static_cast<std::size_t>(depth_++)] = count;
          offset_ = line.end;
          continue;
        }
        end = line.end;
        break;
      }
      default:
        return malformed(type_byte_error(type, at));
    }
    offset_ = end;
    // One element read: it may be the last of its array, and that array the last of its own.
    while (depth_ > 0 && --remaining_[static_cast<std::size_t>(depth_ - 1)] == 0)
      --depth_;
    if (depth_ == 0) {
      result.status = RespScan::complete;
      result.length = offset_;
      offset_ = 0;  // ready for the next reply
      return result;
    }
  }
}

RespScanResult scan_resp_reply(std::string_view data, const RespLimits& limits) {
  RespScanner scanner(limits);
  return scanner.scan(data);
}

// ---- walking --------------------------------------------------------------------------------

bool RespCursor::next(RespValue& value) {
  if (failed_ || offset_ >= data_.size()) return fail();
  const std::size_t size = data_.size();
  const std::size_t at = offset_;
  value = RespValue();
  switch (data_[at]) {
    case '+':
    case '-': {
      const void* cr = std::memchr(data_.data() + at + 1, '\r', size - at - 1);
      if (cr == nullptr) return fail();
      const auto cr_at = static_cast<std::size_t>(static_cast<const char*>(cr) - data_.data());
      if (cr_at + 1 == size || data_[cr_at + 1] != '\n') return fail();
      value.kind = data_[at] == '+' ? RedisReply::Kind::status : RedisReply::Kind::error;
      value.text = data_.substr(at + 1, cr_at - at - 1);
      offset_ = cr_at + 2;
      return true;
    }
    case ':': {
      const NumberLine line = read_number_line(data_, at + 1);
      if (line.status != LineStatus::ok) return fail();
      value.kind = RedisReply::Kind::integer;
      value.integer = line.value;
      offset_ = line.end;
      return true;
    }
    case '$': {
      const NumberLine line = read_number_line(data_, at + 1);
      if (line.status != LineStatus::ok || line.value < -1) return fail();
      offset_ = line.end;
      if (line.value == -1) return true;  // nil
      const auto length = static_cast<std::uint64_t>(line.value);
      const std::size_t available = size - line.end;
      if (available < 2 || available - 2 < length) return fail();
      const std::size_t cr_at = line.end + static_cast<std::size_t>(length);
      if (data_[cr_at] != '\r' || data_[cr_at + 1] != '\n') return fail();
      value.kind = RedisReply::Kind::string;
      value.text = data_.substr(line.end, static_cast<std::size_t>(length));
      offset_ = cr_at + 2;
      return true;
    }
    case '*': {
      const NumberLine line = read_number_line(data_, at + 1);
      if (line.status != LineStatus::ok || line.value < -1) return fail();
      offset_ = line.end;
      if (line.value == -1) return true;  // nil
      // Every element takes 3 bytes at least ("+\r\n"): a count the bytes cannot hold is wrong,
      // and callers may reserve room for it.
      const auto count = static_cast<std::uint64_t>(line.value);
      if (count > (size - line.end) / 3) return fail();
      value.kind = RedisReply::Kind::array;
      value.elements = static_cast<std::size_t>(count);
      return true;
    }
    default:
      return fail();
  }
}

bool RespCursor::skip(std::size_t count) {
  std::size_t remaining = count;
  RespValue value;
  while (remaining > 0) {
    if (!next(value)) return false;
    --remaining;
    if (value.kind == RedisReply::Kind::array) {
      remaining += value.elements;
      if (remaining > (data_.size() - offset_) / 3) return fail();
    }
  }
  return true;
}

// ---- building and writing -------------------------------------------------------------------

RedisReply build_resp_reply(std::string_view complete_reply) {
  RespCursor cursor(complete_reply);
  bool ok = true;
  RedisReply reply = build_value(cursor, 0, ok);
  if (!ok) return RedisReply::error("malformed RESP reply (not one complete reply)");
  return reply;
}

void append_resp_command(std::string& out, const std::vector<std::string>& args) {
  std::size_t size = 16;
  for (const std::string& arg : args)
    size += arg.size() + 16;
  out.reserve(out.size() + size);
  append_header(out, '*', args.size());
  for (const std::string& arg : args) {
    append_header(out, '$', arg.size());
    out += arg;
    out += "\r\n";
  }
}

}  // namespace splitstream
