// Device ingest end to end: a real redis-server, `splitstream serve` as a process, and a TCP
// device client speaking the framed Protobuf protocol.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "support/child_process.hpp"
#include "support/device_client.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;
const std::string kBin = SPLITSTREAM_BIN_DIR "/splitstream";
const std::string kDemo = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";
constexpr std::int64_t kGun = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
const std::string kReads = "{ev:pyongyang-2025}:reads";

class DeviceIngest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    std::ofstream(tokens_) << "# test tokens\narch-main s3cret-main\narch-backup s3cret-backup\n";
    http_port_ = free_port();
    device_port_ = free_port();
    start_server();
  }

  void start_server() {
    server_ = std::make_unique<ChildProcess>(
        kBin,
        std::vector<std::string>{"serve", "--event", kDemo, "--redis",
                                 "redis://127.0.0.1:" + std::to_string(redis_.port()), "--http",
                                 "127.0.0.1:" + std::to_string(http_port_), "--devices",
                                 "127.0.0.1:" + std::to_string(device_port_),
                                 "--device-tokens-file", tokens_.string(), "--log-level", "error"});
    ASSERT_NE(wait_for_http(http_port_, "/healthz", 10s).status, 0);
    ASSERT_TRUE(wait_ready(true));
  }

  bool wait_ready(bool ready) {
    return wait_until([&] { return (http_get(http_port_, "/readyz").status == 200) == ready; });
  }

  static v1::DeviceMessage batch(std::initializer_list<std::uint64_t> seqs,
                                 const std::string& timing_point = "arch") {
    v1::DeviceMessage m;
    for (std::uint64_t seq : seqs) {
      v1::Read* r = m.mutable_batch()->add_reads();
      r->set_seq(seq);
      r->set_chip("CHIP" + std::to_string(seq));
      r->set_timing_point_id(timing_point);
      r->set_time_ms(kGun + static_cast<std::int64_t>(seq) * 1000);
    }
    return m;
  }

  std::int64_t stream_length() { return redis_.command({"XLEN", kReads}).as_integer(); }

  // Hello, then the Welcome's acked seq (or -1 with the error text in `error`).
  std::int64_t open(DeviceClient& device, const std::string& id, const std::string& token,
                    std::string* error = nullptr) {
    EXPECT_TRUE(device.connected());
    device.hello(id, token);
    auto reply = device.receive_reply();
    if (reply && reply->has_welcome())
      return static_cast<std::int64_t>(reply->welcome().acked_seq());
    if (error && reply && reply->has_error()) *error = reply->error().text();
    return -1;
  }

  RedisServer redis_;
  std::filesystem::path tokens_;
  int http_port_ = 0;
  int device_port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(DeviceIngest, ABatchIsAckedOnlyOnceRedisHoldsIt) {
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
  ASSERT_TRUE(device.send(batch({1, 2, 3})));
  auto ack = device.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack()) << (ack ? ack->DebugString() : "closed");
  EXPECT_EQ(ack->ack().acked_seq(), 3u);
  EXPECT_EQ(ack->ack().gaps_size(), 0);
  EXPECT_EQ(stream_length(), 3);
  // The entries carry the device, sequence, timing point, chip, time and declared line.
  const RedisReply first = redis_.command({"XRANGE", kReads, "-", "+", "COUNT", "1"});
  const auto& fields = first.elements()[0].elements()[1].elements();
  std::vector<std::string> flat;
  for (const auto& f : fields)
    flat.push_back(f.as_string());
  EXPECT_EQ(flat,
            (std::vector<std::string>{"d", "arch-main", "s", "1", "tp", "arch", "c", "CHIP1", "t",
                                      std::to_string(kGun + 1000), "l", "main", "r", ""}));
  EXPECT_EQ(redis_.command({"HGET", "{ev:pyongyang-2025}:dev:arch-main", "acked"}).as_string(),
            "3");
}

TEST_F(DeviceIngest, AResendAfterAReconnectIsCountedOnce) {
  {
    DeviceClient device(device_port_);
    ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
    device.send(batch({1, 2, 3}));
    ASSERT_EQ(device.receive_reply()->ack().acked_seq(), 3u);
  }
  DeviceClient again(device_port_);
  ASSERT_EQ(open(again, "arch-main", "s3cret-main"), 3);  // the Welcome says what is durable
  again.send(batch({2, 3, 4, 5}));                        // a device resending too much
  auto ack = again.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack());
  EXPECT_EQ(ack->ack().acked_seq(), 5u);
  EXPECT_EQ(stream_length(), 5);
}

