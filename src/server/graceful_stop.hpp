// A node's stop on SIGINT or SIGTERM, after the listeners are closed: stop taking reads, let
// every batch being stored get its Ack, then let the engine apply the stream up to its last
// entry and the materializer write it out. Each wait ends at the deadline; whatever is left is
// in the stream already, and any node (or this one, restarted) derives it again.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "ingest/device_session.hpp"
#include "pipeline/pipeline_service.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

// On the ingest strand (where `ingest` and `redis` live); hops to the engine strand to flush.
boost::asio::awaitable<void> drain(std::shared_ptr<DeviceIngest> ingest,
                                   std::shared_ptr<RedisConnection> redis, std::string stream,
                                   PipelineService* pipeline,
                                   boost::asio::any_io_executor engine_strand,
                                   std::chrono::steady_clock::time_point deadline);

}  // namespace splitstream
