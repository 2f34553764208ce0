// The officials' endpoints without I/O: correction bodies and the log of corrections, with
// hand-written requests and expected JSON (who may: officials_test.cpp).
#include "api/admin_api.hpp"

#include <gtest/gtest.h>

namespace splitstream {
namespace {

constexpr int kPyongyang = 9 * 60;  // UTC+09:00

Correction parse_ok(const std::string& body) {
  auto parsed = parse_correction_request(body, kPyongyang);
  if (auto* e = std::get_if<AdminRequestError>(&parsed)) ADD_FAILURE() << e->message;
  return std::get_if<Correction>(&parsed) ? std::get<Correction>(parsed) : Correction{};
}

std::string parse_error(const std::string& body) {
  auto parsed = parse_correction_request(body, kPyongyang);
  if (auto* e = std::get_if<AdminRequestError>(&parsed)) return e->message;
  return "(accepted)";
}

TEST(AdminCorrectionRequest, EachKindWithItsFields) {
  Correction c =
      parse_ok(R"({"kind":"set_status","bib":"1042","status":"dnf","reason":"medical"})");
  EXPECT_EQ(c.kind, CorrectionKind::set_status);
  EXPECT_EQ(c.bib, "1042");
  EXPECT_EQ(c.status, OfficialStatus::dnf);
  EXPECT_EQ(c.reason, "medical");
  EXPECT_EQ(c.by, "");  // the server sets it from who is signed in
  // 09:41:00 in Pyongyang is 00:41:00 UTC: 1743900060000 on 2025-04-06.
  c = parse_ok(R"({"kind":"add_read","bib":"7","timing_point":"finish",
                   "time":"2025-04-06T09:41:00"})");
  EXPECT_EQ(c.kind, CorrectionKind::add_read);
  EXPECT_EQ(c.time, 1'743'900'060'000);
  c = parse_ok(R"({"kind":"add_read","bib":"7","timing_point":"finish",
                   "time":"2025-04-06T00:41:00.250Z"})");
  EXPECT_EQ(c.time, 1'743'900'060'250);
  c = parse_ok(R"({"kind":"void_reads","bib":"7","timing_point":"finish","from":1000,"to":2000})");
  EXPECT_EQ(c.kind, CorrectionKind::void_reads);
  EXPECT_EQ(c.from, 1000);
  EXPECT_EQ(c.to, 2000);
  c = parse_ok(R"({"kind":"restore_reads","bib":"7","timing_point":"finish","from":1,"to":2})");
  EXPECT_EQ(c.kind, CorrectionKind::restore_reads);
  c = parse_ok(R"({"kind":"move_chip","chip":"E200","bib":"8"})");
  EXPECT_EQ(c.chip, "E200");
  EXPECT_EQ(c.bib, "8");
  c = parse_ok(R"({"kind":"move_chip","chip":"E200","bib":null})");
  EXPECT_EQ(c.bib, "");
  c = parse_ok(R"({"kind":"move_chip","chip":"E200"})");
  EXPECT_EQ(c.bib, "");
}

TEST(AdminCorrectionRequest, ErrorsNameTheField) {
  EXPECT_EQ(parse_error("[1]"), "the body must be a JSON object");
  EXPECT_EQ(parse_error("{}"),
            "kind is required: set_status, add_read, void_reads, restore_reads or move_chip");
  EXPECT_EQ(parse_error(R"({"kind":"delete"})"),
            "unknown kind \"delete\": set_status, add_read, void_reads, restore_reads or "
            "move_chip");
  EXPECT_EQ(parse_error(R"({"kind":"set_status","bib":"1"})"), "status is required for set_status");
  EXPECT_EQ(parse_error(R"({"kind":"set_status","bib":"1","status":"out"})"),
            "status must be dnf, dsq or none, not \"out\"");
  EXPECT_EQ(parse_error(R"({"kind":"set_status","bib":1,"status":"dnf"})"), "bib must be a string");
  EXPECT_EQ(parse_error(R"({"kind":"add_read","bib":"1","timing_point":"f","time":"09:41"})"),
            "time must be an ISO 8601 time (2025-04-06T09:41:00+09:00) or Unix milliseconds");
  EXPECT_EQ(parse_error(R"({"kind":"add_read","bib":"1","timing_point":"f"})"),
            "time is required for add_read");
  EXPECT_EQ(parse_error(R"({"kind":"void_reads","bib":"1","timing_point":"f","from":1})"),
            "to is required for void_reads");
  EXPECT_EQ(parse_error(R"({"kind":"move_chip","bib":"1"})"), "chip is required for move_chip");
  EXPECT_EQ(parse_error(R"({"kind":"set_status","bib":"1","status":"dnf","time":5})"),
            "field \"time\" is not part of a set_status correction");
  EXPECT_EQ(parse_error(R"({"kind":"set_status","bib":"1","status":"dnf","reason":")" +
                        std::string(501, 'x') + "\"}"),
            "reason is longer than 500 bytes");
  // Who made a correction is the signed-in official, never what the body says.
  EXPECT_EQ(parse_error(R"({"kind":"set_status","bib":"1","status":"dnf","by":"J. Kim"})"),
            "by is set from who is signed in: leave it out of the body (the correction records "
            "the official's name)");
  EXPECT_EQ(parse_error("{\"kind\":"), "the body is not JSON: incomplete JSON");
}

}  // namespace
}  // namespace splitstream
