// Typed reading of the JSON objects of an event's files (event.json, decoders.json): each
// missing or mistyped field becomes a Diagnostic naming the file, line and field.
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/geo.hpp"
#include "core/json_locator.hpp"
#include "core/time.hpp"
#include "model/diagnostics.hpp"

namespace splitstream {

inline bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

inline std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// Reads typed fields of one JSON object, recording a problem for each missing or mistyped one.
class ObjectReader {
 public:
  ObjectReader(const boost::json::value& v, std::string path, const JsonLocator& loc,
               Diagnostics& out, std::string file = "event.json")
      : path_(std::move(path)), file_(std::move(file)), loc_(loc), out_(out) {
    if (v.is_object()) {
      obj_ = &v.as_object();
    } else {
      problem("", "expected an object");
    }
  }

  bool ok() const { return obj_ != nullptr; }
  const JsonLocator& locator() const { return loc_; }
  Diagnostics& diagnostics() const { return out_; }
  const std::string& file() const { return file_; }
  const boost::json::value* get(std::string_view key) const {
    return obj_ ? obj_->if_contains(key) : nullptr;
  }

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  void problem(std::string_view key, std::string message) const {
    const std::string f = key.empty() ? path_ : field(key);
    out_.push_back({file_, loc_.line_of(f), f, std::move(message)});
  }

  std::optional<std::string> string(std::string_view key, bool required) const {
    const boost::json::value* v = get(key);
    if (!v) {
      if (required && obj_) problem(key, "required field is missing");
      return std::nullopt;
    }
    if (!v->is_string()) {
      problem(key, "expected a string");
      return std::nullopt;
    }
    return std::string(v->as_string());
  }

  std::optional<double> number(std::string_view key, bool required) const {
    const boost::json::value* v = get(key);
    if (!v) {
      if (required && obj_) problem(key, "required field is missing");
      return std::nullopt;
    }
    if (!v->is_number()) {
      problem(key, "expected a number");
      return std::nullopt;
    }
    return v->to_number<double>();
  }

  const boost::json::array* array(std::string_view key, bool required) const {
    const boost::json::value* v = get(key);
    if (!v) {
      if (required && obj_) problem(key, "required field is missing");
      return nullptr;
    }
    if (!v->is_array()) {
      problem(key, "expected an array");
      return nullptr;
    }
    return &v->as_array();
  }

  std::optional<std::string> id(std::string_view key) const {
    auto s = string(key, true);
    if (s && !valid_id(*s)) {
      problem(key, "invalid id " + in_quotes(*s) + " (use letters, digits, '-', '_' or '.')");
      return std::nullopt;
    }
    return s;
  }

  std::optional<TimeMs> time(std::string_view key, bool required) const {
    auto s = string(key, required);
    if (!s) return std::nullopt;
    auto t = parse_iso8601(*s);
    if (!t) {
      problem(key, "bad time " + in_quotes(*s) +
                       " (ISO 8601 with a UTC offset, e.g. 2025-04-06T08:00:00+09:00)");
    }
    return t;
  }

  std::optional<GeoPoint> position() const {
    const auto lat = number("lat", true);
    const auto lon = number("lon", true);
    bool ok = lat.has_value() && lon.has_value();
    if (lat && (*lat < -90 || *lat > 90)) {
      problem("lat", "latitude out of range");
      ok = false;
    }
    if (lon && (*lon < -180 || *lon > 180)) {
      problem("lon", "longitude out of range");
      ok = false;
    }
    if (!ok) return std::nullopt;
    return GeoPoint{lat.value_or(0), lon.value_or(0)};
  }

  void reject_unknown(std::initializer_list<std::string_view> known) const {
    if (!obj_) return;
    for (const auto& kv : *obj_) {
      bool found = false;
      for (std::string_view k : known)
        found = found || kv.key() == k;
      if (!found) problem(kv.key(), "unknown field");
    }
  }

 private:
  const boost::json::object* obj_ = nullptr;
  std::string path_;
  std::string file_;
  const JsonLocator& loc_;
  Diagnostics& out_;
};

inline std::string element(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

}  // namespace splitstream
