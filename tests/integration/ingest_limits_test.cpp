// The configured body limit of POST /api/v1/reads end to end, against a real `splitstream serve`
// and a real Redis: --max-body is the one limit of a batch, whether it comes as JSON or as
// Protobuf (the JSON parser once kept a 1 MiB limit of its own, so a large JSON batch got 413
// while the same batch as Protobuf was taken).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "splitstream/v1/device.pb.h"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

constexpr std::int64_t kGun = 1'743'894'000'000;  // 2025-04-06T08:00:00+09:00
const std::string kReads = "{ev:pyongyang-2025}:reads";
constexpr std::size_t kMaxBody = 4u << 20;     // --max-body of the node under test
constexpr std::uint64_t kBatchReads = 10'000;  // the most a batch may hold

class IngestLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    std::ofstream(tokens_) << "arch-main s3cret-main\narch-backup s3cret-backup\n";
  }

  std::int64_t stream_length() { return redis_.command({"XLEN", kReads}).as_integer(); }

  RedisServer redis_;
  std::filesystem::path tokens_;
};

// The batch's reads: seq 1..n at the arch, a second apart, with 24-hex-digit chips.
v1::ReadBatch reads_of(const std::string& device, std::uint64_t n) {
  v1::ReadBatch batch;
  for (std::uint64_t seq = 1; seq <= n; ++seq) {
    v1::Read* r = batch.add_reads();
    r->set_device_id(device);
    r->set_timing_point_id("arch");
    std::string chip = std::to_string(seq);
    r->set_chip("E28011606000" + std::string(12 - chip.size(), '0') + chip);
    r->set_seq(seq);
    r->set_time_ms(kGun + static_cast<std::int64_t>(seq) * 1000);
    r->set_rssi_dbm(-51);
  }
  return batch;
}

// The batch in the documented JSON form (docs/device-protocol.md), every field named.
std::string json_of(const v1::ReadBatch& batch) {
  std::string body = R"({"reads":[)";
  for (int i = 0; i < batch.reads_size(); ++i) {
    const v1::Read& r = batch.reads(i);
    if (i > 0) body += ",";
    body += R"({"device_id":")" + r.device_id() + R"(","timing_point_id":")" + r.timing_point_id() +
            R"(","chip":")" + r.chip() + R"(","time_ms":)" + std::to_string(r.time_ms()) +
            R"(,"seq":)" + std::to_string(r.seq()) + R"(,"rssi_dbm":)" +
            std::to_string(r.rssi_dbm()) + "}";
  }
  return body + "]}";
}

HttpResult post_reads(int port, const std::string& token, const std::string& content_type,
                      const std::string& body) {
  return http_exchange(port,
                       "POST /api/v1/reads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Authorization: Bearer " +
                           token + "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body);
}

TEST_F(IngestLimits, MaxBodyLimitsAJsonBatchAsItDoesTheSameBatchInProtobuf) {
  const ServeNode node =
      start_serve_node(redis_.port(), tokens_, {"--max-body", std::to_string(kMaxBody)});

  // A full batch as JSON: over 1 MiB, within --max-body. Taken, like the same reads as Protobuf.
  const std::string json = json_of(reads_of("arch-main", kBatchReads));
  ASSERT_GT(json.size(), std::size_t{1} << 20);
  ASSERT_LT(json.size(), kMaxBody);
  HttpResult r = post_reads(node.http, "s3cret-main", "application/json", json);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("acked_seq":"10000")"), std::string::npos) << r.body;
  const std::string protobuf = reads_of("arch-backup", kBatchReads).SerializeAsString();
  r = post_reads(node.http, "s3cret-backup", "application/x-protobuf", protobuf);
  ASSERT_EQ(r.status, 200) << r.body;
  v1::Ack ack;
  ASSERT_TRUE(ack.ParseFromString(r.body));
  EXPECT_EQ(ack.acked_seq(), kBatchReads);
  EXPECT_EQ(stream_length(), 2 * static_cast<std::int64_t>(kBatchReads));

  // Exactly --max-body (the JSON padded with whitespace): taken; a resend, so nothing new stored.
  std::string at_limit = json;
  at_limit.append(kMaxBody - json.size(), ' ');
  r = post_reads(node.http, "s3cret-main", "application/json", at_limit);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("acked_seq":"10000")"), std::string::npos) << r.body;
  EXPECT_EQ(stream_length(), 2 * static_cast<std::int64_t>(kBatchReads));

  // One byte more: refused from its Content-Length, before the body is read (so none is sent),
  // naming the limit and the path.
  r = http_exchange(
      node.http,
      "POST /api/v1/reads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret-main\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
          std::to_string(kMaxBody + 1) + "\r\n\r\n");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"body_too_large","message":"request body over 4194304 bytes )"
            R"(for /api/v1/reads"}})");
  EXPECT_EQ(stream_length(), 2 * static_cast<std::int64_t>(kBatchReads));
}

}  // namespace
}  // namespace splitstream::testing
