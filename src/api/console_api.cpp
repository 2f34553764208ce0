#include "api/console_api.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <optional>
#include <string>

#include "api/rest_api.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;
using Query = std::map<std::string, std::string, std::less<>>;

constexpr std::int64_t kMaxMarginS = 24 * 3600;
constexpr std::int64_t kDefaultMarginS = 300;

// A query parameter's problem: the 400 answer names it.
struct BadParameter {
  std::string message;
};

// A whole number in [min, max], `fallback` when absent.
std::optional<std::int64_t> whole_number(const Query& q, std::string_view name,
                                         std::int64_t fallback, std::int64_t min, std::int64_t max,
                                         std::string_view unit, std::optional<BadParameter>& bad) {
  const auto it = q.find(name);
  if (it == q.end()) return fallback;
  const std::string& s = it->second;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    bad = BadParameter{std::string(name) + " must be a whole number of " + std::string(unit) +
                       " from " + std::to_string(min) + " to " + std::to_string(max) + ", not \"" +
                       s + "\""};
    return std::nullopt;
  }
  return v;
}

// `race=ID`: kNoIndex when absent or empty (unless required).
std::optional<RaceIndex> race_parameter(const Query& q, const Event& event, bool required,
                                        std::optional<BadParameter>& bad) {
  const auto it = q.find("race");
  if (it == q.end() || it->second.empty()) {
    if (required) {
      bad = BadParameter{"race is required (a race id of the event)"};
      return std::nullopt;
    }
    return kNoIndex;
  }
  const auto race = event.race_by_id.find(it->second);
  if (race == event.race_by_id.end()) {
    bad = BadParameter{"race: the event has no race \"" + it->second + "\""};
    return std::nullopt;
  }
  return race->second;
}

json::value time_or_null(TimeMs t) {
  return t == kNoTime ? json::value(nullptr) : json::value(t);
}

json::value split_id(const Race& race, std::optional<std::size_t> s) {
  return s ? json::value(race.splits[*s].id) : json::value(nullptr);
}

void put_counts(json::object& o, const StatusCounts& c) {
  o["entered"] = c.entered;
  o["started"] = c.started;
  o["on_course"] = c.on_course;
  o["finished"] = c.finished;
  o["dnf"] = c.dnf;
  o["dsq"] = c.dsq;
  o["dns"] = c.dns;
  o["not_yet_seen"] = c.not_yet_seen;
}

json::value overview_json(const ConsoleContext& c, TimeMs now) {
  json::array races;
  for (const RaceOverview& ro : race_overview(c.engine, now, c.options)) {
    const Race& race = c.event.races[ro.race];
    json::object r;
    r["race"] = race.id;
    r["name"] = race.name;
    r["gun_ms"] = ro.gun;
    put_counts(r, ro.counts);
    json::array waves;
    for (const WaveOverview& wo : ro.waves) {
      json::object w;
      w["wave"] = race.waves[wo.wave].id;
      w["gun_ms"] = wo.gun;
      put_counts(w, wo.counts);
      waves.push_back(std::move(w));
    }
    r["waves"] = std::move(waves);
    races.push_back(std::move(r));
  }
  return json::object{{"now_ms", now}, {"races", std::move(races)}};
}

json::value overdue_json(const ConsoleContext& c, TimeMs now, RaceIndex race_filter,
                         std::int64_t margin_s) {
  json::array runners;
  for (const OverdueRunner& o :
       overdue_runners(c.engine, now, margin_s * 1000, race_filter, c.options)) {
    const Participant& p = c.event.participants[o.runner];
    const Race& race = c.event.races[p.race];
    const std::uint32_t place = c.engine.split_rank(o.runner, o.last_split);
    json::object r;
    r["bib"] = p.bib;
    r["name"] = p.display_name();
    r["race"] = race.id;
    r["last_split"] = race.splits[o.last_split].id;
    r["last_seen_ms"] = o.last_seen;
    r["last_timing_point"] = c.event.timing_points[race.splits[o.last_split].timing_point].id;
    r["last_place"] = place == 0 ? json::value(nullptr) : json::value(place);
    r["next_split"] = race.splits[o.next_split].id;
    r["expected_ms"] = o.expected;
    r["overdue_ms"] = o.overdue_by;
    runners.push_back(std::move(r));
  }
  return json::object{{"now_ms", now}, {"margin_s", margin_s}, {"runners", std::move(runners)}};
}

