#include "server/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/race_engine.hpp"
#include "http/http_listener.hpp"
#include "http/rest_api.hpp"
#include "http/static_files.hpp"
#include "ingest/device_session.hpp"
#include "ingest/device_tokens.hpp"
#include "ingest/http_ingest.hpp"
#include "push/push_hub.hpp"
#include "push/websocket_session.hpp"
#include "server/log.hpp"
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
      log::info("redis", "connected to " + where);
    } else {
      log::warn("redis", where + ": " + (e.detail.empty() ? e.error.message() : e.detail) +
                             "; retrying in " + std::to_string(e.retry_in.count()) + " ms");
    }
  });
  ReadLog read_log(redis, KeySchema(event.id));
  DeviceProtocolConfig protocol;
  protocol.max_clock_skew_ms = static_cast<DurationMs>(config.max_clock_skew_s) * 1000;
  protocol.heartbeat_interval_ms = static_cast<DurationMs>(config.heartbeat_interval_s) * 1000;
  protocol.idle_timeout_ms = static_cast<DurationMs>(config.idle_timeout_s) * 1000;
  protocol.max_frame_bytes = config.max_frame_bytes;
  auto ingest = std::make_shared<DeviceIngest>(event, tokens, protocol, read_log);

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
  const LiveCatalog catalog(event);
  std::uint64_t entries_seen = 0;  // engine strand
  // Updates go out at most every --push-interval-ms, so a viewer gets a few larger messages
  // a second rather than one per stream read, whatever the read rate.
  asio::steady_timer publish_timer(engine_strand);
  bool publish_scheduled = false;
  Clock::time_point last_publish{};
  const auto push_interval = std::chrono::milliseconds(config.push_interval_ms);
  auto schedule_publish = [&] {
    if (publish_scheduled) return;
    const auto now = Clock::now();
    if (now - last_publish >= push_interval) {
      last_publish = now;
      hub.publish();
      return;
    }
    publish_scheduled = true;
    publish_timer.expires_at(last_publish + push_interval);
    publish_timer.async_wait([&](const boost::system::error_code& ec) {
      publish_scheduled = false;
      if (ec) return;
      last_publish = Clock::now();
      hub.publish();
    });
  };
  auto apply_entries = [&](std::vector<StreamEntry>& entries, bool caught_up) {
    std::uint64_t applied = 0, skipped = 0;
    for (const StreamEntry& e : entries) {
      ++entries_seen;
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
  if (config.push_role) {
    router->add_upgrade("/ws", [push](boost::beast::tcp_stream& stream, HttpRequest request) {
      return serve_websocket(stream, std::move(request), push);
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
  limits.max_body_bytes = config.max_body_bytes;
  asio::co_spawn(ioc, run_http_listener(http_acceptor, router, limits), asio::detached);
  asio::co_spawn(ingest_strand, redis->run(), asio::detached);
  if (config.ingest_role)
    asio::co_spawn(ingest_strand, run_device_listener(device_acceptor, ingest), asio::detached);
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
  log::info("server", "event " + event.id + "; http on " + http_at.address().to_string() + ":" +
                          std::to_string(http_at.port()) + "; " + devices_at + "; " +
                          std::to_string(tokens.size()) + " device tokens");

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
