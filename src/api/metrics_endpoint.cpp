#include "api/metrics_endpoint.hpp"

#include "observe/metrics.hpp"

namespace splitstream {

HttpResponse metrics_response(const HttpRequest& request) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return error_response(request, http::status::method_not_allowed, "method_not_allowed",
                          "GET /metrics");
  }
  HttpResponse res = json_response(request, http::status::ok, metrics::global().render());
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  return res;
}

}  // namespace splitstream
