#include "api/officials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/text.hpp"

namespace splitstream {
namespace {

constexpr std::string_view kSessionVersion = "v1";
constexpr std::size_t kMacBytes = 32;
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// The first whitespace-delimited field of `text`, and `text` advanced past it and the spaces
// after it.
std::string_view take_field(std::string_view& text) {
  std::size_t end = 0;
  while (end < text.size() && !is_space(text[end]))
    ++end;
  const std::string_view field = text.substr(0, end);
  while (end < text.size() && is_space(text[end]))
    ++end;
  text.remove_prefix(end);
  return field;
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

int base64url_value(char c) {
  const auto at = kBase64UrlAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

std::string signed_text(const Official& official, std::string_view expires) {
  std::string text(kSessionVersion);
  text += '|';
  text += official.name;
  text += '|';
  text += to_string(official.role);
  text += '|';
  text += expires;
  return text;
}

bool is_unsafe(http::verb method) {
  return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

HttpResponse sign_in_needed(const HttpRequest& request, std::string_view code,
                            std::string_view message) {
  auto res = error_response(request, http::status::unauthorized, code, message);
  res.set(http::field::www_authenticate, "Bearer realm=\"splitstream\"");
  return res;
}

}  // namespace

std::string_view to_string(OfficialRole role) {
  switch (role) {
    case OfficialRole::viewer:
      return "viewer";
    case OfficialRole::official:
      return "official";
  }
  return "viewer";
}

std::optional<OfficialRole> parse_official_role(std::string_view text) {
  if (text == "viewer") return OfficialRole::viewer;
  if (text == "official") return OfficialRole::official;
  return std::nullopt;
}

std::optional<std::string> Officials::add(Official official, std::string_view token,
                                          std::string origin) {
  if (token.size() < kMinOfficialTokenLength) {
    return "the token of " + quoted(official.name) + " is " + std::to_string(token.size()) +
           " characters long: use at least " + std::to_string(kMinOfficialTokenLength) +
           " (e.g. openssl rand -hex 24)";
  }
  if (const Entry* same = entry_by_name(official.name)) {
    return "official " + quoted(official.name) + " is already listed (" + same->origin +
           "): give each official a name of their own";
  }
  for (const Entry& e : entries_) {
    if (e.token == token) {
      return "the token of " + quoted(official.name) + " is also the token of " +
             quoted(e.official.name) + " (" + e.origin +
             "): give each official a token of their own";
    }
  }
  entries_.push_back(Entry{std::move(official), std::string(token), std::move(origin)});
  return std::nullopt;
}

Diagnostics Officials::add_from_text(std::string_view text, std::string_view source) {
  Diagnostics diagnostics;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    while (!line.empty() && is_space(line.front()))
      line.remove_prefix(1);
    while (!line.empty() && is_space(line.back()))
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto report = [&](std::string message) {
      diagnostics.push_back({std::string(source), line_number, "", std::move(message)});
    };
    const std::string_view role_text = take_field(line);
    const std::string_view token = take_field(line);
    const std::string_view name = line;  // the rest, its inner spaces kept
    if (name.empty()) {
      // Do not echo the fields: one of them may be a token.
      report("expected `<role> <token> <name>` (role viewer or official)");
      continue;
    }
    const auto role = parse_official_role(role_text);
    if (!role) {
      // A long first field is likely a token written first: keep it out of the log.
      report(role_text.size() < kMinOfficialTokenLength
                 ? "unknown role " + quoted(role_text) + ": viewer or official"
                 : "the line should start with the role, viewer or official");
      continue;
    }
    if (name.size() > kMaxOfficialNameLength) {
      report("the name is longer than " + std::to_string(kMaxOfficialNameLength) + " bytes");
      continue;
    }
    auto error = add(Official{std::string(name), *role}, token,
                     std::string(source) + ":" + std::to_string(line_number));
    if (error) report(std::move(*error));
  }
  return diagnostics;
}

Diagnostics Officials::add_from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return {{path, 0, "",
             "cannot read the officials file: " +
                 std::string(error != 0 ? std::strerror(error) : "open failed")}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return add_from_text(text.str(), path);
}

Diagnostics Officials::add_admin_token(std::string_view token, std::string_view source) {
  auto error = add(Official{std::string(kAdminOfficialName), OfficialRole::official}, token,
                   std::string(source));
  if (!error) return {};
  return {{std::string(source), 0, "", "the admin token: " + *error}};
}

const Official* Officials::find_by_token(std::string_view token) const {
  const Official* found = nullptr;
  // Every token is compared, without stopping at a match.
  for (const Entry& e : entries_) {
    if (constant_time_equals(e.token, token)) found = &e.official;
  }
  return found;
}

const Officials::Entry* Officials::entry_by_name(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.official.name == name) return &e;
  }
  return nullptr;
}

const Official* Officials::find_by_name(std::string_view name) const {
  const Entry* e = entry_by_name(name);
  return e ? &e->official : nullptr;
}

std::size_t Officials::count(OfficialRole role) const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(),
                    [role](const Entry& e) { return e.official.role == role; }));
}

std::optional<std::string> Officials::sign_session(std::string_view name, TimeMs expires_ms) const {
  const Entry* e = entry_by_name(name);
  if (!e) return std::nullopt;
  return session_value(e->official, expires_ms, e->token);
}

