#include "adapters/mylaps_fsm.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace splitstream {

namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;
// Bytes stripped between frames: CR, LF and NUL (the NUL needs the explicit length).
constexpr std::string_view kStripBetweenFrames("\r\n\0", 3);
constexpr std::size_t kV1RecordLength = 39;
constexpr std::size_t kQuoteLimit = 80;

// A frame or record for a notice: bounded, so a huge bad frame makes a short message.
std::string quote(std::string_view text) {
  std::string out = "'";
  out.append(text.substr(0, kQuoteLimit));
  if (text.size() > kQuoteLimit) out.append("...");
  out.push_back('\'');
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  return text;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> parse_digits(std::string_view text) {
  if (!all_digits(text) || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::optional<std::int64_t> parse_signed(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  const std::optional<std::int64_t> value = parse_digits(text);
  if (!value) return std::nullopt;
  return negative ? -*value : *value;
}

bool valid_civil(int year, unsigned month, unsigned day) {
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month != 2 || day <= 28 || leap;
}

// Days since the epoch of a valid civil date, else nullopt.
std::optional<std::int64_t> civil_days(std::int64_t year, std::int64_t month, std::int64_t day) {
  const int y = static_cast<int>(year);
  const auto m = static_cast<unsigned>(month);
  const auto d = static_cast<unsigned>(day);
  if (!valid_civil(y, m, d)) return std::nullopt;
  return days_from_civil(y, m, d);
}

// "YYMMDD" (V2 `d`, the V1 record's date) -> days since the epoch, years 2000-2099.
std::optional<std::int64_t> parse_yymmdd(std::string_view text) {
  if (text.size() != 6 || !all_digits(text)) return std::nullopt;
  return civil_days(2000 + *parse_digits(text.substr(0, 2)), *parse_digits(text.substr(2, 2)),
                    *parse_digits(text.substr(4, 2)));
}

// "YYYY-MM-DD" -> days since the epoch.
std::optional<std::int64_t> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto year = parse_digits(text.substr(0, 4));
  const auto month = parse_digits(text.substr(5, 2));
  const auto day = parse_digits(text.substr(8, 2));
  if (!year || !month || !day) return std::nullopt;
  return civil_days(*year, *month, *day);
}

// The time of a V2 record or marker: `utc` (ms, UTC), else `d` + `t` (local civil), else `ut`
// (ms, local written as UTC), else `t` alone (local time of day). Error text on failure.
struct TimeFields {
  std::string_view t, d, ut, utc;
};

std::optional<DecoderTime> v2_time(const TimeFields& f, std::string& error) {
  if (!f.utc.empty()) {
    if (const auto ms = parse_signed(f.utc)) return DecoderTime{*ms, DecoderTimeBase::utc};
    error = "utc " + quote(f.utc) + " is not milliseconds";
    return std::nullopt;
  }
  std::optional<std::int64_t> time_of_day;
  if (!f.t.empty()) {
    time_of_day = parse_mylaps_time_of_day(f.t);
    if (!time_of_day) {
      error = "time t=" + quote(f.t) + " is not HH:MM:SS.fff";
      return std::nullopt;
    }
  }
  if (!f.d.empty()) {
    const auto days = parse_yymmdd(f.d);
    if (!days) {
      error = "date d=" + quote(f.d) + " is not YYMMDD";
      return std::nullopt;
    }
    if (time_of_day)
      return DecoderTime{*days * kMsPerDay + *time_of_day, DecoderTimeBase::local_civil};
  }
  if (!f.ut.empty()) {
    if (const auto ms = parse_signed(f.ut)) return DecoderTime{*ms, DecoderTimeBase::local_civil};
    error = "ut " + quote(f.ut) + " is not milliseconds";
    return std::nullopt;
  }
  if (time_of_day) return DecoderTime{*time_of_day, DecoderTimeBase::local_time_of_day};
  error = "no time (t, ut or utc)";
  return std::nullopt;
}

// `k=v|k=v|...` -> pairs; nullopt (and error) when a piece has no '='.
std::optional<std::vector<std::pair<std::string_view, std::string_view>>> key_values(
    std::string_view record, std::string& error) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (std::string_view piece : split(record, '|')) {
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      error = "field " + quote(piece) + " is not key=value";
      return std::nullopt;
    }
    pairs.emplace_back(piece.substr(0, eq), piece.substr(eq + 1));
  }
  return pairs;
}

std::string_view value_of(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                          std::string_view key) {
  for (const auto& [k, v] : pairs)
    if (k == key) return v;
  return {};
}

