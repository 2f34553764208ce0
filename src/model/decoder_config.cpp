#include "model/decoder_config.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <set>

#include "core/json_locator.hpp"
#include "model/object_reader.hpp"

namespace splitstream {
namespace {

constexpr std::array<std::string_view, 4> kProtocolNames = {"raceresult", "ctp01", "mylaps",
                                                            "impinj"};

std::optional<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port) {
  std::string_view host = text;
  std::uint16_t port = default_port;
  const std::size_t colon = text.rfind(':');
  if (colon != std::string_view::npos && text.find(':') == colon) {
    host = text.substr(0, colon);
    std::string_view digits = text.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535)
      return std::nullopt;
    port = static_cast<std::uint16_t>(value);
  }
  if (host.empty() || port == 0) return std::nullopt;
  return HostPort{std::string(host), port};
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t value = 0;
  for (int part = 0; part < 4; ++part) {
    unsigned octet = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), octet);
    if (ec != std::errc() || octet > 255 || end == text.data()) return std::nullopt;
    value = (value << 8) | octet;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    if (part < 3) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return std::nullopt;
  return value;
}

// "a.b.c.d" or "a.b.c.d/n" -> {network, prefix length}; other text (IPv6) matches literally.
bool valid_allow_entry(std::string_view entry) {
  const std::size_t slash = entry.find('/');
  if (slash == std::string_view::npos)
    return parse_ipv4(entry).has_value() || entry.find(':') != std::string_view::npos;
  unsigned bits = 0;
  std::string_view digits = entry.substr(slash + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  return parse_ipv4(entry.substr(0, slash)) && ec == std::errc() &&
         end == digits.data() + digits.size() && bits <= 32;
}

std::optional<DecoderTarget> parse_target(const ObjectReader& r, const Event& event) {
  auto tp_id = r.string("timing_point", true);
  DecoderTarget target;
  bool ok = tp_id.has_value();
  if (tp_id) {
    if (auto tp = event.find_timing_point(*tp_id)) {
      target.timing_point = *tp;
    } else {
      r.problem("timing_point", "unknown timing point " + in_quotes(*tp_id));
      ok = false;
    }
  }
  if (auto line = r.string("line", false)) {
    auto l = parse_line(*line);
    if (!l || line->empty()) {
      r.problem("line", "must be \"main\" or \"backup\", not " + in_quotes(*line));
      ok = false;
    } else {
      target.line = *l;
    }
  }
  if (!ok) return std::nullopt;
  return target;
}

std::optional<bool> boolean(const ObjectReader& r, std::string_view key) {
  const boost::json::value* v = r.get(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    r.problem(key, "expected true or false");
    return std::nullopt;
  }
  return v->as_bool();
}

std::int64_t default_date_base(const Event& event) {
  TimeMs first_gun = 0;
  bool any = false;
  for (const Race& race : event.races) {
    if (!any || race.gun_time < first_gun) first_gun = race.gun_time;
    any = true;
  }
  const CivilDate d = civil_date(any ? first_gun : 0, event.utc_offset_minutes);
  return days_from_civil(d.year, d.month, d.day);
}

void parse_decoder(const ObjectReader& r, const Event& event, DecoderConfig& d) {
  r.reject_unknown({"id", "protocol", "dial", "listen", "allow", "sources", "timing_point", "line",
                    "utc_offset", "date", "correct_clock_offset", "protocol_version",
                    "start_operation", "range_syntax", "ping_reply", "time_format", "pushmode_ack",
                    "mylaps_version"});
  if (auto protocol = r.string("protocol", true)) {
    if (auto kind = parse_decoder_protocol(*protocol)) {
      d.protocol = *kind;
    } else {
      r.problem("protocol",
                "must be raceresult, ctp01, mylaps or impinj, not " + in_quotes(*protocol));
    }
  }
  const bool dials = d.protocol == DecoderProtocolKind::raceresult;
  const bool listens =
      d.protocol == DecoderProtocolKind::ctp01 || d.protocol == DecoderProtocolKind::mylaps;
  if (auto dial = r.string("dial", dials)) {
    if (!dials) {
      r.problem("dial", "only a raceresult decoder is dialled; " +
                            std::string(to_string(d.protocol)) + " connects to us");
    } else if (auto hp = parse_host_port(*dial, 3601)) {
      d.dial = *hp;
    } else {
      r.problem("dial", "expected host or host:port, not " + in_quotes(*dial));
    }
  }
  if (auto listen = r.string("listen", listens)) {
    if (!listens) {
      r.problem("listen", std::string(to_string(d.protocol)) + " does not connect to a port");
    } else if (auto hp = parse_host_port(*listen, 0)) {
      d.listen = *hp;
    } else {
      r.problem("listen", "expected host:port (e.g. 0.0.0.0:3097), not " + in_quotes(*listen));
    }
  }
  if (const boost::json::array* allow = r.array("allow", false)) {
    for (std::size_t i = 0; i < allow->size(); ++i) {
      const boost::json::value& v = (*allow)[i];
      if (!v.is_string() || !valid_allow_entry(v.as_string())) {
        r.problem(element("allow", i), "expected an address or a.b.c.d/n");
        continue;
      }
      d.allow.emplace_back(v.as_string());
    }
  }
  if (r.get("timing_point")) d.fallback = parse_target(r, event);
  if (const boost::json::value* sources = r.get("sources")) {
    if (!sources->is_object()) {
      r.problem("sources", "expected an object of name -> {timing_point, line}");
    } else {
      for (const auto& kv : sources->as_object()) {
        ObjectReader s(kv.value(), r.field("sources") + "." + std::string(kv.key()), r.locator(),
                       r.diagnostics(), r.file());
        if (!s.ok()) continue;
        s.reject_unknown({"timing_point", "line"});
        if (auto target = parse_target(s, event)) d.sources.emplace(kv.key(), *target);
      }
    }
  }
  if (d.sources.empty() && !d.fallback && r.ok())
    r.problem("sources", "a decoder needs sources or a timing_point for its reads");
  d.utc_offset_minutes = event.utc_offset_minutes;
  if (auto offset = r.string("utc_offset", false)) {
    if (auto minutes = parse_utc_offset(*offset)) {
      d.utc_offset_minutes = *minutes;
    } else {
      r.problem("utc_offset", "expected an offset like +09:00, not " + in_quotes(*offset));
    }
  }
  d.date_base_days = default_date_base(event);
  if (auto date = r.string("date", false)) {
    int y = 0;
    unsigned m = 0, day = 0;
    if (std::sscanf(date->c_str(), "%4d-%2u-%2u", &y, &m, &day) == 3 && date->size() == 10 &&
        m >= 1 && m <= 12 && day >= 1 && day <= 31) {
      d.date_base_days = days_from_civil(y, m, day);
    } else {
      r.problem("date", "expected YYYY-MM-DD, not " + in_quotes(*date));
    }
  }
  d.correct_clock_offset = boolean(r, "correct_clock_offset").value_or(false);
  if (auto v = r.string("protocol_version", false)) d.raceresult_protocol = *v;
  d.raceresult_start_operation = boolean(r, "start_operation").value_or(false);
  if (auto v = r.string("range_syntax", false)) {
    if (*v == "from:count" || *v == "from:to")
      d.raceresult_range_to = *v == "from:to";
    else
      r.problem("range_syntax", "must be \"from:count\" or \"from:to\", not " + in_quotes(*v));
  }
  d.raceresult_ping_reply = boolean(r, "ping_reply").value_or(true);
  if (auto v = r.string("time_format", false)) {
    if (*v == "normal" || *v == "iso" || *v == "unix")
      d.ctp01_time_format = *v;
    else
      r.problem("time_format", "must be normal, iso or unix, not " + in_quotes(*v));
  }
  d.ctp01_pushmode_ack = boolean(r, "pushmode_ack").value_or(false);
  if (auto v = r.number("mylaps_version", false)) {
    if (*v == 1 || *v == 2)
      d.mylaps_version = static_cast<int>(*v);
    else
      r.problem("mylaps_version", "must be 1 or 2");
  }
}

}  // namespace

