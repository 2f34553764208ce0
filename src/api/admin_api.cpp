#include "api/admin_api.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <span>
#include <utility>

#include "core/time.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;

// The fields each kind takes, besides kind and reason.
std::span<const std::string_view> fields_of(CorrectionKind k) {
  static constexpr std::string_view kStatus[] = {"bib", "status"};
  static constexpr std::string_view kAdd[] = {"bib", "timing_point", "time"};
  static constexpr std::string_view kWindow[] = {"bib", "timing_point", "from", "to"};
  static constexpr std::string_view kChip[] = {"chip", "bib"};
  switch (k) {
    case CorrectionKind::set_status:
      return kStatus;
    case CorrectionKind::add_read:
      return kAdd;
    case CorrectionKind::void_reads:
    case CorrectionKind::restore_reads:
      return kWindow;
    case CorrectionKind::move_chip:
      return kChip;
  }
  return {};
}

std::optional<TimeMs> to_time(const json::value& v, int offset) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<TimeMs>(v.as_uint64());
  if (v.is_string()) return parse_iso8601(v.as_string(), offset);
  return std::nullopt;
}

}  // namespace

std::variant<Correction, AdminRequestError> parse_correction_request(std::string_view body,
                                                                     int utc_offset_minutes) {
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec) return AdminRequestError{"the body is not JSON: " + ec.message()};
  if (!doc.is_object()) return AdminRequestError{"the body must be a JSON object"};
  const json::object& o = doc.as_object();
  const json::value* kind_value = o.if_contains("kind");
  if (!kind_value || !kind_value->is_string()) {
    return AdminRequestError{
        "kind is required: set_status, add_read, void_reads, restore_reads or move_chip"};
  }
  const auto kind = parse_correction_kind(kind_value->as_string());
  if (!kind) {
    return AdminRequestError{"unknown kind \"" + std::string(kind_value->as_string()) +
                             "\": set_status, add_read, void_reads, restore_reads or move_chip"};
  }
  Correction c;
  c.kind = *kind;
  const auto allowed = fields_of(c.kind);
  for (const auto& [key, value] : o) {
    if (key == "kind") continue;
    if (key == "by") {
      return AdminRequestError{
          "by is set from who is signed in: leave it out of the body (the correction records "
          "the official's name)"};
    }
    const bool known =
        key == "reason" || std::find(allowed.begin(), allowed.end(), key) != allowed.end();
    if (!known) {
      return AdminRequestError{"field \"" + std::string(key) + "\" is not part of a " +
                               std::string(to_string(c.kind)) + " correction"};
    }
    const std::string name(key);
    if (name == "time" || name == "from" || name == "to") {
      const auto t = to_time(value, utc_offset_minutes);
      if (!t) {
        return AdminRequestError{
            name + " must be an ISO 8601 time (2025-04-06T09:41:00+09:00) or Unix milliseconds"};
      }
      (name == "time" ? c.time : name == "from" ? c.from : c.to) = *t;
      continue;
    }
    if (name == "bib" && value.is_null() && c.kind == CorrectionKind::move_chip) continue;
    if (!value.is_string()) return AdminRequestError{name + " must be a string"};
    const std::string text(value.as_string());
    if (name == "bib") {
      c.bib = text;
    } else if (name == "timing_point") {
      c.timing_point = text;
    } else if (name == "chip") {
      c.chip = text;
    } else if (name == "status") {
      const auto s = parse_official_status(text);
      if (!s) return AdminRequestError{"status must be dnf, dsq or none, not \"" + text + "\""};
      c.status = *s;
    } else if (name == "reason") {
      if (text.size() > kMaxReasonLength) {
        return AdminRequestError{"reason is longer than " + std::to_string(kMaxReasonLength) +
                                 " bytes"};
      }
      c.reason = text;
    }
  }
  for (std::string_view required : allowed) {
    // move_chip's bib may be left out or null: the chip then belongs to nobody.
    if (c.kind == CorrectionKind::move_chip && required == "bib") continue;
    if (!o.contains(required)) {
      return AdminRequestError{std::string(required) + " is required for " +
                               std::string(to_string(c.kind))};
    }
  }
  if (c.kind == CorrectionKind::set_status && !o.contains("status"))
    return AdminRequestError{"status is required"};
  return c;
}

json::object correction_object(const Correction& c, int offset) {
  json::object o{{"kind", to_string(c.kind)}};
  auto time = [&](const char* name, TimeMs t) {
    o[name] = format_iso8601(t, offset);
    o[std::string(name) + "_ms"] = t;
  };
  switch (c.kind) {
    case CorrectionKind::set_status:
      o["bib"] = c.bib;
      o["status"] = to_string(c.status);
      break;
    case CorrectionKind::add_read:
      o["bib"] = c.bib;
      o["timing_point"] = c.timing_point;
      time("time", c.time);
      break;
    case CorrectionKind::void_reads:
    case CorrectionKind::restore_reads:
      o["bib"] = c.bib;
      o["timing_point"] = c.timing_point;
      time("from", c.from);
      time("to", c.to);
      break;
    case CorrectionKind::move_chip:
      o["chip"] = c.chip;
      if (c.bib.empty()) {
        o["bib"] = nullptr;
      } else {
        o["bib"] = c.bib;
      }
      break;
  }
  o["reason"] = c.reason;
  o["by"] = c.by;
  return o;
}

std::string correction_json(const Correction& c, int utc_offset_minutes) {
  return json::serialize(correction_object(c, utc_offset_minutes));
}

}  // namespace splitstream
