#include "sim/vendor_plan.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace splitstream {
namespace {

struct Route {
  std::size_t decoder;
  std::string source;
};

// The decoder and source that cover `target`, by the preference make_vendor_plans documents.
std::optional<Route> route_of(const std::vector<DecoderConfig>& decoders,
                              DecoderProtocolKind protocol, TimingPointIndex tp, Line line) {
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t d = 0; d < decoders.size(); ++d) {
      const DecoderConfig& c = decoders[d];
      if (c.protocol != protocol) continue;
      if (pass < 2) {
        for (const auto& [name, target] : c.sources) {
          const bool line_ok = pass == 0 ? target.line == line : target.line == Line::unspecified;
          if (target.timing_point == tp && line_ok) return Route{d, name};
        }
      } else if (c.fallback && c.fallback->timing_point == tp &&
                 (c.fallback->line == line || c.fallback->line == Line::unspecified)) {
        // A fallback takes any name not listed: use one no source claims.
        std::string name = "fallback";
        while (c.sources.contains(name))
          name += "_";
        if (c.protocol == DecoderProtocolKind::impinj) name = "0";
        return Route{d, name};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<VendorPlan> make_vendor_plans(const ReplayPlan& plan, const Event& event,
                                          const std::vector<DecoderConfig>& decoders,
                                          DecoderProtocolKind protocol) {
  std::vector<VendorPlan> by_decoder(decoders.size());
  for (const DevicePlan& device : plan.devices) {
    for (const PlannedRead& read : device.reads) {
      const auto tp = event.find_timing_point(read.timing_point_id);
      if (!tp) throw std::runtime_error("unknown timing point \"" + read.timing_point_id + "\"");
      const auto route = route_of(decoders, protocol, *tp, read.line);
      if (!route) {
        throw std::runtime_error("no " + std::string(to_string(protocol)) +
                                 " decoder in decoders.json covers timing point \"" +
                                 read.timing_point_id + "\" line " +
                                 std::string(to_string(read.line)));
      }
      VendorPlan& p = by_decoder[route->decoder];
      p.decoder = &decoders[route->decoder];
      p.reads.push_back({read.time, read.chip, route->source});
    }
  }
  std::vector<VendorPlan> plans;
  for (VendorPlan& p : by_decoder) {
    if (!p.decoder) continue;
    std::stable_sort(p.reads.begin(), p.reads.end(),
                     [](const VendorRead& a, const VendorRead& b) { return a.time < b.time; });
    plans.push_back(std::move(p));
  }
  return plans;
}

std::int64_t decoder_local_civil_ms(const DecoderConfig& decoder, TimeMs utc) {
  return utc + std::int64_t{decoder.utc_offset_minutes} * 60'000;
}

std::int64_t decoder_time_of_day_ms(const DecoderConfig& decoder, TimeMs utc) {
  return decoder_local_civil_ms(decoder, utc) - decoder.date_base_days * 86'400'000;
}

}  // namespace splitstream
