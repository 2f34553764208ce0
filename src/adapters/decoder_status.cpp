#include "adapters/decoder_status.hpp"

#include <boost/json.hpp>

namespace splitstream {
namespace {

constexpr TimeMs kMalformedBurstMs = 10'000;

metrics::Counter& decoder_counter(const char* name, const char* help,
                                  const metrics::Labels& labels) {
  return metrics::global().counter(std::string("splitstream_decoder_") + name, help, labels);
}

boost::json::value time_or_null(TimeMs t) {
  if (t == kNoTime) return nullptr;
  return t;
}

}  // namespace

DecoderStatus::Metrics DecoderStatus::register_metrics(const DecoderConfig& config) {
  const metrics::Labels labels = {{"decoder", config.id},
                                  {"protocol", std::string(to_string(config.protocol))}};
  return Metrics{
      decoder_counter("reads_total", "Vendor decoder reads appended to the stream.", labels),
      decoder_counter("duplicates_total",
                      "Vendor decoder reads the store already had (resends, refetches).", labels),
      decoder_counter("malformed_total", "Lines or frames from a decoder that did not parse.",
                      labels),
      decoder_counter("unknown_locations_total",
                      "Reads refused: a location, box or antenna not in decoders.json.", labels),
      decoder_counter("unknown_chips_total", "Reads stored of chips no participant holds.", labels),
      decoder_counter("clock_far_off_total",
                      "Reads refused: stamped too far ahead of the server's clock.", labels),
      decoder_counter("refetched_gaps_total", "Gaps a decoder was asked to send again.", labels),
      decoder_counter("refetched_reads_total", "Reads fetched again to fill gaps.", labels),
      decoder_counter("gun_markers_total", "Gun markers the timing software sent (new ones).",
                      labels),
      decoder_counter("connections_total", "Connections with the decoder (dialled or accepted).",
                      labels),
      metrics::global().gauge("splitstream_decoder_connected",
                              "Open connections with a vendor decoder on this node.", labels),
      metrics::global().gauge("splitstream_decoder_clock_offset_ms",
                              "Decoder clock minus server clock (measured or estimated).", labels),
  };
}

DecoderStatus::DecoderStatus(const DecoderConfig& config, TimeMs now)
    : config_(config), metrics_(register_metrics(config)) {
  switch (config.protocol) {
    case DecoderProtocolKind::raceresult:
      set_state("dialing", now);
      break;
    case DecoderProtocolKind::ctp01:
    case DecoderProtocolKind::mylaps:
      set_state("listening", now);
      break;
    case DecoderProtocolKind::impinj:
      set_state("waiting", now);
      break;
  }
  second_of_slot_.fill(-1);
}

void DecoderStatus::set_state(const char* state, TimeMs now) {
  if (state_ == state) return;
  state_ = state;
  state_since_ = now;
}

void DecoderStatus::connection_opened(const std::string& peer, TimeMs now) {
  ++open_connections_;
  metrics_.connected.add(1);
  metrics_.connections.inc();
  set_state("connected", now);
  peer_ = peer;
  connected_since_ = now;
  last_seen_ = now;
}

void DecoderStatus::connection_closed(const std::string& reason, TimeMs now) {
  --open_connections_;
  metrics_.connected.add(-1);
  if (!reason.empty()) last_error_ = reason;
  if (open_connections_ > 0) return;
  set_state(config_.protocol == DecoderProtocolKind::raceresult ? "dialing" : "listening", now);
  connected_since_ = kNoTime;
  backlog_.reset();
}

void DecoderStatus::set_dialing(const std::string& last_error, TimeMs now) {
  if (open_connections_ == 0) set_state("dialing", now);
  if (!last_error.empty()) last_error_ = last_error;
}

void DecoderStatus::note_post(TimeMs now) {
  set_state("connected", now);
  last_seen_ = now;
}

void DecoderStatus::record_notices(const DecoderNotices& notices, TimeMs now) {
  last_seen_ = now;
  metrics_.malformed.inc(notices.malformed.size());
  metrics_.refetched_gaps.inc(notices.refetched_gaps);
  metrics_.refetched_reads.inc(notices.refetched_reads);
  if (notices.locations) locations_ = *notices.locations;
  if (!notices.status.empty()) decoder_status_ = notices.status;
}

void DecoderStatus::record_intake(const IntakeReport& report) {
  metrics_.unknown_locations.inc(report.unknown_sources);
  metrics_.unknown_chips.inc(report.unknown_chips);
  metrics_.clock_far_off.inc(report.clock_far_off);
  metrics_.malformed.inc(report.malformed);
}

void DecoderStatus::record_stored(std::uint64_t appended, std::uint64_t duplicates,
                                  std::uint64_t new_markers, TimeMs last_read_time, TimeMs now) {
  metrics_.reads.inc(appended);
  metrics_.duplicates.inc(duplicates);
  metrics_.gun_markers.inc(new_markers);
  if (appended + duplicates > 0) {
    last_read_arrival_ = now;
    if (last_read_time != kNoTime) last_read_time_ = last_read_time;
  }
  const std::int64_t second = now / 1000;
  const std::size_t slot = static_cast<std::size_t>(second % 60);
  if (second_of_slot_[slot] != second) {
    second_of_slot_[slot] = second;
    per_second_[slot] = 0;
  }
  per_second_[slot] += static_cast<std::uint32_t>(appended);
  if (appended > 0) reads_per_minute_.add(now, appended);
}

void DecoderStatus::record_clock(std::optional<DurationMs> offset_ms, bool measured) {
  clock_offset_ms_ = offset_ms;
  clock_offset_measured_ = measured;
  if (offset_ms) metrics_.clock_offset_ms.set(*offset_ms);
}

bool DecoderStatus::log_malformed_now(TimeMs now, std::uint64_t& suppressed) {
  if (last_malformed_log_ != kNoTime && now - last_malformed_log_ < kMalformedBurstMs) {
    ++malformed_unlogged_;
    return false;
  }
  suppressed = malformed_unlogged_;
  malformed_unlogged_ = 0;
  last_malformed_log_ = now;
  return true;
}

std::uint64_t DecoderStatus::reads_last_minute(TimeMs now) const {
  const std::int64_t second = now / 1000;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < per_second_.size(); ++i)
    if (second_of_slot_[i] > second - 60 && second_of_slot_[i] <= second) total += per_second_[i];
  return total;
}

