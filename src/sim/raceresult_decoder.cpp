#include "sim/raceresult_decoder.hpp"

#include <charconv>
#include <cstdio>
#include <utility>

namespace splitstream {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

FakeRaceResultDecoder::FakeRaceResultDecoder(FakeRaceResultOptions options)
    : options_(std::move(options)), files_(1) {}

std::uint64_t FakeRaceResultDecoder::add_passing(std::string chip, TimeMs true_ms, int rssi_dbm) {
  std::vector<std::string>& file = files_.back();
  const std::uint64_t number = file.size() + 1;
  file.push_back(record_line(number, chip, true_ms + options_.clock_offset_ms, rssi_dbm));
  delivered_.back().push_back(false);
  ++undelivered_;
  if (connected_ && push_) {
    if (drop_pushes_ > 0) {
      --drop_pushes_;
    } else {
      std::string& out = interleave_ ? held_ : pushed_;
      out += "#P;" + file.back() + "\r\n";
      (interleave_ ? in_held_ : in_pushed_).emplace_back(files_.size() - 1, number);
    }
  }
  return number;
}

void FakeRaceResultDecoder::mark_delivered(std::size_t file, std::uint64_t number) {
  if (!delivered_[file][number - 1]) {
    delivered_[file][number - 1] = true;
    --undelivered_;
  }
}

void FakeRaceResultDecoder::new_file() {
  files_.emplace_back();
  delivered_.emplace_back();
}

void FakeRaceResultDecoder::connect() {
  connected_ = true;
  push_ = false;
  partial_.clear();
}

void FakeRaceResultDecoder::disconnect() {
  connected_ = false;
  push_ = false;
  partial_.clear();
  pushed_.clear();
  held_.clear();
  in_pushed_.clear();
  in_held_.clear();
}

std::string FakeRaceResultDecoder::on_bytes(std::string_view bytes, TimeMs true_now) {
  std::string out;
  if (!connected_) return out;
  partial_.append(bytes);
  std::size_t end = 0;
  while ((end = partial_.find('\n')) != std::string::npos) {
    std::string command = partial_.substr(0, end);
    partial_.erase(0, end + 1);
    if (!command.empty() && command.back() == '\r') command.pop_back();
    commands_.push_back(command);
    out += answer(command, true_now);
  }
  return out;
}

std::string FakeRaceResultDecoder::take_pushed() {
  for (const auto& [file, number] : in_pushed_)
    mark_delivered(file, number);
  in_pushed_.clear();
  return std::exchange(pushed_, {});
}

std::string FakeRaceResultDecoder::take_held() {
  for (const auto& [file, number] : in_held_)
    mark_delivered(file, number);
  in_held_.clear();
  return std::exchange(held_, {});
}

std::string FakeRaceResultDecoder::answer(const std::string& command, TimeMs true_now) {
  const TimeMs decoder_now = true_now + options_.clock_offset_ms;
  const std::string clock = format_date(decoder_now) + ";" + format_time(decoder_now);
  const std::size_t colon = command.find(':');
  if (colon != std::string::npos && command.find(';') == std::string::npos) {
    const std::optional<std::uint64_t> from = parse_count(command.substr(0, colon));
    const std::optional<std::uint64_t> second = parse_count(command.substr(colon + 1));
    if (!from || !second) return "ERROR;" + command + "\r\n";
    const std::vector<std::string>& file = files_.back();
    std::uint64_t last = options_.range_second_is_count ? *from + *second - 1 : *second;
    if (last > file.size()) last = file.size();
    std::string out;
    for (std::uint64_t number = *from < 1 ? 1 : *from; number <= last; ++number) {
      out += file[number - 1] + "\r\n";
      mark_delivered(files_.size() - 1, number);
      if (number == *from) out += take_held();  // pushes inside a range reply
    }
    out += take_held();
    return out + "\r\n";  // the empty line that ends a range reply
  }
  std::string reply;
  const std::string name = command.substr(0, command.find(';'));
  if (name == "SETPROTOCOL") {
    if (command.size() > name.size() + 1) protocol_ = command.substr(name.size() + 1);
    reply = "SETPROTOCOL;" + protocol_;
  } else if (name == "GETPROTOCOL") {
    reply = "GETPROTOCOL;" + protocol_ + ";1.0;2.0";
  } else if (name == "GETTIME") {
    reply = "GETTIME;" + clock;
  } else if (name == "GETSTATUS") {
    // 25 fields: date, time, power, antennas, operation mode, file number, GPS fix, then the
    // rest as plausible values, time source (0 manual) and error flags last.
    reply = "GETSTATUS;" + clock + ";1;1111;" + (operating_ ? "1" : "0") + ";" +
            std::to_string(current_file_number()) + ";0;0;0;1;4.1;23;24;0;0;0;0;0;0;0;0;0;0;0;0";
  } else if (name == "PASSINGS") {
    reply = "PASSINGS;" + std::to_string(files_.back().size());
    if (options_.file_number_in_passings) reply += ";" + std::to_string(current_file_number());
  } else if (name == "SETPUSHPASSINGS") {
    push_ = command.rfind("SETPUSHPASSINGS;1", 0) == 0;
    reply = command;
  } else if (name == "STARTOPERATION") {
    new_file();
    operating_ = true;
    reply = "STARTOPERATION;OK;" + clock;
  } else if (name == "STOPOPERATION") {
    operating_ = false;
    reply = "STOPOPERATION;OK";
  } else if (name == "PING") {
    reply = options_.ping_reply;
  } else {
    reply = "ERROR;" + command;
  }
  return take_held() + reply + "\r\n";
}

std::uint32_t FakeRaceResultDecoder::current_file_number() const {
  return static_cast<std::uint32_t>(files_.size());
}

const std::vector<std::string>& FakeRaceResultDecoder::passings(std::uint32_t file_number) const {
  return files_.at(file_number - 1);
}

std::uint64_t FakeRaceResultDecoder::total_passings() const {
  std::uint64_t total = 0;
  for (const auto& file : files_)
    total += file.size();
  return total;
}

std::string FakeRaceResultDecoder::record_line(std::uint64_t number, const std::string& chip,
                                               TimeMs decoder_ms, int rssi_dbm) const {
  std::string line = std::to_string(number) + ";" + chip + ";" + format_date(decoder_ms) + ";" +
                     format_time(decoder_ms) + ";0;5;" + std::to_string(rssi_dbm) + ";000000";
  if (!options_.twenty_field_records) return line;
  // IsActive;Channel;LoopID;LoopOnly;WakeupCounter;Battery;Temperature;InternalActiveData;
  // BoxName;FileNumber;MaxRSSIAntenna;BoxId
  return line + ";1;1;1;0;0;3.0;21;0;" + options_.box_name + ";" +
         std::to_string(current_file_number()) + ";1;" + options_.box_id;
}

std::string FakeRaceResultDecoder::format_date(TimeMs decoder_ms) const {
  const std::int64_t day = decoder_ms / kDayMs;
  char buf[32];
  if (options_.date) {
    const CivilDate date = civil_date(
        (days_from_civil(options_.date->year, options_.date->month, options_.date->day) + day) *
            kDayMs,
        0);
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", date.year, date.month, date.day);
  } else {
    std::snprintf(buf, sizeof buf, "0000-00-%02d", static_cast<int>(day % 100));
  }
  return buf;
}

std::string FakeRaceResultDecoder::format_time(TimeMs decoder_ms) {
  const std::int64_t in_day = decoder_ms % kDayMs;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", static_cast<int>(in_day / 3'600'000),
                static_cast<int>(in_day / 60'000 % 60), static_cast<int>(in_day / 1000 % 60),
                static_cast<int>(in_day % 1000));
  return buf;
}

}  // namespace splitstream
