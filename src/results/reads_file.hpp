// The reads file of `splitstream results`: CSV with a header `timing_point,chip,time` and
// optional `device,line`; time in ISO 8601 with milliseconds and a UTC offset.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/diagnostics.hpp"
#include "model/event.hpp"

namespace splitstream {

struct FileRead {
  TimingPointIndex timing_point = kNoIndex;
  std::string chip;
  TimeMs time = 0;
  std::string device;
  Line line = Line::unspecified;
  std::size_t source_line = 0;
};

struct ReadsFile {
  std::vector<FileRead> reads;
  Diagnostics problems;  // one per malformed line, which is skipped
};

ReadsFile parse_reads_csv(std::string_view text, const Event& event,
                          const std::string& file_name = "reads.csv");
std::string reads_csv_header();
std::string to_csv_line(const FileRead& read, const Event& event);

}  // namespace splitstream
