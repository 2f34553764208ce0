#include "core/geo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace splitstream {
namespace {

constexpr double kA = 6378137.0;  // WGS84 semi-major axis (m)
constexpr double kF = 1 / 298.257223563;
constexpr double kB = kA * (1 - kF);
constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kMeanRadius = 6371008.8;

double spherical_distance_m(GeoPoint a, GeoPoint b) {
  const double dlat = (b.lat - a.lat) * kDeg;
  const double dlon = (b.lon - a.lon) * kDeg;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * kDeg) * std::cos(b.lat * kDeg) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kMeanRadius * std::asin(std::min(1.0, std::sqrt(h)));
}

// Local east/north metres of `p` relative to `origin`; exact enough for the few hundred metres
// of one course segment.
struct Local {
  double x, y;
};
Local to_local(GeoPoint origin, GeoPoint p) {
  const double lat0 = origin.lat * kDeg;
  // Radii of curvature of the ellipsoid at the origin's latitude.
  const double e2 = kF * (2 - kF);
  const double s = std::sin(lat0);
  const double w = std::sqrt(1 - e2 * s * s);
  const double n = kA / w;
  const double m = kA * (1 - e2) / (w * w * w);
  return {(p.lon - origin.lon) * kDeg * n * std::cos(lat0), (p.lat - origin.lat) * kDeg * m};
}

}  // namespace

double geodesic_distance_m(GeoPoint p1, GeoPoint p2) {
  if (p1.lat == p2.lat && p1.lon == p2.lon) return 0;
  const double l = (p2.lon - p1.lon) * kDeg;
  const double u1 = std::atan((1 - kF) * std::tan(p1.lat * kDeg));
  const double u2 = std::atan((1 - kF) * std::tan(p2.lat * kDeg));
  const double sin_u1 = std::sin(u1), cos_u1 = std::cos(u1);
  const double sin_u2 = std::sin(u2), cos_u2 = std::cos(u2);
  double lambda = l;
  for (int i = 0; i < 200; ++i) {
    const double sin_l = std::sin(lambda), cos_l = std::cos(lambda);
    const double sin_sigma = std::sqrt((cos_u2 * sin_l) * (cos_u2 * sin_l) +
                                       (cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l) *
                                           (cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l));
    if (sin_sigma == 0) return 0;
    const double cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l;
    const double sigma = std::atan2(sin_sigma, cos_sigma);
    const double sin_alpha = cos_u1 * cos_u2 * sin_l / sin_sigma;
    const double cos2_alpha = 1 - sin_alpha * sin_alpha;
    const double cos_2sm = cos2_alpha != 0 ? cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha : 0;
    const double c = kF / 16 * cos2_alpha * (4 + kF * (4 - 3 * cos2_alpha));
    const double previous = lambda;
    lambda =
        l + (1 - c) * kF * sin_alpha *
                (sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm * cos_2sm)));
    if (std::abs(lambda - previous) < 1e-12) {
      const double u_sq = cos2_alpha * (kA * kA - kB * kB) / (kB * kB);
      const double a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)));
      const double b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)));
      const double delta_sigma =
          b * sin_sigma *
          (cos_2sm +
           b / 4 *
               (cos_sigma * (-1 + 2 * cos_2sm * cos_2sm) -
                b / 6 * cos_2sm * (-3 + 4 * sin_sigma * sin_sigma) * (-3 + 4 * cos_2sm * cos_2sm)));
      return kB * a * (sigma - delta_sigma);
    }
  }
  return spherical_distance_m(p1, p2);
}

Course::Course(std::vector<GeoPoint> points, int laps) : points_(std::move(points)), laps_(laps) {
  if (laps_ < 1) laps_ = 1;
  cumulative_m_.reserve(points_.size());
  double total = 0;
  for (std::size_t i = 0; i < points_.size(); ++i) {
    if (i > 0) total += geodesic_distance_m(points_[i - 1], points_[i]);
    cumulative_m_.push_back(total);
  }
}

GeoPoint Course::point_at(double distance_m) const {
  if (points_.empty()) return {};
  if (points_.size() == 1 || lap_length_m() <= 0) return points_.front();
  double d = std::clamp(distance_m, 0.0, length_m());
  if (laps_ > 1) {
    d = std::fmod(d, lap_length_m());
    if (d == 0 && distance_m > 0) d = lap_length_m();
  }
  const auto it = std::upper_bound(cumulative_m_.begin(), cumulative_m_.end(), d);
  if (it == cumulative_m_.end()) return points_.back();
  const auto i = static_cast<std::size_t>(it - cumulative_m_.begin());  // segment [i-1, i]
  const double seg = cumulative_m_[i] - cumulative_m_[i - 1];
  const double f = seg > 0 ? (d - cumulative_m_[i - 1]) / seg : 0;
  const GeoPoint a = points_[i - 1], b = points_[i];
  return {a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f};
}

Course::Projection Course::project_on_segment(GeoPoint p, std::size_t i, double base_m) const {
  const double s0 = base_m + cumulative_m_[i - 1], s1 = base_m + cumulative_m_[i];
  const Local b = to_local(points_[i - 1], points_[i]);
  const Local q = to_local(points_[i - 1], p);
  const double len2 = b.x * b.x + b.y * b.y;
  const double f = len2 > 0 ? std::clamp((q.x * b.x + q.y * b.y) / len2, 0.0, 1.0) : 0.0;
  const double dx = q.x - b.x * f, dy = q.y - b.y * f;
  return {s0 + f * (s1 - s0), std::sqrt(dx * dx + dy * dy)};
}

Course::Projection Course::project(GeoPoint p, double from_m, double to_m) const {
  Projection best{0, std::numeric_limits<double>::infinity()};
  const double lap = lap_length_m();
  for (int l = 0; l < laps_ && points_.size() >= 2; ++l) {
    for (std::size_t i = 1; i < points_.size(); ++i) {
      const double base = lap * l;
      if (base + cumulative_m_[i] < from_m || base + cumulative_m_[i - 1] > to_m) continue;
      Projection pr = project_on_segment(p, i, base);
      if (pr.along_m < from_m || pr.along_m > to_m) {
        // The nearest point lies outside the window: use the window's end on this segment.
        const double along = std::clamp(pr.along_m, from_m, to_m);
        pr = {along, geodesic_distance_m(p, point_at(along))};
      }
      if (pr.offset_m < best.offset_m) best = pr;
    }
  }
  return best;
}

std::vector<double> Course::passes(GeoPoint p, double radius_m) const {
  // Each maximal run of consecutive segments that come within the radius is one pass.
  std::vector<double> result;
  bool inside = false;
  Projection best{0, std::numeric_limits<double>::infinity()};
  const double lap = lap_length_m();
  for (int l = 0; l < laps_ && points_.size() >= 2; ++l) {
    for (std::size_t i = 1; i < points_.size(); ++i) {
      const Projection pr = project_on_segment(p, i, lap * l);
      if (pr.offset_m <= radius_m) {
        if (!inside || pr.offset_m < best.offset_m) best = pr;
        inside = true;
      } else if (inside) {
        result.push_back(best.along_m);
        inside = false;
      }
    }
  }
  if (inside) result.push_back(best.along_m);
  return result;
}

}  // namespace splitstream
