// HTTP routing with no I/O: a request in, a response out. Errors are JSON objects with a
// machine-readable code and a message for people.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/http_message.hpp"

namespace splitstream {

// The connection a protocol upgrade takes over, plain TCP or TLS (http/http_stream.hpp).
struct HttpStreamRef;

// The largest request body the router takes for paths under `prefix`.
struct PathBodyLimit {
  std::string prefix;
  std::uint32_t bytes = 0;
};

class Router {
 public:
  // A route that awaits I/O (Redis) before it can answer.
  using AsyncHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

  // A route answered at once, with no I/O.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Takes over the connection for a protocol upgrade (WebSocket): it may answer an HTTP error
  // on the stream, or move the stream away. The HTTP session ends after it. `hold` is the
  // connection's place in the per-address count: keep it as long as the connection lives.
  using UpgradeHandler = std::function<boost::asio::awaitable<void>(HttpStreamRef, HttpRequest,
                                                                    std::shared_ptr<void> hold)>;

  // An exact path answered by handle(); it goes before any async prefix route.
  void add(std::string path, Handler handler) {
    routes_.emplace(std::move(path), std::move(handler));
  }
  void add_async(std::string path, AsyncHandler handler) {
    async_.emplace(std::move(path), std::move(handler));
  }
  // For every path under `prefix` that has no exact route.
  void add_async_prefix(std::string prefix, AsyncHandler handler) {
    async_prefix_.emplace_back(std::move(prefix), std::move(handler));
  }
  void add_upgrade(std::string path, UpgradeHandler handler) {
    upgrade_.emplace(std::move(path), std::move(handler));
  }
  // Answers every path no route matches, except under /api/ (the REST API's namespace keeps its
  // JSON 404). Without one, such paths get 404 not_found.
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }
  // The largest request body taken for paths under `prefix` (longest prefix wins); other paths
  // take the listener's default.
  void set_body_limit(std::string prefix, std::uint32_t bytes) {
    body_limits_.emplace_back(std::move(prefix), bytes);
  }
  std::uint32_t body_limit(std::string_view target, std::uint32_t fallback) const;
  // The async handler for the request's path, or null: then handle() answers.
  const AsyncHandler* async_handler(const HttpRequest& request) const;
  // The upgrade handler when the request is a WebSocket upgrade of an upgrade path.
  const UpgradeHandler* upgrade_handler(const HttpRequest& request) const;
  // Exact routes, 426 on upgrade paths, then the fallback or 404.
  HttpResponse handle(const HttpRequest& request) const;

 private:
  std::map<std::string, Handler, std::less<>> routes_;
  Handler fallback_;
  std::map<std::string, AsyncHandler, std::less<>> async_;
  std::vector<std::pair<std::string, AsyncHandler>> async_prefix_;
  std::map<std::string, UpgradeHandler, std::less<>> upgrade_;
  std::vector<std::pair<std::string, std::uint32_t>> body_limits_;
};

}  // namespace splitstream
