#include "observe/server_metrics.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace splitstream::metrics {
namespace {

// Latency buckets for a read's delay from the device: sub-second on a good line, minutes for
// a backlog sent after an outage.
std::vector<double> delay_bounds() {
  return {0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
}

// A WAIT on a healthy network takes a replica's round trip (sub-millisecond on one site); one
// that falls short takes --durability-timeout.
std::vector<double> wait_bounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
}

// Fields of /proc/self/stat after the command name: [0] is the state (field 3).
std::vector<std::string> proc_stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  std::vector<std::string> out;
  if (close == std::string::npos) return out;
  std::istringstream rest(text.substr(close + 2));
  for (std::string f; rest >> f;)
    out.push_back(f);
  return out;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

}  // namespace

ServerMetrics& server() {
  static ServerMetrics m{
      global().counter("splitstream_reads_received_total",
                       "Reads received in device batches (TCP and HTTP), resends included."),
      global().counter("splitstream_reads_stored_total",
                       "Reads accepted and appended to the Redis stream (each read once)."),
      global().counter("splitstream_reads_duplicate_total",
                       "Reads the store already held (resends after reconnects, retries)."),
      global().gauge("splitstream_devices_connected",
                     "Device sessions past their Hello (authenticated) on this node."),
      global().histogram("splitstream_ack_latency_seconds",
                         "From a device batch received to its Ack written (TCP devices).",
                         latency_bounds()),
      global().histogram("splitstream_read_delay_seconds",
                         "From an accepted read's own time (the device's clock) to its arrival "
                         "here: the line's delay, a backlog's age, or a clock off.",
                         delay_bounds()),
      global().histogram("splitstream_redis_command_seconds",
                         "One Redis command, from submitted to its reply (blocking reads "
                         "excluded).",
                         latency_bounds()),
      global().counter("splitstream_redis_errors_total",
                       "Redis commands that failed in transport (disconnected, timed out)."),
      global().counter("splitstream_redis_error_replies_total",
                       "Redis commands answered with an error reply."),
      global().histogram("splitstream_redis_wait_seconds",
                         "--durability replicated: one WAIT for replicas after a write, from "
                         "sent to its reply (the timeout when replicas are missing).",
                         wait_bounds()),
      global().counter("splitstream_redis_wait_unconfirmed_total",
                       "--durability replicated: writes (batches, Hellos' acked sequences, "
                       "corrections) that too few replicas confirmed in time, so not "
                       "acknowledged."),
      global().counter("splitstream_ws_messages_sent_total",
                       "WebSocket messages written to viewers."),
      global().counter("splitstream_ws_messages_dropped_total",
                       "Messages not sent to a viewer: deltas coalesced into a later snapshot "
                       "for a viewer behind, or discarded when a viewer was shed.",
                       {{"reason", "coalesced"}}),
      global().counter("splitstream_ws_messages_dropped_total", "", {{"reason", "shed"}}),
      global().counter("splitstream_ws_viewers_shed_total",
                       "Viewers closed because they fell too far behind."),
      global().counter("splitstream_ws_rate_limited_total",
                       "Viewer messages refused over --ws-subscribe-rate."),
      global().gauge("splitstream_ws_queue_bytes",
                     "Bytes queued for all viewers of this node (send-queue depth)."),
      global().histogram("splitstream_stored_to_publish_seconds",
                         "From a read stored in Redis to the live update carrying it handed to "
                         "the viewers' queues on this node.",
                         latency_bounds()),
      global().histogram("splitstream_device_to_viewer_seconds",
                         "From a read stored in Redis (acknowledged to its device) to the live "
                         "update carrying it written to a viewer's socket, per viewer.",
                         latency_bounds()),
      global().counter("splitstream_engine_applied_total",
                       "Stream entries (reads and corrections) applied by this node's engine."),
      global().counter("splitstream_checkpoint_writes_total",
                       "Checkpoints of the engine's state this node wrote to Redis."),
      global().counter("splitstream_checkpoint_failures_total",
                       "Checkpoints this node could not write to Redis (tried again later)."),
      global().gauge("splitstream_checkpoint_bytes", "The size of the last checkpoint written."),
      global().gauge("splitstream_checkpoint_entries",
                     "Stream entries the last checkpoint this node wrote or loaded holds."),
  };
  return m;
}

