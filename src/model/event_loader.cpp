#include "model/event_loader.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/csv.hpp"
#include "core/json_locator.hpp"
#include "model/course_file.hpp"
#include "model/object_reader.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;

constexpr double kCourseTolerance = 0.01;       // course length vs race distance
constexpr double kTimingPointToleranceM = 150;  // course point at a split vs its mat
constexpr double kLapClosureToleranceM = 50;    // end of a lap line vs its start

// "4:30:00", as event.json writes a cut-off.
std::string format_cutoff(DurationMs d) {
  const std::string text = format_duration(d);  // "4:30:00.000"
  return text.substr(0, text.find('.'));
}

void parse_timing_points(const ObjectReader& root, const JsonLocator& loc, Event& event,
                         Diagnostics& out) {
  const json::array* tps = root.array("timing_points", true);
  if (!tps) return;
  for (std::size_t i = 0; i < tps->size(); ++i) {
    ObjectReader r((*tps)[i], element("timing_points", i), loc, out);
    if (!r.ok()) continue;
    r.reject_unknown({"id", "name", "lat", "lon", "read_rule", "dedup_s"});
    TimingPoint tp;
    auto id = r.id("id");
    auto pos = r.position();
    tp.name = r.string("name", false).value_or("");
    if (auto rule = r.string("read_rule", false)) {
      tp.read_rule = parse_read_rule(*rule);
      if (!tp.read_rule)
        r.problem("read_rule", "must be \"first\" or \"last\", not " + in_quotes(*rule));
    }
    if (auto dedup = r.number("dedup_s", false)) {
      if (*dedup < 0 || *dedup > 3600) {
        r.problem("dedup_s", "must be between 0 and 3600 seconds");
      } else {
        tp.dedup_ms = static_cast<DurationMs>(std::llround(*dedup * 1000));
      }
    }
    if (!id || !pos) continue;
    tp.id = *id;
    tp.position = *pos;
    if (tp.name.empty()) tp.name = tp.id;
    if (event.timing_point_by_id.count(tp.id)) {
      r.problem("id", "duplicate timing point id " + in_quotes(tp.id));
      continue;
    }
    event.timing_point_by_id.emplace(tp.id,
                                     static_cast<TimingPointIndex>(event.timing_points.size()));
    event.timing_points.push_back(std::move(tp));
  }
}

void check_course(const ObjectReader& r, Race& race, const Event& event) {
  const double length = race.course.length_m();
  if (std::abs(length - race.distance_m) > kCourseTolerance * race.distance_m) {
    char buf[160];
    std::snprintf(
        buf, sizeof buf,
        "course length %.0f m (%d lap%s) is off the race distance %.0f m by more than 1%%", length,
        race.course.laps(), race.course.laps() == 1 ? "" : "s", race.distance_m);
    r.problem("course", buf);
  }
  if (race.course.laps() > 1) {
    const auto& pts = race.course.points();
    const double gap = geodesic_distance_m(pts.front(), pts.back());
    if (gap > kLapClosureToleranceM) {
      r.problem("laps", "a lap course must be a closed loop, but its line ends " +
                            std::to_string(static_cast<int>(gap)) + " m from where it starts");
    }
  }
  for (std::size_t s = 0; s < race.splits.size(); ++s) {
    const Split& split = race.splits[s];
    const std::string f = "splits[" + std::to_string(s) + "].distance_m";
    if (split.distance_m > length * (1 + kCourseTolerance)) {
      r.problem(f, "split \"" + split.id + "\" at " +
                       std::to_string(static_cast<long>(split.distance_m)) +
                       " m lies beyond the course (" + std::to_string(static_cast<long>(length)) +
                       " m)");
      continue;
    }
    const TimingPoint& tp = event.timing_points[split.timing_point];
    // Where along the course near the split's distance does the line pass its mat?
    const auto near =
        race.course.project(tp.position, split.distance_m - 500, split.distance_m + 500);
    const double off = geodesic_distance_m(race.course.point_at(split.distance_m), tp.position);
    if (off > kTimingPointToleranceM) {
      char buf[240];
      std::snprintf(buf, sizeof buf,
                    "the course at %.0f m is %.0f m from timing point \"%s\" (the line passes it "
                    "closest at %.0f m, %.0f m away)",
                    split.distance_m, off, tp.id.c_str(), near.along_m, near.offset_m);
      r.problem(f, buf);
    }
  }
  const Split& finish = race.splits.back();
  // (A finish beyond the course was reported above.)
  if (race.splits.size() >= 2 && finish.distance_m < length * (1 - kCourseTolerance)) {
    r.problem("splits[" + std::to_string(race.splits.size() - 1) + "].distance_m",
              "the finish split is at " + std::to_string(static_cast<long>(finish.distance_m)) +
                  " m but the course is " + std::to_string(static_cast<long>(length)) + " m long");
  }
}

