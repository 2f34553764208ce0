#include "store/stream_reply.hpp"

#include <charconv>
#include <utility>

#include "store/correction_entry.hpp"
#include "store/resp_reader.hpp"

namespace splitstream {
namespace {

template <typename T>
bool to_number(std::string_view s, T& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

struct StreamId {
  std::uint64_t ms = 0, seq = 0;
  bool valid = false;
};

StreamId parse_stream_id(std::string_view id) {
  StreamId out;
  const std::size_t dash = id.find('-');
  const std::string_view ms = id.substr(0, dash);
  const std::string_view seq = dash == std::string_view::npos ? "0" : id.substr(dash + 1);
  const auto a = std::from_chars(ms.data(), ms.data() + ms.size(), out.ms);
  const auto b = std::from_chars(seq.data(), seq.data() + seq.size(), out.seq);
  out.valid = a.ec == std::errc() && a.ptr == ms.data() + ms.size() && b.ec == std::errc() &&
              b.ptr == seq.data() + seq.size() && !ms.empty() && !seq.empty();
  return out;
}

// The next element as RedisReply::as_string() would give it (the text of a string, status or
// error; empty for the rest), skipping whatever an array holds.
bool next_text(RespCursor& cursor, std::string_view& text) {
  RespValue value;
  if (!cursor.next(value)) return false;
  if (value.kind == RedisReply::Kind::array && !cursor.skip(value.elements)) return false;
  text = value.text;
  return true;
}

// A correction's fields as parse_correction takes them: every pair of `count` elements.
bool correction_fields(RespCursor cursor, std::size_t count,
                       std::vector<std::pair<std::string, std::string>>& named) {
  for (std::size_t i = 0; i + 1 < count; i += 2) {
    std::string_view name, value;
    if (!next_text(cursor, name) || !next_text(cursor, value)) return false;
    named.emplace_back(name, value);
  }
  return true;
}

// One element of a stream's entry list, as the tree path reads it (parse_stream_entry and the
// follower's loop around it). False only on bytes that are not RESP.
bool read_entry(RespCursor& cursor, std::vector<StreamEntry>& out, std::string_view& last_id,
                bool& has_last_id) {
  RespValue entry;
  if (!cursor.next(entry)) return false;
  if (entry.kind != RedisReply::Kind::array) return true;
  if (entry.elements != 2) return cursor.skip(entry.elements);

  RespValue id;
  if (!cursor.next(id)) return false;
  if (id.kind == RedisReply::Kind::array && !cursor.skip(id.elements)) return false;
  last_id = id.text;
  has_last_id = true;
  RespValue fields;
  if (!cursor.next(fields)) return false;
  if (fields.kind != RedisReply::Kind::array) return true;
  if (id.kind != RedisReply::Kind::string) return cursor.skip(fields.elements);

  // The read's fields; a correction (a field `k`) is read again below. Like parse_stream_entry,
  // a later field of the same name wins, and a bad `s` refuses the read.
  const RespCursor fields_start = cursor;
  std::string_view device, timing_point, chip, line;
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  bool is_correction = false, bad_seq = false, has_tp = false, has_chip = false, has_time = false;
  for (std::size_t i = 0; i + 1 < fields.elements; i += 2) {
    std::string_view name, value;
    if (!next_text(cursor, name) || !next_text(cursor, value)) return false;
    if (name.size() == 1) {
      switch (name[0]) {
        case 'k':
          is_correction = true;
          break;
        case 'd':
          device = value;
          break;
        case 's':
          bad_seq = bad_seq || !to_number(value, seq);
          break;
        case 'c':
          chip = value;
          has_chip = !value.empty();
          break;
        case 't':
          has_time = to_number(value, time_ms);
          break;
        case 'l':
          line = value;
          break;
        default:
          break;
      }
    } else if (name == "tp") {
      timing_point = value;
      has_tp = true;
    }
  }
  if (fields.elements % 2 != 0 && !cursor.skip(1)) return false;

  if (is_correction) {
    std::vector<std::pair<std::string, std::string>> named;
    if (!correction_fields(fields_start, fields.elements, named)) return false;
    std::optional<Correction> correction = parse_correction(named);
    if (!correction) return true;
    StreamEntry& e = out.emplace_back();
    e.id = id.text;
    e.correction = std::move(correction);
    return true;
  }
  if (bad_seq || !has_tp || !has_chip || !has_time) return true;
  StreamEntry& e = out.emplace_back();
  e.id = id.text;
  e.device = device;
  e.seq = seq;
  e.timing_point = timing_point;
  e.chip = chip;
  e.time_ms = time_ms;
  e.line = line;
  return true;
}

}  // namespace

int compare_stream_ids(std::string_view a, std::string_view b) {
  const StreamId x = parse_stream_id(a), y = parse_stream_id(b);
  if (x.valid != y.valid) return x.valid ? 1 : -1;
  if (x.ms != y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq != y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

std::optional<StreamEntry> parse_stream_entry(const RedisReply& entry) {
  const auto& parts = entry.elements();
  if (!entry.is_array() || parts.size() != 2 || !parts[0].is_string() || !parts[1].is_array()) {
    return std::nullopt;
  }
  StreamEntry out;
  out.id = parts[0].as_string();
  const auto& fields = parts[1].elements();
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].as_string() != "k") continue;
    std::vector<std::pair<std::string, std::string>> named;
    for (std::size_t j = 0; j + 1 < fields.size(); j += 2)
      named.emplace_back(fields[j].as_string(), fields[j + 1].as_string());
    out.correction = parse_correction(named);
    if (!out.correction) return std::nullopt;
    return out;
  }
  bool has_tp = false, has_chip = false, has_time = false;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].as_string();
    const std::string& value = fields[i + 1].as_string();
    if (name == "d") {
      out.device = value;
    } else if (name == "s") {
      if (!to_number(value, out.seq)) return std::nullopt;
    } else if (name == "tp") {
      out.timing_point = value;
      has_tp = true;
    } else if (name == "c") {
      out.chip = value;
      has_chip = !value.empty();
    } else if (name == "t") {
      has_time = to_number(value, out.time_ms);
    } else if (name == "l") {
      out.line = value;
    }
  }
  if (!has_tp || !has_chip || !has_time) return std::nullopt;
  return out;
}

