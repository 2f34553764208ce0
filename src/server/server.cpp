#include "server/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/text.hpp"
#include "engine/corrections.hpp"
#include "engine/race_engine.hpp"
#include "http/admin_api.hpp"
#include "http/http_listener.hpp"
#include "http/rest_api.hpp"
#include "http/static_files.hpp"
#include "ingest/device_session.hpp"
#include "ingest/device_tokens.hpp"
#include "ingest/http_ingest.hpp"
#include "push/push_hub.hpp"
#include "push/websocket_session.hpp"
#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "store/correction_entry.hpp"
#include "store/read_log.hpp"
#include "store/redis_connection.hpp"
#include "store/state_materializer.hpp"
#include "store/stream_follower.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kDrainPoll{10};

tcp::acceptor open_acceptor(asio::io_context& ioc, const Endpoint& at, const char* what) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(at.host == "localhost" ? "127.0.0.1" : at.host, ec);
  if (ec) throw std::runtime_error(std::string(what) + ": bad address \"" + at.host + "\"");
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(address, at.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(std::string(what) + ": cannot listen on " + at.host + ":" +
                             std::to_string(at.port) + ": " + ec.message());
  }
  return acceptor;
}

// What this node's engine has applied from the stream, for /readyz (read from HTTP threads).
struct EngineProgress {
  std::mutex mutex;
  bool caught_up = false;
  std::uint64_t applied = 0;  // stream entries handed to the engine
  std::uint64_t skipped = 0;  // entries naming a timing point this event does not have
  std::string last_id = "0";
};

asio::awaitable<void> pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(kNoThrow);
}

std::vector<std::string> last_entry_command(const std::string& stream) {
  return {"XREVRANGE", stream, "+", "-", "COUNT", "1"};
}

// Shutdown, on the ingest strand: stop taking reads, let every batch being stored get its Ack,
// then (on the engine strand) let the engine apply the stream up to its last entry and the
// materializer write it out. Each wait ends at the drain deadline; whatever is left is in the
// stream already and any node (or this one, restarted) derives it again.
asio::awaitable<void> drain(
    std::shared_ptr<DeviceIngest> ingest, std::shared_ptr<RedisConnection> redis,
    std::string stream, Clock::time_point deadline,
    std::function<asio::awaitable<void>(std::string, Clock::time_point)> flush_engine) {
  ingest->drain();
  while (!ingest->drained() && Clock::now() < deadline)
    co_await pause(kDrainPoll);
  if (!ingest->drained())
    log::warn("server", "drain timeout: closing sessions with batches in flight");
  std::string last_id = "0";
  if (redis->connected()) {
    auto [ec, reply] = co_await redis->command(last_entry_command(stream));
    if (!ec && reply.is_array() && !reply.elements().empty()) {
      if (auto entry = parse_stream_entry(reply.elements().front())) last_id = entry->id;
    }
  }
  co_await flush_engine(std::move(last_id), deadline);
}

asio::awaitable<HttpResponse> answer_rest(HttpRequest request, RestContext rest) {
  co_return handle_rest(request, rest);
}

std::vector<std::string> device_hash_command(const KeySchema& keys, const std::string& device) {
  return {"HGETALL", keys.device(device)};
}

// The body of GET /api/v1/devices (outside the coroutine: GCC 12 and braced lists).
std::string device_status_json(const Event& event, const std::map<std::string, int>& online,
                               const std::vector<RedisReply>& replies) {
  boost::json::array devices;
  for (std::size_t i = 0; i < event.devices.size(); ++i) {
    const Device& d = event.devices[i];
    boost::json::object o{{"id", d.id},
                          {"timing_point_id", event.timing_points[d.timing_point].id},
                          {"line", std::string(to_string(d.line))},
                          {"connected_here", online.contains(d.id)}};
    for (const char* field :
         {"acked", "reads", "duplicates", "rejected", "last_read_ms", "last_seen_ms"}) {
      o[field] = nullptr;
    }
    if (i < replies.size() && replies[i].is_array()) {
      const auto& kv = replies[i].elements();
      for (std::size_t k = 0; k + 1 < kv.size(); k += 2) {
        if (auto n = kv[k + 1].to_integer()) o[kv[k].as_string()] = *n;
      }
    }
    devices.push_back(std::move(o));
  }
  return boost::json::serialize(boost::json::object{{"devices", std::move(devices)}});
}

