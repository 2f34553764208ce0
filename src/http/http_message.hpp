// HTTP requests and responses as values, and the JSON answers every route gives: the light
// header for code that handles a request (no sockets, no TLS; http/http_stream.hpp has those).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace splitstream {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

HttpResponse json_response(const HttpRequest& request, http::status status, std::string body);
// {"error":{"code":CODE,"message":MESSAGE}}
HttpResponse error_response(const HttpRequest& request, http::status status, std::string_view code,
                            std::string_view message);

}  // namespace splitstream
