// Builds an Event from an event directory (event.json, participants.csv, course files) and
// reports every problem found, each with file, line and field.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/decoder_config.hpp"
#include "model/diagnostics.hpp"
#include "model/event.hpp"

namespace splitstream {

struct LoadedEvent {
  Event event;
  std::vector<DecoderConfig> decoders;  // decoders.json, when the directory has one
  Diagnostics problems;
  bool ok() const { return problems.empty(); }
};

// Reads a file named relative to the event directory; nullopt when it cannot be read.
using FileReader = std::function<std::optional<std::string>(std::string_view relative_path)>;

// Parses from memory; `read_file` supplies course files. Pure apart from `read_file`.
LoadedEvent parse_event(std::string_view event_json, std::string_view participants_csv,
                        const FileReader& read_file);
// Also reads decoders.json when the directory has one.
LoadedEvent load_event_dir(const std::filesystem::path& dir);

// Parses participants.csv into `event` (which must already hold its races). Runners of
// `rejected_races` (declared in event.json but left out for their problems there) are checked
// but not loaded, and not reported as in an unknown race.
void parse_participants(std::string_view csv, Event& event, Diagnostics& problems,
                        const std::string& file_name = "participants.csv",
                        const std::vector<std::string>& rejected_races = {});

std::optional<std::string> read_text_file(const std::filesystem::path& path);

}  // namespace splitstream
