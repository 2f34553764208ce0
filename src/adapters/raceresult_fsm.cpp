#include "adapters/raceresult_fsm.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace splitstream {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::uint64_t kMaxNumber = UINT64_MAX;

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t semicolon = line.find(';');
    fields.push_back(line.substr(0, semicolon));
    if (semicolon == std::string_view::npos) return fields;
    line.remove_prefix(semicolon + 1);
  }
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Unsigned decimal digits only (from_chars would take a leading '-' for signed types).
template <typename Number>
std::optional<Number> parse_unsigned(std::string_view text) {
  if (!all_digits(text)) return std::nullopt;
  return parse_number<Number>(text);
}

// Quoted for messages, cut short: a malformed line may be long or binary.
std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 80;
  std::string out = "'";
  for (char c : text.substr(0, kShown))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (text.size() > kShown) out += "...";
  out += "'";
  return out;
}

// GETSTATUS reply fields (after the command name) as the brief lists them. Only the leading ones
// and, in the documented 25-field layout, the last two are named; "position" and "temperatures"
// may span several fields, so the ones between are field_<i>.
std::string status_field_name(std::size_t index, std::size_t count) {
  static constexpr const char* kLeading[] = {"date",           "time",        "power",  "antennas",
                                             "operation_mode", "file_number", "gps_fix"};
  if (index < std::size(kLeading)) return kLeading[index];
  if (count == 25 && index == 23) return "time_source";
  if (count == 25 && index == 24) return "error_flags";
  return "field_" + std::to_string(index);
}

constexpr std::size_t kStatusOperationMode = 4;

}  // namespace

std::optional<DecoderTime> parse_raceresult_time(std::string_view date, std::string_view time) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  const auto year = parse_unsigned<int>(date.substr(0, 4));
  const auto month = parse_unsigned<unsigned>(date.substr(5, 2));
  const auto day = parse_unsigned<unsigned>(date.substr(8, 2));
  if (!year || !month || !day) return std::nullopt;

  // hh:mm:ss with an optional fraction of any length (kept to the millisecond).
  const std::size_t dot = time.find('.');
  const std::string_view whole = time.substr(0, dot);
  if (whole.size() < 7 || whole.size() > 8) return std::nullopt;
  const std::size_t hour_digits = whole.size() - 6;
  if (whole[hour_digits] != ':' || whole[hour_digits + 3] != ':') return std::nullopt;
  const auto hours = parse_unsigned<int>(whole.substr(0, hour_digits));
  const auto minutes = parse_unsigned<int>(whole.substr(hour_digits + 1, 2));
  const auto seconds = parse_unsigned<int>(whole.substr(hour_digits + 4, 2));
  if (!hours || !minutes || !seconds || *hours > 23 || *minutes > 59 || *seconds > 59)
    return std::nullopt;
  std::int64_t millis = 0;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = time.substr(dot + 1);
    if (!all_digits(fraction)) return std::nullopt;
    for (std::size_t i = 0; i < 3; ++i)
      millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  const std::int64_t of_day = ((*hours * 60 + *minutes) * 60 + *seconds) * 1000LL + millis;

  DecoderTime out;
  if (*year == 0) {
    // No GPS and no SETTIME date: 0000-00-00 is the first day, 0000-00-01 the next, ...
    if (*month != 0) return std::nullopt;
    out.base = DecoderTimeBase::local_time_of_day;
    out.ms = *day * kDayMs + of_day;
    return out;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  out.base = DecoderTimeBase::local_civil;
  out.ms = days_from_civil(*year, *month, *day) * kDayMs + of_day;
  return out;
}

