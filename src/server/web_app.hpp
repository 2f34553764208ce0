// The browser app (map, leaderboard) that a node with the push role serves from memory.
#pragma once

#include <memory>

#include "http/static_files.hpp"
#include "server/config.hpp"

namespace splitstream {

// The browser app for a node with the push role, read into memory now (a start-up error when
// --web-root is wrong or too large), or null when it is not built.
std::shared_ptr<const StaticFiles> load_web_app(const ServerConfig& config);

}  // namespace splitstream
