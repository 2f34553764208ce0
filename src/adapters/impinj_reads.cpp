#include "adapters/impinj_reads.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <limits>

#include "core/time.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;

constexpr std::int64_t kUsPerSecond = 1'000'000;
// Timestamps past the year 9999 are refused: no reader sends them, and the ms arithmetic of
// the callers stays far from overflow.
constexpr std::int64_t kMaxTimestampUs = 253'402'300'800 * kUsPerSecond;  // 10000-01-01

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool is_form_content_type(std::string_view content_type) {
  const std::size_t semicolon = content_type.find(';');
  return iequals(trim(content_type.substr(0, semicolon)), "application/x-www-form-urlencoded");
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte (a bad escape is kept as is).
std::string form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && is_hex_digit(text[i + 1]) &&
               is_hex_digit(text[i + 2])) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Text from the body made safe for a one-line message: printable ASCII, cut short.
std::string shown(std::string_view text) {
  constexpr std::size_t kMaxShown = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    out += (byte >= 0x20 && byte < 0x7F && text[i] != '"') ? text[i] : '?';
  }
  out += text.size() > kMaxShown ? "...\"" : "\"";
  return out;
}

const char* kind_name(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// An integer the JSON wrote without fraction or exponent issues: int64, uint64 in range, or a
// double with an integral value in range.
std::optional<std::int64_t> as_integer(const json::value& value) {
  if (const std::int64_t* i = value.if_int64()) return *i;
  if (const std::uint64_t* u = value.if_uint64()) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*u);
    }
    return std::nullopt;
  }
  if (const double* d = value.if_double()) {
    if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e18) {
      return static_cast<std::int64_t>(*d);
    }
  }
  return std::nullopt;
}

struct BodyParser {
  const ImpinjLimits& limits;
  const ImpinjBodyFormat& format;
  ImpinjParseResult result;
  std::size_t objects = 0;  // tag objects seen, the index of the next one
  bool over_limit = false;

  // Takes the reader's name from `object` when none was found yet.
  void take_reader_name(const json::object& object) {
    if (!result.reader_name.empty()) return;
    for (const std::string& key : format.reader_name_keys) {
      const json::value* value = object.if_contains(key);
      if (value == nullptr) continue;
      const json::string* name = value->if_string();
      if (name == nullptr || name->empty() || name->size() > limits.max_reader_name_bytes) {
        continue;
      }
      result.reader_name.assign(name->data(), name->size());
      return;
    }
  }

  // Counts one more tag object; false (and the body refused) past the limit.
  bool next_index(std::size_t& index) {
    if (objects >= limits.max_reads) {
      over_limit = true;
      return false;
    }
    index = objects++;
    return true;
  }

  void malformed(std::size_t index, const std::string& what) {
    result.malformed.push_back("tag object " + std::to_string(index) + ": " + what);
  }

  // A top-level JSON value of the body: a tag object, an array of them, or a wrapper.
  void take_value(const json::value& value) {
    if (const json::array* list = value.if_array()) {
      take_list(*list);
      return;
    }
    const json::object* object = value.if_object();
    if (object != nullptr) {
      for (const std::string& key : format.wrapper_keys) {
        const json::value* wrapped = object->if_contains(key);
        if (wrapped == nullptr) continue;
        if (const json::array* list = wrapped->if_array()) {
          take_reader_name(*object);
          take_list(*list);
          return;
        }
      }
    }
    take_tag_object(value);
  }

  void take_list(const json::array& list) {
    for (const json::value& element : list) {
      if (over_limit) return;
      take_tag_object(element);
    }
  }

