#include "ingest/device_protocol.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "observe/server_metrics.hpp"

namespace splitstream {

namespace {

// Ids in error texts come from the device; cap them so a hostile Hello cannot echo megabytes.
std::string quoted(std::string_view id) {
  constexpr std::size_t kMaxEcho = 64;
  if (id.size() > kMaxEcho) return "\"" + std::string(id.substr(0, kMaxEcho)) + "...\"";
  return "\"" + std::string(id) + "\"";
}

v1::RejectedRead make_rejected(std::uint64_t seq, v1::ErrorCode code, std::string text) {
  v1::RejectedRead rejected;
  rejected.set_seq(seq);
  rejected.set_code(code);
  rejected.set_text(std::move(text));
  return rejected;
}

// Ascending, non-overlapping ranges strictly above `acked_seq`, whatever the store returned.
std::vector<v1::SeqRange> normalise_gaps(const std::vector<SeqGap>& gaps, std::uint64_t acked_seq) {
  std::vector<SeqGap> ranges;
  for (SeqGap gap : gaps) {
    if (gap.from > gap.to || gap.to <= acked_seq) continue;
    gap.from = std::max(gap.from, acked_seq + 1);
    ranges.push_back(gap);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const SeqGap& a, const SeqGap& b) { return a.from < b.from; });
  std::vector<v1::SeqRange> merged;
  for (const SeqGap& gap : ranges) {
    if (!merged.empty() && gap.from <= merged.back().to() + 1) {
      merged.back().set_to(std::max(merged.back().to(), gap.to));
      continue;
    }
    v1::SeqRange range;
    range.set_from(gap.from);
    range.set_to(gap.to);
    merged.push_back(std::move(range));
  }
  return merged;
}

}  // namespace

v1::Line to_wire(Line line) {
  switch (line) {
    case Line::main:
      return v1::LINE_MAIN;
    case Line::backup:
      return v1::LINE_BACKUP;
    case Line::unspecified:
      break;
  }
  return v1::LINE_UNSPECIFIED;
}

std::string format_seconds(DurationMs duration) {
  std::string sign = duration < 0 ? "-" : "";
  const std::uint64_t ms = duration < 0 ? 0 - static_cast<std::uint64_t>(duration)
                                        : static_cast<std::uint64_t>(duration);
  std::string text = sign + std::to_string(ms / 1000);
  if (const std::uint64_t fraction = ms % 1000; fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0')
      digits.pop_back();
    text += "." + digits;
  }
  return text + " s";
}

std::string_view to_string(DeviceProtocol::State state) {
  switch (state) {
    case DeviceProtocol::State::awaiting_hello:
      return "awaiting_hello";
    case DeviceProtocol::State::loading:
      return "loading";
    case DeviceProtocol::State::established:
      return "established";
    case DeviceProtocol::State::closed:
      return "closed";
  }
  return "unknown";
}

DeviceProtocol::DeviceProtocol(const Event& event, const DeviceTokens& tokens,
                               DeviceProtocolConfig config, TimeMs now)
    : event_(event), tokens_(tokens), config_(config), last_received_(now), last_sent_(now) {}

bool DeviceProtocol::wants_frames() const {
  if (state_ == State::closed) return false;
  return !(in_flight_ && queue_.size() >= config_.max_queued_batches);
}

bool DeviceProtocol::waiting_on_caller() const {
  return state_ == State::loading || in_flight_.has_value();
}

void DeviceProtocol::note_activity(TimeMs now) {
  last_received_ = std::max(last_received_, now);
}

void DeviceProtocol::note_bytes_received(TimeMs now) {
  if (state_ != State::closed) note_activity(now);
}

void DeviceProtocol::note_device_clock(std::int64_t device_time_ms, TimeMs now) {
  if (device_time_ms > 0) stats_.clock_offset_ms = device_time_ms - now;
}

void DeviceProtocol::send(v1::ServerMessage message, TimeMs now, DeviceProtocolOutput& out) {
  out.send.push_back(std::move(message));
  last_sent_ = std::max(last_sent_, now);
}

