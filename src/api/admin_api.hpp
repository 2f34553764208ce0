// The officials' endpoints (/api/v1/admin/...) without I/O: a correction request's JSON body in,
// a correction and the log of corrections out as JSON. The server records each correction in the
// read stream (store/correction_entry) and every node's engine applies it; who may is decided by
// authorize_official (api/officials).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "engine/corrections.hpp"
#include "http/http_message.hpp"
#include "pipeline/correction_log.hpp"

namespace splitstream {

inline constexpr std::string_view kAdminPrefix = "/api/v1/admin/";
inline constexpr std::string_view kCorrectionsPath = "/api/v1/admin/corrections";
inline constexpr std::size_t kMaxReasonLength = 500;

struct AdminRequestError {
  std::string message;  // names the field
};

// A POST /api/v1/admin/corrections body: {"kind": "set_status"|"add_read"|"void_reads"|
// "restore_reads"|"move_chip", "bib", "timing_point", "time", "from", "to", "chip", "status",
// "reason"}. Times are ISO 8601 (the event's UTC offset when none is given) or Unix ms. Only the
// fields of the kind are allowed; `by` is not: the server sets it from who is signed in. The
// correction is not checked against the engine here (check_correction does that).
std::variant<Correction, AdminRequestError> parse_correction_request(std::string_view body,
                                                                     int utc_offset_minutes);

// A correction as the API shows it (times as ISO 8601 in the event's offset and as ms).
std::string correction_json(const Correction& c, int utc_offset_minutes);

// correction_json's object.
boost::json::object correction_object(const Correction& c, int utc_offset_minutes);

}  // namespace splitstream
