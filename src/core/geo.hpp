// Geodesy on the WGS84 ellipsoid and courses as polylines measured along their length.
// Pure functions, no I/O: usable by the engine, the loader and the browser-facing shells alike.
#pragma once

#include <cstddef>
#include <vector>

namespace splitstream {

struct GeoPoint {
  double lat = 0;  // degrees north
  double lon = 0;  // degrees east
};

// Geodesic distance in metres on WGS84 (Vincenty's inverse formula; falls back to the
// spherical distance for the near-antipodal pairs where it does not converge).
double geodesic_distance_m(GeoPoint a, GeoPoint b);

// A course: a polyline run `laps` times. Distances are measured along the line.
class Course {
 public:
  Course() = default;
  Course(std::vector<GeoPoint> points, int laps = 1);

  const std::vector<GeoPoint>& points() const { return points_; }
  int laps() const { return laps_; }
  double lap_length_m() const { return cumulative_m_.empty() ? 0 : cumulative_m_.back(); }
  double length_m() const { return lap_length_m() * laps_; }
  bool empty() const { return points_.size() < 2; }

  // The point `distance_m` along the course (clamped to [0, length]); on a lap course the
  // distance wraps around the line.
  GeoPoint point_at(double distance_m) const;
  // Distance of `p` from the course line nearest to it, searching only the stretch
  // [from_m, to_m] of the whole course (laps unrolled). Returns {distance along, offset metres}.
  struct Projection {
    double along_m = 0;
    double offset_m = 0;
  };
  Projection project(GeoPoint p, double from_m, double to_m) const;
  // Every distance along the whole course where the line passes within `radius_m` of `p`
  // (one per pass: the nearest point of each stretch that comes that close).
  std::vector<double> passes(GeoPoint p, double radius_m) const;

 private:
  Projection project_on_segment(GeoPoint p, std::size_t segment_end, double base_m) const;

  std::vector<GeoPoint> points_;
  std::vector<double> cumulative_m_;  // distance from the first point to each point
  int laps_ = 1;
};

}  // namespace splitstream