void DeviceProtocol::fail(v1::ErrorCode code, std::string text, TimeMs now,
                          DeviceProtocolOutput& out, std::uint32_t retry_after_ms) {
  v1::ServerMessage message;
  v1::Error* error = message.mutable_error();
  error->set_code(code);
  error->set_text(std::move(text));
  error->set_retry_after_ms(retry_after_ms);
  send(std::move(message), now, out);
  // Nothing queued is persisted or acknowledged: the device resends it after reconnecting.
  out.load_acked_seq = false;
  out.persist.reset();
  out.close_after_send = true;
  state_ = State::closed;
  in_flight_.reset();
  queue_.clear();
}

DeviceProtocolOutput DeviceProtocol::on_shutdown(TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  fail(v1::ERROR_CODE_SHUTTING_DOWN,
       "the server is stopping; everything acked is stored: reconnect and resend the rest", now,
       out, config_.retry_after_ms);
  return out;
}

DeviceProtocolOutput DeviceProtocol::on_message(const v1::DeviceMessage& message, TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  note_activity(now);
  switch (message.body_case()) {
    case v1::DeviceMessage::kHello:
      if (state_ != State::awaiting_hello) {
        fail(v1::ERROR_CODE_PROTOCOL_VIOLATION,
             "second Hello: a session has exactly one, as its first frame; reconnect to start "
             "a new session",
             now, out);
      } else {
        handle_hello(message.hello(), now, out);
      }
      break;
    case v1::DeviceMessage::kBatch:
      handle_batch(message.batch(), now, out);
      break;
    case v1::DeviceMessage::kHeartbeat:
      handle_heartbeat(message.heartbeat(), now, out);
      break;
    case v1::DeviceMessage::BODY_NOT_SET:
      fail(v1::ERROR_CODE_PROTOCOL_VIOLATION,
           "frame carries no Hello, ReadBatch or Heartbeat (an empty DeviceMessage, or a "
           "message type this server does not know)",
           now, out);
      break;
  }
  return out;
}

DeviceProtocolOutput DeviceProtocol::on_frame_error(FrameError error, std::string_view detail,
                                                    TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  std::string text;
  v1::ErrorCode code = v1::ERROR_CODE_MALFORMED_FRAME;
  if (error == FrameError::too_large) {
    code = v1::ERROR_CODE_FRAME_TOO_LARGE;
    text = "frame larger than the limit of " + std::to_string(config_.max_frame_bytes) +
           " bytes; send smaller ReadBatches";
  } else {
    text = "invalid frame length prefix (expected a base-128 varint of at most 10 bytes)";
  }
  if (!detail.empty()) text += ": " + std::string(detail);
  fail(code, std::move(text), now, out);
  return out;
}

DeviceProtocolOutput DeviceProtocol::on_undecodable_frame(std::string_view detail, TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  std::string text = "frame is not a valid DeviceMessage";
  if (!detail.empty()) text += ": " + std::string(detail);
  fail(v1::ERROR_CODE_MALFORMED_FRAME, std::move(text), now, out);
  return out;
}

