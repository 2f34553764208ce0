// A Redis URL (`--redis`) read without I/O:
//
//   redis://[user[:password]@]host[:port][/db]     rediss://... the same over TLS
//
// The host is a name, an IPv4 address or an IPv6 address in brackets ([::1]); the port is 6379
// unless given; the database 0 unless given. The user and the password are percent-decoded, so
// any character can be written (`@` as %40, `:` in a user as %3A, `%` as %25); the password
// is everything after the first `:` up to the last `@`, so a raw `@`, `:` or `/` in it works
// too. No query (`?...`): the other settings are flags of their own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/redis_options.hpp"

namespace splitstream {

// The database numbers a URL may name (Redis has 16 by default; `databases` in redis.conf).
constexpr int kMaxRedisDatabase = 65535;

// Sets `options`' host, port, username, password, database and tls.enabled from `url` and
// returns nullopt; or returns what is wrong and leaves `options` as it was. The error never
// holds the password (nor the URL: the caller shows redact_redis_url(url) when it must).
std::optional<std::string> parse_redis_url(std::string_view url, RedisOptions& options);

// `url` safe to show whether or not it parses: a password (after the first `:` of what comes
// before the last `@`) becomes `***`; "redis://timing:s3cret@r:6379" ->
// "redis://timing:***@r:6379".
std::string redact_redis_url(std::string_view url);

}  // namespace splitstream
