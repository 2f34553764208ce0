#include "store/durability.hpp"

#include <cctype>

namespace splitstream {
namespace {

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// What to do when Redis refuses CONFIG GET (managed services often rename or forbid CONFIG).
constexpr const char* kConfigRefusedAdvice =
    "use a Redis that allows CONFIG GET to this user, or --durability local";

// The value of one `CONFIG GET name` reply (["name", "value"]), or the problem with it.
struct ConfigValue {
  std::optional<std::string> value;
  std::string problem;
};

ConfigValue config_value(const RedisReply& reply, const std::string& name) {
  ConfigValue out;
  if (reply.is_error()) {
    out.problem =
        "--durability fsync checks appendonly and appendfsync with CONFIG GET, and Redis "
        "refused it (" +
        reply.as_string() + "): " + kConfigRefusedAdvice;
    return out;
  }
  const auto& e = reply.elements();
  for (std::size_t i = 0; reply.is_array() && i + 1 < e.size(); i += 2) {
    if (lower(e[i].as_string()) == name && (e[i + 1].is_string() || e[i + 1].is_status())) {
      out.value = lower(e[i + 1].as_string());
      return out;
    }
  }
  out.problem = "--durability fsync: CONFIG GET " + name + " gave no value (" +
                reply.debug_string() + "): " + kConfigRefusedAdvice;
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> durability_probe_commands(const DurabilityOptions& options) {
  if (options.mode != DurabilityMode::fsync) return {};
  return {{"CONFIG", "GET", "appendonly"}, {"CONFIG", "GET", "appendfsync"}};
}

std::optional<std::string> durability_probe_problem(const DurabilityOptions& options,
                                                    const std::vector<RedisReply>& replies) {
  if (options.mode != DurabilityMode::fsync) return std::nullopt;
  if (replies.size() != 2) {
    return "--durability fsync: expected 2 replies to the CONFIG GET probe, got " +
           std::to_string(replies.size());
  }
  const ConfigValue appendonly = config_value(replies[0], "appendonly");
  if (!appendonly.value) return appendonly.problem;
  const ConfigValue appendfsync = config_value(replies[1], "appendfsync");
  if (!appendfsync.value) return appendfsync.problem;
  if (*appendonly.value != "yes") {
    return "--durability fsync needs appendonly yes and appendfsync always; Redis has appendonly " +
           *appendonly.value +
           " (set both in redis.conf or with CONFIG SET, or use --durability local)";
  }
  if (*appendfsync.value != "always") {
    return "--durability fsync needs appendfsync always; Redis has " + *appendfsync.value +
           " (set it in redis.conf or with CONFIG SET appendfsync always, or use --durability "
           "local)";
  }
  return std::nullopt;
}

std::vector<std::string> wait_command(const DurabilityOptions& options) {
  return {"WAIT", std::to_string(options.replicas), std::to_string(options.wait_timeout.count())};
}

std::optional<std::string> wait_problem(const DurabilityOptions& options, const RedisReply& reply) {
  if (reply.is_error()) return "replicated durability: WAIT failed: " + reply.as_string();
  if (!reply.is_integer()) {
    return "replicated durability: WAIT gave " + reply.debug_string() + ", not a number";
  }
  if (reply.as_integer() >= options.replicas) return std::nullopt;
  return "replicated durability: " + std::to_string(reply.as_integer()) + " of " +
         std::to_string(options.replicas) + " replicas confirmed the write within " +
         std::to_string(options.wait_timeout.count()) + " ms";
}

}  // namespace splitstream
