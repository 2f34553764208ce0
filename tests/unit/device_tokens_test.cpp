// Device tokens: the secrets file and environment formats, their diagnostics (which must never
// contain a token), the lookup and the constant-time comparison.
#include "ingest/device_tokens.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/text.hpp"
#include "support/engine_harness.hpp"

namespace splitstream {
namespace {

TEST(DeviceTokensTest, ConstantTimeEqualsIsExactEquality) {
  EXPECT_TRUE(constant_time_equals("s3cret-token", "s3cret-token"));
  EXPECT_FALSE(constant_time_equals("s3cret-token", "X3cret-token"));   // first byte
  EXPECT_FALSE(constant_time_equals("s3cret-token", "s3cret-tokeX"));   // last byte
  EXPECT_FALSE(constant_time_equals("s3cret-token", "s3cret-toke"));    // a strict prefix
  EXPECT_FALSE(constant_time_equals("s3cret-token", "s3cret-token!"));  // longer
  EXPECT_FALSE(constant_time_equals("s3cret-token", "s3cret-tokenn"));  // longer, last repeated
  EXPECT_FALSE(constant_time_equals("s3cret-token", ""));
  EXPECT_FALSE(constant_time_equals("", "x"));
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_FALSE(constant_time_equals("S3CRET-TOKEN", "s3cret-token"));  // case-sensitive
  // Embedded NUL and high bytes are compared like any other byte.
  const std::string with_nul("ab\0cd", 5);
  EXPECT_TRUE(constant_time_equals(with_nul, std::string("ab\0cd", 5)));
  EXPECT_FALSE(constant_time_equals(with_nul, std::string("ab\0ce", 5)));
  EXPECT_FALSE(constant_time_equals(with_nul, "ab"));
  EXPECT_FALSE(constant_time_equals("\xff\x80", "\xff\x81"));
  // Every single-byte difference at every position is caught, including a difference of one bit.
  const std::string token = "0123456789abcdefghijklmnopqrstuv";
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(constant_time_equals(token, changed)) << "position " << i;
  }
}

TEST(DeviceTokensTest, ParsesFileWithCommentsBlankLinesAndCrlf) {
  DeviceTokens tokens;
  const Diagnostics errors = tokens.add_from_text(
      "# device tokens for race day\n"
      "\n"
      "stadium-main   tok-stadium-main\r\n"
      "  arch-main\ttok=arch==  \n"
      "   # indented comment\n"
      "square-main tok-square",  // no final newline
      "tokens.txt");
  EXPECT_TRUE(errors.empty()) << errors.front().to_string();
  EXPECT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens.check("stadium-main", "tok-stadium-main"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("arch-main", "tok=arch=="), TokenCheck::ok);
  EXPECT_EQ(tokens.check("square-main", "tok-square"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("square-main", "tok-square "), TokenCheck::mismatch);
  EXPECT_EQ(tokens.check("Square-main", "tok-square"), TokenCheck::no_token);
  EXPECT_TRUE(tokens.has_token("arch-main"));
  EXPECT_FALSE(tokens.has_token("arch-backup"));
}

TEST(DeviceTokensTest, FileErrorsNameTheLineAndNeverTheToken) {
  DeviceTokens tokens;
  const Diagnostics errors = tokens.add_from_text(
      "stadium-main tok-one\n"     // 1: fine
      "lonely-secret-value\n"      // 2: one field (maybe a token without its device)
      "arch-main tok two three\n"  // 3: a token with spaces
      "# ok\n"                     // 4
      "stadium-main tok-other\n"   // 5: configured twice
      "square-main tok-square\n",  // 6: fine despite the errors above
      "secrets/tokens.txt");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].file, "secrets/tokens.txt");
  EXPECT_EQ(errors[0].line, 2u);
  EXPECT_NE(errors[0].message.find("single field"), std::string::npos);
  EXPECT_EQ(errors[1].line, 3u);
  EXPECT_NE(errors[1].message.find("4 fields"), std::string::npos);
  EXPECT_EQ(errors[2].line, 5u);
  EXPECT_EQ(errors[2].field, "stadium-main");
  EXPECT_NE(errors[2].message.find("already has a token (from secrets/tokens.txt:1)"),
            std::string::npos);
  for (const Diagnostic& error : errors) {
    const std::string text = error.to_string();
    for (const char* secret : {"lonely-secret-value", "tok two", "tok-other", "tok-one"}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << text;
    }
  }
  // The good lines are kept; the first token of a duplicated device stays.
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens.check("stadium-main", "tok-one"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("square-main", "tok-square"), TokenCheck::ok);
}

