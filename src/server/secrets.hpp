// The node's secrets, read at start-up from files and the environment, never from event.json:
// the device tokens and the officials' admin token.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ingest/device_tokens.hpp"
#include "model/event.hpp"
#include "server/config.hpp"

namespace splitstream {

// --device-tokens-file and SPLITSTREAM_DEVICE_TOKENS; throws listing every problem. Tokens of
// devices the event does not have are logged as warnings.
// `decoder_ids`: the event's Impinj decoders, which hold tokens too.
DeviceTokens load_device_tokens(const ServerConfig& config, const Event& event,
                                const std::vector<std::string>& decoder_ids = {});

// The admin token: --admin-token-file, else SPLITSTREAM_ADMIN_TOKEN; empty: admin off. Throws
// when the file is unreadable or the token too short.
std::string load_admin_token(const ServerConfig& config);

}  // namespace splitstream
