#include "server/server.hpp"

#include <pthread.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adapters/decoder_service.hpp"
#include "api/console_feeds.hpp"
#include "api/officials.hpp"
#include "api/presence_publisher.hpp"
#include "api/routes.hpp"
#include "engine/corrections.hpp"
#include "http/http_listener.hpp"
#include "ingest/device_session.hpp"
#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "observe/spawn_completion.hpp"
#include "pipeline/pipeline_service.hpp"
#include "server/component_options.hpp"
#include "server/graceful_stop.hpp"
#include "server/redis_status.hpp"
#include "server/secrets.hpp"
#include "server/tls_context.hpp"
#include "server/web_app.hpp"
#include "store/read_log.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// An io_context whose handlers can be dropped before it is destroyed (shutdown(), protected in
// Asio's execution_context): the node has two that refer to each other.
class NodeContext : public asio::io_context {
 public:
  using asio::execution_context::shutdown;
  using asio::io_context::io_context;
};

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

// Each line names the Redis as describe_redis() does (never the password).
RedisConnection::EventHandler log_redis_events(const RedisOptions& options) {
  return [where = describe_redis(options)](const RedisConnectionEvent& e) {
    if (e.kind == RedisConnectionEvent::Kind::connected) {
      log::info("redis", "connected", {{"redis", where}, {"at", e.detail}});
    } else {
      log::warn("redis", "connection lost or refused; retrying",
                {{"redis", where},
                 {"error", e.detail.empty() ? e.error.message() : e.detail},
                 {"retry_ms", std::to_string(e.retry_in.count())}});
    }
  };
}

// What /readyz asks: the event is loaded, Redis is connected, the engine has replayed the stream.
std::vector<ReadinessCheck> readiness_checks(const RedisOptions& redis_options, const Event& event,
                                             std::shared_ptr<RedisConnection> redis,
                                             const LivePipeline& pipeline) {
  std::vector<ReadinessCheck> checks;
  checks.push_back({"event", [&event](std::string& detail) {
                      detail = event.id + ": " + std::to_string(event.participants.size()) +
                               " participants";
                      return true;
                    }});
  checks.push_back({"redis", [redis_options, redis](std::string& detail) {
                      const bool up = redis->connected();
                      detail = redis_readiness_detail(redis_options, up, redis->last_problem());
                      return up;
                    }});
  checks.push_back({"engine", [&pipeline](std::string& detail) {
                      const PipelineProgress p = pipeline.progress();
                      detail = std::to_string(p.applied) + " reads applied, stream at " + p.last_id;
                      if (p.skipped > 0) detail += ", " + std::to_string(p.skipped) + " skipped";
                      if (!p.caught_up) detail += ", replaying";
                      return p.caught_up;
                    }});
  return checks;
}

// The gauges read when /metrics is scraped.
void register_node_gauges(const PipelineService& pipeline,
                          const std::shared_ptr<RedisConnection>& ingest_redis,
                          const std::shared_ptr<PushContext>& push) {
  metrics::global().gauge_fn(
      "splitstream_engine_caught_up",
      "1 once this node's engine has replayed the stream (ready), else 0.",
      [&pipeline] { return pipeline.pipeline().progress().caught_up ? 1.0 : 0.0; });
  for (const auto& [name, connection] :
       {std::pair{"ingest", ingest_redis}, std::pair{"follower", pipeline.follower_redis()},
        std::pair{"materializer", pipeline.materializer_redis()}}) {
    metrics::global().gauge_fn("splitstream_redis_connected",
                               "1 while the Redis connection is up, by its use.",
                               [weak = std::weak_ptr<RedisConnection>(connection)] {
                                 const auto c = weak.lock();
                                 return c && c->connected() ? 1.0 : 0.0;
                               },
                               {{"connection", name}});
  }
  metrics::global().gauge_fn(
      "splitstream_ws_viewers_connected", "WebSocket viewers connected to this node.",
      [weak = std::weak_ptr<PushContext>(push)] {
        const auto context = weak.lock();
        return context ? static_cast<double>(context->connections.load()) : 0.0;
      });
}

// The console's now (--console-clock); called on the engine strand, where the hub lives.
std::function<TimeMs()> console_clock(const ServerConfig& config, const PushHub& hub) {
  ConsoleClock mode = ConsoleClock::automatic;
  if (config.console_clock == "wall") mode = ConsoleClock::wall;
  if (config.console_clock == "race") mode = ConsoleClock::race;
  return [mode, &hub] { return console_now(mode, wall_clock_now(), hub.race_clock()); };
}

// "officials: 3 (1 viewer, 2 official)", or "admin endpoints off", for the start-up line.
std::string describe_officials(const Officials& officials) {
  if (officials.empty()) return "admin endpoints off";
  return "officials: " + std::to_string(officials.size()) + " (" +
         std::to_string(officials.count(OfficialRole::viewer)) + " viewer, " +
         std::to_string(officials.count(OfficialRole::official)) + " official)";
}

}  // namespace

