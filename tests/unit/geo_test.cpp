#include "core/geo.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace splitstream;

namespace {

// 0.01 degrees of longitude on the equator: 6378137 m * pi / 180 * 0.01.
constexpr double kCentiDegreeM = 1113.194908;

double dms(int deg, int min, double sec) {
  const double v = std::abs(deg) + min / 60.0 + sec / 3600.0;
  return deg < 0 ? -v : v;
}

}  // namespace

TEST(Geo, OneDegreeOfLongitudeOnTheEquator) {
  // On the equator the geodesic is the equator itself: a * dlon = 6378137 * pi / 180.
  EXPECT_NEAR(geodesic_distance_m({0, 0}, {0, 1}), 111319.49, 0.01);
  EXPECT_NEAR(geodesic_distance_m({0, 10}, {0, 9}), 111319.49, 0.01);
  EXPECT_NEAR(geodesic_distance_m({0, 0}, {0, 0.01}), kCentiDegreeM, 1e-4);
}

TEST(Geo, FlindersPeakToBuninyong) {
  // Vincenty's own worked example (Survey Review, 1975; Geoscience Australia): 54972.271 m.
  const GeoPoint flinders{dms(-37, 57, 3.72030), dms(144, 25, 29.52440)};
  const GeoPoint buninyong{dms(-37, 39, 10.15610), dms(143, 55, 35.38390)};
  EXPECT_NEAR(geodesic_distance_m(flinders, buninyong), 54972.271, 0.001);
  EXPECT_NEAR(geodesic_distance_m(buninyong, flinders), 54972.271, 0.001);
}

TEST(Geo, SamePointAndMeridian) {
  EXPECT_EQ(geodesic_distance_m({39.0437, 125.7577}, {39.0437, 125.7577}), 0);
  EXPECT_EQ(geodesic_distance_m({0, 0}, {0, 0}), 0);
  // Equator to pole is the WGS84 meridian quadrant, 10001965.729 m.
  EXPECT_NEAR(geodesic_distance_m({0, 0}, {90, 0}), 10001965.729, 0.01);
}

TEST(Geo, NearAntipodalStillGivesADistance) {
  // Vincenty does not converge here; the spherical fallback is about half the circumference.
  const double d = geodesic_distance_m({0, 0}, {0.5, 179.7});
  EXPECT_GT(d, 19'900'000);
  EXPECT_LT(d, 20'040'000);
}

TEST(Course, LengthAndPointAt) {
  // Along the equator: 0.01 deg then 0.02 deg more, 3 * 1113.19 m in all.
  const Course c({{0, 0}, {0, 0.01}, {0, 0.03}});
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(c.laps(), 1);
  EXPECT_NEAR(c.length_m(), 3 * kCentiDegreeM, 1e-3);
  EXPECT_NEAR(c.lap_length_m(), 3 * kCentiDegreeM, 1e-3);

  GeoPoint p = c.point_at(0);
  EXPECT_DOUBLE_EQ(p.lat, 0);
  EXPECT_DOUBLE_EQ(p.lon, 0);
  p = c.point_at(kCentiDegreeM);  // the corner
  EXPECT_NEAR(p.lon, 0.01, 1e-8);
  p = c.point_at(1.5 * kCentiDegreeM);  // the middle, inside the second segment
  EXPECT_NEAR(p.lat, 0, 1e-12);
  EXPECT_NEAR(p.lon, 0.015, 1e-8);
  p = c.point_at(0.5 * kCentiDegreeM);
  EXPECT_NEAR(p.lon, 0.005, 1e-8);
  p = c.point_at(c.length_m());
  EXPECT_NEAR(p.lon, 0.03, 1e-12);
  // Clamped at both ends.
  p = c.point_at(-100);
  EXPECT_DOUBLE_EQ(p.lon, 0);
  p = c.point_at(1e6);
  EXPECT_DOUBLE_EQ(p.lon, 0.03);
}

TEST(Course, EmptyAndDegenerate) {
  const Course none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.length_m(), 0);
  const Course one({{1, 2}});
  EXPECT_TRUE(one.empty());
  EXPECT_EQ(one.point_at(50).lat, 1);
  EXPECT_EQ(Course({{0, 0}, {0, 0.01}}, 0).laps(), 1);  // laps below 1 become 1
}

namespace {

// A closed square loop just north of the equator: east 0.01 deg, north 0.01 deg, west, south.
// Sides: 1113.19 m on the equator, 0.01 deg of meridian arc = 1105.74 m, and the top side at
// 0.01 deg north which is 1113.19 * cos(0.01 deg), the same to 0.1 mm.
Course square_loop(int laps) {
  return Course({{0, 0}, {0, 0.01}, {0.01, 0.01}, {0.01, 0}, {0, 0}}, laps);
}
constexpr double kSquareLapM = 2 * 1113.1949 + 2 * 1105.7427;

}  // namespace