std::vector<std::vector<std::string>> device_status_commands(const Event& event,
                                                             const KeySchema& keys) {
  std::vector<std::vector<std::string>> commands;
  for (const Device& d : event.devices)
    commands.push_back(device_hash_command(keys, d.id));
  return commands;
}

// GET /api/v1/devices, on the ingest strand: each device of the event with its counters from
// Redis (shared by every node) and whether it is connected to this node.
asio::awaitable<HttpResponse> device_status(HttpRequest request,
                                            std::shared_ptr<DeviceIngest> ingest,
                                            std::shared_ptr<RedisConnection> redis,
                                            KeySchema keys) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    co_return error_response(request, http::status::method_not_allowed, "method_not_allowed",
                             "/api/v1/devices is read-only: use GET");
  }
  auto [ec, replies] = co_await redis->pipeline(device_status_commands(ingest->event, keys));
  if (ec) {
    co_return error_response(request, http::status::service_unavailable, "unavailable",
                             "Redis: " + ec.message());
  }
  co_return json_response(request, http::status::ok,
                          device_status_json(ingest->event, ingest->online(), replies));
}

WebSocketOptions websocket_options(const ServerConfig& config) {
  WebSocketOptions o;
  o.idle_timeout = std::chrono::seconds(config.ws_idle_timeout_s);
  o.max_connections = config.max_viewers;
  o.max_queue_bytes = config.viewer_queue_bytes;
  o.socket_send_buffer = config.viewer_socket_buffer;
  o.subscribe_rate = config.ws_subscribe_rate;
  o.subscribe_burst = config.ws_subscribe_burst;
  std::string_view list = config.allowed_origins;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty()) o.allowed_origins.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return o;
}

// The browser app for a node with the push role, read into memory now (a start-up error when
// --web-root is wrong or too large), or null when it is not built.
std::shared_ptr<const StaticFiles> load_web_app(const ServerConfig& config) {
  const std::string tiles = config.map_tiles.empty() ? std::string("no map tiles (--map-tiles)")
                                                     : "map tiles from " + config.map_tiles;
  if (config.map_tiles.empty() && !config.map_attribution.empty())
    log::warn("web", "--map-attribution is set but --map-tiles is not: no tiles to attribute");
  std::error_code ec;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto root = resolve_web_root(config.web_root, ec ? std::filesystem::path() : executable);
  if (!root) {
    log::info("web",
              "the browser app is not built: / answers 404 web_app_not_built (run `npm ci && npm "
              "run build` in web/, or pass --web-root); " +
                  tiles);
    return nullptr;
  }
  auto app = std::make_shared<const StaticFiles>(StaticFiles::load(*root));
  log::info("web", "browser app from " + app->root().string() + ": " +
                       std::to_string(app->file_count()) + " files, " +
                       std::to_string((app->total_bytes() + 1023) / 1024) +
                       " KiB in memory with precompressed copies; " + tiles);
  return app;
}

// The TLS context of the listeners from the PEM files, or null when no listener uses TLS. A
// start-up error names the file that is wrong.
std::shared_ptr<asio::ssl::context> make_tls_context(const ServerConfig& config) {
  if (!config.tls_http && !config.tls_devices) return nullptr;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  // TLS 1.2 and later only.
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(config.tls_cert, ec);
  if (ec) {
    throw std::runtime_error("tls-cert " + config.tls_cert +
                             ": not a readable PEM certificate chain (" + ec.message() + ")");
  }
  context->use_private_key_file(config.tls_key, asio::ssl::context::pem, ec);
  if (ec && ec.message().find("mismatch") != std::string::npos) {
    throw std::runtime_error("tls-key " + config.tls_key + " does not belong to tls-cert " +
                             config.tls_cert);
  }
  if (ec) {
    throw std::runtime_error("tls-key " + config.tls_key + ": not a readable PEM private key (" +
                             ec.message() + ")");
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    throw std::runtime_error("tls-key " + config.tls_key + " does not belong to tls-cert " +
                             config.tls_cert);
  }
  return context;
}