std::optional<RaceResultRecord> parse_raceresult_record(std::string_view record,
                                                        std::string& error) {
  // PassingNo;Bib/TranspCode;Date;Time;EventID;Hits;MaxRSSI;InternalData;IsActive;Channel;
  // LoopID;LoopOnly;WakeupCounter;Battery;Temperature;InternalActiveData;BoxName;FileNumber;
  // MaxRSSIAntenna;BoxId (protocol 1.6+); older protocols stop after the first 7-9 fields.
  const std::vector<std::string_view> fields = split_fields(record);
  if (fields.size() < 4) {
    error = "a passing record has at least 4 fields (number;code;date;time), got " +
            std::to_string(fields.size());
    return std::nullopt;
  }
  RaceResultRecord out;
  const auto number = parse_unsigned<std::uint64_t>(fields[0]);
  if (!number || *number == 0) {
    error = "passing number " + quoted(fields[0]) + " is not a positive number";
    return std::nullopt;
  }
  out.number = *number;
  if (fields[1].empty()) {
    error = "passing " + std::to_string(out.number) + " has an empty transponder code";
    return std::nullopt;
  }
  out.chip = std::string(fields[1]);
  const std::optional<DecoderTime> time = parse_raceresult_time(fields[2], fields[3]);
  if (!time) {
    error = "passing " + std::to_string(out.number) + " has a bad date/time " +
            quoted(std::string(fields[2]) + ";" + std::string(fields[3]));
    return std::nullopt;
  }
  out.time = *time;
  // Fields that do not identify the read are taken when they parse and ignored when not: a
  // strange RSSI must not cost the passing.
  if (fields.size() > 6) out.rssi = parse_number<int>(fields[6]);
  if (fields.size() > 15) out.internal_active_data = parse_unsigned<unsigned>(fields[15]);
  if (fields.size() > 16) out.box = std::string(fields[16]);
  if (fields.size() > 17 && !fields[17].empty()) {
    out.file = parse_unsigned<std::uint32_t>(fields[17]);
    if (!out.file) {
      error =
          "passing " + std::to_string(out.number) + " has a bad file number " + quoted(fields[17]);
      return std::nullopt;
    }
  }
  return out;
}

RaceResultProtocol::RaceResultProtocol(RaceResultOptions options,
                                       std::map<std::uint32_t, std::uint64_t> cursors, TimeMs now)
    : options_(std::move(options)),
      splitter_('\n', options_.max_line_bytes, "\r"),
      last_sent_(now),
      last_poll_(now) {
  if (options_.fetch_chunk == 0) options_.fetch_chunk = 1;
  if (options_.max_batch_reads == 0) options_.max_batch_reads = 1;
  for (const auto& [file, cursor] : cursors)
    files_[file].stored = cursor;
}

DecoderOutput RaceResultProtocol::on_connected(TimeMs now) {
  DecoderOutput out;
  if (closed_ || connected_) return out;
  connected_ = true;
  last_poll_ = now;
  if (!options_.protocol_version.empty()) enqueue({CommandKind::set_protocol});
  enqueue({CommandKind::get_time});
  enqueue({CommandKind::get_status});
  enqueue({CommandKind::passings});
  dispatch(now, out);
  return out;
}

DecoderOutput RaceResultProtocol::on_bytes(std::string_view bytes, TimeMs now) {
  DecoderOutput out;
  if (closed_) return out;
  const SplitRecords split = splitter_.feed(bytes);
  for (std::size_t i = 0; i < split.overlong; ++i)
    malformed(
        "a line longer than " + std::to_string(options_.max_line_bytes) + " bytes was dropped",
        out);
  for (const std::string& line : split.records) {
    handle_line(line, now, out);
    if (closed_) return out;
  }
  maybe_persist(out);
  dispatch(now, out);
  return out;
}

DecoderOutput RaceResultProtocol::on_persisted(TimeMs now) {
  DecoderOutput out;
  if (closed_ || !in_flight_batch_) return out;
  std::set<std::uint32_t> touched;
  for (const QueuedPassing& passing : in_flight_batch_->passings) {
    FileState& state = files_[passing.file];
    state.pending.erase(passing.number);
    if (passing.number > state.stored) state.stored_above.insert(passing.number);
    touched.insert(passing.file);
  }
  for (std::uint32_t file : touched) {
    FileState& state = files_[file];
    while (!state.stored_above.empty() && *state.stored_above.begin() <= state.stored + 1) {
      state.stored = std::max(state.stored, *state.stored_above.begin());
      state.stored_above.erase(state.stored_above.begin());
    }
  }
  in_flight_batch_.reset();
  ++stats_.batches_persisted;
  // The reply clock stood still while we waited on the store.
  if (in_flight_) in_flight_->progress = now;
  maybe_persist(out);
  dispatch(now, out);
  return out;
}

DecoderOutput RaceResultProtocol::on_store_error(std::string_view detail, TimeMs) {
  DecoderOutput out;
  if (closed_) return out;
  close("storing passings failed: " + std::string(detail), out);
  return out;
}

