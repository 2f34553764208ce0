#include "api/routes.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "api/admin_api.hpp"
#include "api/device_status.hpp"
#include "api/metrics_endpoint.hpp"
#include "core/time.hpp"
#include "ingest/http_ingest.hpp"

namespace splitstream {
namespace {

namespace asio = boost::asio;

asio::awaitable<HttpResponse> answer_now(HttpResponse response) {
  co_return response;
}

// Null `officials` (a node built without them, in tests): nobody may.
std::shared_ptr<const Officials> or_nobody(std::shared_ptr<const Officials> officials) {
  return officials ? std::move(officials) : std::make_shared<const Officials>();
}

asio::awaitable<HttpResponse> answer_rest(HttpRequest request,
                                          std::shared_ptr<const RestContext> rest) {
  co_return handle_rest(request, *rest);
}

asio::awaitable<HttpResponse> answer_console(HttpRequest request,
                                             std::shared_ptr<const ConsoleContext> console) {
  co_return handle_console(request, *console);
}

void add_ingest_routes(Router& router, const Endpoints& e) {
  // HTTP ingest hops onto the ingest strand, where the ReadLog and its connection live.
  router.add_async(std::string(kReadsPath),
                   [ingest = e.ingest, strand = e.ingest_strand](HttpRequest request) {
                     return asio::co_spawn(strand, handle_http_ingest(std::move(request), ingest),
                                           asio::use_awaitable);
                   });
  router.add_async("/api/v1/devices", [context = e.device_status,
                                       strand = e.ingest_strand](HttpRequest request) {
    return asio::co_spawn(strand, device_status(std::move(request), context), asio::use_awaitable);
  });
  // Impinj readers post to a path of their own, on the same strand (a prefix before the REST
  // API's /api/v1/).
  router.add_async_prefix(std::string(kImpinjPathPrefix),
                          [decoders = e.decoders, strand = e.ingest_strand](HttpRequest request) {
                            return asio::co_spawn(strand,
                                                  handle_impinj_post(std::move(request), decoders),
                                                  asio::use_awaitable);
                          });
}

void add_push_routes(Router& router, const Endpoints& e) {
  router.add_upgrade("/ws", websocket_upgrade(e.push));
  // The race-day console reads the engine, on its strand, for officials (a viewer at least);
  // before /api/v1/, which would take it.
  router.add_async_prefix(
      std::string(kConsolePathPrefix),
      officials_only(e.officials, OfficialRole::viewer,
                     [console = e.console, strand = e.engine_strand](HttpRequest request) {
                       return asio::co_spawn(strand, answer_console(std::move(request), console),
                                             asio::use_awaitable);
                     }));
  // The REST API reads the engine and the hub, on their strand.
  router.add_async_prefix(
      "/api/v1/", [rest = e.rest, strand = e.engine_strand](HttpRequest request) {
        return asio::co_spawn(strand, answer_rest(std::move(request), rest), asio::use_awaitable);
      });
  // Settings for the browser app: no engine, answered on the session's thread.
  router.add("/api/v1/config", [client = e.client](const HttpRequest& request) {
    return handle_client_config(request, client);
  });
  // The browser app takes every path no other route does (not /api/: that stays the API's).
  if (e.web_app) {
    router.set_fallback(
        [app = e.web_app](const HttpRequest& request) { return app->handle(request); });
  } else {
    router.set_fallback(web_app_not_built);
  }
}

}  // namespace

Router::AsyncHandler officials_only(std::shared_ptr<const Officials> officials, OfficialRole least,
                                    Router::AsyncHandler handler) {
  return [officials = or_nobody(std::move(officials)), least,
          handler = std::move(handler)](HttpRequest request) -> asio::awaitable<HttpResponse> {
    auto who = authorize_official(request, *officials, least, wall_clock_now());
    if (auto* denied = std::get_if<HttpResponse>(&who)) return answer_now(std::move(*denied));
    return handler(std::move(request));
  };
}

std::shared_ptr<const Router> make_router(const Endpoints& e) {
  auto router = std::make_shared<Router>();
  router->add("/healthz", health_response);
  router->add("/readyz", [checks = e.readiness](const HttpRequest& request) {
    return readiness_response(request, checks);
  });
  // Every node, whatever its roles: Prometheus scrapes each one.
  router->add("/metrics", metrics_response);
  // The officials' corrections, on every node: recorded in the stream, applied by all.
  router->add_async(std::string(kCorrectionsPath), [admin = e.admin](HttpRequest request) {
    return admin_corrections(std::move(request), admin);
  });
  router->add_async_prefix(std::string(kCorrectionsPath) + "/",
                           [admin = e.admin](HttpRequest request) {
                             return admin_correction_undo(std::move(request), admin);
                           });
  // Signing in and out: no engine, answered on the session's thread, on every node (the
  // session value is good on any node with the same officials).
  router->add(std::string(kSessionPath), [officials = or_nobody(e.officials),
                                          options = e.session](const HttpRequest& request) {
    return handle_session(request, *officials, options, wall_clock_now());
  });
  for (const PathBodyLimit& limit : e.body_limits)
    router->set_body_limit(limit.prefix, limit.bytes);
  if (e.ingest) add_ingest_routes(*router, e);
  if (e.push) add_push_routes(*router, e);
  return router;
}

}  // namespace splitstream
