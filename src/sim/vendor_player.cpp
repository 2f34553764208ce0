#include "sim/vendor_player.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <memory>
#include <optional>

#include "adapters/impinj_reads.hpp"
#include "sim/ctp01_client.hpp"
#include "sim/mylaps_exporter.hpp"
#include "sim/raceresult_decoder.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kPoll{50};

std::int64_t elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// The end of the outage that covers race time `t`, or nullopt.
std::optional<TimeMs> outage_until(const std::vector<Outage>& outages, TimeMs t) {
  for (const Outage& o : outages)
    if (t >= o.from && t < o.to) return o.to;
  return std::nullopt;
}

asio::awaitable<void> sleep_ms(std::int64_t ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(1, ms)));
  co_await timer.async_wait(kNoThrow);
}

// Reads of the plan due at race time `now`, from `next` on.
std::size_t due_end(const VendorPlan& plan, std::size_t next, TimeMs now, bool all) {
  std::size_t end = next;
  while (end < plan.reads.size() && (all || plan.reads[end].time <= now))
    ++end;
  return end;
}

// Where to listen or connect on this machine for an address in decoders.json.
std::string loopback_host(const std::string& host) {
  if (host == "localhost" || host == "0.0.0.0") return "127.0.0.1";
  return host;
}

// A vendor's hardware as the player drives it, over one connection at a time.
class Hardware {
 public:
  virtual ~Hardware() = default;
  // A new connection: bytes to send first.
  virtual std::string on_connect(TimeMs now) = 0;
  virtual void on_disconnect() = 0;
  virtual std::string on_bytes(std::string_view bytes, TimeMs now) = 0;
  virtual std::string on_tick(TimeMs now) = 0;
  // The handshake is done: reads may be handed over.
  virtual bool ready() const = 0;
  // A read fell due (or is resent after a reconnect): bytes to send now, if any.
  virtual std::string add(const VendorRead& read, TimeMs now) = 0;
  // Everything added has been acknowledged (MYLAPS), or handed over (the others).
  virtual bool all_delivered() const = 0;
  // Reads the server has got so far (acknowledged, fetched or pushed, or written): what
  // --reconnect-every counts.
  virtual std::uint64_t delivered() const = 0;
  // Race time moved on (for faults in race time).
  virtual void on_race_time(TimeMs /*race_now*/) {}
  // True when the hardware forgets what it sent when the line drops (CTP01: no acknowledgement
  // and no store to fetch from): the player hands everything over again on the next connection.
  virtual bool resend_all_on_reconnect() const { return false; }
};

class Ctp01Hardware : public Hardware {
 public:
  explicit Ctp01Hardware(const DecoderConfig& decoder) {
    options_.utc_offset_minutes = decoder.utc_offset_minutes;
    for (const auto& [name, target] : decoder.sources)
      options_.locations.push_back(name);
  }
  std::string on_connect(TimeMs) override {
    client_ = std::make_unique<FakeCtp01Client>(options_);
    position_ = 0;
    return client_->hello();
  }
  void on_disconnect() override { client_.reset(); }
  std::string on_bytes(std::string_view bytes, TimeMs) override {
    return client_ ? client_->on_bytes(bytes) : std::string();
  }
  std::string on_tick(TimeMs) override { return {}; }
  bool ready() const override { return client_ && client_->started(); }
  std::string add(const VendorRead& read, TimeMs) override {
    unique_ = std::max(unique_, ++position_);  // a reconnect replays from the first read
    return client_->read(read.source, read.chip, read.time);
  }
  bool all_delivered() const override { return true; }
  std::uint64_t delivered() const override { return unique_; }
  bool resend_all_on_reconnect() const override { return true; }

 private:
  FakeCtp01ClientOptions options_{.locations = {}};
  std::unique_ptr<FakeCtp01Client> client_;
  std::uint64_t position_ = 0;  // reads written on this connection
  std::uint64_t unique_ = 0;    // distinct reads written on any
};