DecoderOutput RaceResultProtocol::on_tick(TimeMs now) {
  DecoderOutput out;
  if (closed_ || !connected_) return out;
  if (in_flight_ && !wants_bytes()) in_flight_->progress = now;  // the caller is not reading
  if (in_flight_ && now - in_flight_->progress >= options_.reply_timeout_ms) {
    close("no reply to " + command_text(in_flight_->command) + " within " +
              std::to_string(options_.reply_timeout_ms) + " ms",
          out);
    return out;
  }
  if (now - last_poll_ >= options_.status_poll_interval_ms) {
    last_poll_ = now;
    enqueue_unique(CommandKind::get_status);
    enqueue_unique(CommandKind::get_time);
    enqueue_unique(CommandKind::passings);
  }
  if (!in_flight_ && commands_.empty() && now - last_sent_ >= options_.ping_interval_ms)
    enqueue({CommandKind::ping});
  maybe_persist(out);
  dispatch(now, out);
  return out;
}

bool RaceResultProtocol::wants_bytes() const {
  return !closed_ && queue_.size() < options_.max_queued_reads;
}

std::map<std::uint32_t, std::uint64_t> RaceResultProtocol::stored_cursors() const {
  std::map<std::uint32_t, std::uint64_t> out;
  for (const auto& [file, state] : files_)
    out[file] = state.stored;
  return out;
}

std::optional<std::uint64_t> RaceResultProtocol::backlog() const {
  if (!stats_.current_file || !stats_.decoder_count) return std::nullopt;
  std::uint64_t stored = 0;
  if (const auto it = files_.find(*stats_.current_file); it != files_.end())
    stored = it->second.stored + it->second.stored_above.size();
  return *stats_.decoder_count > stored ? *stats_.decoder_count - stored : 0;
}

void RaceResultProtocol::handle_line(const std::string& line, TimeMs now, DecoderOutput& out) {
  const std::string_view view(line);
  if (view.substr(0, 3) == "#P;") {
    handle_push(view.substr(3), now, out);
    return;
  }
  if (!view.empty() && view.front() == '#') {
    malformed("unknown pushed line " + quoted(view), out);
    return;
  }
  if (!options_.ping_expects_reply && split_fields(view).front() == "PING") {
    out.notices.heartbeat = true;
    return;
  }
  if (in_flight_ && in_flight_->command.kind == CommandKind::range) {
    handle_range_line(line, now, out);
    return;
  }
  if (view.empty()) return;  // a blank line outside a range reply means nothing
  if (in_flight_) {
    handle_reply(line, now, out);
    return;
  }
  malformed("unsolicited line " + quoted(view) + " (no command waiting for a reply)", out);
}

void RaceResultProtocol::handle_push(std::string_view text, TimeMs, DecoderOutput& out) {
  std::string error;
  const std::optional<RaceResultRecord> record = parse_raceresult_record(text, error);
  if (!record) {
    malformed("#P: " + error, out);
    return;
  }
  std::uint32_t file = 0;
  if (record->file) {
    file = *record->file;
    if (current_file_ != file) switch_file(file, out);
  } else if (!current_file_) {
    // A push before PASSINGS named the file (the decoder kept pushing from an earlier session):
    // the count PASSINGS reports includes it, so the fetch brings it with its file.
    ++stats_.duplicates;
    enqueue_unique(CommandKind::passings);
    return;
  } else {
    file = *current_file_;
    if (record->number <= held_top(file)) {
      // Without a file number, a number we already reached is a repeat or the first passings
      // of a new file: PASSINGS tells (a lower count means a new file), and a fetch follows.
      ++stats_.duplicates;
      enqueue_unique(CommandKind::passings);
      return;
    }
  }
  const std::uint64_t top = known_top(file);
  if (top < kMaxNumber && record->number > top + 1)
    plan_fetch(file, top + 1, record->number - 1, out);
  if (take_record(*record, file)) ++stats_.passings_pushed;
}

void RaceResultProtocol::handle_range_line(const std::string& line, TimeMs now,
                                           DecoderOutput& out) {
  if (line.empty()) {  // the end of a range reply
    const Command done = in_flight_->command;
    const bool nothing = in_flight_->records == 0;
    in_flight_.reset();
    // The decoder had nothing there: it holds fewer passings than it said (or the file changed).
    // The rest of this gap is dropped; the next PASSINGS poll plans again from what is held.
    if (nothing && !commands_.empty() && commands_.front().kind == CommandKind::range &&
        commands_.front().file == done.file && commands_.front().from == done.from + done.count)
      commands_.pop_front();
    return;
  }
  in_flight_->progress = now;
  ++in_flight_->records;
  std::string error;
  const std::optional<RaceResultRecord> record = parse_raceresult_record(line, error);
  if (!record) {
    malformed("range " + command_text(in_flight_->command) + ": " + error, out);
    return;
  }
  const std::uint32_t file = record->file.value_or(in_flight_->command.file);
  if (take_record(*record, file)) {
    ++stats_.passings_fetched;
    ++stats_.refetched_reads;
    ++out.notices.refetched_reads;
  }
}

