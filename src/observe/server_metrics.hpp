// What a Splitstream node counts, by name: the catalogue of GET /metrics (docs/operations.md
// lists it with what to watch). Each metric is registered in the global registry on first use;
// the components hold no registry of their own.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "observe/metrics.hpp"

namespace splitstream::metrics {

struct ServerMetrics {
  // Ingest.
  Counter& reads_received;   // reads in device batches (TCP and HTTP), resends included
  Counter& reads_stored;     // reads appended to the stream (accepted, each once)
  Counter& reads_duplicate;  // reads the store already had (resends, backup paths)
  Gauge& devices_connected;  // authenticated device sessions
  Histogram& ack_latency;    // device batch received -> its Ack written (TCP)
  Histogram& read_delay;     // a read's own time (device clock) -> received here
  // Redis.
  Histogram& redis_command;         // one Redis command, submitted -> reply
  Counter& redis_errors;            // transport errors (disconnected, timeout)
  Counter& redis_error_replies;     // error replies (-ERR ...)
  Histogram& redis_wait;            // --durability replicated: WAIT sent -> its reply
  Counter& redis_wait_unconfirmed;  // writes WAIT did not confirm in time: not acknowledged
  // Live push.
  Counter& messages_sent;        // WebSocket messages written to viewers
  Counter& messages_coalesced;   // deltas not sent to a viewer behind; a snapshot follows
  Counter& messages_shed;        // messages discarded with a viewer closed as too slow
  Counter& viewers_shed;         // viewers closed as too slow
  Counter& rate_limited;         // viewer messages refused over the subscribe rate
  Gauge& viewer_queue_bytes;     // bytes queued for every viewer of this node
  Histogram& stored_to_publish;  // read stored in Redis -> the update carrying it published
  Histogram& device_to_viewer;   // read stored in Redis -> the update written to a viewer
  // Engine.
  Counter& engine_applied;  // stream entries applied by this node's engine
  // Checkpoints (pipeline/pipeline_service).
  Counter& checkpoint_writes;    // checkpoints this node wrote to Redis
  Counter& checkpoint_failures;  // checkpoints whose write failed
  Gauge& checkpoint_bytes;       // the size of the last one written
  Gauge& checkpoint_entries;     // stream entries the last one written or loaded holds
};

// The node's metrics (registered on the first call).
ServerMetrics& server();

// Reads refused one by one, by reason: the device protocol's error code in lower case
// without its prefix (ERROR_CODE_CLOCK_SKEW -> clock_skew).
Counter& reads_rejected(std::string_view error_code_name);
// The same, cached by the code's number (for the ingest path).
Counter& reads_rejected(int code, std::string_view error_code_name);
// Connections closed at once: listener "http" or "devices", reason "per_address_limit",
// "too_many_viewers", ...
Counter& connections_refused(std::string_view listener, std::string_view reason);
// HTTP responses by status class ("2xx", "4xx", ...).
Counter& http_responses(unsigned status);
// Corrections applied by this node's engine, by kind (set_status, add_read, ...).
Counter& corrections(std::string_view kind);

// Every labelled series a node may count, at zero, so that the families are on /metrics (and
// rate() has a start) before the first refusal, rejected read or correction. The kinds of
// correction come from the engine (all_correction_kinds()): this layer knows no engine.
void register_known_series(std::span<const std::string_view> correction_kinds);

// process_* gauges read from /proc/self (resident memory, open files, CPU, start time) and
// splitstream_build_info.
void register_process_metrics(std::string_view version);

}  // namespace splitstream::metrics
