// The route table: every HTTP path a node answers, registered here and only here, with the
// strand each handler runs on. The handlers live in files of their own.
//
//   /healthz, /readyz                 http/health                 any node
//   /metrics                          api/metrics_endpoint        any node
//   /api/v1/admin/corrections         api/admin_corrections       any node (officials: GET a
//                                                               viewer, POST an official);
//                                                               checks on the engine strand,
//                                                               records on the ingest strand
//   /api/v1/session                   api/session_api             any node, the session's thread
//   /api/v1/reads                     ingest/http_ingest          ingest role, ingest strand
//   /api/v1/devices                   api/device_status           ingest role, ingest strand
//   /api/v1/impinj/<decoder>          adapters/decoder_session    ingest role, ingest strand
//   /ws (WebSocket upgrade)           push/websocket_session      push role
//   /api/v1/config                    api/rest_api                push role
//   /api/v1/console/*                 api/console_api             push role, engine strand
//   /api/v1/* (the rest)              api/rest_api                push role, engine strand
//   every other path                  http/static_files (the app) push role
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "adapters/decoder_session.hpp"
#include "api/admin_corrections.hpp"
#include "api/console_api.hpp"
#include "api/device_status.hpp"
#include "api/officials.hpp"
#include "api/rest_api.hpp"
#include "api/session_api.hpp"
#include "http/health.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"
#include "ingest/device_session.hpp"
#include "push/websocket_session.hpp"
#include "store/key_schema.hpp"
#include "store/redis_connection.hpp"

namespace splitstream {

// What the handlers of a node's roles need. A role's parts are null when the node lacks it.
struct Endpoints {
  std::vector<ReadinessCheck> readiness;
  // Request bodies by path: device batches may be large, admin corrections are small; the rest
  // of the API takes the HTTP listener's default.
  std::vector<PathBodyLimit> body_limits;
  std::shared_ptr<AdminContext> admin;
  // Who may sign in, read the console and correct (null: nobody); the sessions' settings.
  std::shared_ptr<const Officials> officials;
  SessionOptions session;
  // Ingest role.
  std::shared_ptr<DeviceIngest> ingest;
  boost::asio::any_io_executor ingest_strand;
  std::shared_ptr<RedisConnection> ingest_redis;  // on ingest_strand
  std::shared_ptr<DecoderServices> decoders;      // on ingest_strand; Impinj posts, status
  KeySchema keys{""};
  std::shared_ptr<const DeviceStatusContext> device_status;  // /api/v1/devices, ingest strand
  // Push role.
  std::shared_ptr<PushContext> push;
  std::shared_ptr<const RestContext> rest;        // on engine_strand
  std::shared_ptr<const ConsoleContext> console;  // on engine_strand
  boost::asio::any_io_executor engine_strand;
  ClientConfig client;
  std::shared_ptr<const StaticFiles> web_app;  // null: the app is not built
};

std::shared_ptr<const Router> make_router(const Endpoints& endpoints);

// `handler`, for officials only: a request without the credentials of an official whose role is
// at least `least` (authorize_official: Bearer token, or session cookie and the CSRF header on
// unsafe methods) is answered 401/403 without reaching it. For the /api/v1/console/ routes, added
// before the REST API's "/api/v1/" (prefixes match in the order they were added):
//   router.add_async_prefix("/api/v1/console/", officials_only(e.officials, OfficialRole::viewer,
//                                                              handler));
Router::AsyncHandler officials_only(std::shared_ptr<const Officials> officials, OfficialRole least,
                                    Router::AsyncHandler handler);

}  // namespace splitstream
