#include "adapters/ctp01_fsm.hpp"

#include <algorithm>
#include <utility>

namespace splitstream {

namespace {

constexpr std::string_view kLineEnd = "\r\n";

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t tilde = line.find('~');
    fields.push_back(line.substr(0, tilde));
    if (tilde == std::string_view::npos) return fields;
    line.remove_prefix(tilde + 1);
  }
}

// Lines in notices come from the client; cap them so one hostile line cannot echo a kilobyte.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxEcho = 80;
  if (text.size() > kMaxEcho) return "\"" + std::string(text.substr(0, kMaxEcho)) + "...\"";
  return "\"" + std::string(text) + "\"";
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::int64_t to_number(std::string_view digits) {
  std::int64_t value = 0;
  for (char c : digits)
    value = value * 10 + (c - '0');
  return value;
}

// ".25" -> 250: a fraction of a second (1-9 digits) in whole milliseconds, truncated.
std::optional<std::int64_t> fraction_ms(std::string_view fraction) {
  if (fraction.empty()) return 0;
  if (fraction.front() != '.') return std::nullopt;
  fraction.remove_prefix(1);
  if (fraction.size() > 9 || !all_digits(fraction)) return std::nullopt;
  std::int64_t ms = 0;
  std::int64_t scale = 100;
  for (char c : fraction) {
    ms += (c - '0') * scale;
    scale /= 10;
  }
  return ms;
}

// HH:MM:SS[.f] (the hour may have one digit).
std::optional<DecoderTime> parse_time_of_day(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon != 1 && colon != 2) return std::nullopt;
  if (text.size() < colon + 6 || text[colon + 3] != ':') return std::nullopt;
  const std::string_view hours = text.substr(0, colon);
  const std::string_view minutes = text.substr(colon + 1, 2);
  const std::string_view seconds = text.substr(colon + 4, 2);
  if (!all_digits(hours) || !all_digits(minutes) || !all_digits(seconds)) return std::nullopt;
  const std::optional<std::int64_t> ms = fraction_ms(text.substr(colon + 6));
  const std::int64_t h = to_number(hours);
  const std::int64_t m = to_number(minutes);
  const std::int64_t s = to_number(seconds);
  if (!ms || h > 23 || m > 59 || s > 59) return std::nullopt;
  return DecoderTime{((h * 60 + m) * 60 + s) * 1000 + *ms, DecoderTimeBase::local_time_of_day};
}

// seconds[.f] since the epoch.
std::optional<DecoderTime> parse_unix_seconds(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view seconds = text.substr(0, dot);
  // 12 digits reach the year 33658: plenty, and far from overflowing the milliseconds.
  if (seconds.size() > 12 || !all_digits(seconds)) return std::nullopt;
  const std::optional<std::int64_t> ms =
      fraction_ms(dot == std::string_view::npos ? std::string_view() : text.substr(dot));
  if (!ms) return std::nullopt;
  return DecoderTime{to_number(seconds) * 1000 + *ms, DecoderTimeBase::utc};
}

}  // namespace

std::string_view to_string(Ctp01TimeFormat format) {
  switch (format) {
    case Ctp01TimeFormat::normal:
      return "normal";
    case Ctp01TimeFormat::iso:
      return "iso";
    case Ctp01TimeFormat::unix_seconds:
      return "unix";
  }
  return "iso";
}

std::optional<Ctp01TimeFormat> parse_ctp01_time_format(std::string_view text) {
  if (text == "normal") return Ctp01TimeFormat::normal;
  if (text == "iso") return Ctp01TimeFormat::iso;
  if (text == "unix") return Ctp01TimeFormat::unix_seconds;
  return std::nullopt;
}

std::string_view to_string(Ctp01Protocol::State state) {
  switch (state) {
    case Ctp01Protocol::State::awaiting_hello:
      return "awaiting_hello";
    case Ctp01Protocol::State::awaiting_locations:
      return "awaiting_locations";
    case Ctp01Protocol::State::streaming:
      return "streaming";
    case Ctp01Protocol::State::closed:
      return "closed";
  }
  return "closed";
}

std::optional<DecoderTime> parse_ctp01_time(std::string_view text) {
  if (text.size() >= 10 && text[4] == '-') {
    // ISO: UTC when it names a zone, else the wall clock as written.
    if (const std::optional<TimeMs> utc = parse_iso8601(text)) {
      return DecoderTime{*utc, DecoderTimeBase::utc};
    }
    if (const std::optional<TimeMs> civil = parse_iso8601(text, 0)) {
      return DecoderTime{*civil, DecoderTimeBase::local_civil};
    }
    return std::nullopt;
  }
  if (text.find(':') != std::string_view::npos) return parse_time_of_day(text);
  return parse_unix_seconds(text);
}

