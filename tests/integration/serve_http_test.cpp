// `splitstream serve` as a process: health endpoints, JSON errors, body limits, clean stop.
#include <gtest/gtest.h>

#include "support/child_process.hpp"

namespace splitstream::testing {
namespace {

using namespace std::chrono_literals;
const std::string kBin = SPLITSTREAM_BIN_DIR "/splitstream";
const std::string kDemo = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";

class Serve : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    server_ = std::make_unique<ChildProcess>(
        kBin, std::vector<std::string>{"serve", "--event", kDemo, "--http",
                                       "127.0.0.1:" + std::to_string(port_), "--devices",
                                       "127.0.0.1:" + std::to_string(free_port()), "--redis",
                                       "redis://127.0.0.1:" + std::to_string(free_port()),
                                       "--max-body", "2048", "--log-level", "warn"});
    ASSERT_NE(wait_for_http(port_, "/healthz", 10s).status, 0) << "server did not come up";
  }
  int port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(Serve, HealthzAnswersOkAsJson) {
  const HttpResult r = http_get(port_, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
}

TEST_F(Serve, ReadyzFailsWhileRedisIsUnreachableAndSaysWhy) {
  // Nothing listens on the Redis port given: the event is loaded, Redis is not there.
  const HttpResult r = http_get(port_, "/readyz");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find(R"("status":"not_ready")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("event":{"ready":true,"detail":"pyongyang-2025: 400 participants"})"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("redis":{"ready":false)"), std::string::npos) << r.body;
}

TEST_F(Serve, UnknownPathsAndMethodsGetJsonErrors) {
  HttpResult r = http_get(port_, "/nowhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"no resource at /nowhere"}})");
  r = http_exchange(port_, "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.headers.find("Allow: GET, HEAD"), std::string::npos);
}

TEST_F(Serve, OversizedBodyIsRefusedWithItsLimit) {
  const std::string body(4096, 'x');
  const HttpResult r = http_exchange(
      port_, "POST /api/v1/reads HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + body);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("request body over 2048 bytes"), std::string::npos) << r.body;
  // The server is still serving.
  EXPECT_EQ(http_get(port_, "/healthz").status, 200);
}

TEST_F(Serve, GarbageIsDroppedWithoutHarm) {
  http_exchange(port_, "\x16\x03\x01 not http at all\r\n\r\n");
  EXPECT_EQ(http_get(port_, "/healthz").status, 200);
}

TEST_F(Serve, SigtermStopsCleanlyWithExitZero) {
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->wait(5s), 0);
}

TEST(ServeStartup, BadSettingsAndBusyPortsFailWithAClearMessage) {
  const int port = free_port();
  ChildProcess bad(kBin, {"serve", "--event", kDemo, "--threads", "0"});
  EXPECT_EQ(bad.wait(5s), 2);
  ChildProcess first(kBin, {"serve", "--event", kDemo, "--http",
                            "127.0.0.1:" + std::to_string(port), "--log-level", "error"});
  ASSERT_NE(wait_for_http(port, "/healthz", 10s).status, 0);
  ChildProcess second(kBin, {"serve", "--event", kDemo, "--http",
                             "127.0.0.1:" + std::to_string(port), "--log-level", "error"});
  EXPECT_EQ(second.wait(5s), 1);
}

}  // namespace
}  // namespace splitstream::testing
