// Routing with no I/O: exact routes before async prefixes, the fallback for paths nothing else
// takes (never /api/), the built-in endpoints unchanged; and GET /api/v1/config.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/rest_api.hpp"
#include "http/health.hpp"
#include "http/http_stream.hpp"

namespace splitstream {
namespace {

HttpRequest get(std::string target, http::verb method = http::verb::get) {
  return HttpRequest{method, target, 11};
}

Router::AsyncHandler never_called() {
  return [](HttpRequest) -> boost::asio::awaitable<HttpResponse> {
    ADD_FAILURE() << "async handler called";
    co_return HttpResponse();
  };
}

HttpResponse text(const HttpRequest& request, std::string body) {
  HttpResponse res{http::status::ok, request.version()};
  res.body() = std::move(body);
  return res;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.add("/healthz", health_response);
    router_.add("/readyz", [](const HttpRequest& request) {
      return readiness_response(request, {{"always", [](std::string& detail) {
                                             detail = "fine";
                                             return true;
                                           }}});
    });
    router_.add_async_prefix("/api/v1/", never_called());
    router_.add_async("/api/v1/reads", never_called());
    router_.add("/api/v1/config", [](const HttpRequest& r) { return text(r, "config"); });
    router_.add_upgrade("/ws",
                        [](HttpStreamRef, HttpRequest,
                           std::shared_ptr<void>) -> boost::asio::awaitable<void> { co_return; });
  }
  Router router_;
};

TEST_F(RouterTest, ExactRoutesGoBeforeAsyncPrefixes) {
  EXPECT_EQ(router_.async_handler(get("/api/v1/config")), nullptr);
  EXPECT_EQ(router_.async_handler(get("/api/v1/config?x=1")), nullptr);
  EXPECT_EQ(router_.handle(get("/api/v1/config?x=1")).body(), "config");
  EXPECT_NE(router_.async_handler(get("/api/v1/reads")), nullptr);
  EXPECT_NE(router_.async_handler(get("/api/v1/event")), nullptr);
  EXPECT_NE(router_.async_handler(get("/api/v1/nope")), nullptr);
  EXPECT_EQ(router_.async_handler(get("/")), nullptr);
}

TEST_F(RouterTest, WithoutAFallbackUnknownPathsAreJson404) {
  const auto res = router_.handle(get("/leaderboard"));
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(res.body(),
            R"({"error":{"code":"not_found","message":"no resource at /leaderboard"}})");
}

TEST_F(RouterTest, TheFallbackTakesWhatNoRouteTakesButNeverApi) {
  router_.set_fallback(
      [](const HttpRequest& r) { return text(r, "app " + std::string(r.target())); });
  EXPECT_EQ(router_.handle(get("/")).body(), "app /");
  EXPECT_EQ(router_.handle(get("/leaderboard?race=10k")).body(), "app /leaderboard?race=10k");
  EXPECT_EQ(router_.handle(get("/assets/x.js", http::verb::post)).body(), "app /assets/x.js");
  EXPECT_EQ(router_.handle(get("/apiary")).body(), "app /apiary");
  // The API's namespace keeps its JSON 404, whatever is under it.
  for (const char* api : {"/api", "/api/", "/api/v2/event", "/api/v1"}) {
    const auto res = router_.handle(get(api));
    EXPECT_EQ(res.result(), http::status::not_found) << api;
    EXPECT_NE(res.body().find(R"("code":"not_found")"), std::string::npos) << api;
  }
  // The built-in endpoints are unchanged.
  EXPECT_EQ(router_.handle(get("/healthz")).body(), R"({"status":"ok"})");
  EXPECT_EQ(router_.handle(get("/readyz")).result(), http::status::ok);
  EXPECT_EQ(router_.handle(get("/healthz", http::verb::post)).result(),
            http::status::method_not_allowed);
  EXPECT_EQ(router_.handle(get("/ws")).result(), http::status::upgrade_required);
  EXPECT_EQ(router_.handle(get("/api/v1/config")).body(), "config");
}

TEST(RestClientConfig, MapTilesOrNull) {
  auto res = handle_client_config(get("/api/v1/config"), {});
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"map_tiles":null})");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  EXPECT_EQ(res[http::field::content_type], "application/json");
  res =
      handle_client_config(get("/api/v1/config"), {"https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                                   "\xC2\xA9 OpenStreetMap \"contributors\""});
  EXPECT_EQ(
      boost::json::parse(res.body()),
      boost::json::parse(R"({"map_tiles":{"url":"https://tile.openstreetmap.org/{z}/{x}/{y}.png",)"
                         R"("attribution":"\u00a9 OpenStreetMap \"contributors\""}})"));
  res = handle_client_config(get("/api/v1/config", http::verb::post), {});
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
}

}  // namespace
}  // namespace splitstream

namespace splitstream {
namespace {

TEST(RouterBodyLimits, TheLongestPrefixWinsElseTheDefault) {
  Router router({});
  router.set_body_limit("/api/v1/reads", 1 << 20);
  router.set_body_limit("/api/v1/admin/", 4096);
  router.set_body_limit("/api/v1/admin/corrections", 2048);
  EXPECT_EQ(router.body_limit("/api/v1/reads", 16384), 1u << 20);
  EXPECT_EQ(router.body_limit("/api/v1/reads?x=1", 16384), 1u << 20);
  EXPECT_EQ(router.body_limit("/api/v1/admin/other", 16384), 4096u);
  EXPECT_EQ(router.body_limit("/api/v1/admin/corrections", 16384), 2048u);
  EXPECT_EQ(router.body_limit("/api/v1/event", 16384), 16384u);
  EXPECT_EQ(router.body_limit("/", 16384), 16384u);
}

}  // namespace
}  // namespace splitstream