void DeviceProtocol::handle_hello(const v1::Hello& hello, TimeMs now, DeviceProtocolOutput& out) {
  const std::string& id = hello.device_id();
  if (id.empty()) {
    fail(v1::ERROR_CODE_UNKNOWN_DEVICE, "Hello.device_id is empty", now, out);
    return;
  }
  const auto device_it = event_.device_by_id.find(id);
  if (device_it == event_.device_by_id.end()) {
    fail(v1::ERROR_CODE_UNKNOWN_DEVICE,
         "device " + quoted(id) + " is not declared in event " + quoted(event_.id) +
             " (ids are case-sensitive; see the devices of event.json)",
         now, out);
    return;
  }
  switch (tokens_.check(id, hello.token())) {
    case TokenCheck::ok:
      break;
    case TokenCheck::no_token:
      fail(v1::ERROR_CODE_BAD_TOKEN,
           "no token is configured for device " + quoted(id) +
               " on the server (device tokens file or SPLITSTREAM_DEVICE_TOKENS)",
           now, out);
      return;
    case TokenCheck::mismatch:
      fail(v1::ERROR_CODE_BAD_TOKEN, "wrong token for device " + quoted(id), now, out);
      return;
  }
  const Device& device = event_.devices[device_it->second];
  if (device.timing_point >= event_.timing_points.size()) {
    // The event loader rejects this; guard against a hand-built Event all the same.
    fail(v1::ERROR_CODE_INTERNAL, "device " + quoted(id) + " has no timing point in the event", now,
         out);
    return;
  }
  device_id_ = id;
  timing_point_id_ = event_.timing_points[device.timing_point].id;
  device_line_ = to_wire(device.line);
  stats_.software = hello.software().substr(0, 128);
  stats_.device_last_acked_seq = hello.last_acked_seq();
  note_device_clock(hello.time_ms(), now);
  state_ = State::loading;
  out.load_acked_seq = true;
}

DeviceProtocolOutput DeviceProtocol::on_acked_seq_loaded(std::uint64_t acked_seq, TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  if (state_ != State::loading) {
    fail(v1::ERROR_CODE_INTERNAL, "server error: acked seq loaded outside the Hello exchange", now,
         out);
    return out;
  }
  state_ = State::established;
  acked_seq_ = acked_seq;
  note_activity(now);  // the device waited on us, not the other way round
  v1::ServerMessage message;
  v1::Welcome* welcome = message.mutable_welcome();
  welcome->set_acked_seq(acked_seq);
  welcome->set_server_time_ms(now);
  welcome->set_max_frame_bytes(config_.max_frame_bytes);
  welcome->set_heartbeat_interval_ms(static_cast<std::uint32_t>(
      std::clamp<DurationMs>(config_.heartbeat_interval_ms, 0, UINT32_MAX)));
  send(std::move(message), now, out);
  return out;
}

void DeviceProtocol::handle_heartbeat(const v1::Heartbeat& heartbeat, TimeMs now,
                                      DeviceProtocolOutput& out) {
  if (state_ == State::awaiting_hello) {
    fail(v1::ERROR_CODE_PROTOCOL_VIOLATION, "Heartbeat before Hello: send Hello first", now, out);
    return;
  }
  // Receiving it already reset the idle clock; the server's own heartbeats come from on_tick.
  note_device_clock(heartbeat.time_ms(), now);
}

std::optional<v1::RejectedRead> DeviceProtocol::validate(v1::Read& read, TimeMs now) const {
  const std::string seq_text = "read seq " + std::to_string(read.seq());
  if (read.chip().empty()) {
    return make_rejected(read.seq(), v1::ERROR_CODE_MALFORMED_FRAME, seq_text + ": empty chip");
  }
  if (read.time_ms() <= 0) {
    return make_rejected(read.seq(), v1::ERROR_CODE_MALFORMED_FRAME,
                         seq_text + ": time_ms is missing (Unix epoch milliseconds UTC)");
  }
  if (!v1::Line_IsValid(read.line())) {
    return make_rejected(read.seq(), v1::ERROR_CODE_MALFORMED_FRAME,
                         seq_text + ": unknown line value " + std::to_string(read.line()));
  }
  if (!read.timing_point_id().empty() && read.timing_point_id() != timing_point_id_) {
    return make_rejected(read.seq(), v1::ERROR_CODE_WRONG_TIMING_POINT,
                         seq_text + ": timing point " + quoted(read.timing_point_id()) +
                             ", but device " + quoted(device_id_) + " is at " +
                             quoted(timing_point_id_) + " (leave timing_point_id empty)");
  }
  // Unsigned difference: no overflow whatever the two instants are.
  if (read.time_ms() > now &&
      static_cast<std::uint64_t>(read.time_ms()) - static_cast<std::uint64_t>(now) >
          static_cast<std::uint64_t>(config_.max_clock_skew_ms)) {
    return make_rejected(read.seq(), v1::ERROR_CODE_CLOCK_SKEW,
                         seq_text + ": time is " + format_seconds(read.time_ms() - now) +
                             " ahead of server time (limit " +
                             format_seconds(config_.max_clock_skew_ms) +
                             "); check the device clock");
  }
  // Unknown chips are accepted on purpose: the engine keeps their reads for a later assignment.
  read.set_device_id(device_id_);
  read.set_timing_point_id(timing_point_id_);
  if (read.line() == v1::LINE_UNSPECIFIED) read.set_line(device_line_);
  return std::nullopt;
}

