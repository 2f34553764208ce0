// POST /api/v1/reads: devices that push over HTTP. A request is a one-shot device session: the
// bearer token stands in for Hello, the body is one ReadBatch (Protobuf or JSON) from one
// device, and the answer is the same Ack a TCP device gets, after Redis holds the reads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "http/router.hpp"
#include "ingest/device_session.hpp"

namespace splitstream {

// The path devices push to (its body limit: DeviceIngest::max_http_body_bytes).
inline constexpr std::string_view kReadsPath = "/api/v1/reads";

// Runs on the ingest strand (it uses the ReadLog).
boost::asio::awaitable<HttpResponse> handle_http_ingest(HttpRequest request,
                                                        std::shared_ptr<DeviceIngest> ingest);

}  // namespace splitstream
