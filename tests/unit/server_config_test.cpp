#include <gtest/gtest.h>

#include <map>

#include "server/config.hpp"

namespace splitstream {
namespace {

struct Sources {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;

  ConfigResult parse(const std::vector<std::string>& args) const {
    return parse_server_config(
        args,
        [&](const std::string& k) -> std::optional<std::string> {
          auto it = env.find(k);
          return it == env.end() ? std::nullopt : std::optional(it->second);
        },
        [&](const std::string& k) -> std::optional<std::string> {
          auto it = files.find(k);
          return it == files.end() ? std::nullopt : std::optional(it->second);
        });
  }
};

TEST(ServerConfig, DefaultsThenFileThenEnvironmentThenFlags) {
  Sources s;
  s.files["/etc/ss.conf"] =
      "# race day\nevent = /events/a\nthreads = 3\nhttp = 127.0.0.1:9000\nredis = "
      "redis://10.0.0.5:6380\n";
  s.env["SPLITSTREAM_THREADS"] = "4";
  s.env["SPLITSTREAM_IDLE_TIMEOUT"] = "45";
  const auto r = s.parse({"--config", "/etc/ss.conf", "--threads=6", "--devices", "[::1]:7171"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.event_dir, "/events/a");
  EXPECT_EQ(r.config.threads, 6);          // flag over environment over file
  EXPECT_EQ(r.config.idle_timeout_s, 45);  // environment over default
  EXPECT_EQ(r.config.http.host, "127.0.0.1");
  EXPECT_EQ(r.config.http.port, 9000);
  EXPECT_EQ(r.config.redis_host, "10.0.0.5");
  EXPECT_EQ(r.config.redis_port, 6380);
  EXPECT_EQ(r.config.devices.host, "::1");
  EXPECT_EQ(r.config.devices.port, 7171);
  EXPECT_EQ(r.config.max_frame_bytes, 1u << 20);  // default kept
}

TEST(ServerConfig, EveryBadValueIsReportedWithItsSource) {
  Sources s;
  s.files["c.conf"] = "event = /e\nthreads = many\nbogus = 1\njust words\n";
  s.env["SPLITSTREAM_HTTP"] = "8080";
  const auto r =
      s.parse({"--config", "c.conf", "--log-level", "loud", "--max-frame", "12", "--nope", "1"});
  const std::vector<std::string> expected = {
      "c.conf:2: threads: expected a whole number from 1 to 64, not \"many\"",
      "c.conf:3: unknown setting \"bogus\"",
      "c.conf:4: expected `key = value`",
      "environment SPLITSTREAM_HTTP: http: expected HOST:PORT, not \"8080\"",
      "--log-level: log-level: expected debug, info, warn or error, not \"loud\"",
      "--max-frame: max-frame: expected a whole number from 1024 to 67108864, not \"12\"",
      "--nope: unknown setting \"nope\""};
  EXPECT_EQ(r.errors, expected);
}

TEST(ServerConfig, EventIsRequiredUnlessAskingForHelp) {
  Sources s;
  auto r = s.parse({});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("--event DIR is required"), std::string::npos);
  r = s.parse({"--help"});
  EXPECT_TRUE(r.help);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(s.parse({"--config", "missing.conf", "--event", "x"}).errors,
            std::vector<std::string>{"cannot read config file missing.conf"});
}

TEST(ServerConfig, HelpListsEverySettingWithItsVariableAndDefault) {
  const std::string help = server_config_help();
  for (const char* expected :
       {"--event", "SPLITSTREAM_EVENT", "--redis", "redis://127.0.0.1:6379", "--devices",
        "0.0.0.0:7070", "--idle-timeout", "SPLITSTREAM_IDLE_TIMEOUT", "[default: 30]",
        "SPLITSTREAM_DEVICE_TOKENS_FILE", "SPLITSTREAM_DEVICE_TOKENS=\"dev1=token1"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << expected;
  }
}

TEST(ServerConfig, Endpoints) {
  EXPECT_EQ(parse_endpoint("localhost:80")->host, "localhost");
  EXPECT_FALSE(parse_endpoint("localhost"));
  EXPECT_FALSE(parse_endpoint(":80"));
  EXPECT_FALSE(parse_endpoint("h:65536"));
  EXPECT_EQ(parse_redis_url("redis://r:1/")->port, 1);
}

}  // namespace
}  // namespace splitstream
