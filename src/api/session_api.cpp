#include "api/session_api.hpp"

#include <boost/json.hpp>

namespace splitstream {
namespace {

namespace json = boost::json;

HttpResponse session_response(const HttpRequest& request, const Official& official,
                              TimeMs expires_ms) {
  const json::object body{
      {"name", official.name}, {"role", to_string(official.role)}, {"expires_ms", expires_ms}};
  return json_response(request, http::status::ok, json::serialize(body));
}

// The token of a sign-in body, or the response refusing the body.
std::variant<std::string, HttpResponse> token_of(const HttpRequest& request) {
  const auto bad = [&](std::string_view message) {
    return error_response(request, http::status::bad_request, "bad_request", message);
  };
  boost::system::error_code ec;
  const json::value doc = json::parse(request.body(), ec);
  if (ec) return bad("the body is not JSON: " + ec.message());
  if (!doc.is_object()) return bad("the body must be a JSON object: {\"token\":\"...\"}");
  for (const auto& [key, value] : doc.as_object()) {
    if (key != "token") return bad("field \"" + std::string(key) + "\" is not part of a sign-in");
  }
  const json::value* token = doc.as_object().if_contains("token");
  if (!token || !token->is_string() || token->as_string().empty())
    return bad("token is required: {\"token\":\"...\"}");
  return std::string(token->as_string());
}

}  // namespace

std::string session_cookie(std::string_view value, std::chrono::seconds max_age, bool secure) {
  std::string cookie(kSessionCookieName);
  cookie += '=';
  cookie += value;
  cookie += "; Path=/; HttpOnly; SameSite=Strict; Max-Age=";
  cookie += std::to_string(max_age.count());
  if (secure) cookie += "; Secure";
  return cookie;
}

HttpResponse handle_session(const HttpRequest& request, const Officials& officials,
                            const SessionOptions& options, TimeMs now) {
  const http::verb method = request.method();
  if (method == http::verb::delete_) {
    // The session value stays valid until it expires (nothing is kept on the server): signing
    // out tells the browser to forget it.
    HttpResponse res{http::status::no_content, request.version()};
    res.set(http::field::server, "splitstream");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::set_cookie,
            session_cookie("", std::chrono::seconds(0), options.secure_cookie));
    res.keep_alive(request.keep_alive());
    res.prepare_payload();
    return res;
  }
  if (method != http::verb::get && method != http::verb::head && method != http::verb::post) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                              "POST {\"token\":\"...\"} signs in, GET says who is signed in, "
                              "DELETE signs out");
    res.set(http::field::allow, "GET, HEAD, POST, DELETE");
    return res;
  }
  if (officials.empty()) return officials_disabled(request);
  if (method == http::verb::post) {
    auto token = token_of(request);
    if (auto* refused = std::get_if<HttpResponse>(&token)) return std::move(*refused);
    const Official* official = officials.find_by_token(std::get<std::string>(token));
    if (!official) return unknown_token(request);
    const TimeMs expires_ms =
        now + std::chrono::duration_cast<std::chrono::milliseconds>(options.ttl).count();
    const auto value = officials.sign_session(official->name, expires_ms);
    auto res = session_response(request, *official, expires_ms);
    res.set(http::field::set_cookie, session_cookie(*value, options.ttl, options.secure_cookie));
    return res;
  }
  const auto cookie = find_cookie(request, kSessionCookieName);
  if (!cookie) {
    auto res = error_response(request, http::status::unauthorized, "unauthorized",
                              "not signed in: sign in with POST /api/v1/session "
                              "{\"token\":\"...\"}");
    res.set(http::field::www_authenticate, "Bearer realm=\"splitstream\"");
    return res;
  }
  const auto verified = officials.verify_session(*cookie, now);
  if (const auto* problem = std::get_if<SessionProblem>(&verified))
    return session_refused(request, *problem);
  const OfficialSession& session = std::get<OfficialSession>(verified);
  return session_response(request, session.official, session.expires_ms);
}

}  // namespace splitstream
