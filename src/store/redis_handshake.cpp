#include "store/redis_handshake.hpp"

#include <charconv>

#include "store/durability.hpp"

namespace splitstream {
namespace {

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.starts_with(word) && (text.size() == word.size() || text[word.size()] == ' ');
}

std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find_first_of("\r\n")));
}

}  // namespace

std::vector<std::vector<std::string>> redis_handshake_commands(const RedisOptions& options) {
  std::vector<std::vector<std::string>> commands;
  if (!options.password.empty()) {
    if (options.username.empty()) {
      commands.push_back({"AUTH", options.password});
    } else {
      commands.push_back({"AUTH", options.username, options.password});
    }
  }
  if (options.database != 0) commands.push_back({"SELECT", std::to_string(options.database)});
  if (!options.sentinels.empty()) commands.push_back({"ROLE"});
  for (auto& probe : durability_probe_commands(options.durability))
    commands.push_back(std::move(probe));
  commands.push_back({"PING"});
  return commands;
}

std::optional<std::string> redis_handshake_problem(const RedisOptions& options,
                                                   std::string_view where,
                                                   const std::vector<RedisReply>& replies) {
  const std::vector<std::vector<std::string>> commands = redis_handshake_commands(options);
  if (replies.size() != commands.size()) {
    return "Redis at " + std::string(where) + " answered " + std::to_string(replies.size()) +
           " of " + std::to_string(commands.size()) + " handshake commands";
  }
  // Without a password, whichever step comes first answers NOAUTH: say what is missing.
  if (options.password.empty()) {
    for (const RedisReply& reply : replies) {
      if (reply.is_error() && reply.as_string().starts_with("NOAUTH")) {
        return "Redis at " + std::string(where) +
               " wants a password: give one in the URL or with --redis-password-file";
      }
    }
  }
  std::size_t i = 0;
  if (!options.password.empty()) {
    if (replies[i].is_error()) {
      const std::string who =
          options.username.empty() ? "the password" : "user " + options.username;
      return "Redis at " + std::string(where) + " refused " + who + ": " +
             first_line(replies[i].as_string());
    }
    ++i;
  }
  if (options.database != 0) {
    if (replies[i].is_error()) {
      return "Redis at " + std::string(where) + " refused SELECT " +
             std::to_string(options.database) + ": " + first_line(replies[i].as_string());
    }
    ++i;
  }
  if (!options.sentinels.empty()) {
    const RedisReply& role = replies[i++];
    if (role.is_error()) {
      return "Redis at " + std::string(where) + " refused ROLE: " + first_line(role.as_string());
    }
    const auto& e = role.elements();
    const std::string name = e.empty() ? std::string() : e.front().as_string();
    if (name != "master") {
      return "Redis at " + std::string(where) + ", named the primary " + options.primary_name +
             " by the sentinels, is a " +
             (name.empty() ? std::string("server of unknown role") : name) +
             " (a failover is under way)";
    }
  }
  const std::size_t probes = durability_probe_commands(options.durability).size();
  const std::vector<RedisReply> probe_replies(
      replies.begin() + static_cast<std::ptrdiff_t>(i),
      replies.begin() + static_cast<std::ptrdiff_t>(i + probes));
  if (auto problem = durability_probe_problem(options.durability, probe_replies)) {
    return "Redis at " + std::string(where) + ": " + *problem;
  }
  i += probes;
  const RedisReply& ping = replies[i];
  if (ping.is_error()) {
    return "Redis at " + std::string(where) + " refused PING: " + first_line(ping.as_string());
  }
  return std::nullopt;
}

std::vector<std::string> sentinel_primary_command(const RedisOptions& options) {
  return {"SENTINEL", "get-master-addr-by-name", options.primary_name};
}

std::optional<RedisAddress> sentinel_primary_address(const RedisReply& reply) {
  const auto& e = reply.elements();
  if (!reply.is_array() || e.size() != 2 || !e[0].is_string() || e[0].as_string().empty()) {
    return std::nullopt;
  }
  const auto port = e[1].to_integer();
  if (!port || *port < 1 || *port > 65535) return std::nullopt;
  return RedisAddress{e[0].as_string(), static_cast<std::uint16_t>(*port)};
}

std::optional<RedisAddress> parse_moved_error(std::string_view error,
                                              std::string_view current_host) {
  if (!starts_with_word(error, "MOVED")) return std::nullopt;
  std::string_view rest = error.substr(5);
  while (rest.starts_with(' '))
    rest.remove_prefix(1);
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view address = rest.substr(space + 1);
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = address.substr(0, colon);
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.empty()) host = current_host;
  return RedisAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

std::optional<std::string> reroute_reason(std::string_view error, bool with_sentinel) {
  if (starts_with_word(error, "MOVED")) return "redirected by Redis Cluster: " + first_line(error);
  if (!with_sentinel) return std::nullopt;
  for (const char* word : {"READONLY", "UNBLOCKED", "MASTERDOWN"}) {
    if (starts_with_word(error, word)) {
      return "the server is no longer the primary: " + first_line(error);
    }
  }
  return std::nullopt;
}

}  // namespace splitstream