TEST_F(DeviceIngest, GapsAreReportedUntilFilled) {
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
  device.send(batch({1, 2, 5}));
  auto ack = device.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack());
  EXPECT_EQ(ack->ack().acked_seq(), 2u);
  ASSERT_EQ(ack->ack().gaps_size(), 1);
  EXPECT_EQ(ack->ack().gaps(0).from(), 3u);
  EXPECT_EQ(ack->ack().gaps(0).to(), 4u);
  device.send(batch({3, 4}));
  ack = device.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack());
  EXPECT_EQ(ack->ack().acked_seq(), 5u);
  EXPECT_EQ(stream_length(), 5);
}

TEST_F(DeviceIngest, ABadReadIsRejectedAloneAndDoesNotHoldTheAckBack) {
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
  v1::DeviceMessage m = batch({1, 2, 3});
  m.mutable_batch()->mutable_reads(1)->set_timing_point_id("square");  // not this device's mat
  device.send(m);
  auto ack = device.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack());
  EXPECT_EQ(ack->ack().acked_seq(), 3u);
  ASSERT_EQ(ack->ack().rejected_size(), 1);
  EXPECT_EQ(ack->ack().rejected(0).seq(), 2u);
  EXPECT_EQ(ack->ack().rejected(0).code(), v1::ERROR_CODE_WRONG_TIMING_POINT);
  EXPECT_EQ(stream_length(), 2);
}

// A device that sends on but reads nothing back: once its receive window and the server's
// send buffer are full of acks, the server's write waits. It gives up after the idle timeout and
// closes, rather than hold the session (and stop reading) for ever.
TEST_F(DeviceIngest, ADeviceThatTakesNoneOfItsAcksIsClosedAfterTheIdleTimeout) {
  const std::filesystem::path log = redis_.dir() / "slow-reader-node.log";
  const ServeNode node =
      start_serve_node(redis_.port(), tokens_, {"--idle-timeout", "2", "--log-level", "info"}, 0, 0,
                       kDemo, log.string());
  DeviceClient device(node.devices, 4096);
  ASSERT_TRUE(device.connected());
  ASSERT_TRUE(device.hello("arch-main", "s3cret-main"));
  // Batches of reads of another mat: each is refused alone, so each ack lists thousands.
  std::uint64_t next_seq = 1;
  auto next_batch = [&] {
    v1::DeviceMessage m;
    for (int i = 0; i < 5000; ++i) {
      v1::Read* r = m.mutable_batch()->add_reads();
      r->set_seq(next_seq);
      r->set_chip("CHIP" + std::to_string(next_seq));
      r->set_timing_point_id("square");
      r->set_time_ms(kGun + static_cast<std::int64_t>(next_seq));
      ++next_seq;
    }
    return encode_frame(m);
  };
  std::string frame = next_batch();
  std::size_t offset = 0;
  std::uint64_t frames_sent = 0;
  bool closed = false;
  const bool over = wait_until(
      [&] {
        for (;;) {
          const ssize_t n = device.send_without_waiting(std::string_view(frame).substr(offset));
          if (n < 0) {
            closed = errno != EAGAIN && errno != EWOULDBLOCK;
            return closed;  // EAGAIN: the server reads nothing now; try again later
          }
          offset += static_cast<std::size_t>(n);
          if (offset == frame.size()) {
            ++frames_sent;
            frame = next_batch();
            offset = 0;
          }
        }
      },
      30s, 20ms);
  EXPECT_TRUE(over && closed) << "still open after " << frames_sent << " batches";
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("write timed out: the device took none of our bytes for the idle timeout"),
            std::string::npos)
      << text;
  EXPECT_EQ(http_get(node.http, "/readyz").status, 200);
}