Ctp01Protocol::Ctp01Protocol(Ctp01Options options, TimeMs now)
    : options_(std::move(options)),
      splitter_('\n', options_.max_line_bytes, "\r"),
      last_received_(now),
      last_sent_(now) {}

bool Ctp01Protocol::wants_bytes() const {
  return state_ != State::closed && queue_.size() < options_.max_queued_reads;
}

DecoderOutput Ctp01Protocol::on_bytes(std::string_view bytes, TimeMs now) {
  DecoderOutput out;
  if (closed()) return out;
  if (!wants_bytes()) {
    close("bytes arrived while " + std::to_string(queue_.size()) +
              " reads were waiting to be stored (the caller should have stopped reading)",
          out);
    return out;
  }
  if (!bytes.empty()) last_received_ = std::max(last_received_, now);
  SplitRecords split = splitter_.feed(bytes);
  for (std::size_t i = 0; i < split.overlong; ++i) {
    ++stats_.malformed;
    out.notices.malformed.push_back("line longer than " + std::to_string(options_.max_line_bytes) +
                                    " bytes dropped");
  }
  std::vector<Pending> arrived;
  for (const std::string& line : split.records) {
    if (closed()) break;
    handle_line(line, now, out, arrived);
  }
  if (closed() || arrived.empty()) return out;
  for (Pending& pending : arrived)
    queue_.push_back(std::move(pending));
  if (!in_flight_) release_queue(out);
  return out;
}

DecoderOutput Ctp01Protocol::on_persisted(TimeMs now) {
  DecoderOutput out;
  if (closed() || !in_flight_) return out;
  in_flight_ = false;
  if (options_.push_ack) {
    for (const std::string& sequence : in_flight_sequences_)
      send_line(options_.push_ack_prefix + sequence, now, out);
  }
  in_flight_sequences_.clear();
  // While the queue was full the caller did not read: that silence was ours, not the client's.
  if (queue_.size() >= options_.max_queued_reads) last_received_ = std::max(last_received_, now);
  if (!queue_.empty()) release_queue(out);
  return out;
}

DecoderOutput Ctp01Protocol::on_store_error(std::string_view detail, TimeMs /*now*/) {
  DecoderOutput out;
  if (closed()) return out;
  close("storing reads failed: " + std::string(detail), out);
  return out;
}

DecoderOutput Ctp01Protocol::on_tick(TimeMs now) {
  DecoderOutput out;
  if (closed()) return out;
  if (!wants_bytes()) {
    last_received_ = std::max(last_received_, now);
  } else if (now - last_received_ >= options_.idle_timeout_ms) {
    close("nothing received for " + std::to_string((now - last_received_) / 1000) + " s", out);
    return out;
  }
  if (state_ == State::awaiting_locations && now - greeting_sent_ >= options_.start_wait_ms) {
    send_start(now, out);
  }
  if (state_ != State::awaiting_hello && now - last_sent_ >= options_.ping_interval_ms) {
    send_line("ping", now, out);
  }
  return out;
}

void Ctp01Protocol::handle_line(std::string_view line, TimeMs now, DecoderOutput& out,
                                std::vector<Pending>& arrived) {
  if (line.empty()) return;
  const std::vector<std::string_view> fields = split_fields(line);
  const std::string_view kind = fields[0];
  if (kind == "CT01_33" || kind == "CT01_13") {
    handle_read(line, fields, now, out, arrived);
    return;
  }
  if (line == "ping") {
    ++stats_.pings_received;
    out.notices.heartbeat = true;
    send_line("ack~ping", now, out);
    return;
  }
  if (kind == "ack" && fields.size() >= 2) {
    handle_ack(fields, now, out);
    return;
  }
  if (fields.size() == 3 && fields[2].substr(0, 3) == "CTP") {
    if (state_ != State::awaiting_hello) {
      malformed("a second hello", line, out);
      return;
    }
    handle_hello(fields, now, out);
    return;
  }
  malformed(state_ == State::awaiting_hello ? "not a hello (name~version~CTP01)" : "unknown line",
            line, out);
}