// Races with problems are left out of `event`; their ids go to `rejected`.
void parse_races(const ObjectReader& root, const JsonLocator& loc, const FileReader& read_file,
                 Event& event, std::vector<std::string>& rejected, Diagnostics& out) {
  const json::array* races = root.array("races", true);
  if (!races) return;
  if (races->empty()) root.problem("races", "an event needs at least one race");
  for (std::size_t i = 0; i < races->size(); ++i) {
    const std::string path = element("races", i);
    ObjectReader r((*races)[i], path, loc, out);
    if (!r.ok()) continue;
    r.reject_unknown({"id", "name", "distance_m", "gun_time", "rank_by", "course", "laps",
                      "max_speed_mps", "splits", "waves"});
    Race race;
    bool good = true;
    auto id = r.id("id");
    race.name = r.string("name", false).value_or("");
    auto distance = r.number("distance_m", true);
    auto gun = r.time("gun_time", true);
    good = id && distance && gun;
    if (distance && *distance <= 0) {
      r.problem("distance_m", "must be positive");
      good = false;
    }
    if (auto rank_by = r.string("rank_by", false)) {
      auto rb = parse_rank_by(*rank_by);
      if (!rb) {
        r.problem("rank_by", "must be \"gun\" or \"chip\", not " + in_quotes(*rank_by));
      } else {
        race.rank_by = *rb;
      }
    }
    race.max_speed_mps = event.max_speed_mps;
    if (auto v = r.number("max_speed_mps", false)) {
      if (*v <= 0) {
        r.problem("max_speed_mps", "must be positive");
      } else {
        race.max_speed_mps = *v;
      }
    }
    int laps = 1;
    if (auto l = r.number("laps", false)) {
      if (*l < 1 || *l != std::floor(*l) || *l > 1000) {
        r.problem("laps", "must be a whole number from 1");
      } else {
        laps = static_cast<int>(*l);
      }
    }
    if (id) race.id = *id;
    if (race.name.empty()) race.name = race.id;
    if (distance) race.distance_m = *distance;
    if (gun) race.gun_time = *gun;
    if (id && event.race_by_id.count(race.id)) {
      r.problem("id", "duplicate race id " + in_quotes(race.id));
      good = false;
    }
    // Course.
    bool have_course = false;
    if (auto course = r.string("course", true)) {
      auto text = read_file(*course);
      if (!text) {
        r.problem("course", "cannot read course file " + in_quotes(*course));
      } else {
        CourseLine line = parse_course_line(*course, *text);
        if (!line.error.empty()) {
          r.problem("course", *course + ": " + line.error);
        } else {
          race.course = Course(std::move(line.points), laps);
          have_course = true;
        }
      }
    }
    // Waves.
    if (const json::array* waves = r.array("waves", false)) {
      for (std::size_t w = 0; w < waves->size(); ++w) {
        ObjectReader wr((*waves)[w], element(path + ".waves", w), loc, out);
        if (!wr.ok()) continue;
        wr.reject_unknown({"id", "gun_time"});
        auto wid = wr.id("id");
        auto wgun = wr.time("gun_time", true);
        if (!wid || !wgun) continue;
        if (race.wave_index(*wid) != kNoIndex) {
          wr.problem("id", "duplicate wave id " + in_quotes(*wid));
          continue;
        }
        race.waves.push_back({*wid, *wgun});
      }
    }
    // Splits.
    const json::array* splits = r.array("splits", true);
    bool splits_ok = splits != nullptr;
    if (splits && splits->size() < 2) {
      r.problem("splits", "a race needs at least a start and a finish split");
      splits_ok = false;
    }
    std::set<std::string> split_ids;
    for (std::size_t s = 0; splits && s < splits->size(); ++s) {
      ObjectReader sr((*splits)[s], element(path + ".splits", s), loc, out);
      if (!sr.ok()) {
        splits_ok = false;
        continue;
      }
      sr.reject_unknown({"id", "timing_point", "distance_m", "read_rule", "cutoff"});
      Split split;
      auto sid = sr.id("id");
      auto tp_id = sr.string("timing_point", true);
      auto dist = sr.number("distance_m", true);
      std::optional<ReadRule> rule;
      if (auto rr = sr.string("read_rule", false)) {
        rule = parse_read_rule(*rr);
        if (!rule) sr.problem("read_rule", "must be \"first\" or \"last\", not " + in_quotes(*rr));
      }
      std::optional<DurationMs> cutoff;
      if (auto text = sr.string("cutoff", false)) {
        cutoff = parse_cutoff(*text);
        if (!cutoff || *cutoff <= 0) {
          sr.problem("cutoff", "bad cut-off " + in_quotes(*text) +
                                   " (H:MM:SS after the runner's wave gun, e.g. \"4:30:00\")");
          cutoff.reset();
          splits_ok = false;
        }
      }
      if (!sid || !tp_id || !dist) {
        splits_ok = false;
        continue;
      }
      split.id = *sid;
      if (!split_ids.insert(split.id).second) {
        sr.problem("id", "duplicate split id " + in_quotes(split.id));
        splits_ok = false;
      }
      auto tp = event.find_timing_point(*tp_id);
      if (!tp) {
        sr.problem("timing_point", "unknown timing point " + in_quotes(*tp_id));
        splits_ok = false;
        continue;
      }
      split.timing_point = *tp;
      split.distance_m = *dist;
      if (s == 0 && split.distance_m != 0) {
        sr.problem("distance_m", "the first split is the start and must be at distance 0");
        splits_ok = false;
      }
      if (!race.splits.empty() && split.distance_m <= race.splits.back().distance_m) {
        sr.problem("distance_m",
                   "splits out of order: " + in_quotes(split.id) + " at " +
                       std::to_string(static_cast<long>(split.distance_m)) + " m is not after " +
                       in_quotes(race.splits.back().id) + " at " +
                       std::to_string(static_cast<long>(race.splits.back().distance_m)) + " m");
        splits_ok = false;
      }
      split.cutoff = cutoff;
      if (cutoff) {
        // A later split cannot close before an earlier one.
        for (const Split& before : race.splits) {
          if (before.cutoff && *before.cutoff > *cutoff) {
            sr.problem("cutoff", "cut-off " + format_cutoff(*cutoff) + " at " +
                                     in_quotes(split.id) + " is before the cut-off " +
                                     format_cutoff(*before.cutoff) + " of the earlier split " +
                                     in_quotes(before.id));
            splits_ok = false;
            break;
          }
        }
      }
      const TimingPoint& point = event.timing_points[split.timing_point];
      split.read_rule = rule              ? *rule
                        : point.read_rule ? *point.read_rule
                        : s == 0          ? ReadRule::last
                                          : ReadRule::first;
      race.splits.push_back(std::move(split));
    }
    if (splits_ok && have_course && good) check_course(r, race, event);
    if (!good || !splits_ok || !have_course) {
      if (id && !event.race_by_id.count(race.id)) rejected.push_back(race.id);
      continue;
    }
    event.race_by_id.emplace(race.id, static_cast<RaceIndex>(event.races.size()));
    event.races.push_back(std::move(race));
  }
}

