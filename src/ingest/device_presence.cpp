#include "ingest/device_presence.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>

namespace splitstream {
namespace {

boost::json::value time_or_null(TimeMs t) {
  if (t == kNoTime) return nullptr;
  return t;
}

// A number member as int64 (Boost.JSON parses large ones as uint64, fractions as double);
// nullopt when absent, null or not a number.
std::optional<std::int64_t> int_member(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

boost::json::value int_or_null(const std::optional<std::int64_t>& n) {
  if (!n) return nullptr;
  return *n;
}

std::string string_member(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

void DevicePresence::session_opened(std::string_view remote, TimeMs now) {
  if (sessions_++ == 0) session_since_ms_ = now;
  remote_ = std::string(remote);
}

void DevicePresence::session_closed(TimeMs now) {
  if (sessions_ > 0 && --sessions_ == 0) session_end_ms_ = now;
}

void DevicePresence::http_post(TimeMs now, DurationMs http_hold_ms) {
  // A post after the hold ran out starts a new run (the device was offline in between).
  if (!posting(now, http_hold_ms)) first_post_ms_ = now;
  last_post_ms_ = now;
}

void DevicePresence::record_stored(std::uint64_t appended, const std::vector<SeqGap>& gaps,
                                   TimeMs now) {
  reads_total_ += appended;
  if (appended > 0) {
    last_read_ms_ = now;
    reads_per_minute_.add(now, appended);
  }
  std::uint64_t missing = 0;
  for (const SeqGap& gap : gaps)
    missing += gap.to >= gap.from ? gap.to - gap.from + 1 : 0;
  gaps_ = missing;
}

void DevicePresence::record_refused(std::uint64_t rejected, std::uint64_t malformed) {
  rejected_ += rejected;
  malformed_ += malformed;
}

std::string_view DevicePresence::state(TimeMs now, DurationMs http_hold_ms) const {
  if (sessions_ > 0 || posting(now, http_hold_ms)) return "connected";
  if (session_end_ms_ != kNoTime || last_post_ms_ != kNoTime) return "offline";
  return "";
}

PresenceRecord DevicePresence::record(TimeMs now, DurationMs http_hold_ms) const {
  PresenceRecord r;
  r.state = std::string(state(now, http_hold_ms));
  const bool posting_now = posting(now, http_hold_ms);
  if (sessions_ > 0 && posting_now) {
    r.since_ms = std::min(session_since_ms_, first_post_ms_);
  } else if (sessions_ > 0) {
    r.since_ms = session_since_ms_;
  } else if (posting_now) {
    r.since_ms = first_post_ms_;
  } else {
    // Offline since the later of the last session's end and the last post's hold running out.
    TimeMs since = session_end_ms_;
    if (last_post_ms_ != kNoTime) since = std::max(since, last_post_ms_ + http_hold_ms);
    r.since_ms = since;
  }
  r.last_read_ms = last_read_ms_;
  r.reads_total = reads_total_;
  r.reads_per_minute = reads_per_minute_.series(now);
  r.clock_offset_ms = clock_offset_ms_;
  r.gaps = gaps_;
  r.rejected = rejected_;
  r.malformed = malformed_;
  // Offline: where it was last connected from. A post carries no address here.
  if (sessions_ > 0 || !posting_now) r.remote = remote_;
  return r;
}

std::string presence_value_json(const PresenceRecord& record, std::string_view node, TimeMs now) {
  boost::json::object o;
  o["node"] = node;
  o["state"] = record.state;
  o["since_ms"] = time_or_null(record.since_ms);
  o["last_read_ms"] = time_or_null(record.last_read_ms);
  o["reads_total"] = record.reads_total;
  boost::json::array per_minute;
  for (const std::uint64_t n : record.reads_per_minute)
    per_minute.push_back(n);
  o["reads_per_minute"] = std::move(per_minute);
  o["clock_offset_ms"] = int_or_null(record.clock_offset_ms);
  o["gaps"] = record.gaps;
  if (record.backlog) {
    o["backlog"] = *record.backlog;
  } else {
    o["backlog"] = nullptr;
  }
  o["rejected"] = record.rejected;
  o["malformed"] = record.malformed;
  o["remote"] = record.remote;
  o["taken_ms"] = now;
  return boost::json::serialize(o);
}

boost::json::value presence_view(const std::optional<std::string>& value, TimeMs now,
                                 DurationMs clock_warn_ms) {
  if (!value) return nullptr;
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(*value, ec);
  if (ec || !parsed.is_object()) return nullptr;
  const boost::json::object& in = parsed.get_object();
  const std::string state = string_member(in, "state");
  if (state.empty()) return nullptr;
  const std::optional<std::int64_t> since = int_member(in, "since_ms");
  const std::optional<std::int64_t> last_read = int_member(in, "last_read_ms");
  const std::optional<std::int64_t> offset = int_member(in, "clock_offset_ms");
  const TimeMs taken = int_member(in, "taken_ms").value_or(now);

  boost::json::object out;
  out["node"] = string_member(in, "node");
  out["state"] = state;
  out["since_ms"] = int_or_null(since);
  out["last_read_ms"] = int_or_null(last_read);
  std::optional<std::int64_t> silent;
  if (state != "offline") {
    if (last_read) {
      silent = std::max<std::int64_t>(0, now - *last_read);
    } else if (since) {
      silent = std::max<std::int64_t>(0, now - *since);
    }
  }
  out["silent_ms"] = int_or_null(silent);
  out["reads_total"] = int_member(in, "reads_total").value_or(0);
  MinuteCounts::Series series{};
  if (const auto* a = in.if_contains("reads_per_minute"); a && a->is_array()) {
    const boost::json::array& counts = a->get_array();
    for (std::size_t i = 0; i < series.size() && i < counts.size(); ++i) {
      if (counts[i].is_int64()) series[i] = static_cast<std::uint64_t>(counts[i].get_int64());
      if (counts[i].is_uint64()) series[i] = counts[i].get_uint64();
    }
  }
  boost::json::array per_minute;
  for (const std::uint64_t n : shift_series(series, taken, now))
    per_minute.push_back(n);
  out["reads_per_minute"] = std::move(per_minute);
  out["clock_offset_ms"] = int_or_null(offset);
  out["clock_warning"] = offset.has_value() && std::llabs(*offset) > clock_warn_ms;
  out["gaps"] = int_member(in, "gaps").value_or(0);
  out["backlog"] = int_or_null(int_member(in, "backlog"));
  out["rejected"] = int_member(in, "rejected").value_or(0);
  out["malformed"] = int_member(in, "malformed").value_or(0);
  out["remote"] = string_member(in, "remote");
  return out;
}

bool silent_alert(const boost::json::value& presence,
                  const std::vector<TimingPointIndex>& timing_points,
                  const std::vector<std::size_t>& expected, DurationMs silent_after_ms) {
  const bool expecting =
      std::any_of(timing_points.begin(), timing_points.end(),
                  [&](TimingPointIndex tp) { return tp < expected.size() && expected[tp] > 0; });
  if (!expecting) return false;
  if (!presence.is_object()) return true;
  const boost::json::object& p = presence.get_object();
  const std::optional<std::int64_t> silent = int_member(p, "silent_ms");
  if (string_member(p, "state") == "offline" || !silent) return true;
  return *silent > silent_after_ms;
}

}  // namespace splitstream
