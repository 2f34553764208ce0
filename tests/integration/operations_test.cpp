// What an operator relies on, against real `splitstream serve` processes and a real Redis:
// /metrics in the Prometheus text format counting what happened, JSON log lines per connection
// event, the limits against abuse (connections per address, subscribe rate, body sizes), and
// TLS on the HTTP and device ports with a self-signed certificate.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "support/child_process.hpp"
#include "support/demo_race.hpp"
#include "support/device_client.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/tls_client.hpp"
#include "support/wait_until.hpp"
#include "support/ws_client.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;

// A string member of a log line, "" when absent.
std::string field(const boost::json::object& line, std::string_view key) {
  const auto* v = line.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// `series value` with a metric name, optional {name="value",...} labels and a number.
bool is_sample_line(const std::string& line) {
  std::size_t i = 0;
  auto name_char = [&](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  while (i < line.size() && name_char(line[i]))
    ++i;
  if (i == 0) return false;
  if (i < line.size() && line[i] == '{') {
    const auto close = line.find("} ", i);
    if (close == std::string::npos) return false;
    for (std::size_t at = i + 1; at < close;) {
      const auto eq = line.find("=\"", at);
      if (eq == std::string::npos || eq >= close) return false;
      const auto end = line.find('"', eq + 2);
      if (end == std::string::npos || end > close) return false;
      at = end + 1;
      if (at < close && line[at] == ',') ++at;
    }
    i = close + 1;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  const std::string value = line.substr(i + 1);
  if (value == "+Inf" || value == "-Inf" || value == "NaN") return true;
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  return !value.empty() && end == value.c_str() + value.size();
}

class Operations : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
  }
  ServeNode start_node(const std::vector<std::string>& extra = {}, const std::string& log = "") {
    return start_serve_node(redis_.port(), tokens_, extra, 0, 0,
                            SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025", log);
  }
  RedisServer redis_;
  std::filesystem::path tokens_;
};

TEST_F(Operations, MetricsCountReadsDevicesViewersAndLatencies) {
  ServeNode node = start_node();
  const DemoRace& race = DemoRace::get();
  const std::string device = "stadium-main";
  WsClient viewer(node.http, "splitstream.v1.json");
  ASSERT_TRUE(viewer.open());
  ASSERT_TRUE(viewer.send(subscribe_passings()));
  ASSERT_TRUE(viewer.receive());  // subscribed

  DeviceClient client(node.devices);
  client.hello(device, "tok-" + device);
  ASSERT_TRUE(client.receive_reply()->has_welcome());
  EXPECT_TRUE(wait_until([&] { return metric(node.http, "splitstream_devices_connected") == 1; }));
  ASSERT_TRUE(client.send(race.batch(device, 0, 100)));
  ASSERT_EQ(client.receive_reply()->ack().acked_seq(), 100u);
  // The same batch again (a resend after a lost ack) and one read at the wrong mat.
  ASSERT_TRUE(client.send(race.batch(device, 0, 100)));
  ASSERT_EQ(client.receive_reply()->ack().acked_seq(), 100u);
  v1::DeviceMessage wrong = race.batch(device, 100, 101);
  wrong.mutable_batch()->mutable_reads(0)->set_timing_point_id("arch");
  ASSERT_TRUE(client.send(wrong));
  ASSERT_EQ(client.receive_reply()->ack().rejected_size(), 1);
  ASSERT_TRUE(viewer.receive());  // passings from the first batch
  // Observed once a write completed, which may be just after the client read it: the third
  // Ack's latency, the viewer's second message, a read's trip to the viewer.
  EXPECT_TRUE(wait_until([&] {
    return metric(node.http, "splitstream_ack_latency_seconds_count") >= 3 &&
           metric(node.http, "splitstream_ws_messages_sent_total") >= 2 &&
           metric(node.http, "splitstream_device_to_viewer_seconds_count") >= 1;
  }));

  const HttpResult r = http_get(node.http, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  // The text format: every family has HELP and TYPE, every sample line is `series value`.
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    EXPECT_TRUE(is_sample_line(line)) << line;
  }
  const auto m = parse_metrics(r.body);
  EXPECT_EQ(m.at("splitstream_reads_received_total"), 201);  // 100 + 100 resent + 1
  EXPECT_EQ(m.at("splitstream_reads_stored_total"), 100);
  EXPECT_EQ(m.at(R"(splitstream_reads_rejected_total{reason="wrong_timing_point"})"), 1);
  // Series not counted yet are there at zero, so rate() has a start.
  EXPECT_EQ(m.at(R"(splitstream_reads_rejected_total{reason="clock_skew"})"), 0);
  EXPECT_EQ(m.at(R"(splitstream_corrections_total{kind="set_status"})"), 0);
  EXPECT_EQ(m.at(R"(splitstream_corrections_total{kind="move_chip"})"), 0);
  EXPECT_EQ(m.at("splitstream_ack_latency_seconds_count"), 3);
  EXPECT_GE(m.at(R"(splitstream_ack_latency_seconds_bucket{le="+Inf"})"), 3);
  EXPECT_EQ(m.at("splitstream_read_delay_seconds_count"), 100);
  EXPECT_EQ(m.at("splitstream_ws_viewers_connected"), 1);
  EXPECT_GE(m.at("splitstream_ws_messages_sent_total"), 2);
  EXPECT_GE(m.at("splitstream_redis_command_seconds_count"), 3);
  EXPECT_EQ(m.at(R"(splitstream_redis_connected{connection="ingest"})"), 1);
  EXPECT_EQ(m.at("splitstream_engine_caught_up"), 1);
  EXPECT_GT(m.at("process_resident_memory_bytes"), 1e6);
  EXPECT_GT(m.at("process_open_fds"), 5);
  EXPECT_GT(m.at("process_start_time_seconds"), 1.7e9);
  EXPECT_EQ(m.at(R"(splitstream_build_info{version="0.1.0"})"), 1);
  EXPECT_GE(m.at(R"(splitstream_http_requests_total{code="2xx"})"), 1);
  EXPECT_GE(m.at("splitstream_device_to_viewer_seconds_count"), 1);
  // The resent batch never reached the store: the session knew it was acknowledged.
  EXPECT_EQ(m.at("splitstream_reads_duplicate_total"), 0);
  client.send(v1::DeviceMessage());  // keeps the session until here
}

TEST_F(Operations, StoreDuplicatesAreCounted) {
  ServeNode a = start_node();
  ServeNode b = start_node();
  const DemoRace& race = DemoRace::get();
  // The same batch through two nodes (a device that failed over mid-batch): stored once.
  DeviceClient first(a.devices), second(b.devices);
  first.hello("arch-main", "tok-arch-main");
  second.hello("arch-main", "tok-arch-main");
  ASSERT_TRUE(first.receive_reply()->has_welcome());
  ASSERT_TRUE(second.receive_reply()->has_welcome());
  ASSERT_TRUE(first.send(race.batch("arch-main", 0, 50)));
  ASSERT_EQ(first.receive_reply()->ack().acked_seq(), 50u);
  ASSERT_TRUE(second.send(race.batch("arch-main", 0, 50)));
  ASSERT_EQ(second.receive_reply()->ack().acked_seq(), 50u);
  EXPECT_EQ(metric(a.http, "splitstream_reads_stored_total"), 50);
  EXPECT_EQ(metric(b.http, "splitstream_reads_stored_total"), 0);
  EXPECT_EQ(metric(b.http, "splitstream_reads_duplicate_total"), 50);
}

TEST_F(Operations, JsonLogsHaveOneLinePerConnectionEventAndNonePerRead) {
  const std::string log = (redis_.dir() / "serve.log").string();
  ServeNode node = start_node({"--log-format", "json", "--log-level", "debug"}, log);
  ASSERT_EQ(DemoRace::get().feed(node.devices, "stadium-main", 1000), 1000u);
  {
    WsClient viewer(node.http, "splitstream.v1.json");
    ASSERT_TRUE(viewer.open());
  }
  DeviceClient intruder(node.devices);
  intruder.hello("stadium-main", "not-the-token");
  ASSERT_TRUE(intruder.receive_reply()->has_error());
  std::vector<boost::json::object> lines;
  EXPECT_TRUE(wait_until([&] {
    lines.clear();
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      boost::system::error_code ec;
      const auto v = boost::json::parse(line, ec);
      EXPECT_FALSE(ec) << "not a JSON line: " << line;
      if (!ec && v.is_object()) lines.push_back(v.as_object());
    }
    int ends = 0;
    for (const auto& l : lines) {
      const std::string message = field(l, "message");
      ends += message == "device disconnected by the server" || message == "device disconnected" ||
                      message == "viewer disconnected"
                  ? 1
                  : 0;
    }
    return ends == 3;
  }));
  auto count = [&](std::string_view component, std::string_view message) {
    int n = 0;
    for (const auto& l : lines)
      n += field(l, "component") == component && field(l, "message") == message ? 1 : 0;
    return n;
  };
  EXPECT_EQ(count("devices", "device connected"), 1);
  EXPECT_EQ(count("devices", "device disconnected"), 1);
  EXPECT_EQ(count("viewers", "viewer connected"), 1);
  EXPECT_EQ(count("viewers", "viewer disconnected"), 1);
  for (const auto& l : lines) {
    EXPECT_TRUE(l.contains("time") && l.contains("level")) << boost::json::serialize(l);
    const std::string message = field(l, "message");
    if (message == "device connected") {
      EXPECT_EQ(field(l, "device"), "stadium-main");
      EXPECT_EQ(field(l, "remote"), "127.0.0.1");
    }
    if (message == "device disconnected") {
      EXPECT_EQ(field(l, "accepted"), "1000");
    }
    if (message == "device disconnected by the server") {
      EXPECT_EQ(field(l, "level"), "warn");
      EXPECT_NE(field(l, "error").find("ERROR_CODE_BAD_TOKEN"), std::string::npos);
    }
  }
  // A thousand reads, a few dozen lines at most: nothing is logged per read.
  EXPECT_LT(lines.size(), 60u);
}

TEST_F(Operations, AnAddressOverItsConnectionLimitIsRefusedWithAReason) {
  ServeNode node =
      start_node({"--http-connections-per-address", "3", "--device-connections-per-address", "2"});
  {
    // Three keep-alive connections, each answered once: the server has accepted and counted
    // them all (connect() returns once the kernel has the connection, maybe before the server
    // accepted it), and each holds its place while open. The start-up's /readyz polls may hold
    // a place a moment after their answer, until the server has closed them: a connection
    // refused for that is tried again.
    std::vector<std::unique_ptr<HttpConnection>> held;
    for (int i = 0; i < 3; ++i) {
      std::unique_ptr<HttpConnection> connection;
      ASSERT_TRUE(wait_until([&] {
        connection = std::make_unique<HttpConnection>(node.http);
        return connection->get("/healthz").status == 200;
      })) << "connection "
          << i + 1 << " of 3 never answered";
      held.push_back(std::move(connection));
    }
    const HttpResult r = http_get(node.http, "/healthz");
    EXPECT_EQ(r.status, 429);
    EXPECT_NE(r.body.find("too_many_connections"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("holds 3 connections"), std::string::npos) << r.body;
  }
  // Their places come back as the server sees them close.
  EXPECT_TRUE(wait_until([&] { return http_get(node.http, "/healthz").status == 200; }));
  EXPECT_GE(
      metric(
          node.http,
          R"(splitstream_connections_refused_total{listener="http",reason="per_address_limit"})"),
      1);

  // Two devices within the limit work; once both are welcomed the server holds both, and a
  // third is refused.
  DeviceClient one(node.devices), two(node.devices);
  one.hello("arch-main", "tok-arch-main");
  two.hello("stadium-main", "tok-stadium-main");
  for (DeviceClient* device : {&one, &two}) {
    const auto welcome = device->receive_reply();
    ASSERT_TRUE(welcome && welcome->has_welcome());
  }
  DeviceClient three(node.devices);
  const auto refused = three.receive_reply();
  ASSERT_TRUE(refused && refused->has_error());
  EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_OVERLOADED);
  EXPECT_NE(refused->error().text().find("2 device connections"), std::string::npos);
  EXPECT_EQ(
      metric(
          node.http,
          R"(splitstream_connections_refused_total{listener="devices",reason="per_address_limit"})"),
      1);
}

TEST_F(Operations, ANodeAtItsViewerLimitRefusesTheUpgradeWithAReason) {
  ServeNode node = start_node({"--max-viewers", "1"});
  {
    // Once the handshake is answered the session exists, so the node counts it.
    WsClient first(node.http, "splitstream.v1.json");
    ASSERT_TRUE(first.open()) << first.error().message();
    WsClient second(node.http, "splitstream.v1.json");
    EXPECT_FALSE(second.open());
    EXPECT_EQ(second.response_status(), 503);
    EXPECT_NE(second.response_body().find("too_many_viewers"), std::string::npos)
        << second.response_body();
    EXPECT_EQ(
        metric(
            node.http,
            R"(splitstream_connections_refused_total{listener="http",reason="too_many_viewers"})"),
        1);
  }
  // The place comes back once the node sees the first viewer go.
  EXPECT_TRUE(wait_until([&] { return WsClient(node.http, "splitstream.v1.json").open(); }));
}

TEST_F(Operations, AViewerOverTheSubscribeRateIsToldAndKeepsItsConnection) {
  ServeNode node = start_node({"--ws-subscribe-rate", "1", "--ws-subscribe-burst", "3"});
  WsClient viewer(node.http, "splitstream.v1.json");
  ASSERT_TRUE(viewer.open());
  // Before the first subscribe reaches the server, so before its bucket's clock starts.
  const auto burst_sent = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(
        viewer.send(subscribe_standings("10k", "overall", static_cast<std::uint32_t>(i + 1))));
  int subscribed = 0, limited = 0;
  for (int i = 0; i < 12 && subscribed + limited < 5; ++i) {
    const auto m = viewer.receive();
    ASSERT_TRUE(m) << viewer.error().message();
    if (m->has_subscribed()) ++subscribed;
    if (m->has_error()) {
      EXPECT_EQ(m->error().code(), "rate_limited");
      EXPECT_NE(m->error().message().find("wait and send it again"), std::string::npos);
      ++limited;
    }
  }
  ASSERT_EQ(subscribed + limited, 5);
  // The server took the five between `burst_sent` and now: well within the second the bucket
  // needs for a token (unless this machine stalled for that long), only the burst passes.
  if (std::chrono::steady_clock::now() - burst_sent < 990ms) {
    EXPECT_EQ(subscribed, 3);
    EXPECT_EQ(limited, 2);
  } else {
    EXPECT_GE(subscribed, 3);
  }
  EXPECT_EQ(metric(node.http, "splitstream_ws_rate_limited_total"), limited);
  // The bucket gains a token a second after the burst: subscribes until then are refused (and
  // use no token), and the connection stays open to take the first one after.
  std::optional<std::chrono::steady_clock::duration> accepted_after;
  EXPECT_TRUE(wait_until(
      [&] {
        if (!viewer.send(subscribe_passings())) return false;
        for (;;) {
          const auto m = viewer.receive();
          if (!m) return false;
          if (m->has_error()) {
            EXPECT_EQ(m->error().code(), "rate_limited");
            return false;
          }
          if (m->has_subscribed()) break;
        }
        accepted_after = std::chrono::steady_clock::now() - burst_sent;
        return true;
      },
      10s, 100ms))
      << viewer.error().message();
  // Never before the second: a fourth subscribe needs a token the burst did not have.
  ASSERT_TRUE(accepted_after);
  EXPECT_GE(*accepted_after, 990ms);
}

TEST_F(Operations, BodiesAreLimitedByPath) {
  ServeNode node = start_node({"--max-body", "65536"});
  // The read-only API takes 16 KiB at most.
  HttpResult r = http_send(node.http, "GET", "/api/v1/event", std::string(20'000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("request body over 16384 bytes for /api/v1/event"), std::string::npos)
      << r.body;
  // Device batches over HTTP take --max-body.
  r = http_send(node.http, "POST", "/api/v1/reads", std::string(70'000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("request body over 65536 bytes for /api/v1/reads"), std::string::npos)
      << r.body;
  r = http_send(node.http, "POST", "/api/v1/reads", std::string(30'000, 'x'));
  EXPECT_EQ(r.status, 401) << r.body;  // within the limit: on to the token check
}

class Tls : public Operations {
 protected:
  void SetUp() override {
    Operations::SetUp();
    cert_ = make_self_signed(redis_.dir());
  }
  // A TLS node (both ports unless told), ready once /readyz answers over HTTPS.
  std::unique_ptr<ChildProcess> start_tls(int http, int devices,
                                          const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = serve_args(redis_.port(), "127.0.0.1:" + std::to_string(http),
                                               "127.0.0.1:" + std::to_string(devices));
    args.insert(args.end(), {"--device-tokens-file", tokens_.string(), "--tls-cert",
                             cert_.cert.string(), "--tls-key", cert_.key.string()});
    args.insert(args.end(), extra.begin(), extra.end());
    auto process = std::make_unique<ChildProcess>(SPLITSTREAM_BIN_DIR "/splitstream", args);
    return process;
  }
  SelfSigned cert_;
};

TEST_F(Tls, HttpsWssAndTheDevicePortSpeakTlsWithTheConfiguredCertificate) {
  const int http = free_port(), devices = free_port();
  auto server = start_tls(http, devices);
  ASSERT_TRUE(
      wait_until([&] { return https_request(http, cert_.cert, "/readyz").http.status == 200; }));
  // Plain HTTP on the TLS port gets no HTTP answer.
  EXPECT_EQ(http_get(http, "/healthz").status, 0);
  // A client that does not trust the certificate fails the handshake.
  const SelfSigned other = make_self_signed(redis_.dir(), "other");
  EXPECT_TRUE(https_request(http, other.cert, "/healthz").error);

  // A timing device over TLS: Hello, Welcome, a batch, its Ack.
  const DemoRace& race = DemoRace::get();
  TlsDeviceClient device(devices, cert_.cert);
  ASSERT_TRUE(device.open()) << device.error().message();
  v1::DeviceMessage hello;
  hello.mutable_hello()->set_device_id("stadium-main");
  hello.mutable_hello()->set_token("tok-stadium-main");
  ASSERT_TRUE(device.send(hello));
  auto welcome = device.receive_reply();
  ASSERT_TRUE(welcome && welcome->has_welcome());
  ASSERT_TRUE(device.send(race.batch("stadium-main", 0, 20)));
  auto ack = device.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack());
  EXPECT_EQ(ack->ack().acked_seq(), 20u);

  // A viewer over wss:// gets its subscription and live passings.
  WssClient viewer(http, cert_.cert);
  ASSERT_TRUE(viewer.open()) << viewer.error().message();
  ASSERT_TRUE(viewer.send_text(R"({"subscribe":{"kind":"SUBSCRIPTION_KIND_PASSINGS"}})"));
  const auto subscribed = viewer.receive();
  ASSERT_TRUE(subscribed);
  EXPECT_NE(subscribed->find("subscribed"), std::string::npos) << *subscribed;
  // The snapshot, then passings as the engine applies the batch: one of them names the mat.
  bool seen = false;
  for (int i = 0; i < 3 && !seen; ++i) {
    const auto message = viewer.receive();
    ASSERT_TRUE(message) << viewer.error().message();
    seen = message->find(R"("timingPointId":"stadium")") != std::string::npos;
  }
  EXPECT_TRUE(seen);

  const TlsHttpResult metrics = https_request(http, cert_.cert, "/metrics");
  ASSERT_EQ(metrics.http.status, 200);
  EXPECT_EQ(parse_metrics(metrics.http.body).at("splitstream_reads_stored_total"), 20);
}

TEST_F(Tls, TlsCanBeLimitedToOneListener) {
  const int http = free_port(), devices = free_port();
  auto server = start_tls(http, devices, {"--tls", "devices"});
  ASSERT_TRUE(wait_until([&] { return http_get(http, "/readyz").status == 200; }));
  TlsDeviceClient device(devices, cert_.cert);
  ASSERT_TRUE(device.open()) << device.error().message();
  // A plain device on the TLS port is dropped when its bytes fail the handshake.
  DeviceClient plain(devices);
  plain.hello("stadium-main", "tok-stadium-main");
  EXPECT_FALSE(plain.receive_reply());
}

TEST_F(Tls, BadCertificateSettingsStopTheStartWithTheirNames) {
  auto run = [&](const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> all = serve_args(redis_.port(), "127.0.0.1:0", "127.0.0.1:0");
    all.insert(all.end(), args.begin(), args.end());
    ChildProcess p(SPLITSTREAM_BIN_DIR "/splitstream", all, log);
    const auto status = p.wait(10s);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    return std::make_pair(status.value_or(-1), text.str());
  };
  const std::string log = (redis_.dir() / "start.log").string();
  auto [status, text] =
      run({"--tls-cert", cert_.cert.string(), "--tls-key", "/nonexistent.pem"}, log);
  EXPECT_EQ(status, 1);
  EXPECT_NE(text.find("tls-key /nonexistent.pem: not a readable PEM private key"),
            std::string::npos)
      << text;
  std::tie(status, text) = run({"--tls", "http"}, log);
  EXPECT_EQ(status, 2);
  EXPECT_NE(text.find("tls: http needs both --tls-cert and --tls-key"), std::string::npos) << text;
  const SelfSigned other = make_self_signed(redis_.dir(), "other");
  std::tie(status, text) =
      run({"--tls-cert", cert_.cert.string(), "--tls-key", other.key.string()}, log);
  EXPECT_EQ(status, 1);
  EXPECT_NE(text.find("does not belong to tls-cert"), std::string::npos) << text;
}

}  // namespace
}  // namespace splitstream::testing