class MylapsHardware : public Hardware {
 public:
  MylapsHardware(const DecoderConfig& decoder, const VendorPlayOptions& options, TimeMs now)
      : decoder_(decoder), exporter_(exporter_options(decoder, options), now) {}
  std::string on_connect(TimeMs now) override { return exporter_.connect(now); }
  void on_disconnect() override { exporter_.disconnect(); }
  std::string on_bytes(std::string_view bytes, TimeMs now) override {
    return exporter_.on_bytes(bytes, now);
  }
  std::string on_tick(TimeMs now) override { return exporter_.on_tick(now); }
  bool ready() const override { return true; }  // the exporter holds reads until its handshake
  std::string add(const VendorRead& read, TimeMs) override {
    FakeMylapsPassing passing;
    passing.location = read.source;
    passing.chip = read.chip;
    passing.local_time = decoder_local_civil_ms(decoder_, read.time);
    exporter_.add_passing(passing);
    ++added_;
    return {};
  }
  bool all_delivered() const override { return exporter_.all_acknowledged(); }
  std::uint64_t delivered() const override { return added_ - exporter_.unacknowledged(); }

 private:
  static FakeMylapsExporterOptions exporter_options(const DecoderConfig& decoder,
                                                    const VendorPlayOptions& options) {
    FakeMylapsExporterOptions o;
    o.locations.clear();
    for (const auto& [name, target] : decoder.sources)
      o.locations.push_back(name);
    if (!o.locations.empty()) o.pong_source = o.locations.front();
    // A storm: everything unacknowledged again every second, not every 20 s.
    if (options.resend_storm) o.resend_interval_ms = 1000;
    o.seed = options.seed;
    return o;
  }
  const DecoderConfig& decoder_;
  FakeMylapsExporter exporter_;
  std::uint64_t added_ = 0;
};

class RaceResultHardware : public Hardware {
 public:
  RaceResultHardware(const DecoderConfig& decoder, const VendorPlayOptions& options)
      : decoder_(decoder),
        fake_(fake_options(decoder, options)),
        new_file_at_(options.new_file_at) {
    // `#P` lines between a command and its reply, or inside a range reply: pushes are held for
    // up to kHoldPushesMs and go out inside whatever reply comes first.
    fake_.interleave_pushes(true);
  }
  std::string on_connect(TimeMs) override {
    fake_.connect();
    return {};
  }
  void on_disconnect() override {
    fake_.disconnect();
    held_since_ = kNoTime;
  }
  // The fake's clock counts from its day 0, the decoder's date base, in local time.
  std::string on_bytes(std::string_view bytes, TimeMs now) override {
    std::string out = fake_.on_bytes(bytes, decoder_time_of_day_ms(decoder_, now));
    if (!fake_.holds_pushes()) held_since_ = kNoTime;
    return out + fake_.take_pushed();
  }
  std::string on_tick(TimeMs now) override {
    std::string out = fake_.take_pushed();
    if (fake_.holds_pushes() && held_since_ == kNoTime) held_since_ = now;
    if (held_since_ != kNoTime && now - held_since_ >= kHoldPushesMs) {
      out += fake_.take_held_pushes();
      held_since_ = kNoTime;
    }
    return out;
  }
  bool ready() const override { return true; }  // a decoder reads whether or not anyone listens
  std::string add(const VendorRead& read, TimeMs) override {
    fake_.add_passing(read.chip, decoder_time_of_day_ms(decoder_, read.time));
    return fake_.take_pushed();
  }
  bool all_delivered() const override { return fake_.all_delivered(); }
  std::uint64_t delivered() const override { return fake_.delivered(); }
  void on_race_time(TimeMs race_now) override {
    // As a careful crew restarts operation: once the server shows the current file stored in
    // full (its cursor, polled by watch_stored_cursor), not merely sent: passings of a closed
    // file would need GETFILE, whose reply no source documents, so a file closed too early
    // strands what the server had not stored yet. Without --http: once it went out in full.
    if (new_file_at_ > 0 && race_now >= new_file_at_ && !new_file_opened_ &&
        fake_.all_delivered() && (!gated_ || stored_cursor_ >= current_file_size())) {
      fake_.new_file();  // like STARTOPERATION on the decoder: numbering restarts at 1
      new_file_opened_ = true;
    }
  }
  // The new file is held back until set_stored_cursor says the server holds the current one.
  void gate_new_file_on_server() { gated_ = true; }
  bool waits_for_new_file() const { return new_file_at_ > 0 && !new_file_opened_; }
  std::uint32_t current_file() const { return fake_.current_file_number(); }
  std::uint64_t current_file_size() const {
    return fake_.passings(fake_.current_file_number()).size();
  }
  void set_stored_cursor(std::uint64_t cursor) { stored_cursor_ = cursor; }

