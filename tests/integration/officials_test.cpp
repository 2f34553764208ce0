// Officials and their sessions end to end: real `splitstream serve` nodes on a real Redis with an
// officials file. An official signs in with their token and corrects with the session cookie
// (and the CSRF header), a viewer may read but not correct, scripts keep their Bearer token, a
// session is good on every node, signing out clears the cookie, and a session expires.
#include <gtest/gtest.h>

#include <fstream>

#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"
#include "support/ws_client.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;
const std::string kKimToken = "kim-0123456789abcdef";
const std::string kLeeToken = "lee-fedcba9876543210";
const std::string kJson = "Content-Type: application/json\r\n";
const std::string kConsole = "X-Splitstream-Console: 1\r\n";
const std::string kDnf = R"({"kind":"set_status","bib":"1","status":"dnf","reason":"medical"})";

class Officials : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    std::ofstream(tokens_) << "stadium-main 0123456789abcdef\n";
    officials_ = redis_.dir() / "officials";
    std::ofstream(officials_) << "# race day\n"
                              << "official " << kKimToken << " J. Kim\n"
                              << "viewer " << kLeeToken << " Lee Mi-ra\n";
  }

  ServeNode start_node(std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--officials-file", officials_.string()});
    return start_serve_node(redis_.port(), tokens_, extra);
  }

  // The value of a response header line ("" when absent).
  static std::string header(const HttpResult& r, const std::string& name) {
    const auto at = r.headers.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    const auto from = at + 4 + name.size();
    return r.headers.substr(from, r.headers.find("\r\n", from) - from);
  }

  // Signs in; the `Cookie:` header line of the session (or "" when refused).
  static std::string sign_in(int port, const std::string& token) {
    const HttpResult r =
        http_send(port, "POST", "/api/v1/session", R"({"token":")" + token + R"("})", kJson);
    const std::string set_cookie = header(r, "Set-Cookie");
    if (r.status != 200 || set_cookie.empty()) return "";
    return "Cookie: " + set_cookie.substr(0, set_cookie.find(';')) + "\r\n";
  }

  static HttpResult correct(int port, const std::string& headers, const std::string& body = kDnf) {
    return http_send(port, "POST", "/api/v1/admin/corrections", body, headers + kJson);
  }

  long long stream_length() {
    return redis_.command({"XLEN", "{ev:pyongyang-2025}:reads"}).to_integer().value_or(-1);
  }

  RedisServer redis_;
  std::filesystem::path tokens_;
  std::filesystem::path officials_;
};

TEST_F(Officials, SignInCorrectWithTheCookieAndSignOut) {
  ServeNode node = start_node();

  // Signing in: the session in an HttpOnly, SameSite=Strict cookie for 12 hours.
  HttpResult r =
      http_send(node.http, "POST", "/api/v1/session", R"({"token":")" + kKimToken + R"("})", kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(R"({"name":"J. Kim","role":"official","expires_ms":)"), 0u) << r.body;
  const std::string set_cookie = header(r, "Set-Cookie");
  EXPECT_EQ(set_cookie.find("splitstream_session=v1."), 0u) << set_cookie;
  EXPECT_NE(set_cookie.find("; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200"),
            std::string::npos)
      << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << set_cookie;  // plain HTTP
  const std::string kim =
      "Cookie: theme=dark; " + set_cookie.substr(0, set_cookie.find(';')) + "; lang=ko\r\n";

  r = http_send(node.http, "GET", "/api/v1/session", "", kim);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(R"({"name":"J. Kim","role":"official","expires_ms":)"), 0u) << r.body;

  // A viewer may read the corrections but not make one: nothing is recorded.
  const std::string lee = sign_in(node.http, kLeeToken);
  ASSERT_FALSE(lee.empty());
  r = correct(node.http, lee + kConsole);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find(R"("code":"forbidden")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Lee Mi-ra is a viewer; making a correction needs the official role"),
            std::string::npos)
      << r.body;
  r = http_send(node.http, "GET", "/api/v1/admin/corrections", "", lee);
  EXPECT_EQ(r.status, 200) << r.body;

  // The official's cookie without the console's header: refused as a possible cross-site post.
  r = correct(node.http, kim);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find(R"("code":"csrf")"), std::string::npos) << r.body;
  EXPECT_EQ(stream_length(), 0);

  // Who made a correction is who is signed in, never what the body says.
  r = correct(node.http, kim + kConsole,
              R"({"kind":"set_status","bib":"1","status":"dnf","by":"someone else"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("by is set from who is signed in"), std::string::npos) << r.body;
  EXPECT_EQ(stream_length(), 0);

  r = correct(node.http, kim + kConsole);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"("by":"J. Kim")"), std::string::npos) << r.body;
  EXPECT_EQ(stream_length(), 1);

  // Scripts keep their Bearer token (no CSRF header needed).
  r = correct(node.http, "Authorization: Bearer " + kKimToken + "\r\n",
              R"({"kind":"set_status","bib":"1","status":"none"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"("by":"J. Kim")"), std::string::npos) << r.body;
  r = http_send(node.http, "GET", "/api/v1/admin/corrections", "",
                "Authorization: Bearer " + kLeeToken + "\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("total":2)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("status":"dnf","reason":"medical","by":"J. Kim")"), std::string::npos)
      << r.body;

  // Signing out: a cookie that expires now.
  r = http_send(node.http, "DELETE", "/api/v1/session", "", kim);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(header(r, "Set-Cookie"),
            "splitstream_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");

  // A wrong token, and no credentials at all.
  r = http_send(node.http, "POST", "/api/v1/session", R"({"token":"not-anyones-token-1234"})",
                kJson);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(r.body.find(R"("code":"unauthorized")"), std::string::npos) << r.body;
  EXPECT_EQ(header(r, "Set-Cookie"), "");
  r = http_send(node.http, "GET", "/api/v1/session");
  EXPECT_EQ(r.status, 401) << r.body;
  r = correct(node.http, kConsole);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(stream_length(), 2);
}