Counter& reads_rejected(std::string_view error_code_name) {
  std::string reason(error_code_name);
  if (reason.rfind("ERROR_CODE_", 0) == 0) reason.erase(0, 11);
  for (char& c : reason)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return global().counter("splitstream_reads_rejected_total",
                          "Reads refused one by one, by reason (wrong_timing_point, clock_skew, "
                          "malformed_frame, ...).",
                          {{"reason", reason}});
}

Counter& reads_rejected(int code, std::string_view error_code_name) {
  static std::array<std::atomic<Counter*>, 32> cache{};
  const bool cached = code >= 0 && code < static_cast<int>(cache.size());
  if (cached) {
    if (Counter* c = cache[static_cast<std::size_t>(code)].load(std::memory_order_acquire))
      return *c;
  }
  Counter& c = reads_rejected(error_code_name);
  if (cached) cache[static_cast<std::size_t>(code)].store(&c, std::memory_order_release);
  return c;
}

Counter& connections_refused(std::string_view listener, std::string_view reason) {
  return global().counter("splitstream_connections_refused_total",
                          "Connections refused at once, by listener and reason.",
                          {{"listener", std::string(listener)}, {"reason", std::string(reason)}});
}

Counter& http_responses(unsigned status) {
  static constexpr std::array<const char*, 6> kClasses{"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
  const unsigned index = status >= 100 && status < 600 ? status / 100 - 1 : 5;
  return global().counter("splitstream_http_requests_total",
                          "HTTP requests answered, by status class (WebSocket upgrades "
                          "excluded).",
                          {{"code", kClasses[index]}});
}

Counter& corrections(std::string_view kind) {
  return global().counter("splitstream_corrections_total",
                          "Officials' corrections applied by this node's engine, by kind.",
                          {{"kind", std::string(kind)}});
}

void register_known_series(std::span<const std::string_view> correction_kinds) {
  server();
  for (const char* code :
       {"ERROR_CODE_MALFORMED_FRAME", "ERROR_CODE_WRONG_TIMING_POINT", "ERROR_CODE_CLOCK_SKEW"})
    reads_rejected(code);
  connections_refused("http", "per_address_limit");
  connections_refused("http", "too_many_viewers");
  connections_refused("devices", "per_address_limit");
  for (std::string_view kind : correction_kinds)
    corrections(kind);
  for (unsigned status : {200u, 400u, 500u})
    http_responses(status);
}

void register_process_metrics(std::string_view version) {
  Registry& r = global();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  r.gauge_fn("process_resident_memory_bytes", "Resident memory size in bytes.", [page] {
    std::ifstream in("/proc/self/statm");
    double size = 0, resident = 0;
    in >> size >> resident;
    return resident * page;
  });
  r.gauge_fn("process_open_fds", "Open file descriptors (sockets included).", [] {
    std::error_code ec;
    double n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
      ++n;
    return n;
  });
  r.gauge_fn("process_start_time_seconds", "Start time of the process, Unix seconds.",
             [ticks, boot = boot_time_seconds()] {
               const auto f = proc_stat_fields();
               return f.size() > 19 ? boot + std::stod(f[19]) / ticks : 0.0;
             });
  // A counter read when rendered: user + system CPU time.
  r.counter_fn("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", [ticks] {
    const auto f = proc_stat_fields();
    return f.size() > 12 ? (std::stod(f[11]) + std::stod(f[12])) / ticks : 0.0;
  });
  r.gauge_fn("splitstream_build_info", "Always 1; the version in its label.", [] { return 1.0; },
             {{"version", std::string(version)}});
}

}  // namespace splitstream::metrics
