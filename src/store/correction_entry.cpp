#include "store/correction_entry.hpp"

#include <charconv>

namespace splitstream {
namespace {

bool to_time(const std::string& s, TimeMs& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::vector<std::string> correction_xadd_command(const std::string& stream, const Correction& c) {
  std::vector<std::string> cmd{"XADD", stream, "*", "k", std::string(to_string(c.kind))};
  auto field = [&](const char* name, std::string value) {
    cmd.emplace_back(name);
    cmd.push_back(std::move(value));
  };
  field("b", c.bib);
  switch (c.kind) {
    case CorrectionKind::set_status:
      field("st", std::string(to_string(c.status)));
      break;
    case CorrectionKind::add_read:
      field("tp", c.timing_point);
      field("t", std::to_string(c.time));
      break;
    case CorrectionKind::void_reads:
    case CorrectionKind::restore_reads:
      field("tp", c.timing_point);
      field("from", std::to_string(c.from));
      field("to", std::to_string(c.to));
      break;
    case CorrectionKind::move_chip:
      field("c", c.chip);
      break;
  }
  field("why", c.reason);
  field("by", c.by);
  if (!c.undo_of.empty()) field("undo", c.undo_of);
  return cmd;
}

std::optional<Correction> parse_correction(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  Correction c;
  bool has_kind = false, has_tp = false, has_time = false, has_from = false, has_to = false,
       has_chip = false, has_status = false;
  for (const auto& [name, value] : fields) {
    if (name == "k") {
      const auto kind = parse_correction_kind(value);
      if (!kind) return std::nullopt;
      c.kind = *kind;
      has_kind = true;
    } else if (name == "b") {
      c.bib = value;
    } else if (name == "tp") {
      c.timing_point = value;
      has_tp = !value.empty();
    } else if (name == "t") {
      has_time = to_time(value, c.time);
    } else if (name == "from") {
      has_from = to_time(value, c.from);
    } else if (name == "to") {
      has_to = to_time(value, c.to);
    } else if (name == "c") {
      c.chip = value;
      has_chip = !value.empty();
    } else if (name == "st") {
      const auto status = parse_official_status(value);
      if (!status) return std::nullopt;
      c.status = *status;
      has_status = true;
    } else if (name == "why") {
      c.reason = value;
    } else if (name == "by") {
      c.by = value;
    } else if (name == "undo") {
      c.undo_of = value;
    }
  }
  if (!has_kind) return std::nullopt;
  switch (c.kind) {
    case CorrectionKind::set_status:
      if (c.bib.empty() || !has_status) return std::nullopt;
      break;
    case CorrectionKind::add_read:
      if (c.bib.empty() || !has_tp || !has_time) return std::nullopt;
      break;
    case CorrectionKind::void_reads:
    case CorrectionKind::restore_reads:
      if (c.bib.empty() || !has_tp || !has_from || !has_to) return std::nullopt;
      break;
    case CorrectionKind::move_chip:
      if (!has_chip) return std::nullopt;
      break;
  }
  return c;
}

}  // namespace splitstream
