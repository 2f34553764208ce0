#include "api/correction_listing.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <vector>

#include "api/admin_api.hpp"
#include "api/rest_api.hpp"
#include "core/csv.hpp"
#include "core/time.hpp"

namespace splitstream {
namespace {

namespace json = boost::json;

bool matches(const CorrectionRecord& r, const CorrectionFilter& f) {
  if (!f.by.empty() && r.correction.by != f.by) return false;
  if (f.kind && r.correction.kind != *f.kind) return false;
  if (f.bib.empty()) return true;
  if (r.correction.bib == f.bib) return true;
  if (r.previous_holder && *r.previous_holder == f.bib) return true;
  for (const RunnerEffect& e : r.effect)
    if (e.bib == f.bib) return true;
  return false;
}

// The matching records, the last `limit` of them, oldest first.
std::vector<const CorrectionRecord*> select(const CorrectionLog& log, const CorrectionFilter& f) {
  std::vector<const CorrectionRecord*> out;
  const auto& records = log.records();
  for (auto it = records.rbegin(); it != records.rend() && out.size() < f.limit; ++it)
    if (matches(*it, f)) out.push_back(&*it);
  return {out.rbegin(), out.rend()};
}

json::object snapshot_object(const RunnerSnapshot& s) {
  json::object o;
  o["status"] = to_string(s.status);
  if (s.last_split.empty()) {
    o["last_split"] = nullptr;
  } else {
    o["last_split"] = s.last_split;
  }
  if (s.time) {
    o["time_ms"] = *s.time;
  } else {
    o["time_ms"] = nullptr;
  }
  if (s.rank) {
    o["rank"] = s.rank;
  } else {
    o["rank"] = nullptr;
  }
  return o;
}

json::value id_or_null(const std::string& id) {
  if (id.empty()) return nullptr;
  return json::value(id);
}

// "1042: running l2-square 1:03:00.154 #12 -> dnf l2-square 1:03:00.154"
std::string snapshot_text(const RunnerSnapshot& s) {
  std::string out(to_string(s.status));
  if (!s.last_split.empty()) out += " " + s.last_split;
  if (s.time) out += " " + format_duration(*s.time);
  if (s.rank) out += " #" + std::to_string(s.rank);
  return out;
}

std::string effect_text(const CorrectionRecord& r) {
  std::string out;
  for (const RunnerEffect& e : r.effect) {
    if (!out.empty()) out += "; ";
    out += e.bib + ": " + snapshot_text(e.before) + " -> " + snapshot_text(e.after);
  }
  return out;
}

}  // namespace

std::optional<std::string> parse_correction_filter(std::string_view query, CorrectionFilter& out) {
  const auto params = parse_query(query);
  for (const auto& [name, value] : params) {
    if (name == "by") {
      out.by = value;
    } else if (name == "bib") {
      out.bib = value;
    } else if (name == "kind") {
      if (value.empty()) continue;
      out.kind = parse_correction_kind(value);
      if (!out.kind) {
        return "kind must be set_status, add_read, void_reads, restore_reads or move_chip, not \"" +
               value + "\"";
      }
    } else if (name == "limit") {
      std::size_t limit = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit == 0 || limit > 10'000)
        return "limit must be from 1 to 10000";
      out.limit = limit;
    }
  }
  return std::nullopt;
}

std::string corrections_json(const CorrectionLog& log, const CorrectionFilter& filter,
                             int utc_offset_minutes) {
  json::array list;
  const auto chosen = select(log, filter);
  for (const CorrectionRecord* r : chosen) {
    json::object o{{"id", r->id},
                   {"recorded_ms", r->recorded_ms},
                   {"recorded_at", format_iso8601(r->recorded_ms, utc_offset_minutes)},
                   {"by", r->correction.by},
                   {"applied", !r->error.has_value()},
                   {"correction", correction_object(r->correction, utc_offset_minutes)}};
    if (r->error) o["error"] = *r->error;
    json::array runners;
    for (const RunnerEffect& e : r->effect) {
      runners.push_back(json::object{{"bib", e.bib},
                                     {"before", snapshot_object(e.before)},
                                     {"after", snapshot_object(e.after)}});
    }
    o["effect"] = json::object{{"runners", std::move(runners)}};
    o["undone_by"] = id_or_null(r->undone_by);
    o["undo_of"] = id_or_null(r->correction.undo_of);
    list.push_back(std::move(o));
  }
  return json::serialize(json::object{
      {"corrections", std::move(list)}, {"total", log.total()}, {"matched", chosen.size()}});
}

std::string corrections_csv(const CorrectionLog& log, const CorrectionFilter& filter,
                            int utc_offset_minutes) {
  std::string out =
      "id,recorded_at,by,kind,bib,timing_point,time,from,to,chip,status,reason,applied,error,"
      "effect,undone_by,undo_of\n";
  for (const CorrectionRecord* r : select(log, filter)) {
    const Correction& c = r->correction;
    const bool windowed =
        c.kind == CorrectionKind::void_reads || c.kind == CorrectionKind::restore_reads;
    std::vector<std::string> fields = {
        r->id,
        format_iso8601(r->recorded_ms, utc_offset_minutes),
        c.by,
        std::string(to_string(c.kind)),
        c.bib,
        c.timing_point,
        c.kind == CorrectionKind::add_read ? format_iso8601(c.time, utc_offset_minutes) : "",
        windowed ? format_iso8601(c.from, utc_offset_minutes) : "",
        windowed ? format_iso8601(c.to, utc_offset_minutes) : "",
        c.chip,
        c.kind == CorrectionKind::set_status ? std::string(to_string(c.status)) : "",
        c.reason,
        r->error ? "false" : "true",
        r->error.value_or(""),
        effect_text(*r),
        r->undone_by,
        c.undo_of};
    for (std::size_t i = 0; i < fields.size(); ++i)
      out += (i ? "," : "") + csv_escape(fields[i]);
    out += "\n";
  }
  return out;
}

}  // namespace splitstream
