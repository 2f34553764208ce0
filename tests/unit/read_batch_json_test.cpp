// ReadBatch from an HTTP JSON body: both time forms, the proto3 JSON mapping, every error with
// its exact message, and the limits.
#include "ingest/read_batch_json.hpp"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

namespace {

namespace v1 = splitstream::v1;
using google::protobuf::util::MessageDifferencer;
using splitstream::parse_read_batch_json;
using splitstream::ReadBatchJsonError;
using splitstream::ReadBatchJsonLimits;
using splitstream::ReadBatchJsonStatus;

// 2025-04-06T08:00:00.250+09:00
constexpr std::int64_t kEightAmSeoul = 1743894000250;

TEST(ReadBatchJsonTest, ParsesEveryFieldWithTimeMs) {
  v1::ReadBatch batch;
  const ReadBatchJsonStatus status = parse_read_batch_json(
      R"({"reads":[{"device_id":"dec-finish-a","timing_point_id":"finish",
           "chip":"E2801160600002086A1B2C3D","time_ms":1743894000250,"seq":12,"line":"main",
           "rssi_dbm":-51}]})",
      batch);
  ASSERT_TRUE(status.ok()) << status.message;
  EXPECT_TRUE(status.message.empty());
  ASSERT_EQ(batch.reads_size(), 1);
  const v1::Read& r = batch.reads(0);
  EXPECT_EQ(r.device_id(), "dec-finish-a");
  EXPECT_EQ(r.timing_point_id(), "finish");
  EXPECT_EQ(r.chip(), "E2801160600002086A1B2C3D");
  EXPECT_EQ(r.time_ms(), kEightAmSeoul);
  EXPECT_EQ(r.seq(), 12u);
  EXPECT_EQ(r.line(), v1::LINE_MAIN);
  ASSERT_TRUE(r.has_rssi_dbm());
  EXPECT_EQ(r.rssi_dbm(), -51);
}

TEST(ReadBatchJsonTest, ParsesIsoTime) {
  v1::ReadBatch batch;
  const ReadBatchJsonStatus status = parse_read_batch_json(
      R"({"reads":[
          {"chip":"A","time":"2025-04-06T08:00:00.250+09:00","seq":1,"line":"backup"},
          {"chip":"B","time":"2025-04-05T23:00:00.250Z","seq":2}]})",
      batch);
  ASSERT_TRUE(status.ok()) << status.message;
  ASSERT_EQ(batch.reads_size(), 2);
  EXPECT_EQ(batch.reads(0).time_ms(), kEightAmSeoul);
  EXPECT_EQ(batch.reads(0).line(), v1::LINE_BACKUP);
  EXPECT_EQ(batch.reads(1).time_ms(), kEightAmSeoul);
  EXPECT_EQ(batch.reads(1).chip(), "B");
}

TEST(ReadBatchJsonTest, OptionalFieldsMayBeAbsentOrNull) {
  v1::ReadBatch batch;
  const ReadBatchJsonStatus status = parse_read_batch_json(
      R"({"reads":[{"chip":"A","time_ms":0,"seq":0},
                   {"chip":"B","time_ms":-5,"seq":3,"device_id":null,"line":null,"rssi_dbm":null},
                   {"chip":"C","time_ms":1,"seq":4,"rssi_dbm":0}]})",
      batch);
  ASSERT_TRUE(status.ok()) << status.message;
  ASSERT_EQ(batch.reads_size(), 3);
  EXPECT_EQ(batch.reads(0).line(), v1::LINE_UNSPECIFIED);
  EXPECT_FALSE(batch.reads(0).has_rssi_dbm());
  EXPECT_TRUE(batch.reads(0).device_id().empty());
  EXPECT_EQ(batch.reads(1).time_ms(), -5);
  EXPECT_FALSE(batch.reads(1).has_rssi_dbm());
  EXPECT_TRUE(batch.reads(2).has_rssi_dbm());  // 0 dBm is not "absent"
}

TEST(ReadBatchJsonTest, EmptyBatches) {
  for (const char* body : {R"({"reads":[]})", "{}", R"({"reads":null})", " { } "}) {
    v1::ReadBatch batch;
    const ReadBatchJsonStatus status = parse_read_batch_json(body, batch);
    EXPECT_TRUE(status.ok()) << body << ": " << status.message;
    EXPECT_EQ(batch.reads_size(), 0);
  }
}

