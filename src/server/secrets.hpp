// The node's secrets, read at start-up from files and the environment, never from event.json:
// the device tokens, the officials and the admin token.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "api/officials.hpp"
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

// The officials of --officials-file, and the admin token as the official `admin`; none: the
// console and admin endpoints are off. Throws listing every problem, each with its file and line.
std::shared_ptr<const Officials> load_officials(const ServerConfig& config);

}  // namespace splitstream
