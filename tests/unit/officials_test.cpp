// Officials and their sessions without I/O: the officials file, the session value (its encoding
// and signature checked against RFC 4648 and RFC 4231 vectors and a value written out by hand),
// authorize_official on hand-written requests, the /api/v1/session answers, and the route guard.
#include "api/officials.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "api/routes.hpp"
#include "api/session_api.hpp"

namespace splitstream {
namespace {

const std::string kKimToken = "0123456789abcdef-kim";
const std::string kLeeToken = "fedcba9876543210-lee";
// 2025-04-06T00:41:00Z
constexpr TimeMs kExpires = 1'743'900'060'000;
// HMAC-SHA256("0123456789abcdef-kim", "v1|J. Kim|official|1743900060000"), base64url: computed
// with Python's hmac module; "Si4gS2lt" is base64url("J. Kim").
const std::string kKimSession =
    "v1.Si4gS2lt.official.1743900060000.S36NUt4PAXczAkYG8KlGk7UEi_oH_aZoWRfXU1ZOBUE";

Officials kim_and_lee() {
  Officials officials;
  const Diagnostics d = officials.add_from_text(
      "official " + kKimToken + " J. Kim\nviewer " + kLeeToken + " Lee Mi-ra\n", "officials.txt");
  EXPECT_TRUE(d.empty()) << d.front().to_string();
  return officials;
}

HttpRequest request(http::verb method, const std::string& target = "/api/v1/admin/corrections") {
  HttpRequest r{method, target, 11};
  return r;
}

HttpRequest with_cookie(http::verb method, const std::string& cookie_header) {
  HttpRequest r = request(method);
  r.set(http::field::cookie, cookie_header);
  return r;
}

std::string error_code_of(const std::variant<Official, HttpResponse>& result) {
  if (std::holds_alternative<Official>(result)) return "(allowed)";
  const std::string& body = std::get<HttpResponse>(result).body();
  const auto at = body.find(R"("code":")");
  return body.substr(at + 8, body.find('"', at + 8) - at - 8);
}

std::string official_name(const std::variant<Official, HttpResponse>& result) {
  if (const auto* o = std::get_if<Official>(&result)) return o->name;
  return "(refused: " + std::get<HttpResponse>(result).body() + ")";
}

TEST(OfficialsFile, RolesTokensAndNamesWithSpaces) {
  Officials officials;
  const Diagnostics d = officials.add_from_text(
      "# race-day officials\n"
      "\n"
      "official " +
          kKimToken +
          " J. Kim\r\n"
          "  viewer\t" +
          kLeeToken + "   Lee  Mi-ra  \n",
      "officials.txt");
  ASSERT_TRUE(d.empty()) << d.front().to_string();
  EXPECT_EQ(officials.size(), 2u);
  EXPECT_EQ(officials.count(OfficialRole::viewer), 1u);
  ASSERT_NE(officials.find_by_token(kKimToken), nullptr);
  EXPECT_EQ(*officials.find_by_token(kKimToken), (Official{"J. Kim", OfficialRole::official}));
  ASSERT_NE(officials.find_by_token(kLeeToken), nullptr);
  // The name is the rest of the line: inner spaces kept, the ends trimmed.
  EXPECT_EQ(*officials.find_by_token(kLeeToken), (Official{"Lee  Mi-ra", OfficialRole::viewer}));
  EXPECT_EQ(officials.find_by_token(kKimToken + "x"), nullptr);
  EXPECT_EQ(officials.find_by_token(kKimToken.substr(0, 19)), nullptr);
  EXPECT_EQ(officials.find_by_token(""), nullptr);
  EXPECT_NE(officials.find_by_name("J. Kim"), nullptr);
  EXPECT_EQ(officials.find_by_name("j. kim"), nullptr);
}

TEST(OfficialsFile, ErrorsNameFileAndLineAndNeverATokenAndSkipTheLine) {
  Officials officials;
  const Diagnostics d = officials.add_from_text("official " + kKimToken +
                                                    " J. Kim\n"                            // 1
                                                    "referee 0000000000000000-ref Park\n"  // 2
                                                    "viewer short Ri\n"                    // 3
                                                    "viewer " +
                                                    kKimToken + " Choe\n" +                   // 4
                                                    "official 1111111111111111-kim J. Kim\n"  // 5
                                                    "viewer 2222222222222222-solo\n"          // 6
                                                    "3333333333333333-first official Han\n"   // 7
                                                    "viewer 4444444444444444-long " +
                                                    std::string(101, 'n') + "\n",  // 8
                                                "officials.txt");
  ASSERT_EQ(d.size(), 7u);
  EXPECT_EQ(d[0].to_string(), "officials.txt:2: unknown role \"referee\": viewer or official");
  EXPECT_EQ(d[1].to_string(),
            "officials.txt:3: the token of \"Ri\" is 5 characters long: use at least 16 (e.g. "
            "openssl rand -hex 24)");
  EXPECT_EQ(d[2].to_string(),
            "officials.txt:4: the token of \"Choe\" is also the token of \"J. Kim\" "
            "(officials.txt:1): give each official a token of their own");
  EXPECT_EQ(d[3].to_string(),
            "officials.txt:5: official \"J. Kim\" is already listed (officials.txt:1): give each "
            "official a name of their own");
  EXPECT_EQ(d[4].to_string(),
            "officials.txt:6: expected `<role> <token> <name>` (role viewer or official)");
  EXPECT_EQ(d[5].to_string(),
            "officials.txt:7: the line should start with the role, viewer or official");
  EXPECT_EQ(d[6].to_string(), "officials.txt:8: the name is longer than 100 bytes");
  for (const Diagnostic& problem : d) {
    for (const char* token : {"0123456789abcdef-kim", "1111111111111111-kim", "short",
                              "2222222222222222-solo", "3333333333333333-first"}) {
      EXPECT_EQ(problem.to_string().find(token), std::string::npos) << problem.to_string();
    }
  }
  // Only the first line made it.
  EXPECT_EQ(officials.size(), 1u);
  EXPECT_EQ(officials.find_by_token("1111111111111111-kim"), nullptr);
}

TEST(OfficialsFile, AnUnreadableFileIsOneProblem) {
  Officials officials;
  const Diagnostics d = officials.add_from_file("/nonexistent/officials.txt");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(
      d[0].to_string(),
      "/nonexistent/officials.txt: cannot read the officials file: No such file or directory");
}

TEST(OfficialsFile, TheAdminTokenIsTheOfficialAdmin) {
  Officials officials = kim_and_lee();
  EXPECT_TRUE(
      officials.add_admin_token("admin-token-0123456789", "SPLITSTREAM_ADMIN_TOKEN").empty());
  ASSERT_NE(officials.find_by_token("admin-token-0123456789"), nullptr);
  EXPECT_EQ(*officials.find_by_token("admin-token-0123456789"),
            (Official{"admin", OfficialRole::official}));

  Officials same_token = kim_and_lee();
  Diagnostics d = same_token.add_admin_token(kLeeToken, "admin-token-file /run/admin");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].to_string(),
            "admin-token-file /run/admin: the admin token: the token of \"admin\" is also the "
            "token of \"Lee Mi-ra\" (officials.txt:2): give each official a token of their own");

