#include "adapters/decoder_session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <type_traits>

#include "adapters/ctp01_fsm.hpp"
#include "adapters/impinj_reads.hpp"
#include "adapters/mylaps_fsm.hpp"
#include "adapters/raceresult_fsm.hpp"
#include "ingest/write_within.hpp"
#include "observe/log.hpp"
#include "observe/server_metrics.hpp"
#include "observe/spawn_completion.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kTick{1};
// As long as the longest of the protocols' idle timeouts (MYLAPS, 60 s): a decoder that takes
// none of our bytes for that long is as gone as one that sends nothing.
constexpr std::chrono::seconds kWriteTimeout{60};
constexpr std::chrono::seconds kConnectTimeout{5};
constexpr std::chrono::seconds kFirstRedial{1};
constexpr std::chrono::seconds kLongestRedial{30};
constexpr std::chrono::milliseconds kDrainCheck{250};
constexpr std::chrono::milliseconds kRedisRetry{100};

// The decoder's settings as each protocol's options (the defaults are the protocols' own).
RaceResultOptions raceresult_options(const DecoderConfig& c) {
  RaceResultOptions o;
  o.protocol_version = c.raceresult_protocol;
  o.start_operation = c.raceresult_start_operation;
  if (c.raceresult_range_to) o.range_syntax = RaceResultOptions::RangeSyntax::from_to;
  o.ping_expects_reply = c.raceresult_ping_reply;
  return o;
}

Ctp01Options ctp01_options(const DecoderConfig& c) {
  Ctp01Options o;
  if (auto format = parse_ctp01_time_format(c.ctp01_time_format)) o.time_format = *format;
  o.push_ack = c.ctp01_pushmode_ack;
  return o;
}

MylapsOptions mylaps_options(const DecoderConfig& c) {
  MylapsOptions o;
  o.version = c.mylaps_version == 1 ? MylapsVersion::v1 : MylapsVersion::v2;
  return o;
}

// RACE RESULT cursors stored as "cursor:<file>" fields of the decoder's hash.
std::map<std::uint32_t, std::uint64_t> cursors_of(const std::map<std::string, std::string>& hash) {
  std::map<std::uint32_t, std::uint64_t> cursors;
  for (const auto& [field, value] : hash) {
    if (!field.starts_with("cursor:")) continue;
    char* end = nullptr;
    const unsigned long file = std::strtoul(field.c_str() + 7, &end, 10);
    if (*end != '\0') continue;
    cursors[static_cast<std::uint32_t>(file)] = std::strtoull(value.c_str(), nullptr, 10);
  }
  return cursors;
}

// Logs what the protocol or the intake found wrong, once per burst, and counts it all.
void report_problems(Decoder& d, const std::vector<std::string>& problems, const char* what,
                     TimeMs now) {
  if (problems.empty()) return;
  std::uint64_t suppressed = 0;
  if (!d.status.log_malformed_now(now, suppressed)) return;
  log::warn("decoders", what,
            {{"decoder", d.config.id},
             {"problem", problems.front()},
             {"in_this_batch", std::to_string(problems.size())},
             {"unlogged_since_last", std::to_string(suppressed)}});
}

// One connection to a decoder: bytes in -> protocol -> reads made durable -> the protocol's
// answers out. `Protocol` is RaceResultProtocol, Ctp01Protocol or MylapsProtocol.
template <typename Protocol>
class DecoderConnection {
 public:
  DecoderConnection(tcp::socket& socket, std::shared_ptr<DecoderServices> services, Decoder& d,
                    Protocol& protocol)
      : socket_(socket), services_(std::move(services)), decoder_(d), protocol_(protocol) {}

