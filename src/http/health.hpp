// GET /healthz (the process answers) and GET /readyz (every dependency the node needs to serve
// traffic is ready: 200, else 503, with each check's detail).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/http_message.hpp"

namespace splitstream {

// A dependency the server needs to serve traffic, as /readyz reports it.
struct ReadinessCheck {
  std::string name;
  std::function<bool(std::string& detail)> ready;
};

HttpResponse health_response(const HttpRequest& request);
HttpResponse readiness_response(const HttpRequest& request,
                                const std::vector<ReadinessCheck>& checks);

}  // namespace splitstream