// The admin token: --admin-token-file, else SPLITSTREAM_ADMIN_TOKEN; empty: admin off.
std::string load_admin_token(const ServerConfig& config) {
  std::string token;
  if (!config.admin_token_file.empty()) {
    std::ifstream in(config.admin_token_file);
    if (!in)
      throw std::runtime_error("admin-token-file " + config.admin_token_file + ": unreadable");
    std::getline(in, token);
    token = std::string(trim(token));
    if (token.empty()) {
      throw std::runtime_error("admin-token-file " + config.admin_token_file +
                               ": the first line should hold the token");
    }
  } else if (const char* env = std::getenv("SPLITSTREAM_ADMIN_TOKEN")) {
    token = std::string(trim(env));
  }
  if (!token.empty() && token.size() < kMinAdminTokenLength) {
    throw std::runtime_error("the admin token is " + std::to_string(token.size()) +
                             " characters long: use at least " +
                             std::to_string(kMinAdminTokenLength) + " (e.g. openssl rand -hex 24)");
  }
  return token;
}

// What the admin endpoints need, on their strands.
struct AdminContext {
  std::string token;
  int utc_offset_minutes = 0;
  RaceEngine& engine;          // engine strand
  CorrectionLog& corrections;  // engine strand
  EngineProgress& progress;    // any thread (mutex)
  asio::any_io_executor engine_strand;
  asio::any_io_executor ingest_strand;
  std::shared_ptr<RedisConnection> redis;  // ingest strand
  std::string stream;
};

// The steps below run on the strand that owns what they touch; each is a coroutine function
// with its arguments by value (GCC 12 destroys a coroutine lambda's captures twice).
asio::awaitable<std::optional<std::string>> check_here(std::shared_ptr<AdminContext> admin,
                                                       Correction c) {
  co_return check_correction(admin->engine, c);
}

asio::awaitable<RedisConnection::CommandResult> append_here(std::shared_ptr<AdminContext> admin,
                                                            std::vector<std::string> command) {
  co_return co_await admin->redis->command(std::move(command));
}

asio::awaitable<std::optional<CorrectionRecord>> record_here(std::shared_ptr<AdminContext> admin,
                                                             std::string id) {
  const CorrectionRecord* r = admin->corrections.find(id);
  co_return r ? std::optional<CorrectionRecord>(*r) : std::nullopt;
}

asio::awaitable<std::string> log_here(std::shared_ptr<AdminContext> admin, std::size_t limit) {
  co_return admin->corrections.json(limit, admin->utc_offset_minutes);
}

// The engine's record of stream entry `id` once it has applied it (up to `wait`), else null.
asio::awaitable<std::optional<CorrectionRecord>> await_applied(std::shared_ptr<AdminContext> admin,
                                                               std::string id,
                                                               std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    bool applied = false;
    {
      const std::lock_guard lock(admin->progress.mutex);
      applied = compare_stream_ids(admin->progress.last_id, id) >= 0;
    }
    if (applied) break;
    if (Clock::now() >= deadline) co_return std::nullopt;
    co_await pause(kDrainPoll);
  }
  co_return co_await asio::co_spawn(admin->engine_strand, record_here(admin, id),
                                    asio::use_awaitable);
}

std::string correction_reply(const std::string& id, const Correction& c, bool applied,
                             const std::optional<std::string>& error, int offset) {
  boost::json::object o{{"id", id},
                        {"applied", applied},
                        {"correction", boost::json::parse(correction_json(c, offset))}};
  if (error) o["error"] = *error;
  return boost::json::serialize(o);
}

