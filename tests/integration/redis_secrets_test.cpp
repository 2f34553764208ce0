// The Redis password never shows: a real `splitstream serve` given a password (in the --redis
// URL, or in --redis-password-file) for a Redis that is not there logs its connection failures,
// answers /readyz 503 naming the Redis as redis://timing@host:port, serves /metrics, stops on
// SIGTERM, and nothing it wrote or answered holds the password; nor does `serve --help`, nor the
// error about a bad --redis value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "S3cr3t-pw";

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class RedisSecrets : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("splitstream-redis-secrets-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `splitstream <args>` with its stdout and stderr in files of their own (`name`.out, .err),
  // and `env` (NAME=value items) added to its environment.
  std::unique_ptr<ChildProcess> run(const std::string& name, const std::vector<std::string>& args,
                                    const std::vector<std::string>& env = {}) {
    std::vector<std::string> sh = {"-c",
                                   "out=$1; err=$2; shift 2; exec \"$@\" >\"$out\" 2>\"$err\"",
                                   "sh",
                                   (dir_ / (name + ".out")).string(),
                                   (dir_ / (name + ".err")).string(),
                                   "/usr/bin/env"};
    sh.insert(sh.end(), env.begin(), env.end());
    sh.push_back(SPLITSTREAM_BIN_DIR "/splitstream");
    sh.insert(sh.end(), args.begin(), args.end());
    return std::make_unique<ChildProcess>("/bin/sh", sh);
  }
  std::string out(const std::string& name) { return file_text(dir_ / (name + ".out")); }
  std::string err(const std::string& name) { return file_text(dir_ / (name + ".err")); }

  // Serves the demo event with `redis_args` against a Redis port nobody listens on; waits for
  // its log to report a failed connection; checks /readyz, /metrics, then stops it (SIGTERM)
  // and checks everything it wrote.
  void serve_and_check(const std::string& name, std::vector<std::string> redis_args,
                       const std::string& log_format) {
    const int http = free_port();
    std::vector<std::string> args = {"serve",
                                     "--event",
                                     SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025",
                                     "--http",
                                     "127.0.0.1:" + std::to_string(http),
                                     "--devices",
                                     "127.0.0.1:" + std::to_string(free_port()),
                                     "--log-level",
                                     "debug",
                                     "--log-format",
                                     log_format,
                                     "--drain-timeout",
                                     "1"};
    args.insert(args.end(), redis_args.begin(), redis_args.end());
    auto node = run(name, args);
    ASSERT_NE(wait_for_http(http, "/healthz", 10s).status, 0) << err(name);
    const std::string where = "redis://timing@127.0.0.1:" + std::to_string(dead_port_);
    ASSERT_TRUE(wait_until([&] {
      const std::string log = err(name);
      return log.find("connection lost or refused; retrying") != std::string::npos;
    })) << err(name);
    // The start-up line names the durability mode and the Redis.
    const std::string log = err(name);
    EXPECT_NE(log.find("durability local"), std::string::npos) << log;
    EXPECT_NE(log.find(where), std::string::npos) << log;

    const HttpResult ready = http_get(http, "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_NE(ready.body.find(where + " not connected"), std::string::npos) << ready.body;
    EXPECT_EQ(ready.body.find(kSecret), std::string::npos) << ready.body;
    const HttpResult metrics = http_get(http, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("splitstream_redis_connected{connection=\"ingest\"} 0"),
              std::string::npos);
    EXPECT_EQ(metrics.body.find(kSecret), std::string::npos);
    for (const char* path : {"/healthz", "/api/v1/config", "/api/v1/devices"}) {
      EXPECT_EQ(http_get(http, path).body.find(kSecret), std::string::npos) << path;
    }

    node->signal(SIGTERM);
    EXPECT_TRUE(node->wait(15s).has_value()) << "serve did not stop on SIGTERM";
    EXPECT_EQ(err(name).find(kSecret), std::string::npos) << err(name);
    EXPECT_EQ(out(name).find(kSecret), std::string::npos) << out(name);
  }

  std::filesystem::path dir_;
  const int dead_port_ = free_port();  // nobody listens there
};

TEST_F(RedisSecrets, APasswordInTheUrlNeverShows) {
  serve_and_check("url",
                  {"--redis", "redis://timing:" + std::string(kSecret) +
                                  "@127.0.0.1:" + std::to_string(dead_port_)},
                  "text");
}

TEST_F(RedisSecrets, APasswordFromItsFileNeverShows) {
  const auto file = dir_ / "redis-password";
  std::ofstream(file) << kSecret << "\n";
  serve_and_check("file",
                  {"--redis", "redis://timing:not-this-one@127.0.0.1:" + std::to_string(dead_port_),
                   "--redis-password-file", file.string()},
                  "json");
}

TEST_F(RedisSecrets, HelpShowsNoPasswordFromTheEnvironmentOrTheFlags) {
  const std::string url = "redis://timing:" + std::string(kSecret) + "@127.0.0.1:6379";
  auto help = run("help", {"serve", "--help", "--redis", url}, {"SPLITSTREAM_REDIS=" + url});
  ASSERT_EQ(help->wait(10s), 0) << err("help");
  const std::string text = out("help");
  EXPECT_NE(text.find("--redis-password-file"), std::string::npos) << text;
  EXPECT_NE(text.find("[default: redis://127.0.0.1:6379]"), std::string::npos) << text;
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_EQ(err("help").find(kSecret), std::string::npos) << err("help");
}

TEST_F(RedisSecrets, ABadUrlIsRefusedWithThePasswordMasked) {
  const std::string bad = "redis://timing:" + std::string(kSecret) + "@127.0.0.1:99999";
  auto serve = run(
      "bad", {"serve", "--event", SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025", "--redis", bad});
  ASSERT_EQ(serve->wait(10s), 2) << err("bad");
  const std::string error = err("bad");
  EXPECT_NE(error.find("--redis: redis: \"redis://timing:***@127.0.0.1:99999\": the port must be "
                       "a number from 1 to 65535"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find(kSecret), std::string::npos) << error;
  EXPECT_EQ(out("bad").find(kSecret), std::string::npos);
  // The password file's error names the file, not what it holds.
  const auto file = dir_ / "unreadable";
  auto missing =
      run("missing", {"serve", "--event", SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025",
                      "--redis-password-file", file.string()});
  ASSERT_EQ(missing->wait(10s), 2) << err("missing");
  EXPECT_NE(err("missing").find("redis-password-file: cannot read " + file.string()),
            std::string::npos)
      << err("missing");
}

}  // namespace
}  // namespace splitstream::testing