std::string_view to_string(DecoderProtocolKind k) {
  return kProtocolNames[static_cast<std::size_t>(k)];
}

std::optional<DecoderProtocolKind> parse_decoder_protocol(std::string_view s) {
  for (std::size_t i = 0; i < kProtocolNames.size(); ++i)
    if (kProtocolNames[i] == s) return static_cast<DecoderProtocolKind>(i);
  return std::nullopt;
}

std::vector<DecoderConfig> parse_decoders(std::string_view json_text, const Event& event,
                                          Diagnostics& problems, const std::string& file_name) {
  std::vector<DecoderConfig> decoders;
  JsonLocator loc(json_text);
  if (!loc.ok()) {
    problems.push_back({file_name, loc.error_line(), "", loc.error()});
    return decoders;
  }
  boost::system::error_code ec;
  boost::json::value root_value = boost::json::parse(json_text, ec);
  if (ec) {
    problems.push_back({file_name, 1, "", ec.message()});
    return decoders;
  }
  ObjectReader root(root_value, "", loc, problems, file_name);
  root.reject_unknown({"decoders"});
  const boost::json::array* list = root.array("decoders", true);
  if (!list) return decoders;
  std::set<std::string> ids;
  std::set<std::uint16_t> ports;
  for (std::size_t i = 0; i < list->size(); ++i) {
    ObjectReader r((*list)[i], element("decoders", i), loc, problems, file_name);
    if (!r.ok()) continue;
    const std::size_t before = problems.size();
    DecoderConfig d;
    auto id = r.id("id");
    parse_decoder(r, event, d);
    if (id && !ids.insert(*id).second) r.problem("id", "duplicate decoder id " + in_quotes(*id));
    if (id && event.device_by_id.count(*id))
      r.problem("id",
                in_quotes(*id) + " is also a device of event.json; decoder ids are devices too");
    if (d.listen && !ports.insert(d.listen->port).second)
      r.problem("listen",
                "port " + std::to_string(d.listen->port) + " is taken by another decoder");
    if (!id || problems.size() != before) continue;
    d.id = *id;
    decoders.push_back(std::move(d));
  }
  return decoders;
}

bool address_allowed(const std::vector<std::string>& allow, std::string_view address) {
  if (allow.empty()) return true;
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  if (address.starts_with("::ffff:") && parse_ipv4(address.substr(7))) address.remove_prefix(7);
  const auto ip = parse_ipv4(address);
  for (const std::string& entry : allow) {
    const std::size_t slash = entry.find('/');
    if (slash == std::string::npos) {
      if (entry == address) return true;
      continue;
    }
    if (!ip) continue;
    const auto net = parse_ipv4(std::string_view(entry).substr(0, slash));
    const unsigned bits = static_cast<unsigned>(std::stoul(entry.substr(slash + 1)));
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    if (net && (*net & mask) == (*ip & mask)) return true;
  }
  return false;
}

}  // namespace splitstream
