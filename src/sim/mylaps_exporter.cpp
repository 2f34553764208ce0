#include "sim/mylaps_exporter.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace splitstream {

namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::string_view kFramePrefix("\r\n\0", 3);
constexpr std::size_t kMaxServerFrame = 4096;

std::int64_t time_of_day(TimeMs local_time) {
  return ((local_time % kMsPerDay) + kMsPerDay) % kMsPerDay;
}

// "HH:MM:SS.mmm"
std::string format_time_of_day(TimeMs local_time) {
  const std::int64_t ms = time_of_day(local_time);
  char text[16];
  std::snprintf(text, sizeof text, "%02d:%02d:%02d.%03d", static_cast<int>(ms / 3'600'000),
                static_cast<int>(ms / 60'000 % 60), static_cast<int>(ms / 1000 % 60),
                static_cast<int>(ms % 1000));
  return text;
}

// "YYMMDD"
std::string format_yymmdd(TimeMs local_time) {
  const CivilDate date = civil_date(local_time, 0);
  char text[16];
  std::snprintf(text, sizeof text, "%02d%02u%02u", date.year % 100, date.month, date.day);
  return text;
}

std::string format_iso_date(TimeMs local_time) {
  const CivilDate date = civil_date(local_time, 0);
  char text[24];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", date.year, date.month, date.day);
  return text;
}

// Right-aligned in `width` characters, padded with `pad`, cut to the last `width` characters.
std::string fixed(std::string text, std::size_t width, char pad) {
  if (text.size() > width) return text.substr(text.size() - width);
  return std::string(width - text.size(), pad) + text;
}

std::string hex(unsigned value, std::size_t width) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text(width, '0');
  for (std::size_t i = width; i-- > 0; value >>= 4)
    text[i] = kHex[value & 0xF];
  return text;
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t at = text.find('@');
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

FakeMylapsExporter::FakeMylapsExporter(FakeMylapsExporterOptions options, TimeMs now)
    : options_(std::move(options)), rng_(options_.seed), last_resend_(now) {}

std::string FakeMylapsExporter::v1_record(const FakeMylapsPassing& passing,
                                          std::uint32_t sequence) {
  std::string record = fixed(passing.chip, 7, '0');
  record += format_time_of_day(passing.local_time);
  record += fixed(std::to_string(passing.device), 2, ' ');
  record += fixed(std::to_string(passing.reader), 2, ' ');
  record += hex(static_cast<unsigned>(passing.hits), 1);
  record += fixed(std::to_string(passing.lap), 3, ' ');
  record += hex(sequence, 4);
  record += format_yymmdd(passing.local_time);
  unsigned sum = 0;
  for (char c : record)
    sum += static_cast<unsigned char>(c);
  record += hex(sum & 0xFF, 2);
  return record;
}

std::string FakeMylapsExporter::v2_record(const FakeMylapsPassing& passing) {
  return "t=" + format_time_of_day(passing.local_time) + "|c=" + passing.chip +
         "|ct=UH|d=" + format_yymmdd(passing.local_time) + "|l=" + std::to_string(passing.lap) +
         "|dv=" + std::to_string(passing.device) + "|re=" + std::to_string(passing.reader) +
         "|an=" + passing.antenna + "|g=0|b=" + passing.chip + "|n=" + passing.chip;
}

std::string FakeMylapsExporter::connect(TimeMs now) {
  connected_ = true;
  version_ = Version::unknown;
  buffer_.clear();
  next_message_ = 1;
  messages_.clear();
  // What the last connection left unacknowledged goes out again after the handshake.
  std::vector<std::size_t> again(unacked_.begin(), unacked_.end());
  again.insert(again.end(), unsent_.begin(), unsent_.end());
  unsent_ = std::move(again);
  unacked_.clear();
  last_resend_ = now;
  return frame(options_.pong_source + "@Pong@");
}

void FakeMylapsExporter::disconnect() {
  connected_ = false;
  version_ = Version::unknown;
}

void FakeMylapsExporter::add_passing(FakeMylapsPassing passing) {
  Record record;
  record.passing = std::move(passing);
  record.sequence = next_sequence_++;
  records_.push_back(std::move(record));
  unsent_.push_back(records_.size() - 1);
}

void FakeMylapsExporter::add_marker(FakeMylapsMarker marker) {
  Record record;
  record.is_marker = true;
  record.marker = std::move(marker);
  records_.push_back(std::move(record));
  unsent_.push_back(records_.size() - 1);
}

std::string FakeMylapsExporter::on_bytes(std::string_view bytes, TimeMs /*now*/) {
  std::string reply;
  if (!connected_) return reply;
  for (char c : bytes) {
    if (c != '$') {
      // CR, LF and NUL between frames are noise; a runaway frame is dropped.
      if (buffer_.empty() && (c == '\r' || c == '\n' || c == '\0')) continue;
      if (buffer_.size() < kMaxServerFrame) buffer_.push_back(c);
      continue;
    }
    const std::vector<std::string_view> fields = split_fields(buffer_);
    const std::string_view function = fields.size() > 1 ? fields[1] : std::string_view{};
    if (function == "AckPong") {
      // As the real exporter: V2 only when the field after AckPong says so; an empty field
      // (`AckPong@@Version2.1@`) leaves it on V1.
      version_ = fields.size() > 2 && fields[2] == "Version2.1" ? Version::v2 : Version::v1;
    } else if (function == "Ping") {
      ++pings_answered_;
      reply += frame(options_.toolkit_name + "@AckPing@");
    } else if (function == "GetLocations") {
      std::string text = options_.toolkit_name + "@GetLocations@";
      for (const std::string& location : options_.locations)
        text += "ln=" + location + "@";
      reply += frame(text);
    } else if (function.starts_with("Ack") && fields.size() > 2) {
      std::uint64_t number = 0;
      for (char digit : fields[2])
        number = number * 10 + static_cast<std::uint64_t>(digit - '0');
      const auto it = messages_.find(number);
      if (it == messages_.end() || "Ack" + it->second.function != function) {
        ++unknown_acks_;
      } else {
        ++acks_received_;
        for (std::size_t id : it->second.ids)
          unacked_.erase(id);
        messages_.erase(it);
      }
    }
    buffer_.clear();
  }
  return reply;
}

std::string FakeMylapsExporter::on_tick(TimeMs now) {
  if (!connected_ || version_ == Version::unknown) return {};
  std::vector<std::size_t> due;
  if (options_.resend_storm || now - last_resend_ >= options_.resend_interval_ms) {
    for (std::size_t id : unacked_)
      if (options_.resend_storm || now - records_[id].last_sent >= options_.resend_interval_ms)
        due.push_back(id);
    if (!options_.resend_storm) last_resend_ = now;
    resent_records_ += due.size();
  }
  // Resends come back in any order.
  std::shuffle(due.begin(), due.end(), rng_);
  std::string bytes = send_records(std::move(due), now);
  bytes += send_records(std::exchange(unsent_, {}), now);
  return bytes;
}

// Passings and markers as messages: one per marker, passings of one location in messages of
// random sizes (so that a resend is batched differently from the original).
std::string FakeMylapsExporter::send_records(std::vector<std::size_t> ids, TimeMs now) {
  std::string bytes;
  std::vector<std::size_t> pending;
  auto flush = [&] {
    if (pending.empty()) return;
    const Record& first = records_[pending.front()];
    std::string function = function_of(first);
    std::string text = first.is_marker ? first.marker.location : first.passing.location;
    text += "@" + function + "@";
    for (std::size_t id : pending) {
      text += format(records_[id]) + "@";
      records_[id].last_sent = now;
      unacked_.insert(id);
    }
    const std::uint64_t number = next_message_++;
    text += std::to_string(number) + "@";
    messages_[number] = SentMessage{std::move(function), std::move(pending)};
    pending.clear();
    ++messages_sent_;
    bytes += frame(text);
  };
  std::uniform_int_distribution<std::size_t> size_of(
      1, std::max<std::size_t>(1, options_.max_records_per_message));
  std::size_t limit = size_of(rng_);
  for (std::size_t id : ids) {
    const Record& record = records_[id];
    if (!pending.empty()) {
      const Record& first = records_[pending.front()];
      if (record.is_marker || first.is_marker || pending.size() >= limit ||
          record.passing.location != first.passing.location) {
        flush();
        limit = size_of(rng_);
      }
    }
    pending.push_back(id);
  }
  flush();
  return bytes;
}

std::string FakeMylapsExporter::frame(std::string_view text) const {
  std::string bytes;
  if (options_.prefix_frames) bytes += kFramePrefix;
  bytes += text;
  bytes += '$';
  return bytes;
}

std::string FakeMylapsExporter::format(const Record& record) const {
  if (record.is_marker) {
    const FakeMylapsMarker& m = record.marker;
    if (m.positional)
      return format_iso_date(m.local_time) + " " + format_time_of_day(m.local_time) + "|" + m.type +
             "|" + m.name;
    return "t=" + format_time_of_day(m.local_time) + "|mt=" + m.type + "|n=" + m.name;
  }
  return version_ == Version::v2 ? v2_record(record.passing)
                                 : v1_record(record.passing, record.sequence);
}

// The function a message of this record has (its ack is "Ack" + this).
std::string FakeMylapsExporter::function_of(const Record& record) const {
  if (record.is_marker) return "Marker";
  return version_ == Version::v2 ? "Passing" : "Store";
}

}  // namespace splitstream