  Officials named_admin;
  EXPECT_TRUE(named_admin.add_from_text("viewer 5555555555555555-adm admin\n", "o.txt").empty());
  d = named_admin.add_admin_token("admin-token-0123456789", "SPLITSTREAM_ADMIN_TOKEN");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].to_string(),
            "SPLITSTREAM_ADMIN_TOKEN: the admin token: official \"admin\" is already listed "
            "(o.txt:1): give each official a name of their own");
}

TEST(SessionValue, Base64UrlFollowsRfc4648) {
  // RFC 4648 section 10, without the padding; 0xfb 0xff shows the URL alphabet.
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(base64url_decode(""), "");
  // One spelling per value: no padding, no standard alphabet, no bits left over.
  EXPECT_EQ(base64url_decode("Zm9vYg=="), std::nullopt);
  EXPECT_EQ(base64url_decode("+/8"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9vY"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zh"), std::nullopt);  // "Zg" with a leftover bit set
}

TEST(SessionValue, HmacSha256FollowsRfc4231) {
  // RFC 4231 test case 2.
  const std::string mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const char c : mac) {
    hex += kHex[static_cast<unsigned char>(c) >> 4];
    hex += kHex[static_cast<unsigned char>(c) & 0xf];
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SessionValue, SignedWithTheOfficialsToken) {
  EXPECT_EQ(session_value(Official{"J. Kim", OfficialRole::official}, kExpires, kKimToken),
            kKimSession);
  const Officials officials = kim_and_lee();
  EXPECT_EQ(officials.sign_session("J. Kim", kExpires), kKimSession);
  EXPECT_EQ(officials.sign_session("Nobody", kExpires), std::nullopt);
}

