#include "http/http_message.hpp"

#include <boost/json.hpp>

namespace splitstream {

HttpResponse json_response(const HttpRequest& request, http::status status, std::string body) {
  HttpResponse res{status, request.version()};
  res.set(http::field::server, "splitstream");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse error_response(const HttpRequest& request, http::status status, std::string_view code,
                            std::string_view message) {
  const boost::json::object body{{"error", {{"code", code}, {"message", message}}}};
  return json_response(request, status, boost::json::serialize(body));
}

}  // namespace splitstream