  void take_tag_object(const json::value& value) {
    std::size_t index = 0;
    if (!next_index(index)) return;
    const json::object* object = value.if_object();
    if (object == nullptr) {
      malformed(index, std::string("expected an object, got ") + kind_name(value));
      return;
    }
    take_reader_name(*object);

    if (const json::value* heartbeat = object->if_contains("isHeartBeat")) {
      const bool* flag = heartbeat->if_bool();
      if (flag == nullptr && !heartbeat->is_null()) {
        malformed(index,
                  std::string("isHeartBeat: expected true or false, got ") + kind_name(*heartbeat));
        return;
      }
      if (flag != nullptr && *flag) {
        ++result.heartbeats;
        return;
      }
    }

    DecoderRawRead read;
    std::string problem;
    if (!read_epc(*object, read.chip, problem) ||
        !read_antenna_port(*object, read.source, problem)) {
      malformed(index, problem);
      return;
    }
    std::int64_t first_seen_us = 0;
    if (!read_first_seen(*object, first_seen_us, problem) ||
        !read_peak_rssi(*object, read.rssi_dbm, problem)) {
      malformed(index, problem);
      return;
    }
    read.time.base = DecoderTimeBase::utc;
    read.time.ms = first_seen_us / 1000;
    read.key = read.source + "/" + read.chip + "/" + std::to_string(first_seen_us);
    result.reads.push_back(std::move(read));
  }

  bool read_epc(const json::object& object, std::string& chip, std::string& problem) const {
    const json::value* value = object.if_contains("epc");
    if (value == nullptr || value->is_null()) {
      problem = "missing epc";
      return false;
    }
    const json::string* epc = value->if_string();
    if (epc == nullptr) {
      problem = std::string("epc: expected a hex string, got ") + kind_name(*value);
      return false;
    }
    const std::string_view text(*epc);
    bool hex = !text.empty() && text.size() <= limits.max_epc_hex_digits;
    for (std::size_t i = 0; hex && i < text.size(); ++i)
      hex = is_hex_digit(text[i]);
    if (!hex) {
      problem = "epc: expected 1 to " + std::to_string(limits.max_epc_hex_digits) +
                " hex digits, got " + shown(text);
      return false;
    }
    chip.assign(text);
    return true;
  }

  static bool read_antenna_port(const json::object& object, std::string& source,
                                std::string& problem) {
    const json::value* value = object.if_contains("antennaPort");
    if (value == nullptr || value->is_null()) {
      problem = "missing antennaPort";
      return false;
    }
    const std::optional<std::int64_t> port = as_integer(*value);
    if (!port || *port < 0 || *port > 65535) {
      problem = std::string("antennaPort: expected an integer 0-65535, got ") +
                (port ? std::to_string(*port) : kind_name(*value));
      return false;
    }
    source = std::to_string(*port);
    return true;
  }

  static bool read_first_seen(const json::object& object, std::int64_t& us, std::string& problem) {
    const json::value* value = object.if_contains("firstSeenTimestamp");
    if (value == nullptr || value->is_null()) {
      problem = "missing firstSeenTimestamp";
      return false;
    }
    std::optional<std::int64_t> parsed;
    if (const json::string* text = value->if_string()) {
      parsed = parse_impinj_timestamp_us(std::string_view(*text));
      if (!parsed) {
        problem =
            "firstSeenTimestamp: expected an ISO 8601 UTC time like "
            "\"2018-06-14T00:15:54.36879Z\", got " +
            shown(std::string_view(*text));
        return false;
      }
    } else {
      parsed = as_integer(*value);
      if (!parsed || *parsed < 0 || *parsed >= kMaxTimestampUs) {
        problem = std::string(
                      "firstSeenTimestamp: expected an ISO time or microseconds since 1970, got ") +
                  (parsed ? std::to_string(*parsed) : kind_name(*value));
        return false;
      }
    }
    us = *parsed;
    return true;
  }

  static bool read_peak_rssi(const json::object& object, std::optional<int>& rssi,
                             std::string& problem) {
    const json::value* value = object.if_contains("peakRssi");
    if (value == nullptr || value->is_null()) return true;  // optional
    double dbm = 0;
    if (const double* d = value->if_double()) {
      dbm = *d;
    } else if (const std::optional<std::int64_t> i = as_integer(*value)) {
      dbm = static_cast<double>(*i);
    } else {
      problem = std::string("peakRssi: expected a number, got ") + kind_name(*value);
      return false;
    }
    // dBm of a received tag: far inside this range; anything outside is not an RSSI.
    if (!std::isfinite(dbm) || dbm < -200.0 || dbm > 200.0) {
      problem = "peakRssi: expected dBm within -200 to 200";
      return false;
    }
    rssi = static_cast<int>(std::lround(dbm));
    return true;
  }