void RaceResultProtocol::handle_reply(const std::string& line, TimeMs, DecoderOutput& out) {
  const std::vector<std::string_view> fields = split_fields(line);
  const InFlight waiting = *in_flight_;
  in_flight_.reset();
  if (waiting.command.kind == CommandKind::ping) {  // its reply is unverified: any line will do
    out.notices.heartbeat = true;
    return;
  }
  if (fields.front() != waiting.name) {
    // Taken as the (failed) answer, so one odd reply cannot stall the session; what the command
    // was for is asked again by the next status poll.
    malformed("reply to " + waiting.name + " expected, got " + quoted(line), out);
    return;
  }
  switch (waiting.command.kind) {
    case CommandKind::set_protocol:
      if (fields.size() > 1) {
        stats_.active_protocol = std::string(fields[1]);
        out.notices.status.emplace_back("protocol", stats_.active_protocol);
      }
      break;
    case CommandKind::start_operation:
      decoder_idle_ = false;
      enqueue_unique(CommandKind::passings);  // the new file
      break;
    case CommandKind::get_time: {
      std::optional<DecoderTime> time;
      if (fields.size() >= 3) time = parse_raceresult_time(fields[1], fields[2]);
      if (time)
        out.notices.clock_reading = time;
      else
        malformed("GETTIME reply without a valid date;time: " + quoted(line), out);
      break;
    }
    case CommandKind::get_status:
      handle_status_reply(fields, out);
      break;
    case CommandKind::passings:
      handle_passings_reply(fields, out);
      break;
    case CommandKind::set_push:
    case CommandKind::range:
    case CommandKind::ping:
      break;
  }
}

void RaceResultProtocol::handle_passings_reply(const std::vector<std::string_view>& fields,
                                               DecoderOutput& out) {
  const std::optional<std::uint64_t> count =
      fields.size() > 1 ? parse_unsigned<std::uint64_t>(fields[1]) : std::nullopt;
  if (!count) {
    malformed("PASSINGS reply without a count", out);
    return;
  }
  std::uint32_t file = 0;
  if (fields.size() > 2 && !fields[2].empty()) {
    const std::optional<std::uint32_t> named = parse_unsigned<std::uint32_t>(fields[2]);
    if (!named) {
      malformed("PASSINGS reply with a bad file number " + quoted(fields[2]), out);
      return;
    }
    file = *named;
    if (current_file_ != file) switch_file(file, out);
    if (*count < files_[file].stored) {
      malformed("PASSINGS: file " + std::to_string(file) + " has " + std::to_string(*count) +
                    " passings, fewer than the " + std::to_string(files_[file].stored) +
                    " already stored",
                out);
    }
  } else {
    if (!current_file_) {
      // Our own file numbering: continue with the last file we stored from.
      const std::uint32_t last = files_.empty() ? 1 : files_.rbegin()->first;
      switch_file(last, out);
    }
    if (*count < held_top(*current_file_))
      switch_file(*current_file_ + 1, out);  // a lower count: a new file
    file = *current_file_;
  }
  stats_.decoder_count = *count;
  if (!push_requested_) {
    // Before the catch-up ranges: passings recorded during the fetch are pushed, and a push
    // that skips numbers is caught by the gap check.
    push_requested_ = true;
    commands_.push_front({CommandKind::set_push});
  }
  const FileState& state = files_[file];
  if (!range_pending())
    plan_fetch(file, state.stored + 1, *count, out);
  else if (state.requested_upto < kMaxNumber)
    plan_fetch(file, state.requested_upto + 1, *count, out);
}

void RaceResultProtocol::handle_status_reply(const std::vector<std::string_view>& fields,
                                             DecoderOutput& out) {
  const std::size_t count = fields.size() - 1;
  for (std::size_t i = 0; i < count; ++i)
    out.notices.status.emplace_back(status_field_name(i, count), std::string(fields[i + 1]));
  if (count > kStatusOperationMode) decoder_idle_ = fields[kStatusOperationMode + 1] == "0";
}

