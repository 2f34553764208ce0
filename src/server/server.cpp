#include "server/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/race_engine.hpp"
#include "http/http_listener.hpp"
#include "ingest/device_session.hpp"
#include "ingest/device_tokens.hpp"
#include "ingest/http_ingest.hpp"
#include "server/log.hpp"
#include "store/read_log.hpp"
#include "store/redis_connection.hpp"
#include "store/stream_follower.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

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

  asio::io_context ioc(config.threads);
  tcp::acceptor http_acceptor = open_acceptor(ioc, config.http, "http");
  tcp::acceptor device_acceptor = open_acceptor(ioc, config.devices, "devices");

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
  auto ingest = std::make_shared<DeviceIngest>(DeviceIngest{event, tokens, protocol, read_log});

  // This node's engine follows the stream on its own strand and connection (XREAD BLOCK holds
  // a connection), so a read ingested by any node reaches it, and a restart replays the race.
  const auto engine_strand = asio::make_strand(ioc);
  auto follower_redis = RedisConnection::create(engine_strand, redis_options);
  RaceEngine engine(event);
  EngineProgress progress;
  const KeySchema keys(event.id);
  auto apply_entries = [&](std::vector<StreamEntry>& entries, bool caught_up) {
    std::uint64_t applied = 0, skipped = 0;
    for (const StreamEntry& e : entries) {
      const auto tp = event.find_timing_point(e.timing_point);
      if (!tp) {
        ++skipped;
        continue;
      }
      engine.apply({*tp, e.chip, e.time_ms});
      ++applied;
    }
    const std::lock_guard lock(progress.mutex);
    progress.applied += applied;
    progress.skipped += skipped;
    if (!entries.empty()) progress.last_id = entries.back().id;
    if (caught_up && !progress.caught_up) {
      progress.caught_up = true;
      log::info("engine", "caught up with the stream: " + std::to_string(progress.applied) +
                              " reads applied");
    }
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
  // HTTP ingest hops onto the ingest strand, where the ReadLog and its connection live.
  router->add_async("/api/v1/reads", [ingest, ingest_strand](HttpRequest request) {
    return asio::co_spawn(ingest_strand, handle_http_ingest(std::move(request), ingest),
                          asio::use_awaitable);
  });
  HttpLimits limits;
  limits.max_body_bytes = config.max_body_bytes;
  asio::co_spawn(ioc, run_http_listener(http_acceptor, router, limits), asio::detached);
  asio::co_spawn(ingest_strand, redis->run(), asio::detached);
  asio::co_spawn(ingest_strand, run_device_listener(device_acceptor, ingest), asio::detached);
  asio::co_spawn(engine_strand, follower_redis->run(), asio::detached);
  asio::co_spawn(engine_strand, follow_stream(follower_redis, keys.reads(), apply_entries),
                 asio::detached);

  // Stop: no new connections, a moment for batches in flight to reach Redis and be acked,
  // then close everything. Devices resend whatever was not acked.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer grace(ingest_strand);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("server", "signal " + std::to_string(signal) + ": stopping");
    boost::system::error_code ignored;
    http_acceptor.close(ignored);
    asio::post(ingest_strand, [&] {
      boost::system::error_code ignore;
      device_acceptor.close(ignore);
      grace.expires_after(std::chrono::milliseconds(500));
      grace.async_wait([&](const boost::system::error_code&) {
        redis->stop();
        follower_redis->stop();
        ioc.stop();
      });
    });
  });
  const auto http_at = http_acceptor.local_endpoint();
  const auto devices_at = device_acceptor.local_endpoint();
  log::info("server", "event " + event.id + "; http on " + http_at.address().to_string() + ":" +
                          std::to_string(http_at.port()) + "; devices on " +
                          devices_at.address().to_string() + ":" +
                          std::to_string(devices_at.port()) + "; " + std::to_string(tokens.size()) +
                          " device tokens");

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
