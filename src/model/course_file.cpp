#include "model/course_file.hpp"

#include <boost/json.hpp>
#include <charconv>

namespace splitstream {
namespace {

namespace json = boost::json;

const json::value* find_line_string(const json::value& v) {
  if (!v.is_object()) return nullptr;
  const json::object& o = v.as_object();
  const json::value* type = o.if_contains("type");
  if (!type || !type->is_string()) return nullptr;
  const json::string& t = type->as_string();
  if (t == "LineString") return &v;
  if (t == "Feature") {
    const json::value* g = o.if_contains("geometry");
    return g ? find_line_string(*g) : nullptr;
  }
  if (t == "FeatureCollection") {
    const json::value* features = o.if_contains("features");
    if (!features || !features->is_array()) return nullptr;
    for (const json::value& f : features->as_array()) {
      if (const json::value* line = find_line_string(f)) return line;
    }
  }
  return nullptr;
}

bool attribute(std::string_view tag, std::string_view name, double& out) {
  std::size_t pos = 0;
  while ((pos = tag.find(name, pos)) != std::string_view::npos) {
    const bool word_start = pos > 0 && (tag[pos - 1] == ' ' || tag[pos - 1] == '\t' ||
                                        tag[pos - 1] == '\n' || tag[pos - 1] == '\r');
    std::size_t p = pos + name.size();
    pos = p;
    if (!word_start) continue;
    while (p < tag.size() && tag[p] == ' ')
      ++p;
    if (p >= tag.size() || tag[p] != '=') continue;
    ++p;
    while (p < tag.size() && tag[p] == ' ')
      ++p;
    if (p >= tag.size() || (tag[p] != '"' && tag[p] != '\'')) continue;
    const char quote = tag[p++];
    const std::size_t end = tag.find(quote, p);
    if (end == std::string_view::npos) return false;
    const auto [ptr, ec] = std::from_chars(tag.data() + p, tag.data() + end, out);
    return ec == std::errc() && ptr == tag.data() + end;
  }
  return false;
}

}  // namespace

CourseLine parse_geojson_line(std::string_view text) {
  CourseLine result;
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) {
    result.error = "not valid JSON: " + ec.message();
    return result;
  }
  const json::value* line = find_line_string(doc);
  if (!line) {
    result.error = "no LineString geometry found (bare, in a Feature or a FeatureCollection)";
    return result;
  }
  const json::value* coords = line->as_object().if_contains("coordinates");
  if (!coords || !coords->is_array()) {
    result.error = "the LineString has no coordinates array";
    return result;
  }
  for (const json::value& c : coords->as_array()) {
    if (!c.is_array() || c.as_array().size() < 2 || !c.as_array()[0].is_number() ||
        !c.as_array()[1].is_number()) {
      result.error = "coordinate " + std::to_string(result.points.size()) +
                     " is not a [lon, lat] pair of numbers";
      return result;
    }
    const double lon = c.as_array()[0].to_number<double>();
    const double lat = c.as_array()[1].to_number<double>();
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
      result.error = "coordinate " + std::to_string(result.points.size()) +
                     " is out of range (GeoJSON order is [lon, lat])";
      return result;
    }
    result.points.push_back({lat, lon});
  }
  if (result.points.size() < 2) result.error = "the LineString needs at least two points";
  return result;
}

CourseLine parse_gpx_line(std::string_view text) {
  CourseLine result;
  // Track points if there are any, else route points.
  for (std::string_view element : {std::string_view("<trkpt"), std::string_view("<rtept")}) {
    std::size_t pos = 0;
    while ((pos = text.find(element, pos)) != std::string_view::npos) {
      const std::size_t end = text.find('>', pos);
      if (end == std::string_view::npos) break;
      const std::string_view tag = text.substr(pos, end - pos);
      GeoPoint p;
      if (!attribute(tag, "lat", p.lat) || !attribute(tag, "lon", p.lon) || p.lat < -90 ||
          p.lat > 90 || p.lon < -180 || p.lon > 180) {
        result.error =
            "point " + std::to_string(result.points.size()) + " has no valid lat/lon attributes";
        result.points.clear();
        return result;
      }
      result.points.push_back(p);
      pos = end;
    }
    if (!result.points.empty()) break;
  }
  if (result.points.size() < 2)
    result.error = "the GPX file needs a track or route of two or more points";
  return result;
}

CourseLine parse_course_line(std::string_view file_name, std::string_view text) {
  const bool gpx =
      file_name.size() >= 4 && (file_name.ends_with(".gpx") || file_name.ends_with(".GPX"));
  return gpx ? parse_gpx_line(text) : parse_geojson_line(text);
}

}  // namespace splitstream
