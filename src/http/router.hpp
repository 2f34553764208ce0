// HTTP routing with no I/O: a request in, a response out. Errors are JSON objects with a
// machine-readable code and a message for people.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
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
  explicit Router(std::vector<ReadinessCheck> checks) : checks_(std::move(checks)) {}
  HttpResponse handle(const HttpRequest& request) const;

 private:
  std::vector<ReadinessCheck> checks_;
};

HttpResponse json_response(const HttpRequest& request, http::status status, std::string body);
// {"error":{"code":CODE,"message":MESSAGE}}
HttpResponse error_response(const HttpRequest& request, http::status status, std::string_view code,
                            std::string_view message);

}  // namespace splitstream
