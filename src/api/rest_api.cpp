#include "api/rest_api.hpp"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "push/live_view.hpp"
#include "results/results_report.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;
constexpr std::uint32_t kMaxPage = 500;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

HttpResponse proto_json(const HttpRequest& request, const google::protobuf::Message& message) {
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(message, &body);
  return json_response(request, http::status::ok, std::move(body));
}

// A query number in [0, max]: nullopt and `error` set when malformed.
std::optional<std::uint32_t> query_number(const std::map<std::string, std::string, std::less<>>& q,
                                          std::string_view name, std::uint32_t fallback,
                                          std::uint32_t max, std::string& error) {
  auto it = q.find(name);
  if (it == q.end()) return fallback;
  std::uint32_t v = 0;
  const std::string& s = it->second;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > max) {
    error = std::string(name) + " must be a whole number 0.." + std::to_string(max) + ", not \"" +
            s + "\"";
    return std::nullopt;
  }
  return v;
}

json::value event_json(const RestContext& c) {
  const Event& event = c.engine.event();
  json::object out;
  out["id"] = event.id;
  out["name"] = event.name;
  out["utc_offset_minutes"] = event.utc_offset_minutes;
  json::array tps;
  for (const TimingPoint& tp : event.timing_points) {
    tps.push_back(json::object{
        {"id", tp.id}, {"name", tp.name}, {"lat", tp.position.lat}, {"lon", tp.position.lon}});
  }
  out["timing_points"] = std::move(tps);
  json::array landmarks;
  for (const Landmark& l : event.landmarks) {
    landmarks.push_back(
        json::object{{"name", l.name}, {"lat", l.position.lat}, {"lon", l.position.lon}});
  }
  out["landmarks"] = std::move(landmarks);
  json::array races;
  for (RaceIndex r = 0; r < event.races.size(); ++r) {
    const Race& race = event.races[r];
    json::object jr;
    jr["id"] = race.id;
    jr["name"] = race.name;
    jr["distance_m"] = race.distance_m;
    jr["gun_time_ms"] = race.gun_time;
    jr["rank_by"] = std::string(to_string(race.rank_by));
    json::array splits;
    for (const Split& s : race.splits) {
      splits.push_back(json::object{{"id", s.id},
                                    {"timing_point_id", event.timing_points[s.timing_point].id},
                                    {"distance_m", s.distance_m}});
    }
    jr["splits"] = std::move(splits);
    json::array waves;
    for (const Wave& w : race.waves)
      waves.push_back(json::object{{"id", w.id}, {"gun_time_ms", w.gun_time}});
    jr["waves"] = std::move(waves);
    json::array categories;
    for (const std::string& cat : c.engine.categories(r))
      categories.push_back(json::value(cat));
    jr["categories"] = std::move(categories);
    // GeoJSON: one lap of the course ([lon, lat] pairs), run `laps` times.
    json::array coordinates;
    for (const GeoPoint& p : race.course.points())
      coordinates.push_back(json::array{p.lon, p.lat});
    jr["course"] = json::object{
        {"type", "Feature"},
        {"properties",
         json::object{{"laps", race.course.laps()}, {"lap_length_m", race.course.lap_length_m()}}},
        {"geometry",
         json::object{{"type", "LineString"}, {"coordinates", std::move(coordinates)}}}};
    races.push_back(std::move(jr));
  }
  out["races"] = std::move(races);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// A runner's status as the public sees it: not started while the live gate hides the race.
RunnerStatus status_shown(const RestContext& c, RunnerIndex r) {
  if (c.hub.race_gated(c.engine.event().participants[r].race)) return RunnerStatus::not_started;
  return c.engine.status(r);
}

json::value participants_json(const RestContext& c, std::string_view query, std::size_t limit) {
  const Event& event = c.engine.event();
  const std::string q = lower(query);
  json::array found;
  for (RunnerIndex r = 0; r < event.participants.size() && found.size() < limit; ++r) {
    const Participant& p = event.participants[r];
    const bool match = q.empty() || p.bib == query ||
                       lower(p.first_name + " " + p.last_name).find(q) != std::string::npos ||
                       lower(p.last_name + " " + p.first_name).find(q) != std::string::npos;
    if (!match) continue;
    found.push_back(json::object{{"bib", p.bib},
                                 {"name", p.display_name()},
                                 {"country", p.country},
                                 {"gender", std::string(to_string(p.gender))},
                                 {"category", p.category},
                                 {"race_id", event.races[p.race].id},
                                 {"status", std::string(to_string(status_shown(c, r)))}});
  }
  return json::object{{"participants", std::move(found)}};
}

}  // namespace