TEST(SessionValue, VerifiesUntilItExpires) {
  const Officials officials = kim_and_lee();
  auto verified = officials.verify_session(kKimSession, kExpires - 1);
  ASSERT_TRUE(std::holds_alternative<OfficialSession>(verified));
  EXPECT_EQ(std::get<OfficialSession>(verified).official,
            (Official{"J. Kim", OfficialRole::official}));
  EXPECT_EQ(std::get<OfficialSession>(verified).expires_ms, kExpires);
  verified = officials.verify_session(kKimSession, kExpires);
  ASSERT_TRUE(std::holds_alternative<SessionProblem>(verified));
  EXPECT_EQ(std::get<SessionProblem>(verified), SessionProblem::expired);
}

TEST(SessionValue, AnyChangedCharacterIsRefused) {
  const Officials officials = kim_and_lee();
  for (std::size_t i = 0; i < kKimSession.size(); ++i) {
    std::string tampered = kKimSession;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    const auto verified = officials.verify_session(tampered, kExpires - 1);
    ASSERT_TRUE(std::holds_alternative<SessionProblem>(verified)) << tampered;
    EXPECT_EQ(std::get<SessionProblem>(verified), SessionProblem::invalid) << tampered;
  }
  // The last character of the signature holds two unused bits: "E" and "F" differ only there.
  std::string unused_bit = kKimSession;
  unused_bit.back() = 'F';
  EXPECT_TRUE(std::holds_alternative<SessionProblem>(officials.verify_session(unused_bit, 0)));
  // A later expiry with the old signature, cut or extended values, another version.
  for (const std::string& value :
       {std::string(
            "v1.Si4gS2lt.official.1743900070000.S36NUt4PAXczAkYG8KlGk7UEi_oH_aZoWRfXU1ZOBUE"),
        kKimSession.substr(0, kKimSession.size() - 1), kKimSession + ".x",
        "v2" + kKimSession.substr(2), std::string(""), std::string("v1....")}) {
    const auto verified = officials.verify_session(value, 0);
    ASSERT_TRUE(std::holds_alternative<SessionProblem>(verified)) << value;
    EXPECT_EQ(std::get<SessionProblem>(verified), SessionProblem::invalid) << value;
  }
}

TEST(SessionValue, AChangedTokenOrRoleOrAnUnknownNameEndsIt) {
  Officials new_token;
  ASSERT_TRUE(new_token.add_from_text("official 9999999999999999-kim J. Kim\n", "o.txt").empty());
  Officials now_viewer;
  ASSERT_TRUE(now_viewer.add_from_text("viewer " + kKimToken + " J. Kim\n", "o.txt").empty());
  Officials someone_else;
  ASSERT_TRUE(someone_else.add_from_text("official " + kKimToken + " Kim Jong\n", "o.txt").empty());
  for (const Officials* officials : {&new_token, &now_viewer, &someone_else}) {
    const auto verified = officials->verify_session(kKimSession, kExpires - 1);
    ASSERT_TRUE(std::holds_alternative<SessionProblem>(verified));
    EXPECT_EQ(std::get<SessionProblem>(verified), SessionProblem::invalid);
  }
  // A value claiming a role its official does not have, signed with the right token.
  const Officials officials = kim_and_lee();
  const std::string promoted =
      session_value(Official{"Lee Mi-ra", OfficialRole::official}, kExpires, kLeeToken);
  EXPECT_TRUE(std::holds_alternative<SessionProblem>(officials.verify_session(promoted, 0)));
}

TEST(Credentials, BearerAndCookiesAreFoundInTheirHeaders) {
  HttpRequest r = request(http::verb::get);
  EXPECT_EQ(bearer_token(r), "");
  r.set(http::field::authorization, "Bearer " + kKimToken);
  EXPECT_EQ(bearer_token(r), kKimToken);
  r.set(http::field::authorization, "bearer " + kKimToken);
  EXPECT_EQ(bearer_token(r), kKimToken);
  r.set(http::field::authorization, "Basic " + kKimToken);
  EXPECT_EQ(bearer_token(r), "");

  EXPECT_EQ(find_cookie(r, kSessionCookieName), std::nullopt);
  r.set(http::field::cookie, "theme=dark; xsplitstream_session=no; splitstream_session=v1.a; b=c");
  EXPECT_EQ(find_cookie(r, kSessionCookieName), "v1.a");
  // HTTP/2 proxies may split cookies over several headers.
  HttpRequest split = request(http::verb::get);
  split.insert(http::field::cookie, "theme=dark");
  split.insert(http::field::cookie, "lang=ko;splitstream_session=v1.b");
  EXPECT_EQ(find_cookie(split, kSessionCookieName), "v1.b");
  EXPECT_EQ(find_cookie(split, "lang"), "ko");
  EXPECT_EQ(find_cookie(split, "splitstream"), std::nullopt);
}

