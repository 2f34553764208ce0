#include "sim/ctp01_client.hpp"

#include <cstdio>

namespace splitstream {

namespace {

constexpr std::size_t kMaxLineBytes = 4096;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

}  // namespace

std::string format_ctp01_read_line(const Ctp01ReadLine& read) {
  return "CT01_33~" + std::to_string(read.sequence) + "~" + read.location + "~" + read.tag + "~" +
         read.time_text + "~" + read.count + "~" + read.reader_id + "~" + read.port + "\r\n";
}

std::string format_ctp01_time(TimeMs time, Ctp01TimeFormat format, int utc_offset_minutes) {
  char text[64];
  if (format == Ctp01TimeFormat::unix_seconds) {
    const std::int64_t hundredths = floor_div(time, 10);
    std::snprintf(text, sizeof text, "%lld.%02lld",
                  static_cast<long long>(floor_div(hundredths, 100)),
                  static_cast<long long>(hundredths - floor_div(hundredths, 100) * 100));
    return text;
  }
  const TimeMs local = time + static_cast<TimeMs>(utc_offset_minutes) * 60'000;
  const std::int64_t in_day = local - floor_div(local, 86'400'000) * 86'400'000;
  const auto hours = static_cast<int>(in_day / 3'600'000);
  const auto minutes = static_cast<int>(in_day / 60'000 % 60);
  const auto seconds = static_cast<int>(in_day / 1000 % 60);
  const auto hundredths = static_cast<int>(in_day % 1000 / 10);
  if (format == Ctp01TimeFormat::normal) {
    std::snprintf(text, sizeof text, "%02d:%02d:%02d.%02d", hours, minutes, seconds, hundredths);
    return text;
  }
  const CivilDate date = civil_date(time, utc_offset_minutes);
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%02d", date.year, date.month,
                date.day, hours, minutes, seconds, hundredths);
  return text;
}

FakeCtp01Client::FakeCtp01Client(FakeCtp01ClientOptions options)
    : options_(std::move(options)),
      splitter_('\n', kMaxLineBytes, "\r"),
      time_format_(options_.time_format) {}

std::string FakeCtp01Client::hello() const {
  return options_.software + "~" + options_.version + "~CTP01\r\n";
}

std::string FakeCtp01Client::on_bytes(std::string_view bytes) {
  std::string reply;
  for (const std::string& line : splitter_.feed(bytes).records)
    reply += handle_line(line);
  return reply;
}

std::string FakeCtp01Client::handle_line(const std::string& line) {
  if (!header_seen_) {
    // name~version~N
    const std::size_t first = line.find('~');
    const std::size_t second = first == std::string::npos ? first : line.find('~', first + 1);
    const std::string count = second == std::string::npos ? std::string() : line.substr(second + 1);
    if (count.empty() || count.size() > 3 ||
        count.find_first_not_of("0123456789") != std::string::npos) {
      unexpected_.push_back(line);
      return {};
    }
    header_seen_ = true;
    server_name_ = line.substr(0, first);
    settings_expected_ = std::stoul(count);
    greeted_ = settings_expected_ == 0;
    return {};
  }
  if (!greeted_) {
    const std::size_t equals = line.find('=');
    if (equals == std::string::npos) {
      unexpected_.push_back(line);
    } else {
      std::string key = line.substr(0, equals);
      std::string value = line.substr(equals + 1);
      if (key == "time-format") {
        if (const auto format = parse_ctp01_time_format(value)) time_format_ = *format;
      }
      if (key == "pushmode-ack") push_ack_ = value == "true";
      settings_.emplace_back(std::move(key), std::move(value));
    }
    greeted_ = --settings_expected_ == 0;
    return {};
  }
  if (line == "getlocations") {
    ++location_requests_;
    std::string reply = "ack~getlocations";
    for (const std::string& location : options_.locations)
      reply += "~" + location;
    return reply + "\r\n";
  }
  if (line == "start") {
    started_ = true;
    return options_.ack_start ? "ack~start\r\n" : "";
  }
  if (line == "stop") {
    started_ = false;
    return {};
  }
  if (line == "ping") {
    ++pings_answered_;
    return "ack~ping\r\n";
  }
  if (line == "ack~ping") {
    ++ping_acks_;
    return {};
  }
  if (push_ack_ && line.rfind("ack~", 0) == 0) {
    push_acks_.push_back(line);
    return {};
  }
  unexpected_.push_back(line);
  return {};
}

std::string FakeCtp01Client::read(const std::string& location, const std::string& tag, TimeMs time,
                                  const std::string& port) {
  return next_line(location, tag, time, "1", port);
}

std::string FakeCtp01Client::gun_time(const std::string& location, TimeMs time) {
  // As in the brief's examples: a count and a port of 0 on the special lines.
  return next_line(location, "guntime", time, "0", "0");
}

std::string FakeCtp01Client::new_location(const std::string& location, TimeMs time) {
  return next_line(location, "newlocation", time, "0", "0");
}

std::string FakeCtp01Client::next_line(const std::string& location, const std::string& tag,
                                       TimeMs time, const std::string& count,
                                       const std::string& port) {
  Ctp01ReadLine line;
  line.sequence = next_sequence_++;
  line.location = location;
  line.tag = tag;
  line.time_text = format_ctp01_time(time, time_format_, options_.utc_offset_minutes);
  line.count = count;
  line.reader_id = options_.reader_id;
  line.port = port;
  return format_ctp01_read_line(line);
}

}  // namespace splitstream