v1::ReadBatch sample_batch() {
  v1::ReadBatch batch;
  v1::Read* a = batch.add_reads();
  a->set_device_id("dec-finish-a");
  a->set_timing_point_id("finish");
  a->set_chip("E2801160600002086A1B2C3D");
  a->set_time_ms(kEightAmSeoul);
  a->set_seq(9'007'199'254'740'993);  // above 2^53: must survive as a string
  a->set_line(v1::LINE_BACKUP);
  a->set_rssi_dbm(0);
  v1::Read* b = batch.add_reads();
  b->set_chip("0042");
  b->set_time_ms(-1);
  b->set_seq(1);
  return batch;
}

TEST(ReadBatchJsonTest, AcceptsProtobufsOwnJsonMapping) {
  const v1::ReadBatch expected = sample_batch();
  for (bool proto_names : {false, true}) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = proto_names;
    // Print defaults too: protobuf omits seq 0, chip "", ... which this parser requires.
    options.always_print_primitive_fields = true;
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(expected, &json, options).ok());
    v1::ReadBatch batch;
    const ReadBatchJsonStatus status = parse_read_batch_json(json, batch);
    ASSERT_TRUE(status.ok()) << json << ": " << status.message;
    EXPECT_TRUE(MessageDifferencer::Equals(batch, expected)) << json;
  }
}

TEST(ReadBatchJsonTest, AcceptsProto3FormsOfIntegersAndEnums) {
  v1::ReadBatch batch;
  const ReadBatchJsonStatus status = parse_read_batch_json(
      R"({"reads":[{"chip":"A","timeMs":"-1743894000250","seq":"18446744073709551615",
                    "line":"LINE_BACKUP","rssiDbm":"-60"},
                   {"chip":"B","time_ms":9223372036854775807,"seq":18446744073709551615,
                    "line":1,"deviceId":"d","timingPointId":"t"},
                   {"chip":"C","time_ms":1,"seq":1,"line":"LINE_UNSPECIFIED"}]})",
      batch);
  ASSERT_TRUE(status.ok()) << status.message;
  ASSERT_EQ(batch.reads_size(), 3);
  EXPECT_EQ(batch.reads(0).time_ms(), -kEightAmSeoul);
  EXPECT_EQ(batch.reads(0).seq(), UINT64_MAX);
  EXPECT_EQ(batch.reads(0).line(), v1::LINE_BACKUP);
  EXPECT_EQ(batch.reads(0).rssi_dbm(), -60);
  EXPECT_EQ(batch.reads(1).time_ms(), INT64_MAX);
  EXPECT_EQ(batch.reads(1).seq(), UINT64_MAX);
  EXPECT_EQ(batch.reads(1).line(), v1::LINE_MAIN);
  EXPECT_EQ(batch.reads(1).device_id(), "d");
  EXPECT_EQ(batch.reads(1).timing_point_id(), "t");
  EXPECT_EQ(batch.reads(2).line(), v1::LINE_UNSPECIFIED);
}

struct ErrorCase {
  std::string body;
  const char* message;
  ReadBatchJsonError error = ReadBatchJsonError::invalid_batch;
};

// Three good reads, so that an error after them names reads[3].
const std::string kThreeGoodReads =
    R"({"chip":"A","time_ms":1,"seq":1},{"chip":"B","time_ms":2,"seq":2},)"
    R"({"chip":"C","time_ms":3,"seq":3},)";
const std::string kReadsOpen = R"({"reads":[)";