 private:
  static FakeRaceResultOptions fake_options(const DecoderConfig& decoder,
                                            const VendorPlayOptions&) {
    FakeRaceResultOptions o;
    if (!decoder.sources.empty()) o.box_name = decoder.sources.begin()->first;
    // Its clock is the race's: the replayed race is in the past, so an offset measured against
    // the server's clock would be meaningless (unit tests cover a skewed decoder).
    o.clock_offset_ms = 0;
    return o;
  }
  const DecoderConfig& decoder_;
  FakeRaceResultDecoder fake_;
  TimeMs new_file_at_;
  bool new_file_opened_ = false;
  bool gated_ = false;
  std::uint64_t stored_cursor_ = 0;  // the server's cursor of the current file, last polled
  static constexpr DurationMs kHoldPushesMs = 100;
  TimeMs held_since_ = kNoTime;  // when a held push was first seen
};

// Drives `hardware` over `socket` until the line drops, an outage or a planned drop starts, or
// everything is delivered and the line stayed up `settle` since. Both directions at once, as a
// decoder's TCP stack does: the server's bytes are read and answered while our writes wait for
// the server to take them. Reading only between writes deadlocks under load: a resend that is
// due again before the last one went out is written without reading the acks, until the
// server blocks sending acks we do not read and we block sending records it cannot take.
class Conversation {
 public:
  Conversation(tcp::socket& socket, Hardware& hardware, const VendorPlan& plan, std::size_t& next,
               ReplayClock clock, std::chrono::steady_clock::time_point start,
               const VendorPlayOptions& options, PlayerStats& stats)
      : socket_(socket),
        hardware_(hardware),
        plan_(plan),
        next_(next),
        clock_(clock),
        start_(start),
        options_(options),
        stats_(stats),
        wake_(socket.get_executor()) {}

  // True when done; false when the line dropped or is to drop.
  asio::awaitable<bool> run() {
    out_ = hardware_.on_connect(wall_clock_now());
    const auto ended = co_await (receive() || play());
    if (ended.index() == 0) co_return false;  // the server closed the line, or it broke
    co_return std::get<1>(ended);
  }

 private:
  asio::awaitable<void> receive() {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), kNoThrow);
      if (ec) co_return;
      out_ += hardware_.on_bytes(std::string_view(buffer.data(), n), wall_clock_now());
      wake_.cancel();  // an answer to send
    }
  }

  asio::awaitable<bool> play() {
    std::int64_t quiet_since = -1;  // wall ms since the start when all was last handed over
    const std::uint64_t delivered_before = hardware_.delivered();
    for (;;) {
      if (!out_.empty()) {
        // What receive() adds meanwhile goes out with the next write.
        std::string bytes;
        bytes.swap(out_);
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), kNoThrow);
        if (ec) co_return false;
      }
      const TimeMs race_now = clock_.race_time(elapsed_ms(start_));
      if (!clock_.as_fast_as_possible() && outage_until(options_.common.outages, race_now)) {
        ++stats_.outages;
        co_return false;
      }
      if (options_.common.reconnect_every > 0 &&
          hardware_.delivered() - delivered_before >= options_.common.reconnect_every) {
        ++stats_.dropped_lines;
        co_return false;  // the line drops (whatever is on its way is lost with it)
      }
      if (hardware_.ready()) {
        const std::size_t end = due_end(plan_, next_, race_now, clock_.as_fast_as_possible());
        for (; next_ < end; ++next_) {
          // Faults in race time happen between the reads they fall between.
          hardware_.on_race_time(plan_.reads[next_].time);
          out_ += hardware_.add(plan_.reads[next_], wall_clock_now());
          ++stats_.sent;
        }
        hardware_.on_race_time(race_now);
        out_ += hardware_.on_tick(wall_clock_now());
      }
      const bool delivered = next_ == plan_.reads.size() && hardware_.all_delivered();
      if (delivered) {
        if (quiet_since < 0) quiet_since = elapsed_ms(start_);
        if (elapsed_ms(start_) - quiet_since >= options_.settle.count()) co_return true;
      } else {
        quiet_since = -1;
      }
      stats_.acked = delivered ? plan_.reads.size() : next_;
      if (!out_.empty()) continue;
      wake_.expires_after(kPoll);
      co_await wake_.async_wait(kNoThrow);
    }
  }

  tcp::socket& socket_;
  Hardware& hardware_;
  const VendorPlan& plan_;
  std::size_t& next_;
  ReplayClock clock_;
  std::chrono::steady_clock::time_point start_;
  const VendorPlayOptions& options_;
  PlayerStats& stats_;
  asio::steady_timer wake_;  // play() waits on it; receive() cuts the wait short
  std::string out_;          // bytes for the server, not written yet
};

