#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

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
  EXPECT_EQ(r.config.redis_url.host, "10.0.0.5");
  EXPECT_EQ(r.config.redis_url.port, 6380);
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
        "SPLITSTREAM_DEVICE_TOKENS_FILE", "SPLITSTREAM_DEVICE_TOKENS=\"dev1=token1", "--web-root",
        "SPLITSTREAM_WEB_ROOT", "--map-tiles", "SPLITSTREAM_MAP_TILES", "--map-attribution"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << expected;
  }
}

TEST(ServerConfig, MapTilesMustBeATileUrlTemplate) {
  Sources s;
  auto r = s.parse({"--event", "e", "--map-tiles", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "--map-attribution", "(c) OpenStreetMap contributors"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.map_tiles, "https://tile.openstreetmap.org/{z}/{x}/{y}.png");
  EXPECT_EQ(r.config.map_attribution, "(c) OpenStreetMap contributors");
  EXPECT_EQ(s.parse({"--event", "e"}).config.map_tiles, "");  // default: no tiles
  for (const char* good : {"http://a.tile.example/{z}/{x}/{y}.png", "/tiles/{z}/{x}/{y}.webp",
                           "https://{s}.tile.example/{z}/{y}/{x}@2x.png?key=abc", ""}) {
    r = s.parse({"--event", "e", "--map-tiles", good});
    EXPECT_TRUE(r.errors.empty()) << good << ": " << r.errors.front();
  }
  r = s.parse({"--event", "e", "--map-tiles", "tile.openstreetmap.org/{z}/{x}/{y}.png"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0],
            "--map-tiles: map-tiles: expected a tile URL starting with http://, https:// or /, "
            "not \"tile.openstreetmap.org/{z}/{x}/{y}.png\"");
  r = s.parse({"--event", "e", "--map-tiles", "https://tile.example/{z}/{x}.png"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("needs {z}, {x} and {y}"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[0].find("has no {y}"), std::string::npos) << r.errors[0];
  for (const char* bad : {"ftp://t/{z}/{x}/{y}", "javascript:{z}{x}{y}", "https://t/{z}/{x}/{y} x",
                          "https://t/{z}/{x}/{y}\"", "https://t/{Z}/{X}/{Y}"}) {
    EXPECT_EQ(s.parse({"--event", "e", "--map-tiles", bad}).errors.size(), 1u) << bad;
  }
  s.env["SPLITSTREAM_MAP_TILES"] = "nonsense";
  r = s.parse({"--event", "e"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(r.errors[0].starts_with("environment SPLITSTREAM_MAP_TILES: map-tiles: "));
}

class WebRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::filesystem::temp_directory_path() /
           ("splitstream-webroot-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(tmp_);
    std::filesystem::create_directories(tmp_ / "build" / "bin");
    std::filesystem::create_directories(tmp_ / "web" / "dist");
    exe_ = tmp_ / "build" / "bin" / "splitstream";
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }
  void build_app() { std::ofstream(tmp_ / "web" / "dist" / "index.html") << "<!doctype html>"; }
  std::filesystem::path tmp_, exe_;
};

TEST_F(WebRootTest, DefaultIsWebDistOfTheCheckoutWhenBuilt) {
  EXPECT_EQ(resolve_web_root("", exe_), std::nullopt);  // web/dist without index.html
  EXPECT_EQ(resolve_web_root("", ""), std::nullopt);
  build_app();
  EXPECT_EQ(resolve_web_root("", exe_), tmp_ / "web" / "dist");
}

TEST_F(WebRootTest, AGivenDirectoryMustHoldIndexHtml) {
  const std::string dir = (tmp_ / "elsewhere").string();
  try {
    resolve_web_root(dir, exe_);
    FAIL() << "accepted a web root without index.html";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("web root " + dir + " (--web-root) has no index.html"),
              std::string::npos)
        << e.what();
  }
  build_app();  // the default being there does not matter
  EXPECT_THROW(resolve_web_root(dir, exe_), std::runtime_error);
  EXPECT_EQ(resolve_web_root((tmp_ / "web" / "dist").string(), ""), tmp_ / "web" / "dist");
  Sources s;
  s.files["c.conf"] = "event = e\nweb-root = /srv/app\n";
  EXPECT_EQ(s.parse({"--config", "c.conf"}).config.web_root, "/srv/app");
}

TEST(ServerConfig, Endpoints) {
  EXPECT_EQ(parse_endpoint("localhost:80")->host, "localhost");
  EXPECT_FALSE(parse_endpoint("localhost"));
  EXPECT_FALSE(parse_endpoint(":80"));
  EXPECT_FALSE(parse_endpoint("h:65536"));
}

}  // namespace
}  // namespace splitstream

namespace splitstream {
namespace {

TEST(ServerConfig, TlsIsOnForBothListenersWhenACertificateIsGivenUnlessTold) {
  Sources s;
  auto r = s.parse({"--event", "e"});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_FALSE(r.config.tls_http);
  EXPECT_FALSE(r.config.tls_devices);
  r = s.parse({"--event", "e", "--tls-cert", "c.pem", "--tls-key", "k.pem"});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.config.tls_http);
  EXPECT_TRUE(r.config.tls_devices);
  r = s.parse({"--event", "e", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls", "devices"});
  EXPECT_FALSE(r.config.tls_http);
  EXPECT_TRUE(r.config.tls_devices);
  r = s.parse({"--event", "e", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls", "none"});
  EXPECT_FALSE(r.config.tls_http || r.config.tls_devices);
  r = s.parse({"--event", "e", "--tls", "http"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "tls: http needs both --tls-cert and --tls-key (PEM files)");
  r = s.parse({"--event", "e", "--tls-cert", "c.pem"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "tls: auto needs both --tls-cert and --tls-key (PEM files)");
  r = s.parse({"--event", "e", "--tls-key", "k.pem"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "--tls-cert and --tls-key go together: set both or neither");
  r = s.parse({"--event", "e", "--tls", "https"});
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0],
            "--tls: tls: expected auto, none, http, devices or http,devices, not \"https\"");
}

TEST(ServerConfig, OperationsSettingsHaveDefaultsAndBounds) {
  Sources s;
  s.env["SPLITSTREAM_LOG_FORMAT"] = "json";
  s.env["SPLITSTREAM_HTTP_CONNECTIONS_PER_ADDRESS"] = "0";
  auto r = s.parse({"--event", "e", "--admin-token-file", "/run/secrets/admin",
                    "--ws-subscribe-rate", "2", "--max-admin-body", "4096"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.log_format, "json");
  EXPECT_EQ(r.config.http_connections_per_address, 0u);
  EXPECT_EQ(r.config.device_connections_per_address, 64u);
  EXPECT_EQ(r.config.admin_token_file, "/run/secrets/admin");
  EXPECT_EQ(r.config.ws_subscribe_rate, 2);
  EXPECT_EQ(r.config.ws_subscribe_burst, 20);
  EXPECT_EQ(r.config.max_admin_body, 4096u);
  r = s.parse({"--event", "e", "--log-format", "xml", "--ws-subscribe-burst", "0",
               "--max-admin-body", "10"});
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0], "--log-format: log-format: expected text or json, not \"xml\"");
  EXPECT_EQ(r.errors[1],
            "--ws-subscribe-burst: ws-subscribe-burst: expected a whole number from 1 to 10000, "
            "not \"0\"");
  EXPECT_EQ(
      r.errors[2],
      "--max-admin-body: max-admin-body: expected a whole number from 1024 to 1048576, not \"10\"");
  EXPECT_NE(server_config_help().find("SPLITSTREAM_ADMIN_TOKEN_FILE"), std::string::npos);
  EXPECT_NE(server_config_help().find("SPLITSTREAM_ADMIN_TOKEN."), std::string::npos);
}

TEST(ServerConfig, LiveGateIsOnOrOff) {
  Sources s;
  EXPECT_TRUE(s.parse({"--event", "e"}).config.live_gate);
  s.env["SPLITSTREAM_LIVE_GATE"] = "off";
  auto r = s.parse({"--event", "e"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_FALSE(r.config.live_gate);
  r = s.parse({"--event", "e", "--live-gate", "on"});
  EXPECT_TRUE(r.config.live_gate);  // the flag over the environment
  r = s.parse({"--event", "e", "--live-gate", "no"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "--live-gate: live-gate: expected on or off, not \"no\"");
  EXPECT_NE(server_config_help().find("  --live-gate  (SPLITSTREAM_LIVE_GATE)"), std::string::npos);
  EXPECT_NE(server_config_help().find("officials' endpoints see everything [default: on]"),
            std::string::npos);
}

TEST(ServerConfig, OfficialsFileAndSessionTtl) {
  Sources s;
  auto r = s.parse({"--event", "e"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.officials_file, "");
  EXPECT_EQ(r.config.session_ttl_s, 12 * 3600);
  s.env["SPLITSTREAM_OFFICIALS_FILE"] = "/run/secrets/officials";
  r = s.parse({"--event", "e", "--session-ttl", "8"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.officials_file, "/run/secrets/officials");
  EXPECT_EQ(r.config.session_ttl_s, 8 * 3600);
  r = s.parse({"--event", "e", "--session-ttl", "90s"});
  EXPECT_EQ(r.config.session_ttl_s, 90);
  r = s.parse({"--event", "e", "--session-ttl", "0"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0],
            "--session-ttl: session-ttl: expected hours (12) or a number with a unit (90s, 30m, "
            "12h), from 1s to 720h, not \"0\"");
  EXPECT_EQ(parse_session_ttl("30m"), 1800);
  EXPECT_EQ(parse_session_ttl("12h"), 43200);
  EXPECT_EQ(parse_session_ttl("720"), 720 * 3600);
  EXPECT_EQ(parse_session_ttl("721h"), std::nullopt);
  EXPECT_EQ(parse_session_ttl("2592001s"), std::nullopt);
  EXPECT_EQ(parse_session_ttl("1s"), 1);
  EXPECT_EQ(parse_session_ttl("h"), std::nullopt);
  EXPECT_EQ(parse_session_ttl("1.5"), std::nullopt);
  EXPECT_EQ(parse_session_ttl("-1"), std::nullopt);
  EXPECT_NE(server_config_help().find("  --session-ttl  (SPLITSTREAM_SESSION_TTL)"),
            std::string::npos);
  EXPECT_NE(server_config_help().find("(90s, 30m, 12h) [default: 12]"), std::string::npos);
  EXPECT_NE(server_config_help().find("  --officials-file  (SPLITSTREAM_OFFICIALS_FILE)"),
            std::string::npos);
}

}  // namespace
}  // namespace splitstream

namespace splitstream {
namespace {

const std::string kSecret = "S3cr3t-pw";

TEST(ServerConfig, RedisUrlWithUserPasswordDatabaseAndTls) {
  Sources s;
  auto r = s.parse({"--event", "e"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(describe_redis(r.config.redis_url), "redis://127.0.0.1:6379");
  EXPECT_FALSE(r.config.redis_url.tls.enabled);
  s.env["SPLITSTREAM_REDIS"] = "rediss://timing:" + kSecret + "@[::1]:6380/3";
  r = s.parse({"--event", "e"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.redis_url.host, "::1");
  EXPECT_EQ(r.config.redis_url.port, 6380);
  EXPECT_EQ(r.config.redis_url.username, "timing");
  EXPECT_EQ(r.config.redis_url.password, kSecret);
  EXPECT_EQ(r.config.redis_url.database, 3);
  EXPECT_TRUE(r.config.redis_url.tls.enabled);
  EXPECT_EQ(describe_redis(r.config.redis_url), "rediss://timing@[::1]:6380/3");  // its show()
  // A later source's URL replaces all of it: no user or password left over.
  r = s.parse({"--event", "e", "--redis", "redis://10.0.0.5"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.redis_url.username, "");
  EXPECT_EQ(r.config.redis_url.password, "");
  EXPECT_FALSE(r.config.redis_url.tls.enabled);
}

TEST(ServerConfig, ABadRedisUrlIsEchoedWithItsPasswordMasked) {
  Sources s;
  s.files["c.conf"] = "event = e\nredis = redis://timing:" + kSecret + "@r:99999\n";
  auto r = s.parse({"--config", "c.conf", "--redis", "http://:" + kSecret + "@r"});
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0],
            "c.conf:2: redis: \"redis://timing:***@r:99999\": the port must be a number from 1 "
            "to 65535");
  EXPECT_EQ(r.errors[1],
            "--redis: redis: \"http://:***@r\": unknown scheme \"http\": expected redis:// or "
            "rediss://");
  r = s.parse({"--event", "e", "--redis", "10.0.0.5:6379"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0],
            "--redis: redis: \"10.0.0.5:6379\": expected "
            "redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://...");
}

TEST(ServerConfig, ThePasswordFileOverridesTheUrlsPassword) {
  Sources s;
  s.files["/run/secrets/redis"] = kSecret + "\r\nsecond line ignored\n";
  auto r = s.parse({"--event", "e", "--redis", "redis://timing:old@r", "--redis-password-file",
                    "/run/secrets/redis"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.redis_url.username, "timing");
  EXPECT_EQ(r.config.redis_url.password, kSecret);
  // From the environment like every setting; a password with spaces is kept as written.
  s.files["/run/secrets/redis"] = " two words ";
  s.env["SPLITSTREAM_REDIS_PASSWORD_FILE"] = "/run/secrets/redis";
  r = s.parse({"--event", "e"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.redis_url.password, " two words ");
  EXPECT_EQ(r.config.redis_password_file, "/run/secrets/redis");
}

TEST(ServerConfig, AnUnreadableOrEmptyPasswordFileNamesTheFileNotItsContent) {
  Sources s;
  auto r = s.parse({"--event", "e", "--redis-password-file", "/missing"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "redis-password-file: cannot read /missing");
  s.files["/empty"] = "\n" + kSecret + "\n";
  r = s.parse({"--event", "e", "--redis-password-file", "/empty"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0],
            "redis-password-file: the first line of /empty is empty: it should hold the password");
  // --help does not read it.
  r = s.parse({"--help", "--redis-password-file", "/missing"});
  EXPECT_TRUE(r.errors.empty());
}

TEST(ServerConfig, AUserNeedsAPassword) {
  Sources s;
  auto r = s.parse({"--event", "e", "--redis", "redis://timing@r"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0],
            "redis: --redis names a user but no password: write redis://USER:PASSWORD@HOST or "
            "give --redis-password-file");
  s.files["pw"] = kSecret;
  r = s.parse({"--event", "e", "--redis", "redis://timing@r", "--redis-password-file", "pw"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.redis_url.password, kSecret);
  EXPECT_TRUE(s.parse({"--event", "e", "--redis", "redis://:pw@r"}).errors.empty());
}

TEST(ServerConfig, RedisTlsFilesNeedRedissAndCertAndKeyGoTogether) {
  Sources s;
  auto r = s.parse({"--event", "e", "--redis", "rediss://r:6380", "--redis-tls-ca", "ca.pem",
                    "--redis-tls-cert", "c.pem", "--redis-tls-key", "k.pem",
                    "--redis-tls-server-name", "redis.internal"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.redis_tls_ca, "ca.pem");
  EXPECT_EQ(r.config.redis_tls_cert, "c.pem");
  EXPECT_EQ(r.config.redis_tls_key, "k.pem");
  EXPECT_EQ(r.config.redis_tls_server_name, "redis.internal");
  r = s.parse({"--event", "e", "--redis-tls-ca", "ca.pem", "--redis-tls-server-name", "n"});
  const std::vector<std::string> expected = {
      "--redis-tls-ca is for TLS to Redis: --redis needs a rediss:// URL",
      "--redis-tls-server-name is for TLS to Redis: --redis needs a rediss:// URL"};
  EXPECT_EQ(r.errors, expected);
  r = s.parse({"--event", "e", "--redis", "rediss://r", "--redis-tls-cert", "c.pem"});
  EXPECT_EQ(r.errors, std::vector<std::string>{
                          "--redis-tls-cert and --redis-tls-key go together: set both or neither"});
  r = s.parse({"--event", "e", "--redis", "rediss://r", "--redis-tls-key", "k.pem"});
  EXPECT_EQ(r.errors, std::vector<std::string>{
                          "--redis-tls-cert and --redis-tls-key go together: set both or neither"});
}

TEST(ServerConfig, SentinelsAndPrimaryNameGoTogether) {
  Sources s;
  auto r = s.parse({"--event", "e", "--redis-sentinels", "10.0.0.1:26379, [::1]:26380,s3:1",
                    "--redis-primary-name", "mymaster"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.config.redis_sentinels.size(), 3u);
  EXPECT_EQ(r.config.redis_sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(r.config.redis_sentinels[0].port, 26379);
  EXPECT_EQ(r.config.redis_sentinels[1].host, "::1");
  EXPECT_EQ(r.config.redis_sentinels[1].port, 26380);
  EXPECT_EQ(r.config.redis_sentinels[2].host, "s3");
  EXPECT_EQ(r.config.redis_primary_name, "mymaster");
  r = s.parse({"--event", "e", "--redis-sentinels", "10.0.0.1:26379"});
  EXPECT_EQ(r.errors, std::vector<std::string>{"--redis-sentinels needs --redis-primary-name (the "
                                               "name the sentinels know the primary by)"});
  r = s.parse({"--event", "e", "--redis-primary-name", "mymaster"});
  EXPECT_EQ(r.errors, std::vector<std::string>{
                          "--redis-primary-name needs --redis-sentinels (HOST:PORT,...)"});
  for (const char* bad : {"10.0.0.1", "10.0.0.1:0", "a:1,b", "a:1,,b:2", "a:65536"}) {
    r = s.parse({"--event", "e", "--redis-sentinels", bad});
    ASSERT_EQ(r.errors.size(), 1u) << bad;
    EXPECT_EQ(r.errors[0],
              "--redis-sentinels: redis-sentinels: expected HOST:PORT,HOST:PORT,... "
              "(e.g. 10.0.0.1:26379,10.0.0.2:26379), not \"" +
                  std::string(bad) + "\"");
  }
  // Empty: no sentinels (an environment's list can be cleared by a flag).
  s.env["SPLITSTREAM_REDIS_SENTINELS"] = "a:1";
  r = s.parse({"--event", "e", "--redis-sentinels", ""});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.config.redis_sentinels.empty());
}

TEST(ServerConfig, DurabilityModesReplicasAndTimeout) {
  Sources s;
  auto r = s.parse({"--event", "e"});
  EXPECT_EQ(r.config.durability, DurabilityMode::local);
  EXPECT_EQ(r.config.durability_replicas, 1);
  EXPECT_EQ(r.config.durability_timeout_ms, 1000);
  r = s.parse({"--event", "e", "--durability", "replicated", "--durability-replicas", "2",
               "--durability-timeout", "250"});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.config.durability, DurabilityMode::replicated);
  EXPECT_EQ(r.config.durability_replicas, 2);
  EXPECT_EQ(r.config.durability_timeout_ms, 250);
  EXPECT_EQ(s.parse({"--event", "e", "--durability", "fsync"}).config.durability,
            DurabilityMode::fsync);
  r = s.parse({"--event", "e", "--durability", "always", "--durability-replicas", "17",
               "--durability-timeout", "9"});
  const std::vector<std::string> expected = {
      "--durability: durability: expected local, fsync or replicated, not \"always\"",
      "--durability-replicas: durability-replicas: expected a whole number from 1 to 16, not "
      "\"17\"",
      "--durability-timeout: durability-timeout: expected a whole number from 10 to 60000, not "
      "\"9\""};
  EXPECT_EQ(r.errors, expected);
  EXPECT_TRUE(
      s.parse({"--event", "e", "--durability-replicas", "16", "--durability-timeout", "60000"})
          .errors.empty());
}

TEST(ServerConfig, HelpDocumentsEveryRedisSettingAndShowsNoPassword) {
  const std::string help = server_config_help();
  for (const char* expected :
       {"  --redis  (SPLITSTREAM_REDIS)", "[default: redis://127.0.0.1:6379]",
        "  --redis-password-file  (SPLITSTREAM_REDIS_PASSWORD_FILE)",
        "  --redis-tls-ca  (SPLITSTREAM_REDIS_TLS_CA)",
        "  --redis-tls-cert  (SPLITSTREAM_REDIS_TLS_CERT)",
        "  --redis-tls-key  (SPLITSTREAM_REDIS_TLS_KEY)",
        "  --redis-tls-server-name  (SPLITSTREAM_REDIS_TLS_SERVER_NAME)",
        "  --redis-sentinels  (SPLITSTREAM_REDIS_SENTINELS)",
        "  --redis-primary-name  (SPLITSTREAM_REDIS_PRIMARY_NAME)",
        "  --durability  (SPLITSTREAM_DURABILITY)", "resends it) [default: local]",
        "  --durability-replicas  (SPLITSTREAM_DURABILITY_REPLICAS)",
        "(--durability replicated) [default: 1]",
        "  --durability-timeout  (SPLITSTREAM_DURABILITY_TIMEOUT)", "[default: 1000]"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << expected;
  }
}

}  // namespace
}  // namespace splitstream
