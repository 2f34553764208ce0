// Who may use the race-day console and the corrections: officials, each with a token, a role and
// a name, from --officials-file (and the admin token as the official `admin`). Scripts send the
// token as `Authorization: Bearer`; a browser signs in once with it and then carries a session
// cookie: a stateless value signed with HMAC-SHA256 keyed by the official's token, so every node
// with the same officials file accepts it, and a changed token or role ends the official's
// sessions. No I/O here but Officials::add_from_file; time comes in as `now`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/time.hpp"
#include "http/http_message.hpp"
#include "model/diagnostics.hpp"

namespace splitstream {

// Ordered: a higher role may do everything a lower one may.
enum class OfficialRole : std::uint8_t {
  viewer,    // reads the console and the corrections log
  official,  // also makes corrections
};

std::string_view to_string(OfficialRole role);
std::optional<OfficialRole> parse_official_role(std::string_view text);

struct Official {
  std::string name;
  OfficialRole role = OfficialRole::viewer;
  bool operator==(const Official&) const = default;
};

// A session value that verified: whose, and until when.
struct OfficialSession {
  Official official;
  TimeMs expires_ms = 0;
};

enum class SessionProblem : std::uint8_t {
  // Not a session value, altered, an unknown name, or the official's token or role changed since
  // it was signed.
  invalid,
  expired,  // genuine, but its time is up
};

inline constexpr std::string_view kSessionCookieName = "splitstream_session";
// The header a cookie-authenticated POST/PUT/DELETE must carry with the value "1": a form or an
// image on another site cannot send a custom header, so this stops cross-site requests.
inline constexpr std::string_view kConsoleHeaderName = "X-Splitstream-Console";
inline constexpr std::size_t kMinOfficialTokenLength = 16;
inline constexpr std::size_t kMaxOfficialNameLength = 100;
inline constexpr std::string_view kAdminOfficialName = "admin";

class Officials {
 public:
  // The lines of an officials file, `<role> <token> <name...>` (the name is the rest of the line
  // and may hold spaces; `#` comment lines and blank lines are skipped). `source` names the file
  // in the diagnostics, each with its line; lines with errors are skipped. No diagnostic holds a
  // token.
  Diagnostics add_from_text(std::string_view text, std::string_view source);
  // Reads the file and adds its lines; an unreadable file is one diagnostic.
  Diagnostics add_from_file(const std::string& path);
  // The admin token (--admin-token-file, SPLITSTREAM_ADMIN_TOKEN) as the official `admin` with
  // the role `official`. `source` names where it came from.
  Diagnostics add_admin_token(std::string_view token, std::string_view source);

  // The official whose token this is, or null. Compares with every official's token in
  // constant time, so the time taken says nothing about which token nearly matched.
  const Official* find_by_token(std::string_view token) const;
  const Official* find_by_name(std::string_view name) const;
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::size_t count(OfficialRole role) const;

  // The session value of an official on the list (nullopt for a name not on it), valid until
  // `expires_ms`.
  std::optional<std::string> sign_session(std::string_view name, TimeMs expires_ms) const;
  // The session a value stands for, if its signature holds with its official's current token
  // and role and it has not expired at `now`.
  std::variant<OfficialSession, SessionProblem> verify_session(std::string_view value,
                                                               TimeMs now) const;

 private:
  struct Entry {
    Official official;
    std::string token;
    std::string origin;  // "officials.txt:3" or "SPLITSTREAM_ADMIN_TOKEN"
  };
  // Adds one official, or returns why not.
  std::optional<std::string> add(Official official, std::string_view token, std::string origin);
  const Entry* entry_by_name(std::string_view name) const;

  std::vector<Entry> entries_;
};

// Base64 with the URL alphabet (- and _) and no padding (RFC 4648 section 5).
std::string base64url_encode(std::string_view bytes);
// Nullopt for text that base64url_encode could not have produced (other characters, a length
// of 1 mod 4, nonzero unused bits), so that each value has exactly one spelling.
std::optional<std::string> base64url_decode(std::string_view text);

// The 32 bytes of HMAC-SHA256(key, message).
std::string hmac_sha256(std::string_view key, std::string_view message);

// `v1.<base64url(name)>.<role>.<expires_ms>.<base64url(HMAC-SHA256(token,
// "v1|<name>|<role>|<expires_ms>"))>`: the session value of an official with this token.
std::string session_value(const Official& official, TimeMs expires_ms, std::string_view token);

// The token of `Authorization: Bearer <token>` (any case of "Bearer"); empty when there is none.
std::string_view bearer_token(const HttpRequest& request);
// The value of the first cookie named `name` in the request's Cookie headers.
std::optional<std::string_view> find_cookie(const HttpRequest& request, std::string_view name);

// The refusals authorize_official and the session endpoint share: 403 admin_disabled (no
// officials at all), 401 unauthorized for a token no official has, 401 session_expired or
// unauthorized for a session value that did not verify. The 401s carry WWW-Authenticate: Bearer.
HttpResponse officials_disabled(const HttpRequest& request);
HttpResponse unknown_token(const HttpRequest& request);
HttpResponse session_refused(const HttpRequest& request, SessionProblem problem);

// Who is asking, if they may: a Bearer token, or the session cookie (then a POST, PUT, DELETE or
// PATCH must also carry `X-Splitstream-Console: 1`), of an official whose role is at least
// `least`. Else the response to send: 403 admin_disabled (no officials at all), 401 unauthorized
// (no or wrong credentials), 401 session_expired, 403 csrf, 403 forbidden (a viewer where
// `least` is official; `action` names what needs the role, as in "<name> is a viewer; <action>
// needs the official role", the method and path when empty).
std::variant<Official, HttpResponse> authorize_official(const HttpRequest& request,
                                                        const Officials& officials,
                                                        OfficialRole least, TimeMs now,
                                                        std::string_view action = {});

// Whether a WebSocket upgrade may have the console feeds: a valid session cookie or Bearer token
// of any official, and, when the browser names an Origin, the same host as the request's Host
// (a page of another site cannot open the feeds with the crew's cookie).
bool console_feeds_allowed(const HttpRequest& request, const Officials& officials, TimeMs now);

}  // namespace splitstream