std::optional<DecoderRawRead> parse_v2_passing(std::string_view source, std::string_view record,
                                               const MylapsOptions& options, std::string& error) {
  const auto pairs = key_values(record, error);
  if (!pairs) return std::nullopt;
  DecoderRawRead read;
  read.chip = std::string(value_of(*pairs, "c"));
  if (read.chip.empty()) {
    error = "no chip (c)";
    return std::nullopt;
  }
  TimeFields time{value_of(*pairs, "t"), value_of(*pairs, "d"), value_of(*pairs, "ut"),
                  value_of(*pairs, "utc")};
  const auto decoded = v2_time(time, error);
  if (!decoded) return std::nullopt;
  read.time = *decoded;
  if (!options.rssi_key.empty()) {
    const std::string_view rssi = value_of(*pairs, options.rssi_key);
    if (!rssi.empty()) {
      const auto value = parse_signed(rssi);
      if (!value || *value < -1000 || *value > 1000) {
        error = "rssi " + quote(rssi) + " is not a number";
        return std::nullopt;
      }
      read.rssi_dbm = static_cast<int>(*value);
    }
  }
  read.source = std::string(source);
  // Everything that tells two passings apart and is the same in every resend.
  read.key = "v2|" + read.source + "|c=" + read.chip + "|d=" + std::string(time.d) +
             "|t=" + std::string(time.t) + "|ut=" + std::string(time.ut) +
             "|utc=" + std::string(time.utc) + "|dv=" + std::string(value_of(*pairs, "dv")) +
             "|re=" + std::string(value_of(*pairs, "re")) +
             "|an=" + std::string(value_of(*pairs, "an"));
  return read;
}

// chip 7, time 12, device 2, reader 2, hits 1 (hex), lap 3, sequence 4 (hex), date YYMMDD 6,
// checksum 2 (hex sum of the first 37 bytes).
std::optional<DecoderRawRead> parse_v1_store(std::string_view source, std::string_view record,
                                             std::string& error) {
  if (record.size() != kV1RecordLength) {
    error = "V1 record is " + std::to_string(record.size()) + " characters, not 39";
    return std::nullopt;
  }
  const std::string expected = mylaps_v1_checksum(record.substr(0, 37));
  std::string given(record.substr(37, 2));
  std::transform(given.begin(), given.end(), given.begin(),
                 [](char c) { return c >= 'a' && c <= 'f' ? static_cast<char>(c - 32) : c; });
  if (given != expected) {
    error = "V1 checksum " + quote(record.substr(37, 2)) + " should be " + expected;
    return std::nullopt;
  }
  DecoderRawRead read;
  read.chip = std::string(trim_spaces(record.substr(0, 7)));
  if (read.chip.empty()) {
    error = "V1 record has no chip";
    return std::nullopt;
  }
  const std::string_view time_text = record.substr(7, 12);
  const auto time_of_day = parse_mylaps_time_of_day(trim_spaces(time_text));
  if (!time_of_day) {
    error = "V1 time " + quote(time_text) + " is not HH:MM:SS.fff";
    return std::nullopt;
  }
  const std::string_view date = record.substr(31, 6);
  if (date == "000000" || trim_spaces(date).empty()) {
    read.time = DecoderTime{*time_of_day, DecoderTimeBase::local_time_of_day};
  } else if (const auto days = parse_yymmdd(date)) {
    read.time = DecoderTime{*days * kMsPerDay + *time_of_day, DecoderTimeBase::local_civil};
  } else {
    error = "V1 date " + quote(date) + " is not YYMMDD";
    return std::nullopt;
  }
  read.source = std::string(source);
  read.key = "v1|" + read.source + "|c=" + read.chip + "|d=" + std::string(date) +
             "|t=" + std::string(time_text) +
             "|dv=" + std::string(trim_spaces(record.substr(19, 2))) +
             "|re=" + std::string(trim_spaces(record.substr(21, 2))) +
             "|sq=" + std::string(record.substr(27, 4));
  return read;
}