  // The body's JSON text: one or more JSON values separated by whitespace. A value that does
  // not parse costs one malformed entry and parsing resumes at the next line that starts with
  // '{' or '['; when no value parses at all the body is not JSON and is refused as such.
  void take_json_text(std::string_view text, const std::string& what_text) {
    text = trim(text);
    if (text.empty()) {
      refuse(what_text + " is empty");
      return;
    }
    // Only objects and arrays hold tag reads; a body starting otherwise is no JSON of ours
    // (Speedway Connect's key-value output, "7,9999...,...", would parse as the number 7).
    if (text.front() != '{' && text.front() != '[') {
      refuse(what_text + " is not JSON: it does not start with '{' or '['");
      return;
    }
    json::monotonic_resource arena;
    json::parse_options options;
    options.max_depth = limits.max_depth;
    json::stream_parser parser(json::storage_ptr(), options);
    std::size_t values = 0;
    std::optional<std::string> first_failure;
    std::size_t pos = 0;
    while (!over_limit) {
      while (pos < text.size() && is_space(text[pos]))
        ++pos;
      if (pos >= text.size()) break;
      parser.reset(&arena);
      boost::system::error_code ec;
      const std::size_t consumed = parser.write_some(text.data() + pos, text.size() - pos, ec);
      if (!ec && !parser.done()) parser.finish(ec);
      if (!ec && parser.done()) {
        ++values;
        take_value(parser.release());
        pos += consumed;
        continue;
      }
      const std::string what = "not valid JSON (" + ec.message() + ")";
      if (!first_failure) first_failure = what;
      const std::size_t next = resync(text, pos + (consumed > 0 ? consumed : 1));
      // A body that is one unparsable text is refused below as not JSON, not counted here.
      if (values > 0 || next < text.size()) {
        std::size_t index = 0;
        if (!next_index(index)) break;
        malformed(index, what);
      }
      pos = next;
    }
    if (values == 0 && first_failure && !over_limit) {
      // Nothing parsed: not a JSON body, rather than a body of malformed objects.
      refuse(what_text + " is not JSON: " + *first_failure);
    }
  }

  void refuse(std::string error) {
    result = ImpinjParseResult{};
    result.error = std::move(error);
  }

  // Where parsing resumes after a failure at `from`: the next line starting with '{' or '['.
  static std::size_t resync(std::string_view text, std::size_t from) {
    std::size_t pos = from;
    while (pos < text.size()) {
      const std::size_t newline = text.find('\n', pos);
      if (newline == std::string_view::npos) return text.size();
      pos = newline + 1;
      std::size_t start = pos;
      while (start < text.size() && (text[start] == ' ' || text[start] == '\t'))
        ++start;
      if (start < text.size() && (text[start] == '{' || text[start] == '[')) return start;
    }
    return text.size();
  }

  // A urlencoded form: reader name fields, and the JSON of each JSON field.
  void take_form(std::string_view body) {
    bool found_json = false;
    std::size_t pos = 0;
    while (pos <= body.size() && !over_limit && !result.error) {
      std::size_t end = body.find('&', pos);
      if (end == std::string_view::npos) end = body.size();
      const std::string_view pair = body.substr(pos, end - pos);
      pos = end + 1;
      const std::size_t equals = pair.find('=');
      const std::string name = form_decode(pair.substr(0, equals));
      if (equals == std::string_view::npos || name.empty()) continue;
      const std::string value = form_decode(pair.substr(equals + 1));
      bool json_field = false;
      for (const std::string& field : format.form_json_fields)
        json_field = json_field || field == name;
      if (json_field) {
        found_json = true;
        take_json_text(value, "form field " + name);
        continue;
      }
      if (result.reader_name.empty() && !value.empty() &&
          value.size() <= limits.max_reader_name_bytes) {
        for (const std::string& key : format.reader_name_keys) {
          if (key == name) {
            result.reader_name = value;
            break;
          }
        }
      }
    }
    if (!found_json && !result.error) {
      std::string fields;
      for (const std::string& field : format.form_json_fields)
        fields += (fields.empty() ? "" : ", ") + field;
      refuse("form body has no JSON field (looked for: " + fields + ")");
    }
  }
};

}  // namespace