void parse_devices(const ObjectReader& root, const JsonLocator& loc, Event& event,
                   Diagnostics& out) {
  const json::array* devices = root.array("devices", false);
  if (!devices) return;
  for (std::size_t i = 0; i < devices->size(); ++i) {
    ObjectReader r((*devices)[i], element("devices", i), loc, out);
    if (!r.ok()) continue;
    r.reject_unknown({"id", "timing_point", "line"});
    auto id = r.id("id");
    auto tp_id = r.string("timing_point", true);
    Device d;
    if (auto line = r.string("line", false)) {
      auto l = parse_line(*line);
      if (!l || *line == "") {
        r.problem("line", "must be \"main\" or \"backup\", not " + in_quotes(*line));
      } else {
        d.line = *l;
      }
    }
    if (!id || !tp_id) continue;
    auto tp = event.find_timing_point(*tp_id);
    if (!tp) {
      r.problem("timing_point", "unknown timing point " + in_quotes(*tp_id));
      continue;
    }
    if (event.device_by_id.count(*id)) {
      r.problem("id", "duplicate device id " + in_quotes(*id));
      continue;
    }
    d.id = *id;
    d.timing_point = *tp;
    event.device_by_id.emplace(d.id, static_cast<std::uint32_t>(event.devices.size()));
    event.devices.push_back(std::move(d));
  }
}

}  // namespace