TEST_F(DeviceIngest, MainAndBackupLinesOfOneMatBothLand) {
  DeviceClient main_line(device_port_), backup_line(device_port_);
  ASSERT_EQ(open(main_line, "arch-main", "s3cret-main"), 0);
  ASSERT_EQ(open(backup_line, "arch-backup", "s3cret-backup"), 0);
  main_line.send(batch({1, 2}));
  backup_line.send(batch({1, 2}));  // the same crossings, read by the other line
  EXPECT_EQ(main_line.receive_reply()->ack().acked_seq(), 2u);
  EXPECT_EQ(backup_line.receive_reply()->ack().acked_seq(), 2u);
  EXPECT_EQ(stream_length(), 4);  // deduplicating crossings is the engine's job, not ingest's
}

TEST_F(DeviceIngest, BadTokensAndUnknownDevicesGetClearErrors) {
  {
    DeviceClient device(device_port_);
    std::string error;
    EXPECT_EQ(open(device, "arch-main", "guess", &error), -1);
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(device.receive());  // closed after the error
  }
  {
    DeviceClient device(device_port_);
    device.hello("nobody", "x");
    auto reply = device.receive_reply();
    ASSERT_TRUE(reply && reply->has_error());
    EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_UNKNOWN_DEVICE);
  }
  {
    DeviceClient device(device_port_);
    device.hello("square-main", "anything");  // declared in event.json, no token configured
    auto reply = device.receive_reply();
    ASSERT_TRUE(reply && reply->has_error());
    EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_BAD_TOKEN);
  }
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(DeviceIngest, AnOversizedFrameIsRefusedBeforeItsPayload) {
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
  // A length prefix announcing 2 MiB (varint 0x80 0x80 0x80 0x01), and no payload.
  device.send_raw(std::string("\x80\x80\x80\x01", 4));
  auto reply = device.receive_reply();
  ASSERT_TRUE(reply && reply->has_error());
  EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_FRAME_TOO_LARGE);
  EXPECT_FALSE(device.receive());
}

TEST_F(DeviceIngest, RedisDownMeansNotReadyAndNothingAckedThenItResumes) {
  redis_.kill();
  ASSERT_TRUE(wait_ready(false));
  {
    DeviceClient device(device_port_);
    device.hello("arch-main", "s3cret-main");
    auto reply = device.receive_reply();
    // Without Redis the server cannot say what is durable: it refuses, the device retries.
    ASSERT_TRUE(reply);
    EXPECT_TRUE(reply->has_error()) << reply->DebugString();
  }
  redis_.restart();
  ASSERT_TRUE(wait_ready(true));
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
  device.send(batch({1}));
  auto ack = device.receive_reply();
  ASSERT_TRUE(ack && ack->has_ack());
  EXPECT_EQ(ack->ack().acked_seq(), 1u);
}

TEST_F(DeviceIngest, ServerKilledMidRaceLosesNothingAcked) {
  {
    DeviceClient device(device_port_);
    ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
    device.send(batch({1, 2, 3}));
    ASSERT_EQ(device.receive_reply()->ack().acked_seq(), 3u);
  }
  server_->signal(SIGKILL);
  server_->wait(5s);
  start_server();
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 3);
  device.send(batch({4}));
  EXPECT_EQ(device.receive_reply()->ack().acked_seq(), 4u);
  EXPECT_EQ(stream_length(), 4);
}

HttpResult post_reads(int port, const std::string& token, const std::string& content_type,
                      const std::string& body, const std::string& accept = "") {
  std::string request = "POST /api/v1/reads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (!accept.empty()) request += "Accept: " + accept + "\r\n";
  request += "Content-Type: " + content_type +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return http_exchange(port, request);
}

std::string json_batch(std::uint64_t from, std::uint64_t to) {
  std::string body = R"({"reads":[)";
  for (std::uint64_t seq = from; seq <= to; ++seq) {
    if (seq != from) body += ",";
    body += R"({"device_id":"arch-main","chip":"H)" + std::to_string(seq) + R"(","seq":)" +
            std::to_string(seq) + R"(,"time":"2025-04-06T08:20:0)" + std::to_string(seq % 10) +
            R"(.250+09:00"})";
  }
  return body + "]}";
}

TEST_F(DeviceIngest, HttpPushIsAckedLikeATcpDeviceAndResendsCountOnce) {
  HttpResult r = post_reads(http_port_, "s3cret-main", "application/json", json_batch(1, 3));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("acked_seq":"3")"), std::string::npos) << r.body;
  EXPECT_EQ(stream_length(), 3);
  r = post_reads(http_port_, "s3cret-main", "application/json", json_batch(2, 4));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("acked_seq":"4")"), std::string::npos) << r.body;
  EXPECT_EQ(stream_length(), 4);
  // The same session over TCP sees what HTTP stored.
  DeviceClient device(device_port_);
  EXPECT_EQ(open(device, "arch-main", "s3cret-main"), 4);
}