std::optional<std::int64_t> parse_impinj_timestamp_us(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.f...](Z|+hh:mm|-hh:mm)
  auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    if (at + count > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const auto year = digits(0, 4);
  const auto month = digits(5, 2);
  const auto day = digits(8, 2);
  const auto hour = digits(11, 2);
  const auto minute = digits(14, 2);
  const auto second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*year < 1970 || *month < 1 || *month > 12 || *day < 1 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  // The day must exist in its month: 2018-02-30 is refused, not rolled into March.
  const auto umonth = static_cast<unsigned>(*month);
  const std::int64_t days = days_from_civil(*year, umonth, static_cast<unsigned>(*day));
  const std::int64_t next_month_days =
      umonth == 12 ? days_from_civil(*year + 1, 1, 1) : days_from_civil(*year, umonth + 1, 1);
  if (days >= next_month_days) return std::nullopt;

  std::size_t pos = 19;
  std::int64_t fraction_us = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t count = 0;
    std::int64_t scale = 100'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (count < 6) fraction_us += (text[pos] - '0') * scale;
      scale /= 10;
      ++count;
      ++pos;
      if (count > 9) return std::nullopt;
    }
    if (count == 0) return std::nullopt;
  }
  const std::optional<int> offset_minutes = parse_utc_offset(text.substr(pos));
  if (!offset_minutes) return std::nullopt;
  const std::int64_t seconds = days * 86'400 + *hour * 3'600 + *minute * 60 + *second -
                               static_cast<std::int64_t>(*offset_minutes) * 60;
  const std::int64_t us = seconds * kUsPerSecond + fraction_us;
  if (us < 0 || us >= kMaxTimestampUs) return std::nullopt;
  return us;
}

std::string format_impinj_timestamp_us(std::int64_t us) {
  const std::int64_t whole_ms = us / 1000;
  // format_iso8601 writes "...:54.000Z" for a whole second; the fraction is ours.
  std::string text = format_iso8601(whole_ms - whole_ms % 1000, 0);
  text.resize(text.size() - std::string_view(".000Z").size());
  std::int64_t fraction = us % kUsPerSecond;
  if (fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, 6 - digits.size(), '0');
    while (digits.back() == '0')
      digits.pop_back();
    text += "." + digits;
  }
  text += "Z";
  return text;
}

std::string format_impinj_read(const ImpinjTagRead& read) {
  json::object object;
  object["antennaPort"] = read.antenna_port;
  object["epc"] = read.epc;
  object["firstSeenTimestamp"] = format_impinj_timestamp_us(read.first_seen_us);
  if (read.peak_rssi) object["peakRssi"] = *read.peak_rssi;
  object["isHeartBeat"] = false;
  return json::serialize(object);
}

std::string format_impinj_heartbeat() {
  return R"({"isHeartBeat":true})";
}

ImpinjParseResult parse_impinj_body(std::string_view body, std::string_view content_type,
                                    const ImpinjLimits& limits, const ImpinjBodyFormat& format) {
  BodyParser parser{limits, format, {}, 0, false};
  if (body.size() > limits.max_body_bytes) {
    parser.refuse("body of " + std::to_string(body.size()) + " bytes is over the limit of " +
                  std::to_string(limits.max_body_bytes));
    return parser.result;
  }
  const std::string_view text = trim(body);
  // A form is taken by its content type, or by its look when the reader labels it wrongly
  // (JSON starts with '{' or '['; a form with a field name).
  const bool looks_like_json = !text.empty() && (text.front() == '{' || text.front() == '[');
  if (is_form_content_type(content_type) ||
      (!looks_like_json && text.find('=') != std::string_view::npos)) {
    parser.take_form(text);
  } else {
    parser.take_json_text(text, "body");
  }
  if (parser.over_limit) {
    parser.refuse("more than " + std::to_string(limits.max_reads) + " tag objects in one body");
  }
  return parser.result;
}

}  // namespace splitstream
