#include "http/router.hpp"

#include <boost/beast/websocket/rfc6455.hpp>

namespace splitstream {

const Router::AsyncHandler* Router::async_handler(const HttpRequest& request) const {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (const auto it = async_.find(path); it != async_.end()) return &it->second;
  if (routes_.contains(path)) return nullptr;  // an exact route before a prefix
  for (const auto& [prefix, handler] : async_prefix_) {
    if (path.starts_with(prefix)) return &handler;
  }
  return nullptr;
}

std::uint32_t Router::body_limit(std::string_view target, std::uint32_t fallback) const {
  const std::string_view path = target.substr(0, target.find('?'));
  std::size_t longest = 0;
  std::uint32_t limit = fallback;
  for (const auto& [prefix, bytes] : body_limits_) {
    if (path.starts_with(prefix) && prefix.size() >= longest) {
      longest = prefix.size();
      limit = bytes;
    }
  }
  return limit;
}

const Router::UpgradeHandler* Router::upgrade_handler(const HttpRequest& request) const {
  if (!boost::beast::websocket::is_upgrade(request)) return nullptr;
  const std::string_view target = request.target();
  const auto it = upgrade_.find(target.substr(0, target.find('?')));
  return it == upgrade_.end() ? nullptr : &it->second;
}

HttpResponse Router::handle(const HttpRequest& request) const {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (const auto it = routes_.find(path); it != routes_.end()) return it->second(request);
  if (upgrade_.contains(path)) {
    auto res = error_response(request, http::status::upgrade_required, "upgrade_required",
                              std::string(path) + " is a WebSocket endpoint: connect with ws://");
    res.set(http::field::upgrade, "websocket");
    return res;
  }
  if (fallback_ && path != "/api" && !path.starts_with("/api/")) return fallback_(request);
  return error_response(request, http::status::not_found, "not_found",
                        "no resource at " + std::string(path));
}

}  // namespace splitstream
