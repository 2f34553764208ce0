#include "ingest/device_tokens.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/text.hpp"

namespace splitstream {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v';
}

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i]))
      ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i]))
      ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

}  // namespace

std::string DeviceTokens::add(std::string_view device_id, std::string_view token,
                              std::string origin) {
  if (device_id.empty()) return "empty device id";
  if (token.empty()) return "empty token for device " + quoted(device_id);
  const auto [it, inserted] =
      entries_.try_emplace(std::string(device_id), Entry{std::string(token), std::move(origin)});
  if (!inserted) {
    return "device " + quoted(device_id) + " already has a token (from " + it->second.origin +
           "); configure each device once";
  }
  return {};
}

Diagnostics DeviceTokens::add_from_text(std::string_view text, std::string_view source) {
  Diagnostics diagnostics;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view raw = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;

    const std::string_view line = trim_space(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::vector<std::string_view> fields = split_fields(line);
    const auto report = [&](std::string field, std::string message) {
      diagnostics.push_back(
          {std::string(source), line_number, std::move(field), std::move(message)});
    };
    if (fields.size() == 1) {
      // Do not echo the field: it may be a token whose device id was forgotten.
      report("", "expected \"device-id token\", found a single field");
      continue;
    }
    if (fields.size() > 2) {
      // Do not echo the fields: any of them may be a token.
      report("", "expected \"device-id token\", found " + std::to_string(fields.size()) +
                     " fields (tokens cannot contain whitespace)");
      continue;
    }
    std::string error =
        add(fields[0], fields[1], std::string(source) + ":" + std::to_string(line_number));
    if (!error.empty()) report(std::string(fields[0]), std::move(error));
  }
  return diagnostics;
}

Diagnostics DeviceTokens::add_from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return {{path, 0, "",
             "cannot read the device tokens file: " +
                 std::string(error != 0 ? std::strerror(error) : "open failed")}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return add_from_text(text.str(), path);
}

Diagnostics DeviceTokens::add_from_env_value(std::string_view value) {
  Diagnostics diagnostics;
  const std::string source(kDeviceTokensEnvVar);
  std::size_t entry_number = 0;
  while (!value.empty()) {
    const std::size_t end = value.find(',');
    const std::string_view entry = trim_space(value.substr(0, end));
    value.remove_prefix(end == std::string_view::npos ? value.size() : end + 1);
    ++entry_number;
    if (entry.empty()) continue;  // tolerate "a=1,,b=2" and a trailing comma

    const std::string field = "entry " + std::to_string(entry_number);
    const std::size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      // Do not echo the entry: it may be a bare token.
      diagnostics.push_back({source, 0, field, "expected device-id=token"});
      continue;
    }
    const std::string_view device_id = trim_space(entry.substr(0, equals));
    const std::string_view token = trim_space(entry.substr(equals + 1));
    if (std::any_of(token.begin(), token.end(), is_space)) {
      diagnostics.push_back(
          {source, 0, field, "token of device " + quoted(device_id) + " contains whitespace"});
      continue;
    }
    std::string error = add(device_id, token, source + " " + field);
    if (!error.empty()) diagnostics.push_back({source, 0, field, std::move(error)});
  }
  return diagnostics;
}

Diagnostics DeviceTokens::add_from_environment() {
  const char* value = std::getenv(std::string(kDeviceTokensEnvVar).c_str());
  if (value == nullptr) return {};
  return add_from_env_value(value);
}

TokenCheck DeviceTokens::check(std::string_view device_id, std::string_view presented) const {
  const auto it = entries_.find(std::string(device_id));
  if (it == entries_.end()) return TokenCheck::no_token;
  return constant_time_equals(it->second.token, presented) ? TokenCheck::ok : TokenCheck::mismatch;
}

std::optional<std::string> DeviceTokens::token_of(std::string_view device_id) const {
  auto it = entries_.find(std::string(device_id));
  if (it == entries_.end()) return std::nullopt;
  return it->second.token;
}

bool DeviceTokens::has_token(std::string_view device_id) const {
  return entries_.find(std::string(device_id)) != entries_.end();
}

Diagnostics DeviceTokens::cross_check(const Event& event,
                                      const std::vector<std::string>& also_holders) const {
  Diagnostics warnings;
  for (const Device& device : event.devices) {
    if (!has_token(device.id)) {
      warnings.push_back(
          {"", 0, "devices",
           "device " + quoted(device.id) + " has no token configured; it cannot connect"});
    }
  }
  std::vector<std::pair<std::string, std::string>> undeclared;  // (device id, origin)
  for (const auto& [device_id, entry] : entries_) {
    if (event.device_by_id.find(device_id) == event.device_by_id.end() &&
        std::find(also_holders.begin(), also_holders.end(), device_id) == also_holders.end()) {
      undeclared.emplace_back(device_id, entry.origin);
    }
  }
  std::sort(undeclared.begin(), undeclared.end());
  for (const auto& [device_id, origin] : undeclared) {
    warnings.push_back({origin, 0, "",
                        "token for device " + quoted(device_id) + ", which event " +
                            quoted(event.id) + " does not declare"});
  }
  return warnings;
}

}  // namespace splitstream