// V2 `t=..|mt=..|n=..`, or positional `YYYY-MM-DD HH:MM:SS.fff|type|name` as seen in the field.
std::optional<DecoderGunMarker> parse_marker(std::string_view source, std::string_view record,
                                             std::string& error) {
  DecoderGunMarker marker;
  marker.source = std::string(source);
  const std::vector<std::string_view> pieces = split(record, '|');
  if (pieces.front().find('=') != std::string_view::npos) {
    const auto pairs = key_values(record, error);
    if (!pairs) return std::nullopt;
    TimeFields time{value_of(*pairs, "t"), value_of(*pairs, "d"), value_of(*pairs, "ut"),
                    value_of(*pairs, "utc")};
    const auto decoded = v2_time(time, error);
    if (!decoded) return std::nullopt;
    marker.time = *decoded;
    const std::string_view type = value_of(*pairs, "mt");
    const std::string_view name = value_of(*pairs, "n");
    marker.label = std::string(name.empty() ? type : name);
    marker.key = "marker|" + marker.source + "|mt=" + std::string(type) +
                 "|n=" + std::string(name) + "|d=" + std::string(time.d) +
                 "|t=" + std::string(time.t) + "|ut=" + std::string(time.ut) +
                 "|utc=" + std::string(time.utc);
    return marker;
  }
  const std::string_view when = pieces[0];
  const std::size_t space = when.find(' ');
  if (space != std::string_view::npos) {
    const auto days = parse_iso_date(when.substr(0, space));
    const auto time_of_day = parse_mylaps_time_of_day(when.substr(space + 1));
    if (!days || !time_of_day) {
      error = "marker time " + quote(when) + " is not YYYY-MM-DD HH:MM:SS.fff";
      return std::nullopt;
    }
    marker.time = DecoderTime{*days * kMsPerDay + *time_of_day, DecoderTimeBase::local_civil};
  } else if (const auto time_of_day = parse_mylaps_time_of_day(when)) {
    marker.time = DecoderTime{*time_of_day, DecoderTimeBase::local_time_of_day};
  } else {
    error = "marker time " + quote(when) + " is not YYYY-MM-DD HH:MM:SS.fff";
    return std::nullopt;
  }
  const std::string_view type = pieces.size() > 1 ? pieces[1] : std::string_view{};
  const std::string_view name = pieces.size() > 2 ? pieces[2] : std::string_view{};
  marker.label = std::string(name.empty() ? type : name);
  marker.key = "marker|" + marker.source + "|" + std::string(record);
  return marker;
}

}  // namespace

std::string mylaps_v1_checksum(std::string_view first37) {
  unsigned sum = 0;
  for (char c : first37)
    sum += static_cast<unsigned char>(c);
  static constexpr char kHex[] = "0123456789ABCDEF";
  return {kHex[(sum >> 4) & 0xF], kHex[sum & 0xF]};
}

std::optional<std::int64_t> parse_mylaps_time_of_day(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2) return std::nullopt;
  const auto hours = parse_digits(text.substr(0, colon));
  text.remove_prefix(colon + 1);
  if (text.size() < 5 || text[2] != ':') return std::nullopt;
  const auto minutes = parse_digits(text.substr(0, 2));
  const auto seconds = parse_digits(text.substr(3, 2));
  if (!hours || !minutes || !seconds || *hours > 23 || *minutes > 59 || *seconds > 59)
    return std::nullopt;
  text.remove_prefix(5);
  std::int64_t ms = 0;
  if (!text.empty()) {
    if (text.front() != '.') return std::nullopt;
    text.remove_prefix(1);
    if (!all_digits(text)) return std::nullopt;
    // Milliseconds from the first three digits, truncated; fewer digits are tenths, hundredths.
    std::int64_t scale = 100;
    for (std::size_t i = 0; i < text.size() && i < 3; ++i, scale /= 10)
      ms += (text[i] - '0') * scale;
  }
  return ((*hours * 60 + *minutes) * 60 + *seconds) * 1000 + ms;
}

MylapsProtocol::MylapsProtocol(MylapsOptions options, TimeMs now)
    : options_(std::move(options)),
      splitter_('$', options_.max_frame_bytes, kStripBetweenFrames),
      last_received_(now),
      last_ping_sent_(now) {}

bool MylapsProtocol::wants_bytes() const {
  return !closed_ && (!in_flight_ || queue_.size() < options_.max_queued_messages);
}

DecoderOutput MylapsProtocol::on_bytes(std::string_view bytes, TimeMs now) {
  DecoderOutput out;
  if (closed_) return out;
  if (!bytes.empty()) last_received_ = std::max(last_received_, now);
  SplitRecords split_frames = splitter_.feed(bytes);
  for (std::size_t i = 0; i < split_frames.overlong; ++i)
    malformed("frame longer than " + std::to_string(options_.max_frame_bytes) + " bytes dropped",
              out);
  for (const std::string& frame : split_frames.records) {
    if (closed_) break;
    if (!frame.empty()) handle_frame(frame, now, out);
  }
  return out;
}