json::value sweep_json(const ConsoleContext& c, TimeMs now, RaceIndex ri,
                       std::optional<std::size_t> split) {
  const Race& race = c.event.races[ri];
  if (!split) {
    json::array splits;
    const auto counts = sweep_counts(c.engine, ri);
    for (std::size_t s = 0; s < counts.size(); ++s) {
      splits.push_back(
          json::object{{"split", race.splits[s].id},
                       {"timing_point", c.event.timing_points[race.splits[s].timing_point].id},
                       {"passed", counts[s].passed},
                       {"still_out", counts[s].still_out}});
    }
    return json::object{{"race", race.id}, {"splits", std::move(splits)}};
  }
  const SweepReport report = sweep(c.engine, ri, *split, now, c.options);
  json::array runners;
  for (const SweepRunner& sr : report.runners) {
    const Participant& p = c.event.participants[sr.runner];
    runners.push_back(json::object{{"bib", p.bib},
                                   {"name", p.display_name()},
                                   {"last_split", race.splits[sr.last_split].id},
                                   {"last_seen_ms", sr.last_seen},
                                   {"eta_ms", sr.eta}});
  }
  json::object out;
  out["now_ms"] = now;
  out["race"] = race.id;
  out["split"] = race.splits[*split].id;
  out["timing_point"] = c.event.timing_points[race.splits[*split].timing_point].id;
  out["passed"] = report.passed;
  out["expected"] = report.runners.size();
  out["runners"] = std::move(runners);
  return out;
}

json::value cutoffs_json(const ConsoleContext& c, TimeMs now, RaceIndex race_filter) {
  json::array cutoffs;
  for (const CutoffReport& report : cutoff_report(c.engine, now, c.options)) {
    if (race_filter != kNoIndex && report.race != race_filter) continue;
    const Race& race = c.event.races[report.race];
    json::array missing;
    for (const CutoffMiss& m : report.projected_to_miss) {
      const Participant& p = c.event.participants[m.runner];
      missing.push_back(json::object{{"bib", p.bib},
                                     {"name", p.display_name()},
                                     {"eta_ms", m.eta},
                                     {"last_split", race.splits[m.last_split].id}});
    }
    json::object o;
    o["race"] = race.id;
    o["split"] = race.splits[report.split].id;
    o["wave"] =
        report.wave == kNoIndex ? json::value(nullptr) : json::value(race.waves[report.wave].id);
    o["cutoff_ms"] = report.cutoff;
    o["passed"] = report.passed;
    o["passed_late"] = report.passed_late;
    o["projected_to_miss"] = std::move(missing);
    cutoffs.push_back(std::move(o));
  }
  return json::object{{"now_ms", now}, {"cutoffs", std::move(cutoffs)}};
}

json::value review_json(const ConsoleContext& c) {
  json::array runners;
  for (const ReviewEntry& entry : review_queue(c.engine)) {
    const RunnerIndex r = entry.runner;
    const Participant& p = c.event.participants[r];
    const Race& race = c.event.races[p.race];
    json::array flags;
    for (const Flag& f : c.engine.splits(r).flags) {
      json::object o;
      if (f.kind == FlagKind::missed_mats) {
        o["kind"] = "missed_mats";
        o["from"] = race.splits[f.split_from].id;
        o["to"] = race.splits[f.split_to].id;
      } else {
        o["kind"] = "implausible_split";
        o["from"] = split_id(race, flag_previous_split(c.engine, r, f));
        o["to"] = race.splits[f.split_from].id;
      }
      o["text"] = flag_text(c.engine, r, f, c.utc_offset_minutes);
      flags.push_back(std::move(o));
    }
    json::array splits;
    for (std::size_t s = 0; s < race.splits.size(); ++s) {
      const auto gun_time = c.engine.gun_time_at(r, s);
      const std::uint32_t rank = c.engine.split_rank(r, s);
      splits.push_back(
          json::object{{"split", race.splits[s].id},
                       {"timing_point", c.event.timing_points[race.splits[s].timing_point].id},
                       {"time_ms", time_or_null(c.engine.splits(r).times[s])},
                       {"gun_time_ms", gun_time ? json::value(*gun_time) : json::value(nullptr)},
                       {"rank", rank == 0 ? json::value(nullptr) : json::value(rank)}});
    }
    json::array reads;
    for (const ReviewRead& read : entry.reads) {
      reads.push_back(
          json::object{{"timing_point", c.event.timing_points[read.timing_point].id},
                       {"time_ms", read.time},
                       {"chip", read.chip.empty() ? json::value(nullptr) : json::value(read.chip)},
                       {"voided", read.voided},
                       {"used_for", split_id(race, read.used_for)}});
    }
    json::array voids;
    for (const VoidWindow& v : entry.voids) {
      voids.push_back(json::object{{"timing_point", c.event.timing_points[v.timing_point].id},
                                   {"from_ms", v.from},
                                   {"to_ms", v.to}});
    }
    json::object o;
    o["bib"] = p.bib;
    o["name"] = p.display_name();
    o["race"] = race.id;
    o["status"] = std::string(to_string(c.engine.status(r)));
    o["flags"] = std::move(flags);
    o["splits"] = std::move(splits);
    o["reads"] = std::move(reads);
    o["voids"] = std::move(voids);
    runners.push_back(std::move(o));
  }
  return json::object{{"runners", std::move(runners)}};
}