// /api/v1/admin/corrections: GET lists what this node's engine applied; POST records a
// correction in the stream and answers once this node has applied it (201), or 202 when it
// has not within two seconds (every node applies it as it follows the stream).
asio::awaitable<HttpResponse> admin_corrections(HttpRequest request,
                                                std::shared_ptr<AdminContext> admin) {
  if (auto denied = authorize_admin(request, admin->token)) co_return std::move(*denied);
  if (request.method() == http::verb::get || request.method() == http::verb::head) {
    const auto query = parse_query(
        request.target().substr(std::min(request.target().size(), request.target().find('?') + 1)));
    std::size_t limit = 1000;
    if (auto it = query.find("limit"); it != query.end()) {
      limit = static_cast<std::size_t>(std::strtoull(it->second.c_str(), nullptr, 10));
      if (limit == 0 || limit > 10'000) {
        co_return error_response(request, http::status::bad_request, "bad_request",
                                 "limit must be from 1 to 10000");
      }
    }
    std::string body =
        co_await asio::co_spawn(admin->engine_strand, log_here(admin, limit), asio::use_awaitable);
    co_return json_response(request, http::status::ok, std::move(body));
  }
  if (request.method() != http::verb::post) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                              "use GET to list corrections, POST to make one");
    res.set(http::field::allow, "GET, HEAD, POST");
    co_return res;
  }
  auto parsed = parse_correction_request(request.body(), admin->utc_offset_minutes);
  if (auto* bad = std::get_if<AdminRequestError>(&parsed)) {
    co_return error_response(request, http::status::bad_request, "bad_request", bad->message);
  }
  const Correction correction = std::get<Correction>(parsed);
  if (auto problem = co_await asio::co_spawn(admin->engine_strand, check_here(admin, correction),
                                             asio::use_awaitable)) {
    co_return error_response(request, http::status::unprocessable_entity, "invalid_correction",
                             *problem);
  }
  auto [ec, reply] = co_await asio::co_spawn(
      admin->ingest_strand, append_here(admin, correction_xadd_command(admin->stream, correction)),
      asio::use_awaitable);
  if (ec || !reply.is_string()) {
    co_return error_response(
        request, http::status::service_unavailable, "unavailable",
        "Redis: " + (ec ? ec.message() : reply.as_string()) + "; nothing was recorded, try again");
  }
  const std::string id = reply.as_string();
  log::info("corrections", "recorded",
            {{"id", id},
             {"kind", std::string(to_string(correction.kind))},
             {"bib", correction.bib},
             {"by", correction.by}});
  const auto record = co_await await_applied(admin, id, std::chrono::seconds(2));
  if (!record) {
    co_return json_response(
        request, http::status::accepted,
        correction_reply(id, correction, false, std::nullopt, admin->utc_offset_minutes));
  }
  co_return json_response(
      request, record->error ? http::status::unprocessable_entity : http::status::created,
      correction_reply(id, correction, !record->error, record->error, admin->utc_offset_minutes));
}

}  // namespace

