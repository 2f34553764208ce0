#include "ingest/read_batch_json.hpp"

#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <limits>
#include <optional>
#include <type_traits>

#include "core/time.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;
namespace v1 = splitstream::v1;

// Read fields as the JSON may set them; time_ms and time set the same one.
enum class Field : std::uint8_t { device_id, timing_point_id, chip, time, seq, line, rssi_dbm };
constexpr std::size_t kFieldCount = 7;

struct ReadKey {
  std::string_view key;
  Field field;
};

// Proto field names, their proto3 JSON lowerCamelCase names, and the ISO `time` form.
constexpr ReadKey kReadKeys[] = {
    {"device_id", Field::device_id},
    {"deviceId", Field::device_id},
    {"timing_point_id", Field::timing_point_id},
    {"timingPointId", Field::timing_point_id},
    {"chip", Field::chip},
    {"time_ms", Field::time},
    {"timeMs", Field::time},
    {"time", Field::time},
    {"seq", Field::seq},
    {"line", Field::line},
    {"rssi_dbm", Field::rssi_dbm},
    {"rssiDbm", Field::rssi_dbm},
};

const ReadKey* find_read_key(std::string_view key) {
  for (const ReadKey& k : kReadKeys) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

// A key from the body, made safe to put in a one-line message: quoted, escaped, and cut short
// (at a UTF-8 boundary; Boost.JSON has already checked the key is valid UTF-8).
std::string quoted(std::string_view key) {
  constexpr std::size_t kMaxShown = 40;
  bool cut = false;
  if (key.size() > kMaxShown) {
    std::size_t n = kMaxShown;
    while (n > 0 && (static_cast<unsigned char>(key[n]) & 0xC0) == 0x80)
      --n;
    key = key.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += c;
    }
  }
  out += cut ? "...\"" : "\"";
  return out;
}

enum class IntStatus : std::uint8_t { ok, not_integer, out_of_range };

// A JSON integer into Int, or a string of decimal digits (proto3 JSON writes 64-bit integers as
// strings, since JavaScript numbers lose precision past 2^53). Fractions, exponents and
// floating-point numbers are not integers here. For an unsigned Int, a negative value is
// not_integer: the caller's message says "non-negative".
template <typename Int>
IntStatus to_integer(const json::value& value, Int& out) {
  using Limits = std::numeric_limits<Int>;
  if (const std::int64_t* i = value.if_int64()) {
    if constexpr (std::is_unsigned_v<Int>) {
      if (*i < 0) return IntStatus::not_integer;
    }
    if constexpr (sizeof(Int) < sizeof(std::int64_t)) {
      if (*i < static_cast<std::int64_t>(Limits::min()) ||
          *i > static_cast<std::int64_t>(Limits::max())) {
        return IntStatus::out_of_range;
      }
    }
    out = static_cast<Int>(*i);
    return IntStatus::ok;
  }
  // Boost.JSON keeps a non-negative integer as uint64 only when it exceeds INT64_MAX.
  if (const std::uint64_t* u = value.if_uint64()) {
    if (*u > static_cast<std::uint64_t>(Limits::max())) return IntStatus::out_of_range;
    out = static_cast<Int>(*u);
    return IntStatus::ok;
  }
  if (const json::string* s = value.if_string()) {
    const char* first = s->data();
    const char* last = first + s->size();
    // from_chars takes no '+' nor whitespace; an unsigned Int takes no '-' either.
    const auto [end, ec] = std::from_chars(first, last, out);
    if (ec == std::errc::result_out_of_range) return IntStatus::out_of_range;
    if (ec != std::errc() || end != last) return IntStatus::not_integer;
    return IntStatus::ok;
  }
  // Doubles included: an integer literal beyond 64 bits, a fraction or an exponent.
  return IntStatus::not_integer;
}

std::optional<v1::Line> to_line(const json::value& value) {
  if (const json::string* s = value.if_string()) {
    const std::string_view name = *s;
    if (name == "main" || name == "LINE_MAIN") return v1::LINE_MAIN;
    if (name == "backup" || name == "LINE_BACKUP") return v1::LINE_BACKUP;
    if (name == "LINE_UNSPECIFIED") return v1::LINE_UNSPECIFIED;
    return std::nullopt;
  }
  if (const std::int64_t* i = value.if_int64()) {
    if (*i >= 0 && *i <= 2) return static_cast<v1::Line>(*i);
  }
  return std::nullopt;
}

class BatchParser {
 public:
  explicit BatchParser(v1::ReadBatch& out) : out_(out) {}

  // Converts the parsed document; on failure, message() says why.
  bool convert(const json::value& document, std::size_t max_reads, ReadBatchJsonError& error);
  std::string& message() { return message_; }

 private:
  bool read(const json::value& value, std::size_t index, v1::Read& read);
  bool set_field(const ReadKey& key, const json::value& value, v1::Read& read);
  bool fail(std::string message) {
    message_ = std::move(message);
    return false;
  }
  bool field_error(std::string_view key, std::string_view problem) {
    return fail(path_ + "." + std::string(key) + ": " + std::string(problem));
  }

  // Reads an integer field into `set`, or reports `expected` (or out of range) for `key`.
  template <typename Int, typename Setter>
  bool integer_field(const json::value& value, std::string_view key, std::string_view expected,
                     Setter set) {
    Int n = 0;
    switch (to_integer(value, n)) {
      case IntStatus::ok:
        set(n);
        return true;
      case IntStatus::out_of_range:
        return field_error(key, "integer out of range");
      case IntStatus::not_integer:
        break;
    }
    return field_error(key, expected);
  }

