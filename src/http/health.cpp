#include "http/health.hpp"

#include <boost/json.hpp>
#include <optional>

namespace splitstream {
namespace {

// Null for GET and HEAD; else 405 naming the path.
std::optional<HttpResponse> read_only(const HttpRequest& request, std::string_view path) {
  if (request.method() == http::verb::get || request.method() == http::verb::head)
    return std::nullopt;
  auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed",
                            std::string(path) + " takes GET");
  res.set(http::field::allow, "GET, HEAD");
  return res;
}

}  // namespace

HttpResponse health_response(const HttpRequest& request) {
  if (auto refused = read_only(request, "/healthz")) return std::move(*refused);
  return json_response(request, http::status::ok, R"({"status":"ok"})");
}

HttpResponse readiness_response(const HttpRequest& request,
                                const std::vector<ReadinessCheck>& checks) {
  if (auto refused = read_only(request, "/readyz")) return std::move(*refused);
  boost::json::object results;
  bool all_ready = true;
  for (const ReadinessCheck& check : checks) {
    std::string detail;
    const bool ready = check.ready(detail);
    all_ready = all_ready && ready;
    results[check.name] = {{"ready", ready}, {"detail", detail}};
  }
  const boost::json::object body{{"status", all_ready ? "ready" : "not_ready"},
                                 {"checks", std::move(results)}};
  return json_response(request, all_ready ? http::status::ok : http::status::service_unavailable,
                       boost::json::serialize(body));
}

}  // namespace splitstream