int run_server(const ServerConfig& config, const Event& event) {
  // Device tokens: the secrets file and SPLITSTREAM_DEVICE_TOKENS, never event.json.
  DeviceTokens tokens;
  Diagnostics token_problems;
  if (!config.device_tokens_file.empty())
    token_problems = tokens.add_from_file(config.device_tokens_file);
  for (Diagnostic& d : tokens.add_from_environment())
    token_problems.push_back(std::move(d));
  if (!token_problems.empty()) {
    std::string text = "device tokens:";
    for (const Diagnostic& d : token_problems)
      text += "\n  " + d.to_string();
    throw std::runtime_error(text);
  }
  for (const Diagnostic& d : tokens.cross_check(event))
    log::warn("devices", d.to_string());

  const std::shared_ptr<const StaticFiles> web_app =
      config.push_role ? load_web_app(config) : nullptr;
  const std::shared_ptr<asio::ssl::context> tls = make_tls_context(config);
  const std::string admin_token = load_admin_token(config);
  metrics::register_process_metrics(SPLITSTREAM_VERSION);
  metrics::register_known_series(correction_kind_names());

  asio::io_context ioc(config.threads);
  tcp::acceptor http_acceptor = open_acceptor(ioc, config.http, "http");
  tcp::acceptor device_acceptor =
      config.ingest_role ? open_acceptor(ioc, config.devices, "devices") : tcp::acceptor(ioc);

  // Device sessions and their Redis connection share one strand: hiredis is single-threaded.
  const auto ingest_strand = asio::make_strand(ioc);
  RedisOptions redis_options;
  redis_options.host = config.redis_host;
  redis_options.port = config.redis_port;
  auto redis = RedisConnection::create(ingest_strand, redis_options);
  redis->set_event_handler([&config](const RedisConnectionEvent& e) {
    const std::string where = config.redis_host + ":" + std::to_string(config.redis_port);
    if (e.kind == RedisConnectionEvent::Kind::connected) {
      log::info("redis", "connected", {{"redis", where}});
    } else {
      log::warn("redis", "connection lost or refused; retrying",
                {{"redis", where},
                 {"error", e.detail.empty() ? e.error.message() : e.detail},
                 {"retry_ms", std::to_string(e.retry_in.count())}});
    }
  });
  ReadLog read_log(redis, KeySchema(event.id));
  DeviceProtocolConfig protocol;
  protocol.max_clock_skew_ms = static_cast<DurationMs>(config.max_clock_skew_s) * 1000;
  protocol.heartbeat_interval_ms = static_cast<DurationMs>(config.heartbeat_interval_s) * 1000;
  protocol.idle_timeout_ms = static_cast<DurationMs>(config.idle_timeout_s) * 1000;
  protocol.max_frame_bytes = config.max_frame_bytes;
  auto ingest =
      std::make_shared<DeviceIngest>(event, tokens, protocol, read_log, config.max_body_bytes);

  // This node's engine follows the stream on its own strand and connection (XREAD BLOCK holds
  // a connection), so a read ingested by any node reaches it, and a restart replays the race.
  const auto engine_strand = asio::make_strand(ioc);
  auto follower_redis = RedisConnection::create(engine_strand, redis_options);
  RaceEngine engine(event);
  EngineProgress progress;
  const KeySchema keys(event.id);
  // The engine's derived state goes to Redis next to the stream, over a third connection.
  auto materializer_redis = RedisConnection::create(engine_strand, redis_options);
  StateMaterializer materializer(materializer_redis, keys, engine);
  // Live push: updates built from the engine after each batch; the version of an update is the
  // number of stream entries applied, the same on every node.
  PushHub hub(engine);
  CorrectionLog corrections;  // engine strand
  const LiveCatalog catalog(event);
  std::uint64_t entries_seen = 0;  // engine strand
  // Updates go out at most every --push-interval-ms, so a viewer gets a few larger messages
  // a second rather than one per stream read, whatever the read rate.
  asio::steady_timer publish_timer(engine_strand);
  bool publish_scheduled = false;
  Clock::time_point last_publish{};
  const auto push_interval = std::chrono::milliseconds(config.push_interval_ms);
  // Stored time (the stream id's milliseconds) of the oldest read not yet published; 0: none.
  // Only measured once the engine is live: replaying the stream at start-up is not latency.
  std::int64_t oldest_unpublished_ms = 0;
  bool live = false;
  auto publish = [&] {
    hub.publish(oldest_unpublished_ms);
    if (oldest_unpublished_ms > 0) {
      metrics::server().stored_to_publish.observe(
          static_cast<double>(wall_clock_now() - oldest_unpublished_ms) / 1000.0);
    }
    oldest_unpublished_ms = 0;
  };
  auto schedule_publish = [&] {
    if (publish_scheduled) return;
    const auto now = Clock::now();
    if (now - last_publish >= push_interval) {
      last_publish = now;
      publish();
      return;
    }
    publish_scheduled = true;
    publish_timer.expires_at(last_publish + push_interval);
    publish_timer.async_wait([&](const boost::system::error_code& ec) {
      publish_scheduled = false;
      if (ec) return;
      last_publish = Clock::now();
      publish();
    });
  };
  auto apply_entries = [&](std::vector<StreamEntry>& entries, bool caught_up) {
    std::uint64_t applied = 0, skipped = 0;
    for (const StreamEntry& e : entries) {
      ++entries_seen;
      if (e.correction) {
        const Correction& c = *e.correction;
        CorrectionResult result = apply_correction(engine, c);
        if (result.error) {
          ++skipped;
          log::warn(
              "corrections", "not applied",
              {{"id", e.id}, {"kind", std::string(to_string(c.kind))}, {"error", *result.error}});
        } else {
          for (const RunnerChange& change : result.changes)
            materializer.runner_changed(change.runner);
          hub.note_corrected(result.changes, entries_seen);
          metrics::corrections(to_string(c.kind)).inc();
          ++applied;
        }
        corrections.add({e.id, c, std::move(result.error)});
        continue;
      }
      const auto tp = event.find_timing_point(e.timing_point);
      if (!tp) {
        ++skipped;
        continue;
      }
      const ApplyResult result = engine.apply({*tp, e.chip, e.time_ms});
      if (result.outcome == ReadOutcome::applied) materializer.runner_changed(result.runner);
      hub.note_applied(result, entries_seen, e.time_ms);
      ++applied;
    }
    metrics::server().engine_applied.inc(applied);
    if (live && !entries.empty() && oldest_unpublished_ms == 0)
      oldest_unpublished_ms = std::strtoll(entries.front().id.c_str(), nullptr, 10);
    if (caught_up) live = true;
    schedule_publish();
    const std::lock_guard lock(progress.mutex);
    progress.applied += applied;
    progress.skipped += skipped;
    if (!entries.empty()) progress.last_id = entries.back().id;
    if (caught_up && !progress.caught_up) {
      progress.caught_up = true;
      log::info("engine", "caught up with the stream: " + std::to_string(progress.applied) +
                              " reads applied");
    }
    materializer.applied_up_to(progress.last_id, progress.applied, progress.caught_up);
  };
  // Shutdown's last step, on the engine strand: apply up to `last_id`, write the state out.
  auto flush_engine = [&](std::string last_id,
                          Clock::time_point deadline) -> asio::awaitable<void> {
    return asio::co_spawn(
        engine_strand,
        [&, last_id = std::move(last_id), deadline]() -> asio::awaitable<void> {
          auto flushed = [&] {
            const std::lock_guard lock(progress.mutex);
            return compare_stream_ids(progress.last_id, last_id) >= 0 && materializer.idle();
          };
          while (!flushed() && materializer_redis->connected() && Clock::now() < deadline)
            co_await pause(kDrainPoll);
          if (!flushed()) log::warn("server", "drain timeout: state not fully written to Redis");
        },
        asio::use_awaitable);
  };

  std::vector<ReadinessCheck> checks;
  checks.push_back({"event", [&event](std::string& detail) {
                      detail = event.id + ": " + std::to_string(event.participants.size()) +
                               " participants";
                      return true;
                    }});
  checks.push_back({"redis", [&config, redis](std::string& detail) {
                      const bool up = redis->connected();
                      detail = config.redis_host + ":" + std::to_string(config.redis_port) +
                               (up ? " connected" : " not connected");
                      return up;
                    }});
  checks.push_back({"engine", [&progress](std::string& detail) {
                      const std::lock_guard lock(progress.mutex);
                      detail = std::to_string(progress.applied) + " reads applied, stream at " +
                               progress.last_id;
                      if (progress.skipped > 0) {
                        detail += ", " + std::to_string(progress.skipped) + " skipped";
                      }
                      if (!progress.caught_up) detail += ", replaying";
                      return progress.caught_up;
                    }});
  auto router = std::make_shared<Router>(std::move(checks));
  metrics::global().gauge_fn("splitstream_engine_caught_up",
                             "1 once this node's engine has replayed the stream (ready), else 0.",
                             [&progress] {
                               const std::lock_guard lock(progress.mutex);
                               return progress.caught_up ? 1.0 : 0.0;
                             });
  for (const auto& [name, connection] :
       {std::pair{"ingest", redis}, std::pair{"follower", follower_redis},
        std::pair{"materializer", materializer_redis}}) {
    metrics::global().gauge_fn("splitstream_redis_connected",
                               "1 while the Redis connection is up, by its use.",
                               [weak = std::weak_ptr<RedisConnection>(connection)] {
                                 const auto c = weak.lock();
                                 return c && c->connected() ? 1.0 : 0.0;
                               },
                               {{"connection", name}});
  }
  // Request bodies: device batches may be large, admin corrections are small, the rest of the
  // API takes none worth speaking of.
  router->set_body_limit("/api/v1/reads", config.max_body_bytes);
  router->set_body_limit(std::string(kAdminPrefix), config.max_admin_body);
  // The officials' corrections, on every node: recorded in the stream, applied by all.
  auto admin = std::make_shared<AdminContext>(
      AdminContext{admin_token, event.utc_offset_minutes, engine, corrections, progress,
                   engine_strand, ingest_strand, redis, keys.reads()});
  router->add_async(std::string(kCorrectionsPath), [admin](HttpRequest request) {
    return admin_corrections(std::move(request), admin);
  });
  // Every node, whatever its roles: Prometheus scrapes each one.
  router->add("/metrics", [](const HttpRequest& request) {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return error_response(request, http::status::method_not_allowed, "method_not_allowed",
                            "GET /metrics");
    }
    HttpResponse res = json_response(request, http::status::ok, metrics::global().render());
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    return res;
  });
  if (config.ingest_role) {
    // HTTP ingest hops onto the ingest strand, where the ReadLog and its connection live.
    router->add_async("/api/v1/reads", [ingest, ingest_strand](HttpRequest request) {
      return asio::co_spawn(ingest_strand, handle_http_ingest(std::move(request), ingest),
                            asio::use_awaitable);
    });
    router->add_async("/api/v1/devices", [ingest, ingest_strand, redis, keys](HttpRequest request) {
      return asio::co_spawn(ingest_strand, device_status(std::move(request), ingest, redis, keys),
                            asio::use_awaitable);
    });
  }
  auto push = std::make_shared<PushContext>(hub, engine_strand, catalog, websocket_options(config));
  metrics::global().gauge_fn(
      "splitstream_ws_viewers_connected", "WebSocket viewers connected to this node.",
      [weak = std::weak_ptr<PushContext>(push)] {
        const auto context = weak.lock();
        return context ? static_cast<double>(context->connections.load()) : 0.0;
      });
  if (config.push_role) {
    router->add_upgrade(
        "/ws", [push](HttpStreamRef stream, HttpRequest request, std::shared_ptr<void> hold) {
          return serve_websocket(stream, std::move(request), push, std::move(hold));
        });
    // The REST API reads the engine and the hub, on their strand.
    const RestContext rest{engine, hub, catalog};
    router->add_async_prefix("/api/v1/", [rest, engine_strand](HttpRequest request) {
      return asio::co_spawn(engine_strand, answer_rest(std::move(request), rest),
                            asio::use_awaitable);
    });
    // Settings for the browser app: no engine, answered on the session's thread.
    const ClientConfig client{config.map_tiles, config.map_attribution};
    router->add("/api/v1/config", [client](const HttpRequest& request) {
      return handle_client_config(request, client);
    });
    // The browser app takes every path no other route does (not /api/: that stays the API's).
    if (web_app) {
      router->set_fallback(
          [web_app](const HttpRequest& request) { return web_app->handle(request); });
    } else {
      router->set_fallback(web_app_not_built);
    }
  }
  HttpLimits limits;
  asio::co_spawn(ioc,
                 run_http_listener(http_acceptor, router, limits,
                                   ConnectionLimiter::create(config.http_connections_per_address),
                                   config.tls_http ? tls : nullptr),
                 asio::detached);
  asio::co_spawn(ingest_strand, redis->run(), asio::detached);
  if (config.ingest_role) {
    asio::co_spawn(
        ingest_strand,
        run_device_listener(device_acceptor, ingest,
                            ConnectionLimiter::create(config.device_connections_per_address),
                            config.tls_devices ? tls : nullptr),
        asio::detached);
  }
  asio::co_spawn(engine_strand, follower_redis->run(), asio::detached);
  asio::co_spawn(engine_strand, follow_stream(follower_redis, keys.reads(), apply_entries),
                 asio::detached);
  asio::co_spawn(engine_strand, materializer_redis->run(), asio::detached);
  asio::co_spawn(engine_strand, materializer.run(), asio::detached);

  // Stop: no new connections, batches in flight stored and acked, the engine's state written
  // out (each within --drain-timeout), then close everything. Devices resend what was not acked.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("server", "signal " + std::to_string(signal) + ": stopping");
    boost::system::error_code ignored;
    http_acceptor.close(ignored);
    asio::post(ingest_strand, [&] {
      boost::system::error_code ignore;
      device_acceptor.close(ignore);
      const auto deadline = Clock::now() + std::chrono::seconds(config.drain_timeout_s);
      asio::co_spawn(ingest_strand, drain(ingest, redis, keys.reads(), deadline, flush_engine),
                     [&](std::exception_ptr) {
                       redis->stop();
                       asio::post(engine_strand, [&] {
                         materializer.stop();
                         publish_timer.cancel();
                         materializer_redis->stop();
                         follower_redis->stop();
                         ioc.stop();
                       });
                     });
    });
  });
  const auto http_at = http_acceptor.local_endpoint();
  std::string devices_at = "no device port (push role only)";
  if (config.ingest_role) {
    const auto at = device_acceptor.local_endpoint();
    devices_at = "devices on " + at.address().to_string() + ":" + std::to_string(at.port());
  }
  log::info("server", "event " + event.id + "; http" + (config.tls_http ? "s" : "") + " on " +
                          http_at.address().to_string() + ":" + std::to_string(http_at.port()) +
                          "; " + devices_at +
                          (config.ingest_role && config.tls_devices ? " (TLS)" : "") + "; " +
                          std::to_string(tokens.size()) + " device tokens; admin endpoints " +
                          (admin_token.empty() ? "off" : "on"));

  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i)
    threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (std::thread& t : threads)
    t.join();
  log::info("server", "stopped");
  return 0;
}

}  // namespace splitstream