  v1::ReadBatch& out_;
  std::string path_;  // "reads[3]" while converting that read
  std::string message_;
};

bool BatchParser::convert(const json::value& document, std::size_t max_reads,
                          ReadBatchJsonError& error) {
  error = ReadBatchJsonError::invalid_batch;
  const json::object* root = document.if_object();
  if (root == nullptr) return fail("expected a JSON object with a \"reads\" array");
  const json::value* reads = nullptr;
  for (const json::key_value_pair& entry : *root) {
    if (entry.key() != "reads") return fail("unknown field " + quoted(entry.key()));
    reads = &entry.value();
  }
  // No reads (absent or null, as proto3 JSON writes an empty batch) is an empty batch.
  if (reads == nullptr || reads->is_null()) return true;
  const json::array* list = reads->if_array();
  if (list == nullptr) return fail("reads: expected an array");
  if (list->size() > max_reads) {
    error = ReadBatchJsonError::too_many_reads;
    return fail("reads: " + std::to_string(list->size()) + " reads, over the limit of " +
                std::to_string(max_reads));
  }
  out_.mutable_reads()->Reserve(static_cast<int>(list->size()));
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (!read((*list)[i], i, *out_.add_reads())) return false;
  }
  return true;
}

bool BatchParser::read(const json::value& value, std::size_t index, v1::Read& read) {
  path_ = "reads[" + std::to_string(index) + "]";
  const json::object* object = value.if_object();
  if (object == nullptr) return fail(path_ + ": expected an object");
  // The key that set each field, to refuse a field given twice under two names.
  std::array<std::string_view, kFieldCount> set_by{};
  for (const json::key_value_pair& entry : *object) {
    const ReadKey* key = find_read_key(entry.key());
    if (key == nullptr) return fail(path_ + ": unknown field " + quoted(entry.key()));
    // proto3 JSON: null is "not given".
    if (entry.value().is_null()) continue;
    std::string_view& first = set_by[static_cast<std::size_t>(key->field)];
    if (!first.empty()) {
      return fail(path_ + ": " + std::string(first) + " and " + std::string(key->key) +
                  " both given; send one of them");
    }
    first = key->key;
    if (!set_field(*key, entry.value(), read)) return false;
  }
  if (set_by[static_cast<std::size_t>(Field::chip)].empty()) return fail(path_ + ": missing chip");
  if (set_by[static_cast<std::size_t>(Field::time)].empty()) {
    return fail(path_ + ": missing time_ms (or time)");
  }
  if (set_by[static_cast<std::size_t>(Field::seq)].empty()) return fail(path_ + ": missing seq");
  return true;
}

bool BatchParser::set_field(const ReadKey& key, const json::value& value, v1::Read& read) {
  switch (key.field) {
    case Field::device_id:
    case Field::timing_point_id:
    case Field::chip: {
      const json::string* s = value.if_string();
      if (s == nullptr) return field_error(key.key, "expected a string");
      if (key.field == Field::device_id) {
        read.set_device_id(s->data(), s->size());
      } else if (key.field == Field::timing_point_id) {
        read.set_timing_point_id(s->data(), s->size());
      } else {
        read.set_chip(s->data(), s->size());
      }
      return true;
    }
    case Field::time: {
      if (key.key == "time") {
        const json::string* s = value.if_string();
        const std::optional<TimeMs> t =
            s == nullptr ? std::nullopt : parse_iso8601(std::string_view(*s));
        if (!t) {
          return field_error(key.key,
                             "expected an ISO 8601 time with a UTC offset, like "
                             "\"2025-04-06T08:00:00.250+09:00\"");
        }
        read.set_time_ms(*t);
        return true;
      }
      return integer_field<std::int64_t>(value, key.key, "expected an integer",
                                         [&](std::int64_t n) { read.set_time_ms(n); });
    }
    case Field::seq: {
      return integer_field<std::uint64_t>(value, key.key, "expected a non-negative integer",
                                          [&](std::uint64_t n) { read.set_seq(n); });
    }
    case Field::line: {
      const std::optional<v1::Line> line = to_line(value);
      if (!line) return field_error(key.key, "expected \"main\" or \"backup\"");
      read.set_line(*line);
      return true;
    }
    case Field::rssi_dbm: {
      return integer_field<std::int32_t>(value, key.key, "expected an integer",
                                         [&](std::int32_t n) { read.set_rssi_dbm(n); });
    }
  }
  return field_error(key.key, "unsupported field");
}

}  // namespace

ReadBatchJsonStatus parse_read_batch_json(std::string_view body, v1::ReadBatch& out,
                                          const ReadBatchJsonLimits& limits) {
  out.Clear();
  if (body.size() > limits.max_body_bytes) {
    return {ReadBatchJsonError::body_too_large, "body is " + std::to_string(body.size()) +
                                                    " bytes, over the limit of " +
                                                    std::to_string(limits.max_body_bytes)};
  }
  // The document lives only while it is converted: one arena, freed in one go.
  json::monotonic_resource arena;
  json::stream_parser parser;
  parser.reset(json::storage_ptr(&arena));
  json::error_code ec;
  const std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    return {ReadBatchJsonError::invalid_json,
            "invalid JSON at offset " + std::to_string(consumed) + ": " + ec.message()};
  }
  const json::value document = parser.release();

  BatchParser batch_parser(out);
  ReadBatchJsonError error = ReadBatchJsonError::none;
  if (!batch_parser.convert(document, limits.max_reads, error)) {
    out.Clear();
    return {error, std::move(batch_parser.message())};
  }
  return {};
}

}  // namespace splitstream
