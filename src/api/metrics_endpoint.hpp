// GET /metrics: every metric of this node in the Prometheus text format (0.0.4).
#pragma once

#include "http/http_message.hpp"

namespace splitstream {

HttpResponse metrics_response(const HttpRequest& request);

}  // namespace splitstream