void parse_participants(std::string_view csv, Event& event, Diagnostics& out,
                        const std::string& file, const std::vector<std::string>& rejected_races) {
  CsvReader reader(csv);
  CsvRow row;
  std::string error;
  if (!reader.next(row, error)) {
    out.push_back({file, 0, "", "the file is empty; it needs a header line"});
    return;
  }
  const CsvHeader header(row.fields);
  struct Column {
    const char* name;
    bool required;
    std::optional<std::size_t> index;
  };
  Column cols[] = {{"bib", true, {}},       {"chip", true, {}},   {"first_name", true, {}},
                   {"last_name", true, {}}, {"gender", true, {}}, {"birth_year", true, {}},
                   {"country", true, {}},   {"race", true, {}},   {"wave", false, {}},
                   {"category", false, {}}};
  bool header_ok = true;
  for (Column& c : cols) {
    c.index = header.find(c.name);
    if (!c.index && c.required) {
      out.push_back({file, row.line, c.name, "required column is missing from the header"});
      header_ok = false;
    }
  }
  if (!header_ok) return;
  auto value = [&](const CsvRow& r, int col) -> std::string_view {
    const auto& idx = cols[col].index;
    return idx && *idx < r.fields.size() ? std::string_view(r.fields[*idx]) : std::string_view();
  };
  std::unordered_map<std::string, std::size_t> bib_line, chip_line;
  std::unordered_map<std::string, std::string> chip_bib;
  while (reader.next(row, error)) {
    if (!error.empty()) {
      out.push_back({file, row.line, "", error});
      continue;
    }
    if (row.fields.size() != header.size()) {
      out.push_back({file, row.line, "",
                     "expected " + std::to_string(header.size()) + " fields, found " +
                         std::to_string(row.fields.size())});
      continue;
    }
    const std::size_t problems_before = out.size();
    auto problem = [&](const char* field, std::string message) {
      out.push_back({file, row.line, field, std::move(message)});
    };
    Participant p;
    p.bib = std::string(value(row, 0));
    if (p.bib.empty()) problem("bib", "bib is empty");
    if (auto it = bib_line.find(p.bib); !p.bib.empty() && it != bib_line.end()) {
      problem("bib", "duplicate bib " + in_quotes(p.bib) + " (also at line " +
                         std::to_string(it->second) + ")");
    }
    std::string_view chips = value(row, 1);
    while (!chips.empty()) {
      const auto cut = chips.find(';');
      const std::string_view chip = trim(chips.substr(0, cut));
      chips = cut == std::string_view::npos ? std::string_view() : chips.substr(cut + 1);
      if (chip.empty()) continue;
      std::string c(chip);
      if (auto it = chip_line.find(c); it != chip_line.end()) {
        problem("chip", "duplicate chip " + in_quotes(c) + " (also bib " + chip_bib[c] +
                            " at line " + std::to_string(it->second) + ")");
        continue;
      }
      p.chips.push_back(std::move(c));
    }
    if (p.chips.empty() && out.size() == problems_before) problem("chip", "no chip given");
    p.first_name = std::string(value(row, 2));
    p.last_name = std::string(value(row, 3));
    if (auto g = parse_gender(value(row, 4))) {
      p.gender = *g;
    } else {
      problem("gender", "must be M, F or X, not " + in_quotes(value(row, 4)));
    }
    if (std::string_view by = value(row, 5); !by.empty()) {
      int year = 0;
      const auto [ptr, ec] = std::from_chars(by.data(), by.data() + by.size(), year);
      if (ec != std::errc() || ptr != by.data() + by.size() || year < 1900 ||
          (event.year > 0 && year > event.year)) {
        problem("birth_year", "bad birth year " + in_quotes(by));
      } else {
        p.birth_year = year;
      }
    }
    p.country = std::string(value(row, 6));
    const std::string_view race_id = value(row, 7);
    bool race_rejected = false;
    if (auto it = event.race_by_id.find(std::string(race_id)); it != event.race_by_id.end()) {
      p.race = it->second;
      if (std::string_view wave = value(row, 8); !wave.empty()) {
        p.wave = event.races[p.race].wave_index(wave);
        if (p.wave == kNoIndex) {
          problem("wave", "unknown wave " + in_quotes(wave) + " in race " + in_quotes(race_id));
        }
      }
    } else if (std::find(rejected_races.begin(), rejected_races.end(), race_id) !=
               rejected_races.end()) {
      race_rejected = true;  // its problems are in event.json: not one more per runner
    } else {
      problem("race", "unknown race " + in_quotes(race_id));
    }
    p.category = std::string(value(row, 9));
    if (p.category.empty() && p.birth_year > 0 && event.year > 0) {
      p.category = age_group_label(p.gender, event.year - p.birth_year, event.age_group_bounds);
    }
    if (out.size() != problems_before) continue;
    bib_line.emplace(p.bib, row.line);
    for (const std::string& c : p.chips) {
      chip_line.emplace(c, row.line);
      chip_bib.emplace(c, p.bib);
    }
    if (race_rejected) continue;
    event.participants.push_back(std::move(p));
  }
}

