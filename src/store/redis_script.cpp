#include "store/redis_script.hpp"

namespace splitstream {
namespace {

// Commands are built here, outside the coroutine: GCC 12 rejects braced initializer lists in
// a coroutine body ("array used as initializer").
std::vector<std::string> script_load_command(std::string_view source) {
  return {"SCRIPT", "LOAD", std::string(source)};
}

std::vector<std::string> evalsha_command(const std::string& sha,
                                         const RedisScript::ArgsBuilder& build_args) {
  std::vector<std::string> command{"EVALSHA", sha};
  build_args(command);
  return command;
}

}  // namespace

boost::asio::awaitable<RedisConnection::CommandResult> RedisScript::call(RedisConnection& redis,
                                                                         ArgsBuilder build_args) {
  RedisConnection::CommandResult result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sha_.empty()) {
      RedisConnection::CommandResult loaded = co_await redis.command(script_load_command(source_));
      if (std::get<0>(loaded) || !std::get<1>(loaded).is_string()) co_return loaded;
      sha_ = std::get<1>(loaded).as_string();
    }
    result = co_await redis.command(evalsha_command(sha_, build_args));
    const RedisReply& reply = std::get<1>(result);
    if (std::get<0>(result) || !reply.is_error() || !reply.as_string().starts_with("NOSCRIPT"))
      co_return result;
    sha_.clear();  // Redis restarted or flushed its scripts: load it again
  }
  co_return result;
}

}  // namespace splitstream