boost::json::object DecoderStatus::to_json(TimeMs now) const {
  boost::json::object o;
  o["id"] = config_.id;
  o["protocol"] = to_string(config_.protocol);
  o["state"] = state_;
  o["connections"] = open_connections_;
  if (config_.dial) o["dial"] = config_.dial->host + ":" + std::to_string(config_.dial->port);
  if (config_.listen)
    o["listen"] = config_.listen->host + ":" + std::to_string(config_.listen->port);
  o["peer"] = peer_;
  o["connected_since_ms"] = time_or_null(connected_since_);
  o["last_seen_ms"] = time_or_null(last_seen_);
  o["last_read_ms"] = time_or_null(last_read_time_);
  o["last_read_arrival_ms"] = time_or_null(last_read_arrival_);
  o["reads_per_minute"] = reads_last_minute(now);
  if (clock_offset_ms_) {
    o["clock_offset_ms"] = *clock_offset_ms_;
  } else {
    o["clock_offset_ms"] = nullptr;
  }
  o["clock_offset"] = clock_offset_ms_ ? (clock_offset_measured_ ? "measured" : "estimated") : "";
  o["clock_corrected"] = config_.correct_clock_offset;
  o["reads"] = metrics_.reads.value();
  o["duplicates"] = metrics_.duplicates.value();
  o["malformed"] = metrics_.malformed.value();
  o["unknown_locations"] = metrics_.unknown_locations.value();
  o["unknown_chips"] = metrics_.unknown_chips.value();
  o["clock_far_off"] = metrics_.clock_far_off.value();
  o["refetched_gaps"] = metrics_.refetched_gaps.value();
  o["refetched_reads"] = metrics_.refetched_reads.value();
  o["last_error"] = last_error_;
  boost::json::array locations;
  for (const std::string& l : locations_)
    locations.push_back(boost::json::string(l));
  o["locations"] = std::move(locations);
  boost::json::object status;
  for (const auto& [k, v] : decoder_status_)
    status[k] = v;
  o["decoder_status"] = std::move(status);
  return o;
}

PresenceRecord DecoderStatus::presence(TimeMs now) const {
  PresenceRecord r;
  r.state = state_;
  r.since_ms = state_since_;
  r.last_read_ms = last_read_arrival_;
  r.reads_total = metrics_.reads.value();
  r.reads_per_minute = reads_per_minute_.series(now);
  r.clock_offset_ms = clock_offset_ms_;
  r.gaps = metrics_.refetched_gaps.value();
  r.backlog = backlog_;
  r.rejected = metrics_.unknown_locations.value() + metrics_.clock_far_off.value();
  r.malformed = metrics_.malformed.value();
  r.remote = peer_;
  return r;
}

DecoderFleet::DecoderFleet(const Event& event, const std::vector<DecoderConfig>& decoders,
                           DurationMs max_clock_skew_ms) {
  for (const DecoderConfig& d : decoders)
    decoders_.push_back(std::make_unique<Decoder>(event, d, max_clock_skew_ms));
}

Decoder* DecoderFleet::find(std::string_view id) {
  for (auto& d : decoders_)
    if (d->config.id == id) return d.get();
  return nullptr;
}

}  // namespace splitstream