  // Runs until the peer goes, the protocol closes, or the node drains. The reason it ended.
  asio::awaitable<std::string> run(DecoderOutput first) {
    bool open = co_await carry_out(std::move(first));
    asio::steady_timer tick(co_await asio::this_coro::executor);
    std::array<char, 16 * 1024> buffer;
    while (open && !services_->devices->draining()) {
      tick.expires_after(kTick);
      if (!protocol_.wants_bytes()) {
        co_await tick.async_wait(kNoThrow);
        open = co_await carry_out(protocol_.on_tick(wall_clock_now()));
        continue;
      }
      auto event = co_await (socket_.async_read_some(asio::buffer(buffer), kNoThrow) ||
                             tick.async_wait(kNoThrow));
      if (event.index() == 1) {
        open = co_await carry_out(protocol_.on_tick(wall_clock_now()));
        continue;
      }
      auto [read_error, n] = std::get<0>(event);
      if (read_error) {
        if (reason_.empty()) reason_ = "the decoder closed the connection";
        break;
      }
      open = co_await carry_out(
          protocol_.on_bytes(std::string_view(buffer.data(), n), wall_clock_now()));
    }
    if (open && services_->devices->draining()) reason_ = "the server is stopping";
    co_return reason_;
  }

 private:
  // Does what the protocol asked, storing its batches, until it asks for nothing more. False
  // when the connection is over.
  asio::awaitable<bool> carry_out(DecoderOutput out) {
    for (;;) {
      note(out.notices);
      if (!out.send.empty()) {
        std::string bytes;
        for (const std::string& s : out.send)
          bytes += s;
        const boost::system::error_code ec = co_await write_within(socket_, bytes, kWriteTimeout);
        if (ec == asio::error::timed_out) {
          reason_ = "the decoder took none of our bytes for " +
                    std::to_string(kWriteTimeout.count()) + " s";
          co_return false;
        }
        if (ec) {
          reason_ = "write failed: " + ec.message();
          co_return false;
        }
      }
      if (out.close_after_send) {
        reason_ = out.close_reason;
        co_return false;
      }
      if (!out.persist) co_return true;
      const TimeMs arrival = wall_clock_now();
      IntakeReport report;
      DecoderBatchToStore batch = decoder_.intake.prepare(*out.persist, arrival, report);
      decoder_.status.record_intake(report);
      decoder_.status.record_clock(decoder_.intake.clock_offset_ms(),
                                   decoder_.intake.clock_offset_measured());
      report_problems(decoder_, report.problems, "reads refused or unknown", arrival);
      TimeMs newest = kNoTime;
      for (const v1::Read& r : batch.reads)
        newest = std::max(newest, r.time_ms());
      const std::vector<StoredGunMarker> markers = batch.markers;
      const DecoderStoreResult stored =
          co_await services_->read_log.append(decoder_.config.id, arrival, std::move(batch));
      if (stored.error) {
        log::warn("decoders", "storing a batch failed; the decoder is asked again later",
                  {{"decoder", decoder_.config.id}, {"error", stored.detail}});
        out = protocol_.on_store_error(stored.detail, wall_clock_now());
        continue;
      }
      decoder_.status.record_stored(stored.appended, stored.duplicates, stored.new_markers, newest,
                                    wall_clock_now());
      if (stored.new_markers > 0) {
        for (const StoredGunMarker& m : markers) {
          log::info("decoders", "gun marker",
                    {{"decoder", decoder_.config.id},
                     {"location", m.source},
                     {"label", m.label},
                     {"time_ms", std::to_string(m.time_ms)}});
        }
      }
      out = protocol_.on_persisted(wall_clock_now());
    }
  }

  void note(const DecoderNotices& notices) {
    const TimeMs now = wall_clock_now();
    decoder_.status.record_notices(notices, now);
    if constexpr (std::is_same_v<Protocol, RaceResultProtocol>)
      decoder_.status.record_backlog(protocol_.backlog());
    report_problems(decoder_, notices.malformed, "malformed input from a decoder", now);
    if (notices.clock_reading) {
      decoder_.intake.note_clock_reading(*notices.clock_reading, now);
      decoder_.status.record_clock(decoder_.intake.clock_offset_ms(),
                                   decoder_.intake.clock_offset_measured());
    }
    if (notices.refetched_gaps > 0) {
      log::info("decoders", "fetching passings missed",
                {{"decoder", decoder_.config.id},
                 {"gaps", std::to_string(notices.refetched_gaps)},
                 {"reads", std::to_string(notices.refetched_reads)}});
    }
  }

  tcp::socket& socket_;
  std::shared_ptr<DecoderServices> services_;
  Decoder& decoder_;
  Protocol& protocol_;
  std::string reason_;
};

