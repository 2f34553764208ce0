#include "api/console_feeds.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>
#include <utility>

namespace splitstream {
namespace {

namespace asio = boost::asio;

HttpRequest review_request() {
  HttpRequest request{http::verb::get, std::string(kConsolePathPrefix) + "review", 11};
  return request;
}

// On the engine strand: the hub and the engine live there.
asio::awaitable<void> publish_here(PushHub& hub, v1::SubscriptionKind kind, std::string json) {
  hub.publish_console(kind, std::move(json), wall_clock_now());
  co_return;
}

asio::awaitable<void> publish_review_here(PushHub& hub,
                                          std::shared_ptr<const ConsoleContext> console) {
  // The whole field is walked: not for nobody.
  if (!hub.has_subscribers(v1::SUBSCRIPTION_KIND_REVIEW)) co_return;
  hub.publish_console(v1::SUBSCRIPTION_KIND_REVIEW, console_review_body(*console),
                      wall_clock_now());
  co_return;
}

}  // namespace

std::string console_review_body(const ConsoleContext& console) {
  return handle_console(review_request(), console).body();
}

asio::awaitable<void> run_console_feeds(std::shared_ptr<const DeviceStatusContext> devices,
                                        std::shared_ptr<const ConsoleContext> console, PushHub& hub,
                                        asio::any_io_executor engine_strand,
                                        const std::atomic<bool>& stopping,
                                        ConsoleFeedsOptions options) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping) {
    if (devices) {
      auto body = co_await device_status_body(devices);
      // A Redis failure skips this round's devices: the feed keeps its last content.
      if (body.index() == 0) {
        co_await asio::co_spawn(
            engine_strand,
            publish_here(hub, v1::SUBSCRIPTION_KIND_DEVICES, std::move(std::get<0>(body))),
            asio::use_awaitable);
      }
    }
    co_await asio::co_spawn(engine_strand, publish_review_here(hub, console), asio::use_awaitable);
    timer.expires_after(options.interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace splitstream