bool RaceResultProtocol::take_record(const RaceResultRecord& record, std::uint32_t file) {
  FileState& state = files_[file];
  const std::uint64_t number = record.number;
  if (number <= state.stored || state.stored_above.count(number) != 0 ||
      state.pending.count(number) != 0) {
    ++stats_.duplicates;
    return false;
  }
  state.pending.insert(number);
  QueuedPassing passing;
  passing.file = file;
  passing.number = number;
  passing.trigger = std::find(options_.trigger_codes.begin(), options_.trigger_codes.end(),
                              record.chip) != options_.trigger_codes.end();
  passing.read.key = std::to_string(file) + "/" + std::to_string(number);
  passing.read.source = record.box;
  passing.read.chip = record.chip;
  passing.read.time = record.time;
  passing.read.rssi_dbm = record.rssi;
  // InternalActiveData is read as decimal; its notation is unverified (counted, nothing more).
  if (record.internal_active_data && (*record.internal_active_data & 0x40U) != 0)
    ++stats_.stored_late;
  queue_.push_back(std::move(passing));
  return true;
}

void RaceResultProtocol::plan_fetch(std::uint32_t file, std::uint64_t from, std::uint64_t to,
                                    DecoderOutput& out) {
  FileState& state = files_[file];
  from = std::max(from, state.stored + 1);
  if (to < from) return;
  state.requested_upto = std::max(state.requested_upto, to);

  // One command per gap, cut into chunks as it is sent (dispatch), so that a count the decoder
  // overstates costs no memory.
  auto add_gap = [&](std::uint64_t first, std::uint64_t last) {
    ++stats_.refetched_gaps;
    ++out.notices.refetched_gaps;
    enqueue({CommandKind::range, file, first, last - first + 1});
  };
  // Walk the held numbers (stored above a hole, or pending) in [from, to]; fetch what is between.
  auto above = state.stored_above.lower_bound(from);
  auto pending = state.pending.lower_bound(from);
  std::uint64_t next_missing = from;
  for (;;) {
    std::uint64_t held = 0;
    const bool has_above = above != state.stored_above.end() && *above <= to;
    const bool has_pending = pending != state.pending.end() && *pending <= to;
    if (!has_above && !has_pending) break;
    if (has_above && (!has_pending || *above <= *pending)) {
      held = *above++;
      if (has_pending && *pending == held) ++pending;
    } else {
      held = *pending++;
    }
    if (held > next_missing) add_gap(next_missing, held - 1);
    if (held == kMaxNumber) return;
    next_missing = held + 1;
  }
  if (next_missing <= to) add_gap(next_missing, to);
}

void RaceResultProtocol::switch_file(std::uint32_t file, DecoderOutput& out) {
  if (current_file_ == file) return;
  current_file_ = file;
  stats_.current_file = file;
  files_[file];  // known from now on, so stored_cursors() lists it
  out.notices.status.emplace_back("passing_file", std::to_string(file));
  // Ranges read the current file only: those queued for another file would read the wrong one.
  std::erase_if(commands_, [&](const Command& command) {
    return command.kind == CommandKind::range && command.file != file;
  });
}

std::uint64_t RaceResultProtocol::held_top(std::uint32_t file) const {
  const auto found = files_.find(file);
  if (found == files_.end()) return 0;
  const FileState& state = found->second;
  std::uint64_t top = state.stored;
  if (!state.stored_above.empty()) top = std::max(top, *state.stored_above.rbegin());
  if (!state.pending.empty()) top = std::max(top, *state.pending.rbegin());
  return top;
}

std::uint64_t RaceResultProtocol::known_top(std::uint32_t file) const {
  const auto found = files_.find(file);
  if (found == files_.end()) return 0;
  return std::max(held_top(file), found->second.requested_upto);
}

bool RaceResultProtocol::range_pending() const {
  if (in_flight_ && in_flight_->command.kind == CommandKind::range) return true;
  return std::any_of(commands_.begin(), commands_.end(),
                     [](const Command& command) { return command.kind == CommandKind::range; });
}

void RaceResultProtocol::enqueue(Command command) {
  commands_.push_back(command);
}

void RaceResultProtocol::enqueue_unique(CommandKind kind) {
  if (in_flight_ && in_flight_->command.kind == kind) return;
  for (const Command& command : commands_)
    if (command.kind == kind) return;
  enqueue({kind});
}