// The socket is known to the drain for as long as the connection lives.
class DrainRegistration {
 public:
  DrainRegistration(DeviceIngest& devices, tcp::socket& socket)
      : devices_(devices), socket_(socket) {
    devices_.session_opened(&socket_);
  }
  ~DrainRegistration() { devices_.session_closed(&socket_); }
  DrainRegistration(const DrainRegistration&) = delete;
  DrainRegistration& operator=(const DrainRegistration&) = delete;

 private:
  DeviceIngest& devices_;
  tcp::socket& socket_;
};

void close_socket(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

// Runs one protocol over a connected socket until it ends; the reason it ended.
template <typename Protocol>
asio::awaitable<std::string> converse(tcp::socket& socket,
                                      std::shared_ptr<DecoderServices> services, Decoder& decoder,
                                      Protocol& protocol, DecoderOutput first) {
  DecoderConnection<Protocol> connection(socket, std::move(services), decoder, protocol);
  co_return co_await connection.run(std::move(first));
}

asio::awaitable<void> run_accepted(tcp::socket socket, std::shared_ptr<DecoderServices> services,
                                   Decoder* decoder, std::string peer) {
  DrainRegistration registration(*services->devices, socket);
  decoder->status.connection_opened(peer, wall_clock_now());
  log::info("decoders", "decoder connected",
            {{"decoder", decoder->config.id},
             {"protocol", std::string(to_string(decoder->config.protocol))},
             {"remote", peer}});
  std::string reason;
  if (decoder->config.protocol == DecoderProtocolKind::ctp01) {
    Ctp01Protocol protocol(ctp01_options(decoder->config), wall_clock_now());
    reason = co_await converse(socket, services, *decoder, protocol, DecoderOutput());
  } else {
    // The exporter speaks first (Pong).
    MylapsProtocol protocol(mylaps_options(decoder->config), wall_clock_now());
    reason = co_await converse(socket, services, *decoder, protocol, DecoderOutput());
  }
  decoder->status.connection_closed(reason, wall_clock_now());
  log::info("decoders", "decoder disconnected",
            {{"decoder", decoder->config.id}, {"remote", peer}, {"reason", reason}});
  close_socket(socket);
}

// Waits `delay`, or less when the node starts draining. False when it is draining.
asio::awaitable<bool> wait_unless_draining(const DeviceIngest& devices,
                                           std::chrono::steady_clock::duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!devices.draining() && std::chrono::steady_clock::now() < until) {
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(
        kDrainCheck, until - std::chrono::steady_clock::now()));
    co_await timer.async_wait(kNoThrow);
  }
  co_return !devices.draining();
}

// Resolves and connects within kConnectTimeout; the error says why not.
asio::awaitable<boost::system::error_code> dial(tcp::socket& socket, const HostPort& at) {
  const auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  asio::steady_timer timer(executor);
  timer.expires_after(kConnectTimeout);
  auto resolved = co_await (resolver.async_resolve(at.host, std::to_string(at.port), kNoThrow) ||
                            timer.async_wait(kNoThrow));
  if (resolved.index() == 1) co_return asio::error::timed_out;
  auto [resolve_error, endpoints] = std::get<0>(resolved);
  if (resolve_error) co_return resolve_error;
  auto connected =
      co_await (asio::async_connect(socket, endpoints, kNoThrow) || timer.async_wait(kNoThrow));
  if (connected.index() == 1) co_return asio::error::timed_out;
  const boost::system::error_code ec = std::get<0>(std::get<0>(connected));
  co_return ec;
}

}  // namespace