// An acceptor bound to host:port and listening; empty with `ec` set when that fails.
std::optional<tcp::acceptor> listen_on(const asio::any_io_executor& executor,
                                       const std::string& host, std::uint16_t port,
                                       boost::system::error_code& ec) {
  std::optional<tcp::acceptor> acceptor(std::in_place, executor);
  const tcp::endpoint endpoint(asio::ip::make_address(host, ec), port);
  if (!ec) acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(1, ec);
  if (ec) acceptor.reset();
  return acceptor;
}

asio::awaitable<void> play_connection_hardware(const VendorPlan& plan, Hardware& hardware,
                                               ReplayClock clock,
                                               std::chrono::steady_clock::time_point start,
                                               const VendorPlayOptions& options,
                                               PlayerStats& stats) {
  const auto executor = co_await asio::this_coro::executor;
  const DecoderConfig& decoder = *plan.decoder;
  const bool we_listen = decoder.protocol == DecoderProtocolKind::raceresult;
  const HostPort* at = &*decoder.listen;
  if (we_listen) at = &*decoder.dial;
  const std::string host = loopback_host(at->host);
  const std::string port = std::to_string(at->port);
  std::chrono::milliseconds backoff{200};
  std::size_t next = 0;
  // A listening decoder keeps its port open between connections, as the hardware does: a port
  // closed while a line is down could be taken by any outgoing connection on the machine.
  std::optional<tcp::acceptor> acceptor;
  while (!stats.done) {
    stats.online = false;
    if (!clock.as_fast_as_possible()) {
      if (auto back = outage_until(options.common.outages, clock.race_time(elapsed_ms(start)))) {
        // Dark: the decoder keeps reading; the backlog goes out when the line is back. Off the
        // network, a dial is refused.
        acceptor.reset();
        co_await sleep_ms(clock.wall_ms_for(*back) - elapsed_ms(start));
        continue;
      }
    }
    tcp::socket socket(executor);
    if (we_listen) {
      if (!acceptor) {
        boost::system::error_code ec;
        acceptor = listen_on(executor, host, at->port, ec);
        if (ec) {
          stats.last_error = "listen on " + host + ":" + port + ": " + ec.message();
          stats.gave_up = true;
          co_return;
        }
      }
      auto [accept_error, accepted] = co_await acceptor->async_accept(kNoThrow);
      if (accept_error) continue;
      socket = std::move(accepted);
    } else {
      tcp::resolver resolver(executor);
      auto [resolve_error, endpoints] = co_await resolver.async_resolve(host, port, kNoThrow);
      boost::system::error_code connect_error = resolve_error;
      if (!connect_error) {
        auto [ec, endpoint] = co_await asio::async_connect(socket, endpoints, kNoThrow);
        connect_error = ec;
      }
      if (connect_error) {
        stats.last_error = "connect: " + connect_error.message();
        co_await sleep_ms(backoff.count());
        backoff = std::min(backoff * 2, options.common.max_backoff);
        continue;
      }
    }
    backoff = std::chrono::milliseconds{200};
    ++stats.connects;
    stats.online = true;
    if (hardware.resend_all_on_reconnect()) next = 0;
    Conversation conversation(socket, hardware, plan, next, clock, start, options, stats);
    const bool done = co_await conversation.run();
    hardware.on_disconnect();
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    stats.online = false;
    if (done) stats.done = true;
  }
}

