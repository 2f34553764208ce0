#include "store/redis_url.hpp"

#include <algorithm>
#include <charconv>

namespace splitstream {
namespace {

constexpr std::string_view kShape = "redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://...";

bool is_scheme(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (const char c : s) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes decoded; false on a `%` not followed by two hex digits.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int high = hex_value(in[i + 1]);
    const int low = hex_value(in[i + 2]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

bool is_host_name(std::string_view host) {
  for (const char c : host) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

bool is_ipv6_text(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return false;
  for (const char c : host)
    if (hex_value(c) < 0 && c != ':' && c != '.') return false;
  return true;
}

template <typename T>
std::optional<T> parse_number(std::string_view s, T min, T max) {
  T v{};
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max)
    return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::string> parse_redis_url(std::string_view url, RedisOptions& options) {
  const auto separator = url.find("://");
  if (separator == std::string_view::npos || !is_scheme(url.substr(0, separator))) {
    return "expected " + std::string(kShape);
  }
  const std::string scheme = lowercase(url.substr(0, separator));
  if (scheme != "redis" && scheme != "rediss") {
    return "unknown scheme \"" + scheme + "\": expected redis:// or rediss://";
  }
  std::string_view rest = url.substr(separator + 3);

  // The user information ends at the last `@`: a password may hold raw `@`, `:` and `/`.
  std::string username, password;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    if (!percent_decode(userinfo.substr(0, colon), username)) {
      return "the user name has a % not followed by two hex digits (write % as %25)";
    }
    if (colon != std::string_view::npos && !percent_decode(userinfo.substr(colon + 1), password)) {
      return "the password has a % not followed by two hex digits (write % as %25)";
    }
    rest = rest.substr(at + 1);
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return "a Redis URL here has no ?query or #fragment: TLS, Sentinel and durability have "
           "settings of their own (--redis-tls-ca, --redis-sentinels, --durability, ...)";
  }

  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view host;
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return "the IPv6 address has no closing ]";
    host = authority.substr(1, close - 1);
    if (!is_ipv6_text(host)) {
      return "the host in brackets must be an IPv6 address (hex digits and colons), e.g. [::1]";
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "expected :PORT or nothing after the IPv6 address's ]";
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return "an IPv6 address goes in brackets: redis://[::1]:6379";
    }
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (host.empty()) return "the host is missing: " + std::string(kShape);
    if (!is_host_name(host)) {
      return "the host must be a name or an address (letters, digits, '-', '.', '_'; an IPv6 "
             "address in brackets)";
    }
  }

  std::uint16_t port = 6379;
  if (port_text) {
    const auto p = parse_number<std::uint16_t>(*port_text, 1, 65535);
    if (!p) return "the port must be a number from 1 to 65535";
    port = *p;
  }
  int database = 0;
  if (slash != std::string_view::npos && slash + 1 < rest.size()) {
    const auto d = parse_number<int>(rest.substr(slash + 1), 0, kMaxRedisDatabase);
    if (!d) {
      return "the database (after the /) must be a number from 0 to " +
             std::to_string(kMaxRedisDatabase);
    }
    database = *d;
  }

  options.host = std::string(host);
  options.port = port;
  options.username = std::move(username);
  options.password = std::move(password);
  options.database = database;
  options.tls.enabled = scheme == "rediss";
  return std::nullopt;
}

std::string redact_redis_url(std::string_view url) {
  const auto separator = url.find("://");
  const std::size_t start =
      separator != std::string_view::npos && is_scheme(url.substr(0, separator)) ? separator + 3
                                                                                 : 0;
  std::string out(url);
  // Other clients take settings in a query (`?password=...`): none is shown.
  const auto at = url.rfind('@');
  const std::size_t host_start = at == std::string_view::npos || at < start ? start : at + 1;
  if (const auto query = url.find_first_of("?#", host_start); query != std::string_view::npos) {
    out.resize(query + 1);
    out += "***";
  }
  if (at == std::string_view::npos || at < start) {
    // No '@': a "port" that is not a number may be a password whose host was left out
    // (redis://:secret, redis://user:secret). Masked too.
    const auto end = std::min(out.size(), out.find_first_of("/?#", start));
    const auto colon = out.rfind(':', end == 0 ? 0 : end - 1);
    if (colon == std::string::npos || colon < start || out.find(']', colon) < end) return out;
    const std::string_view port = std::string_view(out).substr(colon + 1, end - colon - 1);
    if (!port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos) {
      return out;
    }
    return out.substr(0, colon + 1) + "***" + out.substr(end);
  }
  const auto colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return out;  // a user alone
  return out.substr(0, colon + 1) + "***" + out.substr(at);
}

}  // namespace splitstream
