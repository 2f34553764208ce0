// libFuzzer target: parse_read_batch_json on arbitrary bodies.
//
// Invariants (abort on violation, so libFuzzer reports it):
//   * no crash, no throw, no leak;
//   * ok exactly when the message is empty; an error has a one-line message and the batch is
//     left empty; a body over the limit is refused as such, and only such a body;
//   * an accepted batch respects the read limit, and protobuf's own JSON printing of it (either
//     field naming) parses back to the same batch: the proto3 JSON mapping is accepted.
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "ingest/read_batch_json.hpp"

namespace {

using splitstream::fuzz::check;

using splitstream::ReadBatchJsonError;
using splitstream::ReadBatchJsonLimits;
using splitstream::ReadBatchJsonStatus;

// Limits small enough for fuzz-sized inputs to reach both refusals.
ReadBatchJsonLimits fuzz_limits() {
  ReadBatchJsonLimits limits;
  limits.max_body_bytes = 3000;
  limits.max_reads = 8;
  return limits;
}

void check_reprint_round_trips(const splitstream::v1::ReadBatch& batch, bool proto_names) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = proto_names;
  options.always_print_primitive_fields = true;  // the parser requires chip, seq and time
  std::string json;
  check(google::protobuf::util::MessageToJsonString(batch, &json, options).ok(),
        "protobuf prints an accepted batch");
  ReadBatchJsonLimits roomy;  // escapes may make the reprint longer than the body
  roomy.max_body_bytes = std::size_t{1} << 20;
  splitstream::v1::ReadBatch again;
  const ReadBatchJsonStatus status = splitstream::parse_read_batch_json(json, again, roomy);
  if (!status.ok()) std::fprintf(stderr, "%s\n%s\n", json.c_str(), status.message.c_str());
  check(status.ok(), "protobuf's JSON of an accepted batch is accepted");
  check(google::protobuf::util::MessageDifferencer::Equals(batch, again),
        "protobuf's JSON of an accepted batch parses to the same batch");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const ReadBatchJsonLimits limits = fuzz_limits();
  splitstream::v1::ReadBatch batch;
  const ReadBatchJsonStatus status = splitstream::parse_read_batch_json(body, batch, limits);

  check(status.ok() == status.message.empty(), "a message exactly when there is an error");
  check(status.message.find('\n') == std::string::npos, "messages are one line");
  check((status.error == ReadBatchJsonError::body_too_large) == (size > limits.max_body_bytes),
        "body_too_large exactly for bodies over the limit");
  if (!status.ok()) {
    check(batch.reads_size() == 0, "a failed parse leaves no reads");
    return 0;
  }
  check(static_cast<std::size_t>(batch.reads_size()) <= limits.max_reads, "read limit holds");
  check_reprint_round_trips(batch, size % 2 == 0);
  return 0;
}
