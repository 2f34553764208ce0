// A Lua script called by its SHA: loaded once with SCRIPT LOAD, loaded again when Redis answers
// NOSCRIPT (it restarted, or SCRIPT FLUSH), so callers just call it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis_connection.hpp"

namespace splitstream {

class RedisScript {
 public:
  // `source` must outlive the script (scripts are string literals).
  explicit RedisScript(std::string_view source) : source_(source) {}

  // Appends the script's arguments (numkeys, keys, then its own) to a command. Called once per
  // attempt, so large argument lists are built straight into the command, never copied.
  using ArgsBuilder = std::function<void(std::vector<std::string>& command)>;

  // EVALSHA with the built arguments. The result is the connection's: a transport error, or
  // the script's reply (which may be a Redis error reply).
  boost::asio::awaitable<RedisConnection::CommandResult> call(RedisConnection& redis,
                                                              ArgsBuilder build_args);

 private:
  std::string_view source_;
  std::string sha_;  // empty until loaded
};

}  // namespace splitstream