void DeviceProtocol::handle_batch(const v1::ReadBatch& batch, TimeMs now,
                                  DeviceProtocolOutput& out) {
  if (state_ == State::awaiting_hello) {
    fail(v1::ERROR_CODE_PROTOCOL_VIOLATION, "ReadBatch before Hello: send Hello first", now, out);
    return;
  }
  if (state_ == State::loading) {
    fail(v1::ERROR_CODE_PROTOCOL_VIOLATION,
         "ReadBatch before Welcome: wait for Welcome and resend from its acked_seq", now, out);
    return;
  }
  const std::size_t count = static_cast<std::size_t>(batch.reads_size());
  if (count > config_.max_reads_per_batch) {
    fail(v1::ERROR_CODE_PROTOCOL_VIOLATION,
         "ReadBatch has " + std::to_string(count) + " reads; the limit is " +
             std::to_string(config_.max_reads_per_batch) + " per batch",
         now, out);
    return;
  }
  if (in_flight_ && queue_.size() >= config_.max_queued_batches) {
    fail(v1::ERROR_CODE_OVERLOADED,
         "too many ReadBatches waiting to be stored; wait for each Ack before sending more than " +
             std::to_string(config_.max_queued_batches + 1) + " batches",
         now, out, config_.retry_after_ms);
    return;
  }
  // A read claiming another device would mix two sequence spaces: the whole session is suspect.
  for (const v1::Read& read : batch.reads()) {
    if (!read.device_id().empty() && read.device_id() != device_id_) {
      fail(v1::ERROR_CODE_PROTOCOL_VIOLATION,
           "read seq " + std::to_string(read.seq()) + " names device " + quoted(read.device_id()) +
               ", but this session is device " + quoted(device_id_) +
               " (leave device_id empty; one session per device)",
           now, out);
      return;
    }
  }

  metrics::server().reads_received.inc(count);
  PendingBatch pending;
  pending.request.device_id = device_id_;
  pending.request.reads.reserve(count);
  std::unordered_set<std::uint64_t> seen;
  seen.reserve(count);
  for (const v1::Read& original : batch.reads()) {
    const std::uint64_t seq = original.seq();
    if (seq == 0) {
      // No sequence: nothing to mark, so it appears in the Ack only.
      pending.rejected.push_back(make_rejected(0, v1::ERROR_CODE_MALFORMED_FRAME,
                                               "read without seq (sequences start at 1)"));
      ++stats_.reads_rejected;
      ++stats_.reads_malformed;
      metrics::reads_rejected(v1::ERROR_CODE_MALFORMED_FRAME,
                              v1::ErrorCode_Name(v1::ERROR_CODE_MALFORMED_FRAME))
          .inc();
      continue;
    }
    if (seq <= acked_seq_) {  // a resend of something already handled: the store would skip it
      ++stats_.reads_already_acked;
      continue;
    }
    if (!seen.insert(seq).second) {  // the first occurrence in the batch wins, as in the store
      ++stats_.reads_repeated_in_batch;
      continue;
    }
    v1::Read read = original;
    if (std::optional<v1::RejectedRead> rejected = validate(read, now)) {
      pending.request.to_mark_rejected.push_back(seq);
      metrics::reads_rejected(rejected->code(), v1::ErrorCode_Name(rejected->code())).inc();
      if (rejected->code() == v1::ERROR_CODE_MALFORMED_FRAME) ++stats_.reads_malformed;
      pending.rejected.push_back(std::move(*rejected));
      ++stats_.reads_rejected;
      continue;
    }
    metrics::server().read_delay.observe(
        static_cast<double>(std::max<TimeMs>(0, now - read.time_ms())) / 1000.0);
    pending.request.reads.push_back(std::move(read));
    ++stats_.reads_accepted;
  }
  ++stats_.batches;
  queue_.push_back(std::move(pending));
  release_queued(now, out);
}