json::value unknown_chips_json(const ConsoleContext& c) {
  json::array chips;
  for (const UnknownChipReads& u : unknown_chip_reads(c.engine)) {
    json::array reads;
    for (const ChipRead& read : u.reads) {
      reads.push_back(json::object{{"timing_point", c.event.timing_points[read.timing_point].id},
                                   {"time_ms", read.time}});
    }
    chips.push_back(json::object{{"chip", u.chip},
                                 {"reads", std::move(reads)},
                                 {"first_seen_ms", u.first_seen},
                                 {"last_seen_ms", u.last_seen}});
  }
  return json::object{{"chips", std::move(chips)}};
}

json::value expecting_json(const ConsoleContext& c, TimeMs now) {
  json::array points;
  const auto expected = runners_expected_at(c.engine, now);
  for (TimingPointIndex tp = 0; tp < expected.size(); ++tp) {
    points.push_back(
        json::object{{"timing_point", c.event.timing_points[tp].id}, {"expected", expected[tp]}});
  }
  return json::object{{"now_ms", now}, {"timing_points", std::move(points)}};
}

}  // namespace

HttpResponse handle_console(const HttpRequest& request, const ConsoleContext& c) {
  const std::string_view target = request.target();
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const Query q =
      parse_query(question == std::string_view::npos ? "" : target.substr(question + 1));
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                              std::string(path) + " is read-only: use GET");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  std::optional<BadParameter> bad;
  auto answer = [&](const json::value& body) {
    return json_response(request, http::status::ok, json::serialize(body));
  };
  auto bad_request = [&] {
    return error_response(request, http::status::bad_request, "invalid_parameter", bad->message);
  };
  // `now_ms` puts the console at another moment (a replay, a what-if); the server's clock
  // otherwise.
  const auto now = whole_number(q, "now_ms", 0, 0, INT64_MAX, "milliseconds", bad);
  if (!now) return bad_request();
  const TimeMs at = q.contains("now_ms") ? *now : c.clock();
  const std::string_view name =
      path.starts_with(kConsolePathPrefix) ? path.substr(kConsolePathPrefix.size()) : "";
  if (name == "overview") return answer(overview_json(c, at));
  if (name == "overdue") {
    const auto race = race_parameter(q, c.event, false, bad);
    if (!race) return bad_request();
    const auto margin =
        whole_number(q, "margin_s", kDefaultMarginS, 0, kMaxMarginS, "seconds", bad);
    if (!margin) return bad_request();
    return answer(overdue_json(c, at, *race, *margin));
  }
  if (name == "sweep") {
    const auto race = race_parameter(q, c.event, true, bad);
    if (!race) return bad_request();
    std::optional<std::size_t> split;
    if (const auto it = q.find("split"); it != q.end() && !it->second.empty()) {
      const Race& r = c.event.races[*race];
      for (std::size_t s = 0; s < r.splits.size(); ++s) {
        if (r.splits[s].id == it->second) split = s;
      }
      if (!split) {
        bad = BadParameter{"split: race \"" + r.id + "\" has no split \"" + it->second + "\""};
        return bad_request();
      }
    }
    return answer(sweep_json(c, at, *race, split));
  }
  if (name == "cutoffs") {
    const auto race = race_parameter(q, c.event, false, bad);
    if (!race) return bad_request();
    return answer(cutoffs_json(c, at, *race));
  }
  if (name == "review") return answer(review_json(c));
  if (name == "unknown-chips") return answer(unknown_chips_json(c));
  if (name == "expecting") return answer(expecting_json(c, at));
  return error_response(request, http::status::not_found, "not_found",
                        "no console resource at " + std::string(path) +
                            " (overview, overdue, sweep, cutoffs, review, unknown-chips, "
                            "expecting; see docs/api.md)");
}

TimeMs console_now(ConsoleClock mode, TimeMs wall, TimeMs race) {
  if (mode == ConsoleClock::race && race > 0) return race;
  if (mode == ConsoleClock::automatic && race > 0 && wall - race > kReplayLag) return race;
  return wall;
}

}  // namespace splitstream
