// Shared secrets that authenticate timing devices. Tokens never live in event.json (which is
// published with the event); they come from a secrets file and/or the environment:
//
//   # tokens.txt: one "device-id token" per line; '#' starts a comment line
//   stadium-main   3f9c1d0e8a7b4c21
//
//   SPLITSTREAM_DEVICE_TOKENS="stadium-main=3f9c1d0e8a7b4c21,arch-main=b7e2..."
//
// A device may be configured in only one place: a second token for the same device is an error,
// so a stale entry can never silently win. Diagnostics never contain a token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/diagnostics.hpp"
#include "model/event.hpp"

namespace splitstream {

inline constexpr std::string_view kDeviceTokensEnvVar = "SPLITSTREAM_DEVICE_TOKENS";

enum class TokenCheck : std::uint8_t {
  ok,        // the presented token is the device's token
  no_token,  // no token is configured for the device: it cannot connect
  mismatch,  // a token is configured and the presented one differs
};

class DeviceTokens {
 public:
  // Adds the lines of a secrets file. `source` names it in diagnostics ("tokens.txt").
  // Entries on lines with errors are skipped; the others are added.
  Diagnostics add_from_text(std::string_view text, std::string_view source);
  // Reads the file and adds its lines; an unreadable file is one diagnostic.
  Diagnostics add_from_file(const std::string& path);
  // Adds "dev1=tok1,dev2=tok2" (the value of SPLITSTREAM_DEVICE_TOKENS). A token is everything
  // after the first '=', so tokens may contain '=' (base64 padding) but not ',' or whitespace.
  Diagnostics add_from_env_value(std::string_view value);
  // Adds SPLITSTREAM_DEVICE_TOKENS if it is set; unset is not an error.
  Diagnostics add_from_environment();

  // Checks `presented` against the device's token in constant time (see constant_time_equals).
  TokenCheck check(std::string_view device_id, std::string_view presented) const;
  bool has_token(std::string_view device_id) const;
  // The device's token, for a client playing the device (splitstream-sim); nullopt if none.
  std::optional<std::string> token_of(std::string_view device_id) const;
  std::size_t size() const { return entries_.size(); }

  // Warnings for start-up logs: declared devices without a token (they cannot connect) and
  // tokens for devices the event does not declare (usually a typo in the device id).
  // `also_holders`: other ids that hold tokens (the event's Impinj decoders).
  Diagnostics cross_check(const Event& event,
                          const std::vector<std::string>& also_holders = {}) const;

 private:
  struct Entry {
    std::string token;
    std::string origin;  // "tokens.txt:3" or "SPLITSTREAM_DEVICE_TOKENS entry 2"
  };
  // Adds one entry, or returns why not (the message of a diagnostic).
  std::string add(std::string_view device_id, std::string_view token, std::string origin);

  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace splitstream