void MylapsProtocol::handle_frame(std::string_view frame, TimeMs now, DecoderOutput& out) {
  std::vector<std::string_view> fields = split(frame, '@');
  // Frames end in `@$`: the field after the last '@' is empty.
  if (fields.size() > 1 && fields.back().empty()) fields.pop_back();
  if (fields.size() < 2 || fields[1].empty()) {
    malformed("frame " + quote(frame) + " has no function", out);
    return;
  }
  const std::string_view source = fields[0];
  const std::string_view function = fields[1];
  if (function == "Pong") {
    out.notices.heartbeat = true;
    send(options_.version == MylapsVersion::v2 ? make_frame("AckPong", "Version2.1")
                                               : make_frame("AckPong"),
         out);
    ack_pong_sent_ = true;
    if (options_.get_locations_on_connect && !locations_asked_) {
      locations_asked_ = true;
      send(make_frame("GetLocations"), out);
    }
    last_ping_sent_ = std::max(last_ping_sent_, now);
  } else if (function == "Ping") {
    out.notices.heartbeat = true;
    send(make_frame("AckPing"), out);
  } else if (function == "AckPing") {
    out.notices.heartbeat = true;
  } else if (function == "GetLocations" || function == "AckGetLocations") {
    std::vector<std::string> names;
    for (std::size_t i = 2; i < fields.size(); ++i) {
      if (fields[i].substr(0, 3) == "ln=") {
        names.emplace_back(fields[i].substr(3));
      } else {
        malformed("GetLocations field " + quote(fields[i]) + " is not ln=<name>", out);
      }
    }
    out.notices.locations = std::move(names);
  } else if (function == "Passing" || function == "Store" || function == "Marker") {
    handle_records_message(source, function, fields, out);
  } else {
    malformed("frame " + quote(frame) + " has unknown function " + quote(function), out);
  }
}

void MylapsProtocol::handle_records_message(std::string_view source, std::string_view function,
                                            const std::vector<std::string_view>& fields,
                                            DecoderOutput& out) {
  ++stats_.messages;
  PendingMessage message;
  std::size_t records_end = fields.size();
  const std::string_view number = fields.size() > 2 ? fields.back() : std::string_view{};
  if (all_digits(number) && number.size() <= 10) {
    --records_end;
    message.ack = make_frame("Ack" + std::string(function), number);
  } else {
    malformed(std::string(function) + " message from " + quote(source) +
                  " has no message number (last field " + quote(number) +
                  "): its records are stored but it cannot be acknowledged",
              out);
  }
  bool bad_record = false;
  bool waits_on_pending = false;
  std::unordered_set<std::string> keys_in_message;
  for (std::size_t i = 2; i < records_end; ++i) {
    const std::string_view record = fields[i];
    if (record.empty()) continue;
    ++stats_.records;
    std::string error;
    std::string key;
    if (function == "Marker") {
      std::optional<DecoderGunMarker> marker = parse_marker(source, record, error);
      if (marker) {
        key = marker->key;
        if (!known(key) && keys_in_message.insert(key).second)
          message.markers.push_back(std::move(*marker));
      }
    } else {
      std::optional<DecoderRawRead> read = function == "Passing"
                                               ? parse_v2_passing(source, record, options_, error)
                                               : parse_v1_store(source, record, error);
      if (read) {
        key = read->key;
        if (!known(key) && keys_in_message.insert(key).second)
          message.reads.push_back(std::move(*read));
      }
    }
    if (key.empty()) {
      bad_record = true;
      ++stats_.bad_records;
      malformed(std::string(function) + " record " + quote(record) + " from " + quote(source) +
                    " not stored: " + error,
                out);
      continue;
    }
    if (known(key)) {
      ++stats_.records_resent;
      if (!durable_keys_.contains(key)) waits_on_pending = true;
    }
  }
  if (bad_record && !options_.ack_messages_with_bad_records) message.ack.clear();
  accept_message(std::move(message), waits_on_pending, out);
}