const ErrorCase kErrorCases[] = {
    // Missing required fields.
    {R"({"reads":[{"chip":"A","time_ms":1}]})", "reads[0]: missing seq"},
    {R"({"reads":[{"time_ms":1,"seq":1}]})", "reads[0]: missing chip"},
    {R"({"reads":[{"chip":"A","seq":1}]})", "reads[0]: missing time_ms (or time)"},
    {R"({"reads":[{"chip":null,"time_ms":1,"seq":1}]})", "reads[0]: missing chip"},
    // Wrong types.
    {kReadsOpen + kThreeGoodReads + R"({"chip":"D","time_ms":1.5,"seq":4}]})",
     "reads[3].time_ms: expected an integer"},
    {kReadsOpen + kThreeGoodReads + R"({"chip":"D","time_ms":"soon","seq":4}]})",
     "reads[3].time_ms: expected an integer"},
    {R"({"reads":[{"chip":"A","time_ms":true,"seq":1}]})", "reads[0].time_ms: expected an integer"},
    {R"({"reads":[{"chip":"A","timeMs":" 1","seq":1}]})", "reads[0].timeMs: expected an integer"},
    {R"({"reads":[{"chip":"A","time_ms":1e3,"seq":1}]})", "reads[0].time_ms: expected an integer"},
    {R"({"reads":[{"chip":"A","time_ms":9223372036854775808,"seq":1}]})",
     "reads[0].time_ms: integer out of range"},
    {R"({"reads":[{"chip":"A","time_ms":"-9223372036854775809","seq":1}]})",
     "reads[0].time_ms: integer out of range"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":-1}]})",
     "reads[0].seq: expected a non-negative integer"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":"-1"}]})",
     "reads[0].seq: expected a non-negative integer"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":"+1"}]})",
     "reads[0].seq: expected a non-negative integer"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":"18446744073709551616"}]})",
     "reads[0].seq: integer out of range"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":18446744073709551616}]})",
     "reads[0].seq: expected a non-negative integer"},
    {R"({"reads":[{"chip":12,"time_ms":1,"seq":1}]})", "reads[0].chip: expected a string"},
    {R"({"reads":[{"chip":"A","device_id":["d"],"time_ms":1,"seq":1}]})",
     "reads[0].device_id: expected a string"},
    {R"({"reads":[{"chip":"A","timing_point_id":{},"time_ms":1,"seq":1}]})",
     "reads[0].timing_point_id: expected a string"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":1,"line":"primary"}]})",
     R"(reads[0].line: expected "main" or "backup")"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":1,"line":3}]})",
     R"(reads[0].line: expected "main" or "backup")"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":1,"rssi_dbm":-51.5}]})",
     "reads[0].rssi_dbm: expected an integer"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":1,"rssiDbm":3000000000}]})",
     "reads[0].rssiDbm: integer out of range"},
    {R"({"reads":[{"chip":"A","time":"2025-04-06T08:00:00.250","seq":1}]})",
     R"(reads[0].time: expected an ISO 8601 time with a UTC offset, like "2025-04-06T08:00:00.250+09:00")"},
    {R"({"reads":[{"chip":"A","time":1743894000250,"seq":1}]})",
     R"(reads[0].time: expected an ISO 8601 time with a UTC offset, like "2025-04-06T08:00:00.250+09:00")"},
    {R"({"reads":[{"chip":"A","time":"2025-02-30T08:00:00Z","seq":1}]})",
     R"(reads[0].time: expected an ISO 8601 time with a UTC offset, like "2025-04-06T08:00:00.250+09:00")"},
    // One field under two names.
    {R"({"reads":[{"chip":"A","time_ms":1,"time":"2025-04-06T08:00:00Z","seq":1}]})",
     "reads[0]: time_ms and time both given; send one of them"},
    {R"({"reads":[{"chip":"A","timeMs":1,"time_ms":1,"seq":1}]})",
     "reads[0]: timeMs and time_ms both given; send one of them"},
    // Unknown fields, at both levels.
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":1},{"chip":"B","time_ms":1,"seq":2,"speed":3}]})",
     R"(reads[1]: unknown field "speed")"},
    {R"({"device":"d","reads":[]})", R"(unknown field "device")"},
    {R"({"reads":[],"Reads":[]})", R"(unknown field "Reads")"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":1,"a\"b\n":1}]})",
     R"(reads[0]: unknown field "a\"b\u000a")"},
    {R"({"reads":[{"chip":"A","time_ms":1,"seq":1,"0123456789012345678901234567890123456789xyz":1}]})",
     R"(reads[0]: unknown field "0123456789012345678901234567890123456789...")"},
    // Wrong shapes.
    {R"([{"chip":"A","time_ms":1,"seq":1}])", R"(expected a JSON object with a "reads" array)"},
    {R"("reads")", R"(expected a JSON object with a "reads" array)"},
    {R"({"reads":{"chip":"A"}})", "reads: expected an array"},
    {kReadsOpen + kThreeGoodReads + R"([1,2]]})", "reads[3]: expected an object"},
    // Not JSON.
    {R"({"reads":[)", "invalid JSON at offset 10: incomplete JSON",
     ReadBatchJsonError::invalid_json},
    {R"({"reads":[}])", "invalid JSON at offset 10: syntax error",
     ReadBatchJsonError::invalid_json},
    {R"({"reads":[]} {})", "invalid JSON at offset 13: extra data",
     ReadBatchJsonError::invalid_json},
    {R"({"reads":[],})", "invalid JSON at offset 12: syntax error",
     ReadBatchJsonError::invalid_json},
    {"", "invalid JSON at offset 0: incomplete JSON", ReadBatchJsonError::invalid_json},
    {"{\"reads\":[{\"chip\":\"\xff\"}]}", "invalid JSON at offset 19: syntax error",
     ReadBatchJsonError::invalid_json},
};

