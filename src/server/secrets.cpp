#include "server/secrets.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "core/text.hpp"
#include "observe/log.hpp"

namespace splitstream {

DeviceTokens load_device_tokens(const ServerConfig& config, const Event& event,
                                const std::vector<std::string>& decoder_ids) {
  DeviceTokens tokens;
  Diagnostics problems;
  if (!config.device_tokens_file.empty())
    problems = tokens.add_from_file(config.device_tokens_file);
  for (Diagnostic& d : tokens.add_from_environment())
    problems.push_back(std::move(d));
  if (!problems.empty()) {
    std::string text = "device tokens:";
    for (const Diagnostic& d : problems)
      text += "\n  " + d.to_string();
    throw std::runtime_error(text);
  }
  for (const Diagnostic& d : tokens.cross_check(event, decoder_ids))
    log::warn("devices", d.to_string());
  return tokens;
}

std::string load_admin_token(const ServerConfig& config) {
  std::string token;
  if (!config.admin_token_file.empty()) {
    std::ifstream in(config.admin_token_file);
    if (!in)
      throw std::runtime_error("admin-token-file " + config.admin_token_file + ": unreadable");
    std::getline(in, token);
    token = std::string(trim(token));
    if (token.empty()) {
      throw std::runtime_error("admin-token-file " + config.admin_token_file +
                               ": the first line should hold the token");
    }
  } else if (const char* env = std::getenv("SPLITSTREAM_ADMIN_TOKEN")) {
    token = std::string(trim(env));
  }
  if (!token.empty() && token.size() < kMinOfficialTokenLength) {
    throw std::runtime_error(
        "the admin token is " + std::to_string(token.size()) + " characters long: use at least " +
        std::to_string(kMinOfficialTokenLength) + " (e.g. openssl rand -hex 24)");
  }
  return token;
}

std::shared_ptr<const Officials> load_officials(const ServerConfig& config) {
  auto officials = std::make_shared<Officials>();
  Diagnostics problems;
  if (!config.officials_file.empty()) problems = officials->add_from_file(config.officials_file);
  if (const std::string admin = load_admin_token(config); !admin.empty()) {
    const std::string source = config.admin_token_file.empty()
                                   ? "SPLITSTREAM_ADMIN_TOKEN"
                                   : "admin-token-file " + config.admin_token_file;
    for (Diagnostic& d : officials->add_admin_token(admin, source))
      problems.push_back(std::move(d));
  }
  if (!problems.empty()) {
    std::string text = "officials:";
    for (const Diagnostic& d : problems)
      text += "\n  " + d.to_string();
    throw std::runtime_error(text);
  }
  return officials;
}

}  // namespace splitstream
