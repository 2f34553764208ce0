// Redis key names of one event. Every key carries the hash tag {ev:<event id>}, so one event's
// keys live in one Redis Cluster slot and a Lua script may touch any of them atomically.
#pragma once

#include <string>
#include <string_view>

namespace splitstream {

class KeySchema {
 public:
  explicit KeySchema(std::string_view event_id);

  const std::string& tag() const { return tag_; }
  // Stream of accepted reads: the source of truth.
  std::string reads() const { return tag_ + ":reads"; }
  // Hash per device: acked (highest contiguous durable sequence), reads, last_read_ms, ...
  std::string device(std::string_view device_id) const;
  // Sorted set per device: sequences above `acked` already stored (a gap lies below them).
  std::string device_pending(std::string_view device_id) const;
  // Hash per vendor decoder: cursors (RACE RESULT "cursor:<file>"), counters, last read.
  std::string decoder(std::string_view decoder_id) const;
  // Set per vendor decoder: the identities (read seqs) of the reads it stored, for dedupe.
  std::string decoder_seen(std::string_view decoder_id) const;
  // String per device or vendor decoder, with a TTL: what the node holding it knows of it (JSON,
  // ingest/device_presence), written every 2 s by that node (api/presence_publisher).
  std::string presence(std::string_view device_id) const;
  // Hash: gun markers the timing software sent, by identity.
  std::string gun_markers() const { return tag_ + ":gun_markers"; }
  // Hash per runner: the engine's materialised state of that runner.
  std::string runner(std::string_view bib) const;
  // Sorted set per race and category: bib by standing.
  std::string standings(std::string_view race, std::string_view category) const;
  // String: the latest checkpoint of a node's engine, hub and corrections log, with the stream
  // entry it reflects (pipeline/checkpoint); a starting node loads it and replays the rest.
  std::string checkpoint() const { return tag_ + ":checkpoint"; }
  // Hash: event-wide state (the stream position materialised so far, ...).
  std::string meta() const { return tag_ + ":meta"; }

 private:
  std::string tag_;
};

}  // namespace splitstream