TEST_F(Officials, ASessionIsGoodOnEveryNodeWithTheSameOfficialsUntilItExpires) {
  // Sessions of three seconds here (--session-ttl takes a unit), so that one expires within the
  // test.
  ServeNode a = start_node({"--session-ttl", "3s"});
  ServeNode b = start_node({"--session-ttl", "3s"});
  const std::string kim = sign_in(a.http, kKimToken);
  ASSERT_FALSE(kim.empty());
  // Signed on node A, read on node B: no state on either.
  HttpResult r = http_send(b.http, "GET", "/api/v1/session", "", kim);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"J. Kim")"), std::string::npos) << r.body;

  EXPECT_TRUE(wait_until([&] {
    r = http_send(b.http, "GET", "/api/v1/session", "", kim);
    return r.status == 401;
  }));
  EXPECT_NE(r.body.find(R"("code":"session_expired")"), std::string::npos) << r.body;
  r = correct(a.http, kim + kConsole);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(r.body.find(R"("code":"session_expired")"), std::string::npos) << r.body;
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(Officials, AChangedRoleEndsTheSessionsOfThatOfficial) {
  const std::string kim = [&] {
    ServeNode before = start_node();
    return sign_in(before.http, kKimToken);
  }();
  ASSERT_FALSE(kim.empty());
  // J. Kim is made a viewer; a node started with the new file refuses the old session.
  std::ofstream(officials_) << "viewer " << kKimToken << " J. Kim\n";
  ServeNode after = start_node();
  HttpResult r = http_send(after.http, "GET", "/api/v1/session", "", kim);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(r.body.find(R"("code":"unauthorized")"), std::string::npos) << r.body;
  // Signed in again: a viewer now.
  const std::string again = sign_in(after.http, kKimToken);
  r = http_send(after.http, "GET", "/api/v1/session", "", again);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("role":"viewer")"), std::string::npos) << r.body;
}

TEST_F(Officials, AFaultyOfficialsFileStopsTheServerNamingTheLine) {
  std::ofstream(officials_) << "official " << kKimToken << " J. Kim\n"
                            << "referee " << kLeeToken << " Lee Mi-ra\n";
  const auto log = redis_.dir() / "serve.log";
  std::vector<std::string> args =
      serve_args(redis_.port(), "127.0.0.1:" + std::to_string(free_port()),
                 "127.0.0.1:" + std::to_string(free_port()));
  args.insert(args.end(),
              {"--device-tokens-file", tokens_.string(), "--officials-file", officials_.string()});
  ChildProcess serve(SPLITSTREAM_BIN_DIR "/splitstream", args, log.string());
  const auto status = serve.wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(officials_.string() + ":2: unknown role \"referee\": viewer or official"),
            std::string::npos)
      << text;
}

TEST_F(Officials, TheConsoleFeedsAreForSignedInOfficialsOnly) {
  ServeNode node = start_node({"--silent-after", "1"});
  const std::string cookie_line = sign_in(node.http, kLeeToken);  // a viewer is enough
  ASSERT_FALSE(cookie_line.empty());
  const std::string cookie = cookie_line.substr(8, cookie_line.size() - 10);  // "Cookie: ...\r\n"
  v1::ClientMessage devices;
  devices.mutable_subscribe()->set_kind(v1::SUBSCRIPTION_KIND_DEVICES);

  // A spectator's socket: refused, the connection stays.
  WsClient spectator(node.http, "");
  ASSERT_TRUE(spectator.open());
  ASSERT_TRUE(spectator.send(devices));
  auto refused = spectator.receive();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error().code(), "forbidden");
  // A page of another site with the crew's cookie: refused too.
  WsClient elsewhere(node.http, "", "https://evil.example", 0, cookie);
  ASSERT_TRUE(elsewhere.send(devices));
  refused = elsewhere.receive();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error().code(), "forbidden");

  // The console's socket: subscribed, then the devices body with its alerts (nobody has started,
  // so no timing point expects anyone yet: none) within a couple of feeds.
  WsClient console(node.http, "", "", 0, cookie);
  ASSERT_TRUE(console.send(devices));
  auto subscribed = console.receive();
  ASSERT_TRUE(subscribed);
  ASSERT_EQ(subscribed->subscribed().subscriptions_size(), 1);
  EXPECT_EQ(subscribed->subscribed().subscriptions(0), "console/devices");
  std::string body;
  const bool got = wait_until(
      [&] {
        auto m = console.receive();
        if (!m || !m->has_console()) return false;
        body = m->console().json();
        return body.find("\"alerts\"") != std::string::npos;
      },
      15s);
  ASSERT_TRUE(got) << body;
  EXPECT_NE(body.find("\"id\":\"stadium-main\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"alerts\":[]"), std::string::npos) << body;
}

}  // namespace
}  // namespace splitstream::testing
