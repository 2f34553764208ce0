// Reads a course line from GeoJSON (a LineString: bare, in a Feature or a FeatureCollection)
// or from a GPX track or route.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/geo.hpp"

namespace splitstream {

struct CourseLine {
  std::vector<GeoPoint> points;
  std::string error;  // empty when the line was read
};

CourseLine parse_geojson_line(std::string_view text);
CourseLine parse_gpx_line(std::string_view text);
// Chooses the parser by the file name's extension (.gpx, else GeoJSON).
CourseLine parse_course_line(std::string_view file_name, std::string_view text);

}  // namespace splitstream