TEST(DeviceTokensTest, ParsesEnvironmentValue) {
  DeviceTokens tokens;
  const Diagnostics errors =
      tokens.add_from_env_value(" dev1=tok1 , dev2 = tok2,dev3=YWJj==,,dev4=tok4,");
  EXPECT_TRUE(errors.empty()) << errors.front().to_string();
  EXPECT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens.check("dev1", "tok1"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("dev2", "tok2"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("dev3", "YWJj=="), TokenCheck::ok);  // split at the first '='
  EXPECT_EQ(tokens.check("dev4", "tok4"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("dev1", "tok2"), TokenCheck::mismatch);
}

TEST(DeviceTokensTest, EnvironmentErrorsNameTheEntry) {
  DeviceTokens tokens;
  ASSERT_TRUE(tokens.add_from_text("dev1 from-file\n", "tokens.txt").empty());
  const Diagnostics errors =
      tokens.add_from_env_value("bare-secret,dev2=,=tok3,dev4=a b,dev1=from-env,dev5=ok");
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0].to_string(), "SPLITSTREAM_DEVICE_TOKENS: entry 1: expected device-id=token");
  EXPECT_EQ(errors[1].field, "entry 2");
  EXPECT_NE(errors[1].message.find("empty token"), std::string::npos);
  EXPECT_EQ(errors[2].field, "entry 3");
  EXPECT_NE(errors[2].message.find("empty device id"), std::string::npos);
  EXPECT_EQ(errors[3].field, "entry 4");
  EXPECT_NE(errors[3].message.find("whitespace"), std::string::npos);
  // A device configured in the file and the environment: an error, the file's token stays.
  EXPECT_EQ(errors[4].field, "entry 5");
  EXPECT_NE(errors[4].message.find("from tokens.txt:1"), std::string::npos);
  for (const Diagnostic& error : errors) {
    EXPECT_EQ(error.to_string().find("bare-secret"), std::string::npos);
    EXPECT_EQ(error.to_string().find("from-env"), std::string::npos);
  }
  EXPECT_EQ(tokens.check("dev1", "from-file"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("dev5", "ok"), TokenCheck::ok);
  EXPECT_EQ(tokens.size(), 2u);
}

TEST(DeviceTokensTest, ReadsFileAndReportsMissingOne) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "splitstream_device_tokens_test.txt";
  {
    std::ofstream out(path);
    out << "# test\nfinish-a tok-finish\n";
  }
  DeviceTokens tokens;
  EXPECT_TRUE(tokens.add_from_file(path.string()).empty());
  EXPECT_EQ(tokens.check("finish-a", "tok-finish"), TokenCheck::ok);
  std::filesystem::remove(path);

  const Diagnostics errors = tokens.add_from_file(path.string());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, path.string());
  EXPECT_NE(errors[0].message.find("cannot read the device tokens file"), std::string::npos);
}

TEST(DeviceTokensTest, ReadsEnvironmentVariableWhenSet) {
  ::unsetenv("SPLITSTREAM_DEVICE_TOKENS");
  DeviceTokens unset;
  EXPECT_TRUE(unset.add_from_environment().empty());
  EXPECT_EQ(unset.size(), 0u);

  ::setenv("SPLITSTREAM_DEVICE_TOKENS", "dev1=tok1,dev2=tok2", 1);
  DeviceTokens tokens;
  EXPECT_TRUE(tokens.add_from_environment().empty());
  ::unsetenv("SPLITSTREAM_DEVICE_TOKENS");
  EXPECT_EQ(tokens.check("dev1", "tok1"), TokenCheck::ok);
  EXPECT_EQ(tokens.check("dev2", "tok2"), TokenCheck::ok);
}

TEST(DeviceTokensTest, CrossCheckAgainstEventWarnsBothWays) {
  Event event = testing::ten_k().build();
  event.devices.push_back({"finish-main", *event.find_timing_point("finish"), Line::main});
  event.devices.push_back({"k5-main", *event.find_timing_point("k5"), Line::main});
  event.reindex();
  DeviceTokens tokens;
  ASSERT_TRUE(tokens.add_from_text("finish-main tok1\nfinsh-backup tok2\n", "tokens.txt").empty());
  const Diagnostics warnings = tokens.cross_check(event);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].message.find("\"k5-main\" has no token configured"), std::string::npos);
  EXPECT_EQ(warnings[1].file, "tokens.txt:2");
  EXPECT_NE(warnings[1].message.find("\"finsh-backup\", which event \"test\" does not declare"),
            std::string::npos);
  // An Impinj decoder's token is declared by decoders.json, not by the event's devices.
  const Diagnostics with_decoder = tokens.cross_check(event, {"finsh-backup"});
  ASSERT_EQ(with_decoder.size(), 1u);
  EXPECT_NE(with_decoder[0].message.find("\"k5-main\""), std::string::npos);
}

}  // namespace
}  // namespace splitstream