TEST(Course, LapCourseWrapsDistances) {
  const Course c = square_loop(3);
  EXPECT_EQ(c.laps(), 3);
  const double lap = c.lap_length_m();
  EXPECT_NEAR(lap, kSquareLapM, 0.05);
  EXPECT_NEAR(c.length_m(), 3 * lap, 1e-9);
  for (int k = 1; k <= 3; ++k) {
    const GeoPoint p = c.point_at(lap * k);
    EXPECT_NEAR(p.lat, 0, 1e-9) << "lap " << k;
    EXPECT_NEAR(p.lon, 0, 1e-9) << "lap " << k;
  }
  // Half way along the first side, in each lap.
  for (int k = 0; k < 3; ++k) {
    const GeoPoint p = c.point_at(lap * k + 0.5 * kCentiDegreeM);
    EXPECT_NEAR(p.lat, 0, 1e-9) << "lap " << k;
    EXPECT_NEAR(p.lon, 0.005, 1e-8) << "lap " << k;
  }
  // Half way up the second side in lap 2.
  const GeoPoint p = c.point_at(lap + kCentiDegreeM + 1105.7427 / 2);
  EXPECT_NEAR(p.lat, 0.005, 1e-7);
  EXPECT_NEAR(p.lon, 0.01, 1e-9);
  // Beyond the end: clamped to the finish, which is the start point.
  const GeoPoint end = c.point_at(c.length_m() + 500);
  EXPECT_NEAR(end.lat, 0, 1e-9);
  EXPECT_NEAR(end.lon, 0, 1e-9);
}

TEST(Course, ProjectWithinAWindow) {
  const Course c({{0, 0}, {0, 0.01}, {0, 0.03}});
  // 0.001 deg north of the point at 0.015 deg east: 1.5 * 1113.19 m along, 110.57 m off
  // (0.001 deg of meridian arc at the equator).
  const GeoPoint p{0.001, 0.015};
  const double along = 1.5 * kCentiDegreeM;  // 1669.79
  auto pr = c.project(p, 0, c.length_m());
  EXPECT_NEAR(pr.along_m, along, 0.01);
  EXPECT_NEAR(pr.offset_m, 110.574, 0.01);
  // A window after the nearest point: the nearest is the window's start, at 2000 m:
  // sqrt(330.21^2 + 110.57^2) = 348.23 m away.
  pr = c.project(p, 2000, 3000);
  EXPECT_NEAR(pr.along_m, 2000, 1e-9);
  EXPECT_NEAR(pr.offset_m, 348.23, 0.05);
  // A window before it: its end, 1000 m, 669.79 m back: sqrt(669.79^2 + 110.57^2) = 678.86.
  pr = c.project(p, 0, 1000);
  EXPECT_NEAR(pr.along_m, 1000, 1e-9);
  EXPECT_NEAR(pr.offset_m, 678.86, 0.05);
}

TEST(Course, ProjectOnALapCourseFindsTheLapInTheWindow) {
  const Course c = square_loop(3);
  const double lap = c.lap_length_m();
  const GeoPoint mid_first_side{0, 0.005};
  for (int k = 0; k < 3; ++k) {
    const auto pr = c.project(mid_first_side, lap * k, lap * (k + 1));
    EXPECT_NEAR(pr.along_m, lap * k + 0.5 * kCentiDegreeM, 0.01) << "lap " << k;
    EXPECT_NEAR(pr.offset_m, 0, 0.01) << "lap " << k;
  }
}

TEST(Course, PassesOncePerLap) {
  const Course c = square_loop(3);
  const double lap = c.lap_length_m();
  // 20 m north of the middle of the first side.
  const std::vector<double> passes = c.passes({20 / 110574.3, 0.005}, 50);
  ASSERT_EQ(passes.size(), 3u);
  for (int k = 0; k < 3; ++k)
    EXPECT_NEAR(passes[k], lap * k + 0.5 * kCentiDegreeM, 0.01);
  EXPECT_TRUE(c.passes({0.005, 0.005}, 50).empty());  // the middle of the square
  // The start/finish is passed at the start, after each lap and at the finish.
  const std::vector<double> start = c.passes({0, 0}, 30);
  ASSERT_EQ(start.size(), 4u);
  for (int k = 0; k <= 3; ++k)
    EXPECT_NEAR(start[k], lap * k, 0.01);
  // An out-and-back line passes the same point twice.
  const Course out_back({{0, 0}, {0, 0.01}, {0.0001, 0.01}, {0.0001, 0}});
  const std::vector<double> twice = out_back.passes({0.00005, 0.004}, 20);
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_NEAR(twice[0], 0.4 * kCentiDegreeM, 0.01);
  EXPECT_NEAR(twice[1], kCentiDegreeM + 11.057 + 0.6 * kCentiDegreeM, 0.05);
}