void MylapsProtocol::accept_message(PendingMessage message, bool waits_on_pending,
                                    DecoderOutput& out) {
  const bool has_new = !message.reads.empty() || !message.markers.empty();
  if (!has_new && !waits_on_pending) {
    // Every record is durable already (a resend) or there is nothing to store.
    send_ack(std::move(message.ack), out);
    return;
  }
  if (in_flight_ && queue_.size() >= options_.max_queued_messages) {
    ++stats_.dropped_messages;
    malformed("queue full (" + std::to_string(queue_.size()) +
                  " messages wait to be stored): message dropped unacknowledged, the exporter "
                  "resends it",
              out);
    return;
  }
  for (const DecoderRawRead& read : message.reads)
    pending_keys_.insert(read.key);
  for (const DecoderGunMarker& marker : message.markers)
    pending_keys_.insert(marker.key);
  queue_.push_back(std::move(message));
  if (!in_flight_) release_queue(out);
}

void MylapsProtocol::release_queue(DecoderOutput& out) {
  while (!in_flight_ && !queue_.empty()) {
    DecoderBatch batch;
    InFlight flight;
    for (PendingMessage& message : queue_) {
      if (!message.ack.empty()) flight.acks.push_back(std::move(message.ack));
      for (DecoderRawRead& read : message.reads) {
        flight.keys.push_back(read.key);
        batch.reads.push_back(std::move(read));
      }
      for (DecoderGunMarker& marker : message.markers) {
        flight.keys.push_back(marker.key);
        batch.markers.push_back(std::move(marker));
      }
    }
    queue_.clear();
    if (batch.reads.empty() && batch.markers.empty()) {
      // Resends of what the last batch stored: durable now.
      for (std::string& ack : flight.acks)
        send_ack(std::move(ack), out);
      continue;
    }
    in_flight_ = std::move(flight);
    out.persist = std::move(batch);
  }
}

DecoderOutput MylapsProtocol::on_persisted(TimeMs now) {
  DecoderOutput out;
  if (closed_ || !in_flight_) return out;
  // The wait on the caller does not count as the exporter being idle.
  last_received_ = std::max(last_received_, now);
  InFlight done = std::move(*in_flight_);
  in_flight_.reset();
  for (std::string& key : done.keys) {
    pending_keys_.erase(key);
    remember_durable(std::move(key));
  }
  for (std::string& ack : done.acks)
    send_ack(std::move(ack), out);
  release_queue(out);
  return out;
}

DecoderOutput MylapsProtocol::on_store_error(std::string_view detail, TimeMs /*now*/) {
  DecoderOutput out;
  if (closed_) return out;
  close("store failed: " + std::string(detail), out);
  return out;
}

DecoderOutput MylapsProtocol::on_tick(TimeMs now) {
  DecoderOutput out;
  if (closed_) return out;
  if (!in_flight_ && now - last_received_ > options_.idle_timeout_ms) {
    close("nothing received for " + std::to_string(now - last_received_) + " ms", out);
    return out;
  }
  if (ack_pong_sent_ &&
      now - std::max(last_received_, last_ping_sent_) >= options_.ping_interval_ms) {
    last_ping_sent_ = now;
    send(make_frame("Ping"), out);
  }
  return out;
}

void MylapsProtocol::send(std::string framed, DecoderOutput& out) {
  out.send.push_back(std::move(framed));
}

void MylapsProtocol::send_ack(std::string ack, DecoderOutput& out) {
  if (ack.empty()) return;
  ++stats_.acks_sent;
  send(std::move(ack), out);
}

std::string MylapsProtocol::make_frame(std::string_view function, std::string_view field) const {
  std::string framed = options_.source_name;
  framed.push_back('@');
  framed.append(function);
  framed.push_back('@');
  if (!field.empty()) {
    framed.append(field);
    framed.push_back('@');
  }
  framed.push_back('$');
  return framed;
}

void MylapsProtocol::malformed(std::string text, DecoderOutput& out) {
  ++stats_.malformed_notices;
  out.notices.malformed.push_back(std::move(text));
}

void MylapsProtocol::remember_durable(std::string key) {
  if (options_.max_remembered_keys == 0) return;
  if (!durable_keys_.insert(key).second) return;
  durable_order_.push_back(std::move(key));
  while (durable_order_.size() > options_.max_remembered_keys) {
    durable_keys_.erase(durable_order_.front());
    durable_order_.pop_front();
  }
}

bool MylapsProtocol::known(const std::string& key) const {
  return durable_keys_.contains(key) || pending_keys_.contains(key);
}

void MylapsProtocol::close(std::string reason, DecoderOutput& out) {
  closed_ = true;
  in_flight_.reset();
  queue_.clear();
  pending_keys_.clear();
  out.persist.reset();
  out.close_after_send = true;
  out.close_reason = std::move(reason);
}

}  // namespace splitstream