TEST(ReadBatchJsonTest, ErrorsNameTheReadAndField) {
  for (const ErrorCase& c : kErrorCases) {
    v1::ReadBatch batch;
    batch.add_reads()->set_chip("left over");  // must be cleared, on error too
    const ReadBatchJsonStatus status = parse_read_batch_json(c.body, batch);
    EXPECT_FALSE(status.ok()) << c.body;
    EXPECT_EQ(status.error, c.error) << c.body;
    EXPECT_EQ(status.message, c.message) << c.body;
    EXPECT_EQ(batch.reads_size(), 0) << c.body;
  }
}

std::string reads_body(std::size_t count) {
  std::string body = R"({"reads":[)";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) body += ',';
    body += R"({"chip":"C","time_ms":1,"seq":)" + std::to_string(i + 1) + "}";
  }
  return body + "]}";
}

TEST(ReadBatchJsonTest, BodyOverTheLimitIsRefusedBeforeParsing) {
  v1::ReadBatch batch;
  // Exactly at the default 1 MiB limit (padded with whitespace): accepted.
  std::string body = reads_body(3);
  body.append((std::size_t{1} << 20) - body.size(), ' ');
  ReadBatchJsonStatus status = parse_read_batch_json(body, batch);
  ASSERT_TRUE(status.ok()) << status.message;
  EXPECT_EQ(batch.reads_size(), 3);
  // One byte more, even of whitespace: refused without looking at it.
  body.push_back(' ');
  status = parse_read_batch_json(body, batch);
  EXPECT_EQ(status.error, ReadBatchJsonError::body_too_large);
  EXPECT_EQ(status.message, "body is 1048577 bytes, over the limit of 1048576");
  EXPECT_EQ(batch.reads_size(), 0);
  // A configured limit; the body need not even be JSON to be refused.
  ReadBatchJsonLimits limits;
  limits.max_body_bytes = 100;
  status = parse_read_batch_json(std::string(101, '{'), batch, limits);
  EXPECT_EQ(status.error, ReadBatchJsonError::body_too_large);
  EXPECT_EQ(status.message, "body is 101 bytes, over the limit of 100");
}

TEST(ReadBatchJsonTest, TooManyReads) {
  v1::ReadBatch batch;
  ReadBatchJsonStatus status = parse_read_batch_json(reads_body(10'000), batch);
  ASSERT_TRUE(status.ok()) << status.message;
  EXPECT_EQ(batch.reads_size(), 10'000);
  EXPECT_EQ(batch.reads(9'999).seq(), 10'000u);

  status = parse_read_batch_json(reads_body(10'001), batch);
  EXPECT_EQ(status.error, ReadBatchJsonError::too_many_reads);
  EXPECT_EQ(status.message, "reads: 10001 reads, over the limit of 10000");
  EXPECT_EQ(batch.reads_size(), 0);

  // Counted before any read is looked at: the bad fourth read is not what is reported.
  ReadBatchJsonLimits limits;
  limits.max_reads = 3;
  status = parse_read_batch_json(kReadsOpen + kThreeGoodReads + R"({"bad":1}]})", batch, limits);
  EXPECT_EQ(status.error, ReadBatchJsonError::too_many_reads);
  EXPECT_EQ(status.message, "reads: 4 reads, over the limit of 3");
}

}  // namespace