void RaceResultProtocol::dispatch(TimeMs now, DecoderOutput& out) {
  if (closed_ || !connected_) return;
  while (!in_flight_) {
    if (commands_.empty()) maybe_start_operation();
    if (commands_.empty()) return;
    const Command command = commands_.front();
    if (command.kind == CommandKind::range) {
      if (current_file_ != command.file) {
        commands_.pop_front();
        continue;
      }
      // Backpressure: fetch more only once the store has caught up.
      if (queue_.size() >= options_.max_queued_reads) return;
    }
    Command sent = command;
    if (command.kind == CommandKind::range && command.count > options_.fetch_chunk) {
      sent.count = options_.fetch_chunk;  // the rest of the gap stays first in line
      commands_.front().from += options_.fetch_chunk;
      commands_.front().count -= options_.fetch_chunk;
    } else {
      commands_.pop_front();
    }
    const std::string text = command_text(sent);
    out.send.push_back(text + "\r\n");
    last_sent_ = now;
    if (sent.kind == CommandKind::ping && !options_.ping_expects_reply) continue;
    InFlight waiting;
    waiting.command = sent;
    waiting.name = text.substr(0, text.find(';'));
    waiting.progress = now;
    in_flight_ = std::move(waiting);
  }
}

void RaceResultProtocol::maybe_persist(DecoderOutput& out) {
  if (in_flight_batch_ || queue_.empty() || closed_) return;
  Batch batch;
  std::map<std::uint32_t, std::set<std::uint64_t>> numbers;
  while (!queue_.empty() && batch.passings.size() < options_.max_batch_reads) {
    numbers[queue_.front().file].insert(queue_.front().number);
    batch.passings.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  DecoderBatch persist;
  for (const QueuedPassing& passing : batch.passings) {
    if (passing.trigger) {
      ++stats_.triggers;
      DecoderGunMarker marker;
      marker.key = passing.read.key;
      marker.source = passing.read.source;
      marker.label = "trigger " + passing.read.chip;
      marker.time = passing.read.time;
      persist.markers.push_back(std::move(marker));
    } else {
      persist.reads.push_back(passing.read);
    }
  }
  // Each file's cursor once this batch is stored: every earlier batch is stored already.
  for (const auto& [file, in_batch] : numbers) {
    const FileState& state = files_[file];
    std::uint64_t cursor = state.stored;
    while (in_batch.count(cursor + 1) != 0 || state.stored_above.count(cursor + 1) != 0)
      ++cursor;
    if (cursor > state.stored)
      persist.cursors.emplace_back("cursor:" + std::to_string(file), cursor);
  }
  out.persist = std::move(persist);
  in_flight_batch_ = std::move(batch);
}

void RaceResultProtocol::maybe_start_operation() {
  if (!options_.start_operation || start_operation_sent_ || !decoder_idle_ || !current_file_ ||
      !stats_.decoder_count || range_pending())
    return;
  // Only once every passing of the current file is held: a new file would strand the rest.
  const FileState& state = files_[*current_file_];
  const std::uint64_t count = *stats_.decoder_count;
  std::uint64_t held = state.stored;
  for (std::uint64_t number : state.stored_above)
    held += number <= count ? 1 : 0;
  for (std::uint64_t number : state.pending)
    held += number <= count ? 1 : 0;
  if (held < count) return;
  start_operation_sent_ = true;
  enqueue({CommandKind::start_operation});
}

void RaceResultProtocol::malformed(std::string message, DecoderOutput& out) {
  ++stats_.malformed;
  out.notices.malformed.push_back(std::move(message));
}

void RaceResultProtocol::close(std::string reason, DecoderOutput& out) {
  closed_ = true;
  out.close_after_send = true;
  out.close_reason = std::move(reason);
}

std::string RaceResultProtocol::command_text(const Command& command) const {
  switch (command.kind) {
    case CommandKind::set_protocol:
      return "SETPROTOCOL;" + options_.protocol_version;
    case CommandKind::start_operation:
      return "STARTOPERATION";
    case CommandKind::get_time:
      return "GETTIME";
    case CommandKind::get_status:
      return "GETSTATUS";
    case CommandKind::passings:
      return "PASSINGS";
    case CommandKind::set_push:
      return "SETPUSHPASSINGS;1;0";
    case CommandKind::range: {
      const std::uint64_t second = options_.range_syntax == RaceResultOptions::RangeSyntax::from_to
                                       ? command.from + command.count - 1
                                       : command.count;
      return std::to_string(command.from) + ":" + std::to_string(second);
    }
    case CommandKind::ping:
      return "PING";
  }
  return "PING";
}

}  // namespace splitstream