asio::awaitable<void> run_raceresult_dialer(std::shared_ptr<DecoderServices> services,
                                            Decoder* decoder) {
  const auto executor = co_await asio::this_coro::executor;
  const DecoderConfig& config = decoder->config;
  const std::string where = config.dial->host + ":" + std::to_string(config.dial->port);
  std::chrono::steady_clock::duration backoff = kFirstRedial;
  std::string last_problem;
  while (!services->devices->draining()) {
    // Where to resume: every file's cursor, as Redis holds it.
    auto [load_error, hash] = co_await services->read_log.load(config.id);
    boost::system::error_code ec = load_error;
    std::string problem;
    tcp::socket socket(executor);
    if (ec) {
      problem = "redis: " + ec.message();
    } else {
      ec = co_await dial(socket, *config.dial);
      if (ec) problem = "dial " + where + ": " + ec.message();
    }
    if (load_error) {
      // Redis not (yet) connected, e.g. just after start-up: try again soon, quietly (the Redis
      // connection logs its own state).
      decoder->status.set_dialing(problem, wall_clock_now());
      if (!co_await wait_unless_draining(*services->devices, kRedisRetry)) break;
      continue;
    }
    if (ec) {
      decoder->status.set_dialing(problem, wall_clock_now());
      if (problem != last_problem) {
        log::warn("decoders", "cannot reach the decoder; redialling",
                  {{"decoder", config.id}, {"error", problem}});
        last_problem = problem;
      }
      if (!co_await wait_unless_draining(*services->devices, backoff)) break;
      backoff = std::min<std::chrono::steady_clock::duration>(backoff * 2, kLongestRedial);
      continue;
    }
    backoff = kFirstRedial;
    last_problem.clear();
    socket.set_option(tcp::no_delay(true), ec);
    std::string reason;
    {
      DrainRegistration registration(*services->devices, socket);
      decoder->status.connection_opened(where, wall_clock_now());
      log::info("decoders", "decoder connected",
                {{"decoder", config.id}, {"protocol", "raceresult"}, {"remote", where}});
      RaceResultProtocol protocol(raceresult_options(config), cursors_of(hash), wall_clock_now());
      DecoderOutput hello = protocol.on_connected(wall_clock_now());
      reason = co_await converse(socket, services, *decoder, protocol, std::move(hello));
      decoder->status.connection_closed(reason, wall_clock_now());
      close_socket(socket);
    }
    log::info("decoders", "decoder disconnected; redialling",
              {{"decoder", config.id}, {"remote", where}, {"reason", reason}});
    if (!co_await wait_unless_draining(*services->devices, kFirstRedial)) break;
  }
}

asio::awaitable<void> run_decoder_listener(tcp::acceptor& acceptor,
                                           std::shared_ptr<DecoderServices> services,
                                           Decoder* decoder) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    const auto peer = socket.remote_endpoint(ec);
    const std::string address = ec ? std::string() : peer.address().to_string();
    if (!address_allowed(decoder->config.allow, address)) {
      metrics::connections_refused("decoders", "not_allowed").inc();
      log::warn("decoders", "connection refused: address not in the decoder's allow list",
                {{"decoder", decoder->config.id}, {"remote", address}});
      close_socket(socket);
      continue;
    }
    asio::co_spawn(executor, run_accepted(std::move(socket), services, decoder, address),
                   LogAndDrop("decoders"));
  }
}

namespace {

// The token an Impinj reader presents: a bearer token, basic auth's password, or ?token=.
std::string presented_token(const HttpRequest& request) {
  const std::string_view auth = request[http::field::authorization];
  if (auth.starts_with("Bearer ")) return std::string(auth.substr(7));
  if (auth.starts_with("Basic ")) {
    const std::string_view encoded = auth.substr(6);
    std::string decoded(boost::beast::detail::base64::decoded_size(encoded.size()), '\0');
    const auto [written, read] =
        boost::beast::detail::base64::decode(decoded.data(), encoded.data(), encoded.size());
    decoded.resize(written);
    const std::size_t colon = decoded.find(':');
    if (colon != std::string::npos) return decoded.substr(colon + 1);
    return {};
  }
  const std::string_view target = request.target();
  const std::size_t query = target.find('?');
  if (query == std::string_view::npos) return {};
  std::string_view params = target.substr(query + 1);
  while (!params.empty()) {
    const std::size_t amp = params.find('&');
    const std::string_view param = params.substr(0, amp);
    if (param.starts_with("token=")) return std::string(param.substr(6));
    if (amp == std::string_view::npos) break;
    params.remove_prefix(amp + 1);
  }
  return {};
}

std::string impinj_answer(const DecoderStoreResult& stored, const ImpinjParseResult& parsed,
                          const IntakeReport& report) {
  boost::json::object o;
  o["stored"] = stored.appended;
  o["duplicates"] = stored.duplicates;
  o["heartbeats"] = parsed.heartbeats;
  o["unknown_antennas"] = report.unknown_sources;
  o["clock_far_off"] = report.clock_far_off;
  boost::json::array problems;
  for (const std::string& m : parsed.malformed)
    problems.push_back(boost::json::string(m));
  for (const std::string& m : report.problems)
    problems.push_back(boost::json::string(m));
  o["problems"] = std::move(problems);
  return boost::json::serialize(o);
}

}  // namespace