TEST(AuthorizeOfficial, ABearerTokenNeedsNoCsrfHeader) {
  const Officials officials = kim_and_lee();
  HttpRequest r = request(http::verb::post);
  r.set(http::field::authorization, "Bearer " + kKimToken);
  EXPECT_EQ(official_name(authorize_official(r, officials, OfficialRole::official, 0)), "J. Kim");
  r.set(http::field::authorization, "Bearer " + kKimToken + "x");
  const auto wrong = authorize_official(r, officials, OfficialRole::viewer, 0);
  EXPECT_EQ(error_code_of(wrong), "unauthorized");
  EXPECT_EQ(std::get<HttpResponse>(wrong).result(), http::status::unauthorized);
  EXPECT_EQ(std::get<HttpResponse>(wrong)[http::field::www_authenticate],
            "Bearer realm=\"splitstream\"");
  EXPECT_NE(std::get<HttpResponse>(wrong).body().find("sign in: no official has this token"),
            std::string::npos);
  // A wrong token is not saved by a good cookie.
  r.set(http::field::cookie, std::string(kSessionCookieName) + "=" + kKimSession);
  EXPECT_EQ(error_code_of(authorize_official(r, officials, OfficialRole::viewer, 0)),
            "unauthorized");
}

TEST(AuthorizeOfficial, NoCredentialsOrNoOfficialsAtAll) {
  const Officials officials = kim_and_lee();
  const auto none =
      authorize_official(request(http::verb::get), officials, OfficialRole::viewer, 0);
  EXPECT_EQ(error_code_of(none), "unauthorized");
  EXPECT_NE(std::get<HttpResponse>(none).body().find(
                "sign in: send Authorization: Bearer TOKEN, or sign in with POST /api/v1/session"),
            std::string::npos);
  HttpRequest r = request(http::verb::get);
  r.set(http::field::authorization, "Bearer " + kKimToken);
  const auto off = authorize_official(r, Officials{}, OfficialRole::viewer, 0);
  EXPECT_EQ(error_code_of(off), "admin_disabled");
  EXPECT_EQ(std::get<HttpResponse>(off).result(), http::status::forbidden);
}

TEST(AuthorizeOfficial, ACookieAmongOthersAndTheCsrfHeaderOnUnsafeMethods) {
  const Officials officials = kim_and_lee();
  const std::string cookies = "theme=dark; splitstream_session=" + kKimSession + "; lang=ko";
  // Reading needs no header.
  EXPECT_EQ(official_name(authorize_official(with_cookie(http::verb::get, cookies), officials,
                                             OfficialRole::viewer, kExpires - 1)),
            "J. Kim");
  for (const http::verb unsafe : {http::verb::post, http::verb::put, http::verb::delete_}) {
    HttpRequest r = with_cookie(unsafe, cookies);
    const auto refused = authorize_official(r, officials, OfficialRole::official, kExpires - 1);
    EXPECT_EQ(error_code_of(refused), "csrf");
    EXPECT_EQ(std::get<HttpResponse>(refused).result(), http::status::forbidden);
    r.set(kConsoleHeaderName, "0");
    EXPECT_EQ(error_code_of(authorize_official(r, officials, OfficialRole::official, 0)), "csrf");
    r.set(kConsoleHeaderName, "1");
    EXPECT_EQ(official_name(authorize_official(r, officials, OfficialRole::official, 0)), "J. Kim");
  }
  HttpRequest post = with_cookie(http::verb::post, cookies);
  EXPECT_NE(std::get<HttpResponse>(authorize_official(post, officials, OfficialRole::official, 0))
                .body()
                .find("a POST signed in with the session cookie must carry the header "
                      "X-Splitstream-Console: 1"),
            std::string::npos);
}