void Ctp01Protocol::handle_hello(const std::vector<std::string_view>& fields, TimeMs now,
                                 DecoderOutput& out) {
  if (fields[2] != "CTP01") {
    close("unsupported protocol " + quoted(fields[2]) + " (we speak CTP01)", out);
    return;
  }
  client_software_ = std::string(fields[0]);
  client_version_ = std::string(fields[1]);
  out.notices.status.emplace_back("software", client_software_);
  out.notices.status.emplace_back("version", client_version_);
  out.notices.status.emplace_back("protocol", "CTP01");

  std::vector<std::string> settings;
  settings.push_back("stream-mode=" + options_.stream_mode);
  settings.push_back("time-format=" + std::string(to_string(options_.time_format)));
  settings.push_back(std::string("guntimes=") + (options_.guntimes ? "true" : "false"));
  settings.push_back(std::string("newlocations=") + (options_.newlocations ? "true" : "false"));
  if (options_.push_ack) settings.emplace_back("pushmode-ack=true");
  for (const auto& [key, value] : options_.extra_settings)
    settings.push_back(key + "=" + value);
  send_line(
      options_.server_name + "~" + options_.server_version + "~" + std::to_string(settings.size()),
      now, out);
  for (std::string& setting : settings)
    send_line(std::move(setting), now, out);
  ++stats_.location_requests;
  send_line("getlocations", now, out);
  greeting_sent_ = now;
  state_ = State::awaiting_locations;
  if (options_.start_wait_ms <= 0) send_start(now, out);
}

void Ctp01Protocol::handle_read(std::string_view line, const std::vector<std::string_view>& fields,
                                TimeMs now, DecoderOutput& out, std::vector<Pending>& arrived) {
  // Fields beyond the eighth are ignored: a later protocol revision may append some.
  if (fields.size() < 8) {
    malformed("read with " + std::to_string(fields.size()) + " fields, expected 8", line, out);
    return;
  }
  const std::string_view sequence = fields[1];
  const std::string_view location = fields[2];
  const std::string_view tag = fields[3];
  const std::string_view time_text = fields[4];
  const std::string_view reader = fields[6];
  const std::string_view port = fields[7];
  if (location.empty()) {
    malformed("read without a location", line, out);
    return;
  }
  if (tag.empty()) {
    malformed("read without a tag", line, out);
    return;
  }
  const std::optional<DecoderTime> time = parse_ctp01_time(time_text);
  if (!time) {
    malformed("read with a bad time " + quoted(time_text), line, out);
    return;
  }
  if (tag == "newlocation") {
    ++stats_.location_requests;
    send_line("getlocations", now, out);
    return;
  }
  std::string key;
  key.reserve(line.size());
  key.append(location).append("~").append(tag).append("~").append(time_text);
  key.append("~").append(reader).append("~").append(port);
  Pending pending;
  pending.sequence = std::string(sequence);
  stats_.last_sequence = pending.sequence;
  if (tag == "guntime") {
    ++stats_.gun_times;
    pending.marker = DecoderGunMarker{std::move(key), std::string(location), "guntime", *time};
  } else {
    ++stats_.reads;
    DecoderRawRead read;
    read.key = std::move(key);
    read.source = std::string(location);
    read.chip = std::string(tag);
    read.time = *time;
    pending.read = std::move(read);
  }
  arrived.push_back(std::move(pending));
}

void Ctp01Protocol::handle_ack(const std::vector<std::string_view>& fields, TimeMs now,
                               DecoderOutput& out) {
  const std::string_view command = fields[1];
  if (command == "ping") {
    out.notices.heartbeat = true;
    return;
  }
  if (command == "getlocations") {
    std::vector<std::string> locations;
    for (std::size_t i = 2; i < fields.size(); ++i) {
      if (!fields[i].empty()) locations.emplace_back(fields[i]);
    }
    out.notices.locations = std::move(locations);
    if (state_ == State::awaiting_locations) send_start(now, out);
    return;
  }
  // Other acknowledgements (of start, of a setting) need nothing from us.
  out.notices.status.emplace_back("ack", std::string(command));
}

void Ctp01Protocol::send_start(TimeMs now, DecoderOutput& out) {
  state_ = State::streaming;
  send_line("start", now, out);
}

void Ctp01Protocol::send_line(std::string line, TimeMs now, DecoderOutput& out) {
  line.append(kLineEnd);
  out.send.push_back(std::move(line));
  last_sent_ = now;
}

void Ctp01Protocol::malformed(std::string what, std::string_view line, DecoderOutput& out) {
  ++stats_.malformed;
  out.notices.malformed.push_back(std::move(what) + ": " + quoted(line));
}

void Ctp01Protocol::release_queue(DecoderOutput& out) {
  DecoderBatch batch;
  in_flight_sequences_.clear();
  for (Pending& pending : queue_) {
    if (pending.read) batch.reads.push_back(std::move(*pending.read));
    if (pending.marker) batch.markers.push_back(std::move(*pending.marker));
    in_flight_sequences_.push_back(std::move(pending.sequence));
  }
  queue_.clear();
  in_flight_ = true;
  out.persist = std::move(batch);
}

void Ctp01Protocol::close(std::string reason, DecoderOutput& out) {
  state_ = State::closed;
  queue_.clear();
  in_flight_ = false;
  in_flight_sequences_.clear();
  out.close_after_send = true;
  out.close_reason = std::move(reason);
}

}  // namespace splitstream