void DeviceProtocol::release_queued(TimeMs now, DeviceProtocolOutput& out) {
  while (!in_flight_ && !queue_.empty()) {
    PendingBatch next = std::move(queue_.front());
    queue_.pop_front();
    if (next.request.reads.empty() && next.request.to_mark_rejected.empty()) {
      // Nothing for the store (empty batch, or only resends): acknowledge from what we know.
      send_ack(acked_seq_, gaps_, std::move(next.rejected), now, out);
      continue;
    }
    out.persist = next.request;
    in_flight_ = std::move(next);
  }
}

void DeviceProtocol::send_ack(std::uint64_t acked_seq, const std::vector<v1::SeqRange>& gaps,
                              std::vector<v1::RejectedRead> rejected, TimeMs now,
                              DeviceProtocolOutput& out) {
  v1::ServerMessage message;
  v1::Ack* ack = message.mutable_ack();
  ack->set_acked_seq(acked_seq);
  for (const v1::SeqRange& gap : gaps)
    *ack->add_gaps() = gap;
  for (v1::RejectedRead& read : rejected)
    *ack->add_rejected() = std::move(read);
  send(std::move(message), now, out);
}

DeviceProtocolOutput DeviceProtocol::on_persisted(std::uint64_t acked_seq,
                                                  const std::vector<SeqGap>& gaps, TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  if (!in_flight_) {
    fail(v1::ERROR_CODE_INTERNAL, "server error: a batch was stored that was not in flight", now,
         out);
    return out;
  }
  // Redis is authoritative: if it reports less than before, the device resends the difference.
  acked_seq_ = acked_seq;
  gaps_ = normalise_gaps(gaps, acked_seq);
  std::vector<v1::RejectedRead> rejected = std::move(in_flight_->rejected);
  in_flight_.reset();
  note_activity(now);
  send_ack(acked_seq_, gaps_, std::move(rejected), now, out);
  release_queued(now, out);
  return out;
}

DeviceProtocolOutput DeviceProtocol::on_store_error(std::string_view detail, TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  std::string text = "server storage failure; reconnect and resend from the last Ack";
  if (!detail.empty()) text += " (" + std::string(detail) + ")";
  fail(v1::ERROR_CODE_INTERNAL, std::move(text), now, out, config_.retry_after_ms);
  return out;
}

DeviceProtocolOutput DeviceProtocol::on_tick(TimeMs now) {
  DeviceProtocolOutput out;
  if (state_ == State::closed) return out;
  // While we make the device wait (Redis, or a full queue with reading paused) it is not idle.
  if (waiting_on_caller()) {
    note_activity(now);
  } else if (const DurationMs idle = now - last_received_; idle > config_.idle_timeout_ms) {
    const std::string what = state_ == State::awaiting_hello ? "no Hello" : "nothing received";
    fail(v1::ERROR_CODE_PROTOCOL_VIOLATION,
         "idle for " + format_seconds(idle) + ": " + what + " within the idle timeout of " +
             format_seconds(config_.idle_timeout_ms) + "; send a Heartbeat every " +
             format_seconds(config_.heartbeat_interval_ms) + " when there are no reads",
         now, out);
    return out;
  }
  if (state_ == State::established && now - last_sent_ >= config_.heartbeat_interval_ms) {
    v1::ServerMessage message;
    message.mutable_heartbeat()->set_time_ms(now);
    send(std::move(message), now, out);
  }
  return out;
}

}  // namespace splitstream
