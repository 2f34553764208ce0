// HTTP routing with no I/O: a request in, a response out. Errors are JSON objects with a
// machine-readable code and a message for people.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace splitstream {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// A dependency the server needs to serve traffic, as /readyz reports it.
struct ReadinessCheck {
  std::string name;
  std::function<bool(std::string& detail)> ready;
};

class Router {
 public:
  // A route that awaits I/O (Redis) before it can answer.
  using AsyncHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

  explicit Router(std::vector<ReadinessCheck> checks) : checks_(std::move(checks)) {}
  void add_async(std::string path, AsyncHandler handler) {
    async_.emplace(std::move(path), std::move(handler));
  }
  // The async handler for the request's path, or null: then handle() answers.
  const AsyncHandler* async_handler(const HttpRequest& request) const;
  HttpResponse handle(const HttpRequest& request) const;

 private:
  std::vector<ReadinessCheck> checks_;
  std::map<std::string, AsyncHandler, std::less<>> async_;
};

HttpResponse json_response(const HttpRequest& request, http::status status, std::string body);
// {"error":{"code":CODE,"message":MESSAGE}}
HttpResponse error_response(const HttpRequest& request, http::status status, std::string_view code,
                            std::string_view message);

}  // namespace splitstream
