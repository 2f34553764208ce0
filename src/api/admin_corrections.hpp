// POST and GET /api/v1/admin/corrections with their I/O: a correction is checked against this
// node's engine, recorded in the read stream (so every node's engine applies it, in stream
// order, like a read) and answered once this node has applied it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "api/officials.hpp"
#include "engine/race_engine.hpp"
#include "http/http_message.hpp"
#include "pipeline/correction_log.hpp"
#include "pipeline/live_pipeline.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

// What the admin endpoints need, on their strands.
struct AdminContext {
  std::shared_ptr<const Officials> officials;  // never null; empty: the endpoints are off
  int utc_offset_minutes = 0;
  RaceEngine& engine;            // engine strand
  CorrectionLog& corrections;    // engine strand
  const LivePipeline& pipeline;  // progress(): any thread
  boost::asio::any_io_executor engine_strand;
  boost::asio::any_io_executor ingest_strand;
  std::shared_ptr<RedisConnection> redis;  // ingest strand
  std::string stream;
};

// /api/v1/admin/corrections: GET (a viewer at least) lists what this node's engine applied; POST
// (an official) records a correction, `by` the official's name, in the stream and answers once
// this node has applied it (201), or 202 when it has not within two seconds (every node applies
// it as it follows the stream).
boost::asio::awaitable<HttpResponse> admin_corrections(HttpRequest request,
                                                       std::shared_ptr<AdminContext> admin);

// POST /api/v1/admin/corrections/<id>/undo: records the correction that takes <id> back (see
// api/correction_undo), answered like a POST of it; 404 for an id the log does not hold, 409 when
// it cannot be undone.
boost::asio::awaitable<HttpResponse> admin_correction_undo(HttpRequest request,
                                                           std::shared_ptr<AdminContext> admin);

}  // namespace splitstream