TEST_F(DeviceIngest, HttpPushTakesProtobufAndAnswersInKind) {
  v1::ReadBatch batch;
  v1::Read* read = batch.add_reads();
  read->set_device_id("arch-backup");
  read->set_seq(1);
  read->set_chip("P1");
  read->set_time_ms(kGun + 60'000);
  const HttpResult r =
      post_reads(http_port_, "s3cret-backup", "application/x-protobuf", batch.SerializeAsString());
  ASSERT_EQ(r.status, 200) << r.body;
  v1::Ack ack;
  ASSERT_TRUE(ack.ParseFromString(r.body));
  EXPECT_EQ(ack.acked_seq(), 1u);
  EXPECT_EQ(stream_length(), 1);
}

TEST_F(DeviceIngest, HttpPushRefusesBadInputWithClearErrors) {
  struct Case {
    std::string token, type, body;
    int status;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"", "application/json", json_batch(1, 1), 401, "Authorization: Bearer"},
      {"wrong", "application/json", json_batch(1, 1), 401, R"("code":"bad_token")"},
      {"s3cret-main", "text/csv", "a,b", 415, "send application/json or application/x-protobuf"},
      {"s3cret-main", "application/json", "{\"reads\":[{]}", 400, "invalid JSON"},
      {"s3cret-main", "application/json", R"({"reads":[{"device_id":"arch-main","seq":1}]})", 400,
       "reads[0]"},
      {"s3cret-main", "application/json", R"({"reads":[]})", 400, "no reads"},
      {"s3cret-main", "application/x-protobuf", "\xff\xff\xff", 400, "not a Protobuf ReadBatch"},
  };
  for (const Case& c : cases) {
    const HttpResult r = post_reads(http_port_, c.token, c.type, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.expected), std::string::npos) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(DeviceIngest, TheEngineFollowsTheStreamAndReplaysItAfterARestart) {
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
  device.send(batch({1, 2, 3}));
  ASSERT_EQ(device.receive_reply()->ack().acked_seq(), 3u);
  EXPECT_EQ(wait_engine_applied(http_port_, 3), "\"detail\":\"3 reads applied");
  server_->signal(SIGTERM);
  ASSERT_EQ(server_->wait(5s), 0);
  start_server();
  EXPECT_EQ(wait_engine_applied(http_port_, 3), "\"detail\":\"3 reads applied");
}

TEST_F(DeviceIngest, TwoNodesOnOneRedisBothApplyEveryRead) {
  const int other_http = free_port();
  ChildProcess other(kBin, {"serve", "--event", kDemo, "--redis",
                            "redis://127.0.0.1:" + std::to_string(redis_.port()), "--http",
                            "127.0.0.1:" + std::to_string(other_http), "--devices",
                            "127.0.0.1:" + std::to_string(free_port()), "--device-tokens-file",
                            tokens_.string(), "--log-level", "error"});
  // Ready: connected to Redis (before that it answers reads 503) and caught up.
  ASSERT_TRUE(wait_until([&] { return http_get(other_http, "/readyz").status == 200; }));
  // Main line into this node, backup line over HTTP into the other.
  DeviceClient device(device_port_);
  ASSERT_EQ(open(device, "arch-main", "s3cret-main"), 0);
  device.send(batch({1, 2}));
  ASSERT_EQ(device.receive_reply()->ack().acked_seq(), 2u);
  const std::string body =
      R"({"reads":[{"device_id":"arch-backup","chip":"CHIP1","seq":1,"time_ms":1743894001000}]})";
  const HttpResult r =
      http_exchange(other_http,
                    "POST /api/v1/reads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    "Authorization: Bearer s3cret-backup\r\nContent-Type: application/json\r\n"
                    "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(wait_engine_applied(http_port_, 3), "\"detail\":\"3 reads applied");
  EXPECT_EQ(wait_engine_applied(other_http, 3), "\"detail\":\"3 reads applied");
}

}  // namespace
}  // namespace splitstream::testing