LoadedEvent parse_event(std::string_view event_json, std::string_view participants_csv,
                        const FileReader& read_file) {
  LoadedEvent result;
  Event& event = result.event;
  Diagnostics& out = result.problems;
  const JsonLocator loc(event_json);
  if (!loc.ok()) {
    out.push_back({"event.json", loc.error_line(), "", "not valid JSON: " + loc.error()});
    return result;
  }
  boost::system::error_code ec;
  const json::value doc = json::parse(event_json, ec);
  if (ec) {
    out.push_back({"event.json", 0, "", "not valid JSON: " + ec.message()});
    return result;
  }
  const ObjectReader root(doc, "", loc, out);
  if (!root.ok()) return result;
  root.reject_unknown({"id", "name", "timezone", "year", "max_speed_mps", "age_groups", "landmarks",
                       "timing_points", "races", "devices", "$schema"});
  if (auto id = root.id("id")) event.id = *id;
  event.name = root.string("name", true).value_or("");
  if (auto tz = root.string("timezone", true)) {
    if (auto off = parse_utc_offset(*tz)) {
      event.utc_offset_minutes = *off;
    } else {
      root.problem("timezone", "bad UTC offset " + in_quotes(*tz) + " (e.g. \"+09:00\")");
    }
  }
  if (auto v = root.number("max_speed_mps", false)) {
    if (*v <= 0) {
      root.problem("max_speed_mps", "must be positive");
    } else {
      event.max_speed_mps = *v;
    }
  }
  event.age_group_bounds = default_age_group_bounds();
  if (const json::array* groups = root.array("age_groups", false)) {
    std::vector<int> bounds;
    bool ok = !groups->empty();
    for (const json::value& g : *groups) {
      if (!g.is_int64() || g.as_int64() < 0 || g.as_int64() > 150 ||
          (!bounds.empty() && g.as_int64() <= bounds.back())) {
        ok = false;
        break;
      }
      bounds.push_back(static_cast<int>(g.as_int64()));
    }
    if (!ok || bounds.front() != 0) {
      root.problem("age_groups", "must be ascending whole-number ages starting at 0");
    } else {
      event.age_group_bounds = std::move(bounds);
    }
  }
  if (const json::array* landmarks = root.array("landmarks", false)) {
    for (std::size_t i = 0; i < landmarks->size(); ++i) {
      ObjectReader r((*landmarks)[i], element("landmarks", i), loc, out);
      if (!r.ok()) continue;
      r.reject_unknown({"name", "lat", "lon"});
      auto name = r.string("name", true);
      auto pos = r.position();
      if (name && pos) event.landmarks.push_back({*name, *pos});
    }
  }
  parse_timing_points(root, loc, event, out);
  std::vector<std::string> rejected_races;
  parse_races(root, loc, read_file, event, rejected_races, out);
  parse_devices(root, loc, event, out);
  if (auto year = root.number("year", false)) {
    event.year = static_cast<int>(*year);
  } else if (!event.races.empty()) {
    event.year = civil_date(event.races.front().gun_time, event.utc_offset_minutes).year;
  }
  parse_participants(participants_csv, event, out, "participants.csv", rejected_races);
  event.reindex();
  return result;
}

std::optional<std::string> read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(ss).str();
}

LoadedEvent load_event_dir(const std::filesystem::path& dir) {
  LoadedEvent result;
  auto event_json = read_text_file(dir / "event.json");
  if (!event_json) {
    result.problems.push_back(
        {"event.json", 0, "", "cannot read " + (dir / "event.json").string()});
  }
  auto participants = read_text_file(dir / "participants.csv");
  if (!participants) {
    result.problems.push_back(
        {"participants.csv", 0, "", "cannot read " + (dir / "participants.csv").string()});
  }
  if (!result.ok()) return result;
  result = parse_event(*event_json, *participants, [&](std::string_view rel) {
    const std::filesystem::path p(rel);
    // Course files stay inside the event directory.
    if (p.is_absolute() || rel.find("..") != std::string_view::npos)
      return std::optional<std::string>();
    return read_text_file(dir / p);
  });
  std::error_code ec;
  if (std::filesystem::exists(dir / "decoders.json", ec)) {
    if (auto decoders = read_text_file(dir / "decoders.json")) {
      result.decoders = parse_decoders(*decoders, result.event, result.problems);
    } else {
      result.problems.push_back(
          {"decoders.json", 0, "", "cannot read " + (dir / "decoders.json").string()});
    }
  }
  return result;
}

}  // namespace splitstream