asio::awaitable<HttpResponse> handle_impinj_post(HttpRequest request,
                                                 std::shared_ptr<DecoderServices> services) {
  const std::string_view target = request.target();
  const std::string id(
      target.substr(kImpinjPathPrefix.size(),
                    target.find('?') - std::min(target.find('?'), kImpinjPathPrefix.size())));
  Decoder* decoder = services->fleet.find(id);
  if (!decoder || decoder->config.protocol != DecoderProtocolKind::impinj) {
    co_return error_response(request, http::status::not_found, "unknown_decoder",
                             "no impinj decoder \"" + id + "\" in decoders.json");
  }
  if (request.method() != http::verb::post) {
    HttpResponse res = error_response(request, http::status::method_not_allowed,
                                      "method_not_allowed", "Impinj readers POST their reads");
    res.set(http::field::allow, "POST");
    co_return res;
  }
  const TokenCheck check = services->devices->tokens.check(id, presented_token(request));
  if (check == TokenCheck::no_token) {
    co_return error_response(request, http::status::forbidden, "no_token",
                             "decoder \"" + id + "\" has no token in the device tokens file");
  }
  if (check != TokenCheck::ok) {
    co_return error_response(request, http::status::unauthorized, "bad_token",
                             "send the decoder's token as a bearer token, basic auth's password "
                             "or ?token=");
  }
  if (services->devices->draining()) {
    co_return error_response(request, http::status::service_unavailable, "shutting_down",
                             "the server is stopping; nothing was stored, retry");
  }
  const TimeMs arrival = wall_clock_now();
  decoder->status.note_post(arrival);
  ImpinjLimits limits;
  limits.max_reads = services->devices->protocol.max_reads_per_batch;
  ImpinjParseResult parsed =
      parse_impinj_body(request.body(), request[http::field::content_type], limits);
  if (parsed.error) {
    DecoderNotices notices;
    notices.malformed.push_back(*parsed.error);
    decoder->status.record_notices(notices, arrival);
    co_return error_response(request, http::status::bad_request, "invalid_body", *parsed.error);
  }
  DecoderNotices notices;
  notices.malformed = parsed.malformed;
  notices.heartbeat = parsed.heartbeats > 0;
  decoder->status.record_notices(notices, arrival);
  report_problems(*decoder, parsed.malformed, "malformed input from a decoder", arrival);
  DecoderBatch batch;
  batch.reads = std::move(parsed.reads);
  IntakeReport report;
  DecoderBatchToStore to_store = decoder->intake.prepare(batch, arrival, report);
  decoder->status.record_intake(report);
  decoder->status.record_clock(decoder->intake.clock_offset_ms(),
                               decoder->intake.clock_offset_measured());
  report_problems(*decoder, report.problems, "reads refused or unknown", arrival);
  TimeMs newest = kNoTime;
  for (const v1::Read& r : to_store.reads)
    newest = std::max(newest, r.time_ms());
  services->devices->http_push_started();
  const DecoderStoreResult stored =
      co_await services->read_log.append(id, arrival, std::move(to_store));
  services->devices->http_push_finished();
  if (stored.error) {
    co_return error_response(request, http::status::service_unavailable, "unavailable",
                             "the reads could not be stored (" + stored.detail + "); retry");
  }
  decoder->status.record_stored(stored.appended, stored.duplicates, 0, newest, wall_clock_now());
  co_return json_response(request, http::status::ok, impinj_answer(stored, parsed, report));
}

}  // namespace splitstream