std::map<std::string, std::string, std::less<>> parse_query(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    const auto eq = item.find('=');
    if (!item.empty()) {
      out[percent_decode(item.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

HttpResponse handle_client_config(const HttpRequest& request, const ClientConfig& config) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                              "/api/v1/config is read-only: use GET");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  json::object body;
  if (config.map_tiles_url.empty()) {
    body["map_tiles"] = nullptr;
  } else {
    body["map_tiles"] =
        json::object{{"url", config.map_tiles_url}, {"attribution", config.map_attribution}};
  }
  return json_response(request, http::status::ok, json::serialize(body));
}

HttpResponse handle_rest(const HttpRequest& request, const RestContext& c) {
  const std::string_view target = request.target();
  const auto question = target.find('?');
  const std::string path = percent_decode(target.substr(0, question));
  const auto q = parse_query(question == std::string_view::npos ? "" : target.substr(question + 1));
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                              path + " is read-only: use GET");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  const Event& event = c.engine.event();
  std::string error;
  auto bad_request = [&](std::string message) {
    return error_response(request, http::status::bad_request, "invalid_parameter", message);
  };
  const std::string_view p = path;
  if (p == "/api/v1/event")
    return json_response(request, http::status::ok, json::serialize(event_json(c)));
  if (p == "/api/v1/participants") {
    const auto limit = query_number(q, "limit", 20, kMaxPage, error);
    if (!limit) return bad_request(error);
    auto it = q.find("q");
    return json_response(
        request, http::status::ok,
        json::serialize(participants_json(c, it == q.end() ? "" : it->second, *limit)));
  }
  if (p.starts_with("/api/v1/standings/")) {
    const std::string race_id(p.substr(std::string_view("/api/v1/standings/").size()));
    auto race = event.race_by_id.find(race_id);
    if (race == event.race_by_id.end()) {
      return error_response(request, http::status::not_found, "unknown_race",
                            "no race \"" + race_id + "\"");
    }
    auto cat = q.find("category");
    const std::string category =
        cat == q.end() || cat->second.empty() ? std::string(RaceEngine::kOverall) : cat->second;
    if (!c.catalog.categories(race->second).contains(category)) {
      return error_response(request, http::status::not_found, "unknown_category",
                            "race \"" + race_id + "\" has no category \"" + category + "\"");
    }
    const auto offset = query_number(q, "offset", 0, UINT32_MAX, error);
    if (!offset) return bad_request(error);
    const auto limit = query_number(q, "limit", 50, kMaxPage, error);
    if (!limit) return bad_request(error);
    if (c.hub.race_gated(race->second)) {
      return proto_json(request, make_standings_before_gun(c.engine, race->second, category,
                                                           *offset, c.hub.version()));
    }
    return proto_json(request, make_standings(c.engine, race->second, category, *offset, *limit,
                                              c.hub.version()));
  }
  if (p.starts_with("/api/v1/leaders/")) {
    const std::string race_id(p.substr(std::string_view("/api/v1/leaders/").size()));
    auto race = event.race_by_id.find(race_id);
    if (race == event.race_by_id.end()) {
      return error_response(request, http::status::not_found, "unknown_race",
                            "no race \"" + race_id + "\"");
    }
    if (c.hub.race_gated(race->second)) {
      v1::PassingBatch none;
      none.set_snapshot(true);
      return proto_json(request, none);
    }
    return proto_json(request, make_split_leaders(c.engine, race->second));
  }
  if (p.starts_with("/api/v1/runners/")) {
    const std::string bib(p.substr(std::string_view("/api/v1/runners/").size()));
    auto runner = event.participant_by_bib.find(bib);
    if (runner == event.participant_by_bib.end()) {
      return error_response(request, http::status::not_found, "unknown_bib",
                            "no runner with bib \"" + bib + "\"");
    }
    if (c.hub.race_gated(event.participants[runner->second].race))
      return proto_json(request, make_runner_detail_before_gun(c.engine, runner->second));
    return proto_json(request, make_runner_detail(c.engine, runner->second, c.hub.race_clock()));
  }
  if (p == "/api/v1/passings") {
    TimingPointIndex tp = kNoIndex;
    if (auto it = q.find("timing_point"); it != q.end() && !it->second.empty()) {
      auto found = event.find_timing_point(it->second);
      if (!found) {
        return error_response(request, http::status::not_found, "unknown_timing_point",
                              "no timing point \"" + it->second + "\"");
      }
      tp = *found;
    }
    const auto limit = query_number(q, "limit", 50, kMaxPage, error);
    if (!limit) return bad_request(error);
    v1::PassingBatch batch;
    batch.set_snapshot(true);
    for (v1::Passing& passing : c.hub.recent_passings(tp, *limit))
      *batch.add_passings() = std::move(passing);
    return proto_json(request, batch);
  }
  if (p == "/api/v1/results.csv") {
    ReportOptions options;
    if (auto it = q.find("race"); it != q.end()) {
      if (!event.race_by_id.contains(it->second)) {
        return error_response(request, http::status::not_found, "unknown_race",
                              "no race \"" + it->second + "\"");
      }
      options.race = it->second;
    }
    if (auto it = q.find("category"); it != q.end() && !it->second.empty())
      options.category = it->second;
    for (RaceIndex r = 0; r < event.races.size(); ++r) {
      if (c.hub.race_gated(r)) options.left_out.push_back(event.races[r].id);
    }
    HttpResponse res{http::status::ok, request.version()};
    res.set(http::field::server, "splitstream");
    res.set(http::field::content_type, "text/csv; charset=utf-8");
    res.set(http::field::content_disposition,
            "attachment; filename=\"" + event.id + "-results.csv\"");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(request.keep_alive());
    res.body() = results_csv(c.engine, options);
    res.prepare_payload();
    return res;
  }
  return error_response(request, http::status::not_found, "not_found",
                        "no resource at " + path + " (see docs/api.md)");
}

}  // namespace splitstream
