// A node's checkpoint: its engine, push hub, corrections log and progress after applying the read
// stream up to one entry, as plain values and as the bytes kept in Redis
// (proto/splitstream/v1/checkpoint.proto). A starting node loads it and replays only the stream
// after that entry (pipeline/pipeline_service). The codec does no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine_snapshot.hpp"
#include "pipeline/correction_log.hpp"
#include "push/push_hub.hpp"

namespace splitstream {

// The layout's version: a node loads only checkpoints of its own version (an older one is
// ignored: the stream is replayed instead).
inline constexpr std::uint32_t kCheckpointFormat = 1;

struct NodeCheckpoint {
  std::string event_fingerprint;  // event_fingerprint() of the event it was taken of
  std::string stream_id;          // the last stream entry applied
  std::uint64_t entries = 0;      // stream entries handed to the engine: the updates' version
  std::uint64_t applied = 0;      // of them applied
  std::uint64_t skipped = 0;      // of them skipped (PipelineProgress)
  EngineSnapshot engine;
  HubSnapshot hub;
  std::vector<CorrectionRecord> corrections;  // the log's records, oldest first
  std::uint64_t corrections_total = 0;
};

std::string encode_checkpoint(const NodeCheckpoint& checkpoint);
// Nullopt, with `error` saying what is wrong, when the bytes are not a checkpoint of this
// format. Whether it fits an event is the engine's to say (RaceEngine::restore).
std::optional<NodeCheckpoint> decode_checkpoint(std::string_view bytes, std::string& error);

}  // namespace splitstream