bool parse_xread_reply(std::string_view raw, std::vector<StreamEntry>& out, std::string& last_id,
                       std::size_t& received, std::string* problem) {
  const std::size_t out_size = out.size();
  auto refuse = [&](std::string_view why) {
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(out_size), out.end());
    if (problem != nullptr) *problem = why;
    return false;
  };
  constexpr std::string_view kNotResp = "not a RESP reply";
  RespCursor cursor(raw);
  RespValue reply;
  if (!cursor.next(reply)) return refuse(kNotResp);
  if (reply.kind == RedisReply::Kind::error) return refuse(reply.text);
  if (reply.kind != RedisReply::Kind::array) return true;  // nil: nothing new

  std::string_view new_last_id;
  bool has_last_id = false;
  std::size_t count = 0;
  for (std::size_t i = 0; i < reply.elements; ++i) {
    RespValue stream;  // [key, entries]
    if (!cursor.next(stream)) return refuse(kNotResp);
    if (stream.kind != RedisReply::Kind::array) continue;
    if (stream.elements != 2) {
      if (!cursor.skip(stream.elements)) return refuse(kNotResp);
      continue;
    }
    RespValue entries;
    if (!cursor.skip(1) || !cursor.next(entries)) return refuse(kNotResp);
    if (entries.kind != RedisReply::Kind::array) continue;
    for (std::size_t j = 0; j < entries.elements; ++j) {
      ++count;
      if (!read_entry(cursor, out, new_last_id, has_last_id)) return refuse(kNotResp);
    }
  }
  received += count;
  if (has_last_id) last_id = new_last_id;
  return true;
}

}  // namespace splitstream