std::variant<OfficialSession, SessionProblem> Officials::verify_session(std::string_view value,
                                                                        TimeMs now) const {
  std::array<std::string_view, 5> parts;
  std::size_t n = 0;
  for (std::string_view rest = value;; ++n) {
    if (n == parts.size()) return SessionProblem::invalid;  // more than five parts
    const auto dot = rest.find('.');
    parts[n] = rest.substr(0, dot);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (n != parts.size() - 1 || parts[0] != kSessionVersion) return SessionProblem::invalid;
  const auto name = base64url_decode(parts[1]);
  const auto role = parse_official_role(parts[2]);
  const std::string_view expires_text = parts[3];
  TimeMs expires_ms = 0;
  const auto [end, ec] =
      std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires_ms);
  const auto mac = base64url_decode(parts[4]);
  if (!name || !role || ec != std::errc() || end != expires_text.data() + expires_text.size() ||
      expires_text.empty() || expires_text.front() == '-' || !mac || mac->size() != kMacBytes) {
    return SessionProblem::invalid;
  }
  const Entry* e = entry_by_name(*name);
  if (!e || e->official.role != *role) return SessionProblem::invalid;
  // Signed over the expiry as written, so that any change to the value breaks the signature.
  const std::string expected = hmac_sha256(e->token, signed_text(e->official, expires_text));
  if (!constant_time_equals(expected, *mac)) return SessionProblem::invalid;
  if (expires_ms <= now) return SessionProblem::expired;
  return OfficialSession{e->official, expires_ms};
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64UrlAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kBase64UrlAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  // The bits left over are padding: encode leaves them zero.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &size);
  return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

std::string session_value(const Official& official, TimeMs expires_ms, std::string_view token) {
  const std::string expires = std::to_string(expires_ms);
  std::string value(kSessionVersion);
  value += '.';
  value += base64url_encode(official.name);
  value += '.';
  value += to_string(official.role);
  value += '.';
  value += expires;
  value += '.';
  value += base64url_encode(hmac_sha256(token, signed_text(official, expires)));
  return value;
}

std::string_view bearer_token(const HttpRequest& request) {
  const std::string_view header = trim(request[http::field::authorization]);
  if (header.size() <= 7) return {};
  std::string scheme(header.substr(0, 7));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  if (scheme != "bearer ") return {};
  return trim(header.substr(7));
}

std::optional<std::string_view> find_cookie(const HttpRequest& request, std::string_view name) {
  for (auto [it, end] = request.equal_range(http::field::cookie); it != end; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      const auto semicolon = rest.find(';');
      const std::string_view pair = trim(rest.substr(0, semicolon));
      rest.remove_prefix(semicolon == std::string_view::npos ? rest.size() : semicolon + 1);
      const auto equals = pair.find('=');
      if (equals == std::string_view::npos) continue;
      if (trim(pair.substr(0, equals)) == name) return trim(pair.substr(equals + 1));
    }
  }
  return std::nullopt;
}

HttpResponse officials_disabled(const HttpRequest& request) {
  return error_response(request, http::status::forbidden, "admin_disabled",
                        "the console and the admin endpoints are off on this server: start it "
                        "with --officials-file, --admin-token-file or SPLITSTREAM_ADMIN_TOKEN");
}

HttpResponse unknown_token(const HttpRequest& request) {
  return sign_in_needed(request, "unauthorized", "sign in: no official has this token");
}

HttpResponse session_refused(const HttpRequest& request, SessionProblem problem) {
  if (problem == SessionProblem::expired)
    return sign_in_needed(request, "session_expired", "sign in again: the session has expired");
  return sign_in_needed(request, "unauthorized",
                        "sign in: the session is not valid (altered, or its official's token or "
                        "role has changed)");
}

std::variant<Official, HttpResponse> authorize_official(const HttpRequest& request,
                                                        const Officials& officials,
                                                        OfficialRole least, TimeMs now,
                                                        std::string_view action) {
  if (officials.empty()) return officials_disabled(request);
  Official who;
  if (const std::string_view token = bearer_token(request); !token.empty()) {
    // A header no other site can make a browser send: no CSRF check.
    const Official* found = officials.find_by_token(token);
    if (!found) return unknown_token(request);
    who = *found;
  } else if (const auto cookie = find_cookie(request, kSessionCookieName)) {
    auto verified = officials.verify_session(*cookie, now);
    if (const auto* problem = std::get_if<SessionProblem>(&verified))
      return session_refused(request, *problem);
    if (is_unsafe(request.method()) && trim(request[kConsoleHeaderName]) != "1") {
      return error_response(request, http::status::forbidden, "csrf",
                            "a " + std::string(request.method_string()) +
                                " signed in with the session cookie must carry the header " +
                                std::string(kConsoleHeaderName) +
                                ": 1 (the console sends it; a page on another site cannot)");
    }
    who = std::get<OfficialSession>(verified).official;
  } else {
    return sign_in_needed(request, "unauthorized",
                          "sign in: send Authorization: Bearer TOKEN, or sign in with POST "
                          "/api/v1/session");
  }
  if (who.role < least) {
    std::string what(action);
    if (what.empty()) {
      const std::string_view target = request.target();
      what = std::string(request.method_string()) + " " +
             std::string(target.substr(0, target.find('?')));
    }
    return error_response(request, http::status::forbidden, "forbidden",
                          who.name + " is a " + std::string(to_string(who.role)) + "; " + what +
                              " needs the " + std::string(to_string(least)) + " role");
  }
  return who;
}

bool console_feeds_allowed(const HttpRequest& request, const Officials& officials, TimeMs now) {
  const std::string_view origin = request[http::field::origin];
  if (!origin.empty()) {
    const std::size_t scheme = origin.find("://");
    const std::string_view origin_host =
        scheme == std::string_view::npos ? origin : origin.substr(scheme + 3);
    if (origin_host != request[http::field::host]) return false;
  }
  return std::holds_alternative<Official>(
      authorize_official(request, officials, OfficialRole::viewer, now));
}

}  // namespace splitstream