TEST(AuthorizeOfficial, TheConsoleFeedsNeedASessionFromTheSameOrigin) {
  const Officials officials = kim_and_lee();
  HttpRequest upgrade = with_cookie(http::verb::get, "splitstream_session=" + kKimSession);
  upgrade.set(http::field::host, "timing.example:8080");
  EXPECT_TRUE(console_feeds_allowed(upgrade, officials, kExpires - 1));
  upgrade.set(http::field::origin, "https://timing.example:8080");
  EXPECT_TRUE(console_feeds_allowed(upgrade, officials, kExpires - 1));
  EXPECT_FALSE(console_feeds_allowed(upgrade, officials, kExpires));  // expired
  upgrade.set(http::field::origin, "https://evil.example");
  EXPECT_FALSE(console_feeds_allowed(upgrade, officials, kExpires - 1));
  HttpRequest spectator = request(http::verb::get, "/ws");
  spectator.set(http::field::host, "timing.example:8080");
  EXPECT_FALSE(console_feeds_allowed(spectator, officials, kExpires - 1));
}

TEST(AuthorizeOfficial, ExpiredAndAlteredSessions) {
  const Officials officials = kim_and_lee();
  const std::string cookie = "splitstream_session=" + kKimSession;
  const auto expired = authorize_official(with_cookie(http::verb::get, cookie), officials,
                                          OfficialRole::viewer, kExpires);
  EXPECT_EQ(error_code_of(expired), "session_expired");
  EXPECT_EQ(std::get<HttpResponse>(expired).result(), http::status::unauthorized);
  std::string altered = cookie;
  altered[altered.size() - 5] = altered[altered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(error_code_of(authorize_official(with_cookie(http::verb::get, altered), officials,
                                             OfficialRole::viewer, 0)),
            "unauthorized");
}

TEST(AuthorizeOfficial, AViewerMayReadButNotCorrect) {
  const Officials officials = kim_and_lee();
  const std::string lee = *officials.sign_session("Lee Mi-ra", kExpires);
  HttpRequest get = with_cookie(http::verb::get, "splitstream_session=" + lee);
  const auto read = authorize_official(get, officials, OfficialRole::viewer, 0);
  ASSERT_TRUE(std::holds_alternative<Official>(read));
  EXPECT_EQ(std::get<Official>(read), (Official{"Lee Mi-ra", OfficialRole::viewer}));

  HttpRequest post = with_cookie(http::verb::post, "splitstream_session=" + lee);
  post.set(kConsoleHeaderName, "1");
  const auto refused =
      authorize_official(post, officials, OfficialRole::official, 0, "making a correction");
  EXPECT_EQ(error_code_of(refused), "forbidden");
  EXPECT_EQ(std::get<HttpResponse>(refused).result(), http::status::forbidden);
  EXPECT_NE(std::get<HttpResponse>(refused).body().find(
                "Lee Mi-ra is a viewer; making a correction needs the official role"),
            std::string::npos);
  // Without an action, the method and path (not the query).
  post.target("/api/v1/console/undo?x=1");
  EXPECT_NE(std::get<HttpResponse>(authorize_official(post, officials, OfficialRole::official, 0))
                .body()
                .find("Lee Mi-ra is a viewer; POST /api/v1/console/undo needs the official role"),
            std::string::npos);
  // The same viewer with a Bearer token.
  HttpRequest bearer = request(http::verb::post);
  bearer.set(http::field::authorization, "Bearer " + kLeeToken);
  EXPECT_EQ(error_code_of(authorize_official(bearer, officials, OfficialRole::official, 0)),
            "forbidden");
}

SessionOptions twelve_hours(bool secure = false) {
  return SessionOptions{std::chrono::hours(12), secure};
}

HttpRequest sign_in(const std::string& body) {
  HttpRequest r = request(http::verb::post, "/api/v1/session");
  r.body() = body;
  r.prepare_payload();
  return r;
}

TEST(SessionEndpoint, SignInSetsTheCookie) {
  const Officials officials = kim_and_lee();
  // Twelve hours before kExpires.
  constexpr TimeMs kNow = kExpires - 12 * 3600 * 1000;
  HttpResponse res = handle_session(sign_in(R"({"token":")" + kKimToken + R"("})"), officials,
                                    twelve_hours(), kNow);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"name":"J. Kim","role":"official","expires_ms":1743900060000})");
  EXPECT_EQ(res[http::field::set_cookie], "splitstream_session=" + kKimSession +
                                              "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  res = handle_session(sign_in(R"({"token":")" + kKimToken + R"("})"), officials,
                       twelve_hours(true), kNow);
  EXPECT_EQ(res[http::field::set_cookie],
            "splitstream_session=" + kKimSession +
                "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure");
}

