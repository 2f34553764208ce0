// /api/v1/session, without I/O: an official signs in with their token and gets the session
// cookie (api/officials), asks who is signed in, signs out.
//
//   POST   {"token":"..."} -> 200 {"name","role","expires_ms"} + Set-Cookie; 401 wrong token
//   GET    -> 200 the same for the request's session cookie; 401 without a valid one
//   DELETE -> 204 and a cookie that expires at once
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "api/officials.hpp"
#include "core/time.hpp"
#include "http/http_message.hpp"

namespace splitstream {

inline constexpr std::string_view kSessionPath = "/api/v1/session";

struct SessionOptions {
  std::chrono::seconds ttl{12 * 3600};  // --session-ttl
  bool secure_cookie = false;           // the HTTP listener speaks TLS
};

// `splitstream_session=<value>; Path=/; HttpOnly; SameSite=Strict; Max-Age=<max_age>` (and
// `; Secure`).
std::string session_cookie(std::string_view value, std::chrono::seconds max_age, bool secure);

HttpResponse handle_session(const HttpRequest& request, const Officials& officials,
                            const SessionOptions& options, TimeMs now);

}  // namespace splitstream
