// `--redis` URLs: what each part sets, the defaults, and errors that say what is wrong without
// ever holding the password.
#include "store/redis_url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace splitstream {
namespace {

// The options a URL gives, or a failed test with the error.
RedisOptions parsed(std::string_view url) {
  RedisOptions o;
  const auto error = parse_redis_url(url, o);
  EXPECT_FALSE(error) << url << ": " << *error;
  return o;
}

std::string error_of(std::string_view url) {
  RedisOptions o;
  o.host = "untouched";
  const auto error = parse_redis_url(url, o);
  EXPECT_TRUE(error) << url << " was accepted";
  EXPECT_EQ(o.host, "untouched") << url;  // a rejected URL changes nothing
  return error.value_or("");
}

TEST(RedisUrl, HostAloneTakesTheDefaults) {
  const RedisOptions o = parsed("redis://redis.example");
  EXPECT_EQ(o.host, "redis.example");
  EXPECT_EQ(o.port, 6379);
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.password, "");
  EXPECT_EQ(o.database, 0);
  EXPECT_FALSE(o.tls.enabled);
}

TEST(RedisUrl, EveryPart) {
  const RedisOptions o = parsed("rediss://timing:S3cr3t-pw@10.0.0.5:6380/2");
  EXPECT_EQ(o.host, "10.0.0.5");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.username, "timing");
  EXPECT_EQ(o.password, "S3cr3t-pw");
  EXPECT_EQ(o.database, 2);
  EXPECT_TRUE(o.tls.enabled);
}

TEST(RedisUrl, OnlyTheUrlsFieldsChange) {
  RedisOptions o;
  o.tls.ca_file = "ca.pem";
  o.primary_name = "mymaster";
  o.durability.replicas = 3;
  o.username = "old";
  o.password = "old";
  ASSERT_FALSE(parse_redis_url("redis://r", o));
  EXPECT_EQ(o.tls.ca_file, "ca.pem");
  EXPECT_EQ(o.primary_name, "mymaster");
  EXPECT_EQ(o.durability.replicas, 3);
  EXPECT_EQ(o.username, "");  // the URL has none: not the old one
  EXPECT_EQ(o.password, "");
}

TEST(RedisUrl, PasswordAloneUserAloneAndEmptyParts) {
  RedisOptions o = parsed("redis://:S3cr3t-pw@r:1");
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.password, "S3cr3t-pw");
  o = parsed("redis://timing@r");
  EXPECT_EQ(o.username, "timing");
  EXPECT_EQ(o.password, "");
  o = parsed("redis://@r");
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.host, "r");
  o = parsed("redis://r:1/");  // an empty path: database 0
  EXPECT_EQ(o.port, 1);
  EXPECT_EQ(o.database, 0);
  EXPECT_EQ(parsed("redis://r/15").database, 15);
  EXPECT_EQ(parsed("redis://r/65535").database, 65535);
}

TEST(RedisUrl, PercentEscapesAndRawSeparatorsInThePassword) {
  RedisOptions o = parsed("redis://ti%3Aming:p%40ss%3Aw%25rd@r:6379");
  EXPECT_EQ(o.username, "ti:ming");
  EXPECT_EQ(o.password, "p@ss:w%rd");
  EXPECT_EQ(o.host, "r");
  // The password runs from the first `:` to the last `@`: raw @, : and / in it work too.
  o = parsed("redis://u:a@b:c/d@r:7000/3");
  EXPECT_EQ(o.username, "u");
  EXPECT_EQ(o.password, "a@b:c/d");
  EXPECT_EQ(o.host, "r");
  EXPECT_EQ(o.port, 7000);
  EXPECT_EQ(o.database, 3);
  EXPECT_EQ(parsed("redis://:%e2%82%AC@r").password, "\xe2\x82\xac");  // UTF-8, either case
}

TEST(RedisUrl, Ipv6InBrackets) {
  RedisOptions o = parsed("redis://[::1]:6380/1");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.database, 1);
  o = parsed("rediss://u:p@[2001:db8::7]");
  EXPECT_EQ(o.host, "2001:db8::7");
  EXPECT_EQ(o.port, 6379);
  EXPECT_EQ(parsed("redis://[::ffff:10.0.0.1]:1").host, "::ffff:10.0.0.1");
  EXPECT_EQ(describe_redis(o), "rediss://u@[2001:db8::7]:6379");
}

TEST(RedisUrl, SchemeIsCaseInsensitive) {
  EXPECT_TRUE(parsed("REDISS://r").tls.enabled);
  EXPECT_FALSE(parsed("Redis://r").tls.enabled);
}