TEST(SessionEndpoint, SignInRefusals) {
  const Officials officials = kim_and_lee();
  HttpResponse res =
      handle_session(sign_in(R"({"token":"not-a-token-of-anyone"})"), officials, twelve_hours(), 0);
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_EQ(res.body(),
            R"({"error":{"code":"unauthorized","message":"sign in: no official has this token"}})");
  EXPECT_EQ(res[http::field::set_cookie], "");
  const std::pair<std::string, std::string> bad[] = {
      {"{", "the body is not JSON: incomplete JSON"},
      {R"(["x"])", R"(the body must be a JSON object: {\"token\":\"...\"})"},
      {R"({})", R"(token is required: {\"token\":\"...\"})"},
      {R"({"token":5})", R"(token is required: {\"token\":\"...\"})"},
      {R"({"token":"x","name":"J. Kim"})", R"(field \"name\" is not part of a sign-in)"},
  };
  for (const auto& [body, message] : bad) {
    res = handle_session(sign_in(body), officials, twelve_hours(), 0);
    EXPECT_EQ(res.result(), http::status::bad_request) << body;
    EXPECT_EQ(res.body(), R"({"error":{"code":"bad_request","message":")" + message + "\"}}")
        << body;
  }
  res = handle_session(sign_in(R"({"token":")" + kKimToken + R"("})"), Officials{}, twelve_hours(),
                       0);
  EXPECT_EQ(res.result(), http::status::forbidden);
  EXPECT_NE(res.body().find("admin_disabled"), std::string::npos);
}

TEST(SessionEndpoint, WhoIsSignedInAndSigningOut) {
  const Officials officials = kim_and_lee();
  HttpResponse res =
      handle_session(with_cookie(http::verb::get, "lang=ko; splitstream_session=" + kKimSession),
                     officials, twelve_hours(), kExpires - 1);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"name":"J. Kim","role":"official","expires_ms":1743900060000})");
  res = handle_session(with_cookie(http::verb::get, "splitstream_session=" + kKimSession),
                       officials, twelve_hours(), kExpires);
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_NE(res.body().find("session_expired"), std::string::npos);
  res = handle_session(request(http::verb::get, "/api/v1/session"), officials, twelve_hours(), 0);
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_NE(res.body().find("not signed in"), std::string::npos);

  res = handle_session(with_cookie(http::verb::delete_, "splitstream_session=" + kKimSession),
                       officials, twelve_hours(true), 0);
  EXPECT_EQ(res.result(), http::status::no_content);
  EXPECT_EQ(res[http::field::set_cookie],
            "splitstream_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure");
  res = handle_session(request(http::verb::put, "/api/v1/session"), officials, twelve_hours(), 0);
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD, POST, DELETE");
}

HttpResponse run(const Router::AsyncHandler& handler, HttpRequest r) {
  boost::asio::io_context ioc;
  auto answer = boost::asio::co_spawn(ioc, handler(std::move(r)), boost::asio::use_future);
  ioc.run();
  return answer.get();
}

boost::asio::awaitable<HttpResponse> console_answer(HttpRequest r, int* calls) {
  ++*calls;
  co_return json_response(r, http::status::ok, "{}");
}

TEST(OfficialsOnly, GuardsAHandler) {
  int calls = 0;
  const auto inner = [&calls](HttpRequest r) { return console_answer(std::move(r), &calls); };
  const auto officials = std::make_shared<const Officials>(kim_and_lee());
  const Router::AsyncHandler guarded = officials_only(officials, OfficialRole::viewer, inner);
  EXPECT_EQ(run(guarded, request(http::verb::get, "/api/v1/console/overview")).result(),
            http::status::unauthorized);
  EXPECT_EQ(calls, 0);
  HttpRequest viewer = request(http::verb::get, "/api/v1/console/overview");
  viewer.set(http::field::authorization, "Bearer " + kLeeToken);
  EXPECT_EQ(run(guarded, viewer).result(), http::status::ok);
  EXPECT_EQ(calls, 1);
  // No officials object at all: nobody may.
  const Router::AsyncHandler closed = officials_only(nullptr, OfficialRole::viewer, inner);
  EXPECT_EQ(run(closed, viewer).result(), http::status::forbidden);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace splitstream
