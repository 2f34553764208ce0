// The server process: one io_context run by a few threads, the listeners, and a clean stop on
// SIGINT or SIGTERM (stop accepting, let in-flight work finish, exit 0).
#pragma once

#include <vector>

#include "model/decoder_config.hpp"
#include "model/event.hpp"
#include "server/config.hpp"

namespace splitstream {

// Blocks until a stop signal; returns the process exit status. Throws on start-up failure
// (e.g. a listen address in use), with a message naming the address.
// `decoders` are the event's vendor decoders (decoders.json), served with the ingest role.
int run_server(const ServerConfig& config, const Event& event,
               const std::vector<DecoderConfig>& decoders);

}  // namespace splitstream