int run_server(const ServerConfig& config, const Event& event,
               const std::vector<DecoderConfig>& decoders) {
  std::vector<std::string> token_holders;  // Impinj readers post with a token of their own
  for (const DecoderConfig& d : decoders)
    if (d.protocol == DecoderProtocolKind::impinj) token_holders.push_back(d.id);
  const DeviceTokens tokens = load_device_tokens(config, event, token_holders);
  const std::shared_ptr<const StaticFiles> web_app =
      config.push_role ? load_web_app(config) : nullptr;
  const std::shared_ptr<asio::ssl::context> tls = make_tls_context(config);
  const std::shared_ptr<const Officials> officials = load_officials(config);
  metrics::register_process_metrics(SPLITSTREAM_VERSION);
  metrics::register_known_series(correction_kind_names());

  const ComponentOptions options = component_options(config);
  NodeContext ioc(config.threads);
  // The engine and the state materializer on a thread of their own: the stream is applied at
  // the pace ingest stores it, whatever the device sessions and the viewers' writes ask of the
  // I/O threads. The stream follower reads and parses on a strand of the I/O threads, so that
  // its next batch arrives while the engine applies the last.
  NodeContext engine_ioc(1);
  auto engine_work = asio::make_work_guard(engine_ioc);
  tcp::acceptor http_acceptor = open_acceptor(ioc, config.http, "http");
  tcp::acceptor device_acceptor =
      config.ingest_role ? open_acceptor(ioc, config.devices, "devices") : tcp::acceptor(ioc);
  // A part the node cannot do without that fails stops it with a non-zero status (a supervisor
  // restarts it); a signal stops it with 0.
  std::atomic<int> exit_status{0};
  std::atomic<bool> stopping{false};
  const auto stop_node = [&ioc, &engine_ioc, &exit_status](int status) {
    int none = 0;
    exit_status.compare_exchange_strong(none, status);
    ioc.stop();
    engine_ioc.stop();
  };
  const auto essential = [&](const char* what) -> std::function<void(std::exception_ptr)> {
    return StopProcess(what, stop_node, [&stopping] { return stopping.load(); });
  };

  // Device sessions and their Redis connection share one strand: the connection's state is
  // not locked.
  const auto ingest_strand = asio::make_strand(ioc);
  const KeySchema keys(event.id);
  auto redis = RedisConnection::create(ingest_strand, options.redis);
  redis->set_event_handler(log_redis_events(options.redis));
  ReadLog read_log(redis, keys);
  auto ingest = std::make_shared<DeviceIngest>(event, tokens, options.device_protocol, read_log,
                                               options.http_ingest_body_limit);
  // Vendor hardware (decoders.json): with the ingest role only, like the device port.
  const std::vector<DecoderConfig> no_decoders;
  DecoderService vendor_decoders(ingest_strand, event, config.ingest_role ? decoders : no_decoders,
                                 ingest, redis, keys);

  // This node's engine and what it feeds, on the engine strand: the stream in, Redis state and
  // live updates out. The version of an update is the number of stream entries applied, the
  // same on every node.
  const auto engine_strand = asio::make_strand(engine_ioc);
  RaceEngine engine(event);
  PushHub hub(engine, options.push_hub);
  CorrectionLog corrections;
  PipelineService pipeline(engine_strand, asio::make_strand(ioc), options.redis, keys, engine, hub,
                           corrections, live_pipeline_options(config));
  const LiveCatalog catalog(event);
  auto push = std::make_shared<PushContext>(hub, engine_strand, catalog, options.websocket);
  for (int i = 0; i < config.threads; ++i)
    push->shards.push_back(std::make_shared<ViewerShard>(asio::make_strand(ioc)));
  push->console_access = [officials](const HttpRequest& request) {
    return console_feeds_allowed(request, *officials, wall_clock_now());
  };
  register_node_gauges(pipeline, redis, push);

  Endpoints endpoints;
  endpoints.readiness = readiness_checks(options.redis, event, redis, pipeline.pipeline());
  endpoints.body_limits = options.body_limits;
  endpoints.admin = std::make_shared<AdminContext>(
      AdminContext{officials, event.utc_offset_minutes, engine, corrections, pipeline.pipeline(),
                   engine_strand, ingest_strand, redis, keys.reads()});
  endpoints.officials = officials;
  endpoints.session = SessionOptions{std::chrono::seconds(config.session_ttl_s), config.tls_http};
  if (config.ingest_role) {
    endpoints.ingest = ingest;
    endpoints.ingest_strand = ingest_strand;
    endpoints.ingest_redis = redis;
    endpoints.decoders = vendor_decoders.services();
    endpoints.keys = keys;
    auto status = std::make_shared<DeviceStatusContext>();
    status->ingest = ingest;
    status->decoders = vendor_decoders.services();
    status->redis = redis;
    status->keys = keys;
    status->clock_warn_ms = config.clock_warn_ms;
    status->silent_after_ms = static_cast<DurationMs>(config.silent_after_s) * 1000;
    status->timing_points = device_timing_points(event, decoders);
    status->engine = &engine;
    status->engine_strand = engine_strand;
    endpoints.device_status = std::move(status);
  }
  if (config.push_role) {
    endpoints.push = push;
    endpoints.rest = std::make_shared<const RestContext>(RestContext{engine, hub, catalog});
    endpoints.console = std::make_shared<const ConsoleContext>(
        ConsoleContext{engine, event, event.utc_offset_minutes, console_clock(config, hub), {}});
    endpoints.engine_strand = engine_strand;
    endpoints.client = ClientConfig{config.map_tiles, config.map_attribution};
    endpoints.web_app = web_app;
  }

  // The listener's accepts and the close at stop on one strand: an acceptor is not thread-safe.
  const auto http_strand = asio::make_strand(ioc);
  asio::co_spawn(http_strand,
                 run_http_listener(http_acceptor, make_router(endpoints), options.http,
                                   ConnectionLimiter::create(options.http_connections_per_address),
                                   config.tls_http ? tls : nullptr),
                 essential("http listener"));
  asio::co_spawn(ingest_strand, redis->run(), essential("redis (ingest)"));
  if (config.ingest_role) {
    asio::co_spawn(
        ingest_strand,
        run_device_listener(device_acceptor, ingest,
                            ConnectionLimiter::create(options.device_connections_per_address),
                            config.tls_devices ? tls : nullptr),
        essential("device listener"));
    vendor_decoders.start(essential);
    // Presence is for the crew's view only: a publisher that fails is logged, the node goes on.
    boost::system::error_code no_host_name;
    const std::string host_name = asio::ip::host_name(no_host_name);
    asio::co_spawn(ingest_strand,
                   run_presence_publisher(
                       ingest, vendor_decoders.services(), redis, keys,
                       presence_options(config, host_name, http_acceptor.local_endpoint().port())),
                   LogAndDrop("presence"));
  }
  pipeline.start(essential);
  if (config.push_role) {
    // The console's live feeds are for the crew's view only: a failure is logged, the node goes
    // on. On the ingest strand where there is one (the devices' Redis connection lives there).
    asio::any_io_executor feeds_strand = engine_strand;
    if (config.ingest_role) feeds_strand = ingest_strand;
    asio::co_spawn(feeds_strand,
                   run_console_feeds(endpoints.device_status, endpoints.console, hub, engine_strand,
                                     stopping, ConsoleFeedsOptions{}),
                   LogAndDrop("console feeds"));
  }

  // Stop: no new connections, batches in flight stored and acked, the engine's state written
  // out (each within --drain-timeout), then close everything. Devices resend what was not acked.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("server", "signal " + std::to_string(signal) + ": stopping");
    stopping = true;
    asio::post(http_strand, [&] {
      boost::system::error_code ignore;
      http_acceptor.close(ignore);
    });
    asio::post(ingest_strand, [&] {
      boost::system::error_code ignore;
      device_acceptor.close(ignore);
      vendor_decoders.stop_accepting();
      const auto deadline = std::chrono::steady_clock::now() + options.drain_timeout;
      asio::co_spawn(ingest_strand,
                     drain(ingest, redis, keys.reads(), &pipeline, engine_strand, deadline),
                     [&](std::exception_ptr error) {
                       if (error) {
                         log::error("server", "drain failed", {{"error", describe(error)}});
                         int none = 0;
                         exit_status.compare_exchange_strong(none, kExitInternalError);
                       }
                       redis->stop();
                       asio::post(engine_strand, [&] {
                         pipeline.stop();
                         ioc.stop();
                         engine_ioc.stop();
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
                          std::to_string(tokens.size()) + " device tokens; " +
                          describe_officials(*officials));
  log::info("redis", "durability " + describe_durability(options.redis.durability),
            {{"redis", describe_redis(options.redis)},
             {"durability", durability_mode_name(options.redis.durability.mode)}});
  if (const std::string described = vendor_decoders.describe(); !described.empty())
    log::info("server", "vendor decoders: " + described);

  // Named, so that `top -H` and /proc tell the engine's thread from the I/O threads.
  std::vector<std::thread> threads;
  threads.emplace_back([&engine_ioc] {
    pthread_setname_np(pthread_self(), "ss-engine");
    engine_ioc.run();
  });
  for (int i = 1; i < config.threads; ++i) {
    threads.emplace_back([&ioc, i] {
      pthread_setname_np(pthread_self(), ("ss-io-" + std::to_string(i)).c_str());
      ioc.run();
    });
  }
  ioc.run();          // the main thread keeps the process's name
  engine_ioc.stop();  // however the I/O threads ended
  for (std::thread& t : threads)
    t.join();
  pipeline.join_encoder();
  for (const auto& shard : push->shards)
    shard->clear();
  // Handlers of each context hold executors of the other (a coroutine on an I/O strand awaiting
  // the engine's strand, and the other way round): both drop their handlers while both still
  // stand, before either is destroyed.
  ioc.shutdown();
  engine_ioc.shutdown();
  if (exit_status != 0) {
    log::error("server", "stopped after a failure", {{"exit_status", std::to_string(exit_status)}});
    return exit_status;
  }
  log::info("server", "stopped");
  return 0;
}

}  // namespace splitstream