TEST(RedisUrl, EachMistakeIsNamed) {
  EXPECT_EQ(error_of("http://r:6379"), "unknown scheme \"http\": expected redis:// or rediss://");
  EXPECT_EQ(error_of("127.0.0.1:6379"),
            "expected redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://...");
  EXPECT_EQ(error_of(""), "expected redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://...");
  EXPECT_EQ(error_of("redis://r:0"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(error_of("redis://r:65536"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(error_of("redis://r:"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(error_of("redis://r:63x"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(error_of("redis://r:+1"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(error_of("redis://"),
            "the host is missing: redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://...");
  EXPECT_EQ(error_of("redis://u:p@:6379"),
            "the host is missing: redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://...");
  EXPECT_EQ(error_of("redis://::1:6379"), "an IPv6 address goes in brackets: redis://[::1]:6379");
  EXPECT_EQ(error_of("redis://[::1:6379"), "the IPv6 address has no closing ]");
  EXPECT_EQ(error_of("redis://[]:6379"),
            "the host in brackets must be an IPv6 address (hex digits and colons), e.g. [::1]");
  EXPECT_EQ(error_of("redis://[redis]:6379"),
            "the host in brackets must be an IPv6 address (hex digits and colons), e.g. [::1]");
  EXPECT_EQ(error_of("redis://[::1]6379"), "expected :PORT or nothing after the IPv6 address's ]");
  EXPECT_EQ(error_of("redis://re dis:6379"),
            "the host must be a name or an address (letters, digits, '-', '.', '_'; an IPv6 "
            "address in brackets)");
  EXPECT_EQ(error_of("redis://r/x"), "the database (after the /) must be a number from 0 to 65535");
  EXPECT_EQ(error_of("redis://r/-1"),
            "the database (after the /) must be a number from 0 to 65535");
  EXPECT_EQ(error_of("redis://r/65536"),
            "the database (after the /) must be a number from 0 to 65535");
  EXPECT_EQ(error_of("redis://r/1/"),
            "the database (after the /) must be a number from 0 to 65535");
  EXPECT_EQ(error_of("redis://u%4:p@r"),
            "the user name has a % not followed by two hex digits (write % as %25)");
  EXPECT_EQ(error_of("redis://u:100%@r"),
            "the password has a % not followed by two hex digits (write % as %25)");
  EXPECT_EQ(error_of("redis://u:p%zz@r"),
            "the password has a % not followed by two hex digits (write % as %25)");
  EXPECT_EQ(error_of("redis://r:6379/0?ssl_cert_reqs=none"),
            "a Redis URL here has no ?query or #fragment: TLS, Sentinel and durability have "
            "settings of their own (--redis-tls-ca, --redis-sentinels, --durability, ...)");
  EXPECT_EQ(error_of("redis://r#x"), error_of("redis://r?x"));
}

// Every way a URL holding the password can be wrong: the error never holds the password.
TEST(RedisUrl, NoErrorHoldsThePassword) {
  const std::string secret = "S3cr3t-pw";
  const std::vector<std::string> bad = {
      "http://timing:" + secret + "@r:6379",   "timing:" + secret + "@r:6379",
      "redis://timing:" + secret + "@r:99999", "redis://timing:" + secret + "@r:6379/abc",
      "redis://timing:" + secret + "@",        "redis://timing:" + secret + "@::1:6379",
      "redis://timing:" + secret + "@[::1",    "redis://timing:" + secret + "@r?password=" + secret,
      "redis://timing:" + secret + "%@r",      "redis://timing:" + secret + "@re dis",
      "rediss://:" + secret + "@[x]:1",        "redis://timing:" + secret + "@r:1:2",
  };
  for (const std::string& url : bad) {
    const std::string error = error_of(url);
    EXPECT_EQ(error.find(secret), std::string::npos) << url << ": " << error;
    EXPECT_EQ(redact_redis_url(url).find(secret), std::string::npos) << redact_redis_url(url);
  }
}

TEST(RedisUrl, RedactionMasksThePasswordAndKeepsTheRest) {
  EXPECT_EQ(redact_redis_url("redis://timing:S3cr3t@r:6379/2"), "redis://timing:***@r:6379/2");
  EXPECT_EQ(redact_redis_url("rediss://:S3cr3t@r"), "rediss://:***@r");
  EXPECT_EQ(redact_redis_url("redis://u:a@b:c@r:1"), "redis://u:***@r:1");
  EXPECT_EQ(redact_redis_url("u:a://b@r"), "u:***@r");  // no scheme: still masked
  EXPECT_EQ(redact_redis_url("redis://timing@r:6379"), "redis://timing@r:6379");  // no password
  // A query may carry a password in other clients' URLs (?password=): masked too.
  EXPECT_EQ(redact_redis_url("redis://r:6379/0?password=S3cr3t"), "redis://r:6379/0?***");
  EXPECT_EQ(redact_redis_url("redis://u:p@r#S3cr3t"), "redis://u:***@r#***");
  EXPECT_EQ(redact_redis_url("redis://r:6379"), "redis://r:6379");
  EXPECT_EQ(redact_redis_url(""), "");
  // No '@': a port that is not a number may be a password whose host was forgotten.
  EXPECT_EQ(redact_redis_url("redis://:S3cr3t"), "redis://:***");
  EXPECT_EQ(redact_redis_url("redis://timing:S3cr3t/2"), "redis://timing:***/2");
  EXPECT_EQ(redact_redis_url("redis://[::1]:6379"), "redis://[::1]:6379");
  EXPECT_EQ(redact_redis_url("redis://[::1]"), "redis://[::1]");
}

TEST(RedisUrl, DescribeShowsTheUserNeverThePassword) {
  RedisOptions o = parsed("rediss://timing:S3cr3t-pw@redis.example:6380/2");
  EXPECT_EQ(describe_redis(o), "rediss://timing@redis.example:6380/2");
  o = parsed("redis://:S3cr3t-pw@127.0.0.1");
  EXPECT_EQ(describe_redis(o), "redis://127.0.0.1:6379");
}

}  // namespace
}  // namespace splitstream
