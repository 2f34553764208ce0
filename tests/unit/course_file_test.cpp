#include "model/course_file.hpp"

#include <gtest/gtest.h>

using namespace splitstream;

TEST(CourseFile, GeoJsonBareLineStringInLonLatOrder) {
  const CourseLine line = parse_geojson_line(
      R"({"type": "LineString", "coordinates": [[125.7577, 39.0437], [125.761, 39.042, 31.5]]})");
  ASSERT_EQ(line.error, "");
  ASSERT_EQ(line.points.size(), 2u);
  EXPECT_DOUBLE_EQ(line.points[0].lat, 39.0437);
  EXPECT_DOUBLE_EQ(line.points[0].lon, 125.7577);
  EXPECT_DOUBLE_EQ(line.points[1].lat, 39.042);  // elevation ignored
  EXPECT_DOUBLE_EQ(line.points[1].lon, 125.761);
}

TEST(CourseFile, GeoJsonFeature) {
  const CourseLine line = parse_geojson_line(R"({"type": "Feature", "properties": {"name": "x"},
      "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4], [5, 6]]}})");
  ASSERT_EQ(line.error, "");
  ASSERT_EQ(line.points.size(), 3u);
  EXPECT_EQ(line.points[2].lat, 6);
  EXPECT_EQ(line.points[2].lon, 5);
}

TEST(CourseFile, GeoJsonFeatureCollectionUsesTheFirstLineString) {
  const CourseLine line = parse_geojson_line(R"({"type": "FeatureCollection", "features": [
      {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9, 9]}},
      {"type": "Feature", "geometry": null},
      {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[10, 20], [11, 21]]}},
      {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
    ]})");
  ASSERT_EQ(line.error, "");
  ASSERT_EQ(line.points.size(), 2u);
  EXPECT_EQ(line.points[0].lat, 20);
  EXPECT_EQ(line.points[0].lon, 10);
  EXPECT_EQ(line.points[1].lat, 21);
}

TEST(CourseFile, GeoJsonErrors) {
  EXPECT_NE(
      parse_geojson_line(R"({"type": "Point", "coordinates": [1, 2]})").error.find("no LineString"),
      std::string::npos);
  EXPECT_NE(parse_geojson_line(R"({"type": "FeatureCollection", "features": []})")
                .error.find("no LineString"),
            std::string::npos);
  const CourseLine bad =
      parse_geojson_line(R"({"type": "LineString", "coordinates": [[1, 2], [3, "4"]]})");
  EXPECT_EQ(bad.error, "coordinate 1 is not a [lon, lat] pair of numbers");
  const CourseLine short_pair =
      parse_geojson_line(R"({"type": "LineString", "coordinates": [[1, 2], [3]]})");
  EXPECT_EQ(short_pair.error, "coordinate 1 is not a [lon, lat] pair of numbers");
  // [lat, lon] by mistake: 125 is no latitude.
  const CourseLine swapped =
      parse_geojson_line(R"({"type": "LineString", "coordinates": [[39.04, 125.75], [39, 125]]})");
  EXPECT_NE(swapped.error.find("coordinate 0 is out of range"), std::string::npos) << swapped.error;
  const CourseLine one = parse_geojson_line(R"({"type": "LineString", "coordinates": [[1, 2]]})");
  EXPECT_EQ(one.error, "the LineString needs at least two points");
  EXPECT_NE(parse_geojson_line(R"({"type": "LineString"})").error.find("no coordinates"),
            std::string::npos);
  EXPECT_NE(parse_geojson_line("{\"type\": ").error.find("not valid JSON"), std::string::npos);
}

TEST(CourseFile, GpxTrackPointsWithBothQuoteStyles) {
  const CourseLine line = parse_gpx_line(R"(<?xml version="1.0"?>
<gpx version="1.1" creator="test">
  <trk><name>Loop</name><trkseg>
    <trkpt lat="39.0437" lon="125.7577"><ele>30</ele></trkpt>
    <trkpt lon='125.761' lat='39.042'/>
    <trkpt
        lat = "39.019"
        lon = "125.753"></trkpt>
  </trkseg></trk>
</gpx>)");
  ASSERT_EQ(line.error, "");
  ASSERT_EQ(line.points.size(), 3u);
  EXPECT_DOUBLE_EQ(line.points[0].lat, 39.0437);
  EXPECT_DOUBLE_EQ(line.points[0].lon, 125.7577);
  EXPECT_DOUBLE_EQ(line.points[1].lat, 39.042);
  EXPECT_DOUBLE_EQ(line.points[1].lon, 125.761);
  EXPECT_DOUBLE_EQ(line.points[2].lat, 39.019);
  EXPECT_DOUBLE_EQ(line.points[2].lon, 125.753);
}

TEST(CourseFile, GpxRoutePoints) {
  const CourseLine line = parse_gpx_line(R"(<gpx><rte>
    <rtept lat='-33.5' lon='151.25'/>
    <rtept lat="-33.25" lon="151.5"/>
  </rte></gpx>)");
  ASSERT_EQ(line.error, "");
  ASSERT_EQ(line.points.size(), 2u);
  EXPECT_EQ(line.points[0].lat, -33.5);
  EXPECT_EQ(line.points[0].lon, 151.25);
  EXPECT_EQ(line.points[1].lat, -33.25);
  EXPECT_EQ(line.points[1].lon, 151.5);
}

TEST(CourseFile, GpxErrors) {
  EXPECT_NE(parse_gpx_line("<gpx><trk><trkseg></trkseg></trk></gpx>").error.find("two or more"),
            std::string::npos);
  EXPECT_NE(parse_gpx_line(R"(<gpx><trkpt lat="1" lon="2"/></gpx>)").error.find("two or more"),
            std::string::npos);
  EXPECT_EQ(parse_gpx_line(R"(<gpx><trkpt lat="1" lon="2"/><trkpt lat="x" lon="2"/></gpx>)").error,
            "point 1 has no valid lat/lon attributes");
  EXPECT_EQ(parse_gpx_line(R"(<gpx><trkpt lat="1" lon="2"/><trkpt lat="95" lon="2"/></gpx>)").error,
            "point 1 has no valid lat/lon attributes");
  EXPECT_EQ(parse_gpx_line(R"(<gpx><trkpt lat="1"/><trkpt lat="1" lon="2"/></gpx>)").error,
            "point 0 has no valid lat/lon attributes");
}

TEST(CourseFile, ChoosesTheParserByExtension) {
  const char* gpx = R"(<gpx><trkpt lat="1" lon="2"/><trkpt lat="3" lon="4"/></gpx>)";
  const char* geojson = R"({"type": "LineString", "coordinates": [[2, 1], [4, 3]]})";
  for (const char* name : {"c.gpx", "dir/C.GPX"}) {
    const CourseLine line = parse_course_line(name, gpx);
    ASSERT_EQ(line.error, "") << name;
    EXPECT_EQ(line.points[1].lat, 3);
  }
  for (const char* name : {"c.geojson", "c.json"}) {
    const CourseLine line = parse_course_line(name, geojson);
    ASSERT_EQ(line.error, "") << name;
    EXPECT_EQ(line.points[1].lat, 3);
    EXPECT_EQ(line.points[1].lon, 4);
  }
  EXPECT_NE(parse_course_line("c.geojson", gpx).error, "");
}
