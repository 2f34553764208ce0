#include "results/reads_file.hpp"

#include "core/csv.hpp"

namespace splitstream {

ReadsFile parse_reads_csv(std::string_view text, const Event& event, const std::string& file) {
  ReadsFile out;
  CsvReader reader(text);
  CsvRow row;
  std::string error;
  if (!reader.next(row, error)) {
    out.problems.push_back({file, 0, "", "the file is empty; it needs a header line"});
    return out;
  }
  const CsvHeader header(row.fields);
  const auto tp_col = header.find("timing_point");
  const auto chip_col = header.find("chip");
  const auto time_col = header.find("time");
  const auto device_col = header.find("device");
  const auto line_col = header.find("line");
  if (!tp_col || !chip_col || !time_col) {
    out.problems.push_back({file, row.line, "",
                            "the header must name the columns timing_point, chip and time "
                            "(and optionally device, line)"});
    return out;
  }
  while (reader.next(row, error)) {
    auto bad = [&](const char* field, std::string message) {
      out.problems.push_back({file, row.line, field, std::move(message)});
    };
    if (!error.empty()) {
      bad("", error);
      continue;
    }
    if (row.fields.size() != header.size()) {
      bad("", "expected " + std::to_string(header.size()) + " fields, found " +
                  std::to_string(row.fields.size()));
      continue;
    }
    FileRead read;
    read.source_line = row.line;
    const std::string& tp = row.fields[*tp_col];
    auto tp_index = event.find_timing_point(tp);
    if (!tp_index) {
      bad("timing_point", "unknown timing point \"" + tp + "\"");
      continue;
    }
    read.timing_point = *tp_index;
    read.chip = row.fields[*chip_col];
    if (read.chip.empty()) {
      bad("chip", "chip is empty");
      continue;
    }
    const std::string& time = row.fields[*time_col];
    auto t = parse_iso8601(time);
    if (!t) {
      bad("time", "bad time \"" + time +
                      "\" (ISO 8601 with a UTC offset, e.g. 2025-04-06T08:03:12.250+09:00)");
      continue;
    }
    read.time = *t;
    if (device_col) {
      read.device = row.fields[*device_col];
      if (!read.device.empty()) {
        auto d = event.device_by_id.find(read.device);
        if (d == event.device_by_id.end()) {
          bad("device", "unknown device \"" + read.device + "\"");
          continue;
        }
        if (event.devices[d->second].timing_point != read.timing_point) {
          bad("device", "device \"" + read.device + "\" is at timing point \"" +
                            event.timing_points[event.devices[d->second].timing_point].id +
                            "\", not \"" + tp + "\"");
          continue;
        }
      }
    }
    if (line_col) {
      auto l = parse_line(row.fields[*line_col]);
      if (!l) {
        bad("line", "must be main, backup or empty, not \"" + row.fields[*line_col] + "\"");
        continue;
      }
      read.line = *l;
    }
    out.reads.push_back(std::move(read));
  }
  return out;
}

std::string reads_csv_header() {
  return "timing_point,chip,time,device,line\n";
}

std::string to_csv_line(const FileRead& read, const Event& event) {
  std::string line = csv_escape(event.timing_points[read.timing_point].id);
  line += ',';
  line += csv_escape(read.chip);
  line += ',';
  line += format_iso8601(read.time, event.utc_offset_minutes);
  line += ',';
  line += csv_escape(read.device);
  line += ',';
  line += to_string(read.line);
  line += '\n';
  return line;
}

}  // namespace splitstream