// The cursor `GET /api/v1/devices` shows for `decoder`'s passing file `file` ("stored", as Redis
// holds it); nullopt when the answer has none.
std::optional<std::uint64_t> stored_cursor_of(std::string_view body, const std::string& decoder,
                                              std::uint32_t file) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const boost::json::value* decoders = doc.as_object().if_contains("decoders");
  if (!decoders || !decoders->is_array()) return std::nullopt;
  for (const boost::json::value& d : decoders->as_array()) {
    if (!d.is_object()) continue;
    const boost::json::value* id = d.as_object().if_contains("id");
    const boost::json::value* stored = d.as_object().if_contains("stored");
    if (!id || !id->is_string() || id->as_string() != decoder || !stored || !stored->is_object())
      continue;
    const boost::json::value* cursor =
        stored->as_object().if_contains("cursor:" + std::to_string(file));
    if (cursor && cursor->is_int64() && cursor->as_int64() >= 0)
      return static_cast<std::uint64_t>(cursor->as_int64());
    return 0;
  }
  return std::nullopt;
}

http::request<http::string_body> get_request(const std::string& target, const std::string& host) {
  http::request<http::string_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host);
  return request;
}

// Polls the node for what it stored of `hardware`'s current passing file until the decoder
// opened its new file or the play ended (what a crew reads off the console before STARTOPERATION).
asio::awaitable<void> watch_stored_cursor(const std::string& decoder, RaceResultHardware& hardware,
                                          const VendorPlayOptions& options,
                                          const PlayerStats& stats) {
  const auto executor = co_await asio::this_coro::executor;
  while (hardware.waits_for_new_file() && !stats.done && !stats.gave_up) {
    co_await sleep_ms(100);
    beast::tcp_stream stream(executor);
    tcp::resolver resolver(executor);
    auto [resolve_error, endpoints] =
        co_await resolver.async_resolve(options.http_host, options.http_port, kNoThrow);
    if (resolve_error) continue;
    stream.expires_after(options.common.reply_timeout);
    auto [connect_error, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
    if (connect_error) continue;  // the node is down: ask again
    http::request<http::string_body> request = get_request("/api/v1/devices", options.http_host);
    auto [write_error, written] = co_await http::async_write(stream, request, kNoThrow);
    if (write_error) continue;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    auto [read_error, read] = co_await http::async_read(stream, buffer, response, kNoThrow);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (read_error || response.result() != http::status::ok) continue;
    const std::uint32_t file = hardware.current_file();
    if (auto cursor = stored_cursor_of(response.body(), decoder, file);
        cursor && file == hardware.current_file())
      hardware.set_stored_cursor(*cursor);
  }
}

// Built outside the coroutine: GCC 12 and braced initializers in coroutines.
http::request<http::string_body> impinj_request(const std::string& target, const std::string& host,
                                                std::string body) {
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, host);
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

// Speedway Connect: each batch of due reads is one POST of newline-separated JSON objects.
asio::awaitable<void> play_impinj(const VendorPlan& plan, ReplayClock clock,
                                  std::chrono::steady_clock::time_point start,
                                  const VendorPlayOptions& options, PlayerStats& stats) {
  const auto executor = co_await asio::this_coro::executor;
  std::size_t next = 0;
  std::chrono::milliseconds backoff{200};
  const std::string target = "/api/v1/impinj/" + plan.decoder->id + "?token=" + options.token;
  while (next < plan.reads.size()) {
    const TimeMs race_now = clock.race_time(elapsed_ms(start));
    if (!clock.as_fast_as_possible()) {
      if (auto back = outage_until(options.common.outages, race_now)) {
        ++stats.outages;
        co_await sleep_ms(clock.wall_ms_for(*back) - elapsed_ms(start));
        continue;
      }
    }
    std::size_t end = due_end(plan, next, race_now, clock.as_fast_as_possible());
    end = std::min(end, next + options.common.max_batch);
    if (end == next) {
      co_await sleep_ms(std::clamp<std::int64_t>(
          clock.wall_ms_for(plan.reads[next].time) - elapsed_ms(start), 1, 1000));
      continue;
    }
    std::string body;
    for (std::size_t i = next; i < end; ++i) {
      ImpinjTagRead read;
      read.antenna_port = std::atoi(plan.reads[i].source.c_str());
      read.epc = plan.reads[i].chip;
      read.first_seen_us = plan.reads[i].time * 1000;
      read.peak_rssi = -55;
      body += format_impinj_read(read) + "\n";
    }
    stats.sent += end - next;
    beast::tcp_stream stream(executor);
    tcp::resolver resolver(executor);
    auto [resolve_error, endpoints] =
        co_await resolver.async_resolve(options.http_host, options.http_port, kNoThrow);
    boost::system::error_code ec = resolve_error;
    if (!ec) {
      stream.expires_after(options.common.reply_timeout);
      auto [connect_error, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
      ec = connect_error;
    }
    http::response<http::string_body> response;
    if (!ec) {
      http::request<http::string_body> request =
          impinj_request(target, options.http_host, std::move(body));
      auto [write_error, written] = co_await http::async_write(stream, request, kNoThrow);
      ec = write_error;
      if (!ec) {
        beast::flat_buffer buffer;
        auto [read_error, read] = co_await http::async_read(stream, buffer, response, kNoThrow);
        ec = read_error;
      }
    }
    ++stats.connects;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (ec || response.result() != http::status::ok) {
      // (if/else, not ?: -- GCC 12 loses a ?: temporary assigned in a coroutine.)
      if (ec) {
        stats.last_error = ec.message();
      } else {
        stats.last_error = std::to_string(response.result_int()) + " " + response.body();
      }
      if (response.result() == http::status::unauthorized ||
          response.result() == http::status::forbidden ||
          response.result() == http::status::not_found) {
        stats.gave_up = true;
        co_return;
      }
      co_await sleep_ms(backoff.count());
      backoff = std::min(backoff * 2, options.common.max_backoff);
      continue;  // the same reads again: the server keeps each once
    }
    backoff = std::chrono::milliseconds{200};
    next = end;
    stats.acked = next;
  }
  stats.done = true;
}

}  // namespace

asio::awaitable<void> play_vendor(const VendorPlan& plan, ReplayClock clock,
                                  std::chrono::steady_clock::time_point start,
                                  const VendorPlayOptions& options, PlayerStats& stats) {
  switch (plan.decoder->protocol) {
    case DecoderProtocolKind::impinj:
      co_await play_impinj(plan, clock, start, options, stats);
      co_return;
    case DecoderProtocolKind::ctp01: {
      Ctp01Hardware hardware(*plan.decoder);
      co_await play_connection_hardware(plan, hardware, clock, start, options, stats);
      co_return;
    }
    case DecoderProtocolKind::mylaps: {
      MylapsHardware hardware(*plan.decoder, options, wall_clock_now());
      co_await play_connection_hardware(plan, hardware, clock, start, options, stats);
      co_return;
    }
    case DecoderProtocolKind::raceresult: {
      RaceResultHardware hardware(*plan.decoder, options);
      if (options.new_file_at > 0 && !options.http_host.empty()) {
        hardware.gate_new_file_on_server();
        co_await (play_connection_hardware(plan, hardware, clock, start, options, stats) &&
                  watch_stored_cursor(plan.decoder->id, hardware, options, stats));
        co_return;
      }
      co_await play_connection_hardware(plan, hardware, clock, start, options, stats);
      co_return;
    }
  }
}

}  // namespace splitstream
