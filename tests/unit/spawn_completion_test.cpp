// The completion handlers every co_spawn gets: a connection's failure is logged and dropped;
// a failure of a part the node needs stops the io_context with a non-zero status, as
// run_server wires them.
#include "observe/spawn_completion.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

namespace splitstream {
namespace {

namespace asio = boost::asio;

asio::awaitable<void> fails() {
  co_await asio::this_coro::executor;
  throw std::runtime_error("boom");
}

asio::awaitable<void> returns() {
  co_return;
}

asio::awaitable<int> counts(int& ticks) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 3; ++i) {
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    ++ticks;
  }
  co_return ticks;
}

TEST(SpawnCompletion, ADroppedConnectionLeavesTheOthersRunning) {
  asio::io_context ioc;
  int ticks = 0;
  asio::co_spawn(ioc, fails(), LogAndDrop("test"));
  asio::co_spawn(ioc, counts(ticks), LogAndDrop("test"));
  EXPECT_NO_THROW(ioc.run());  // the exception did not leave run()
  EXPECT_EQ(ticks, 3);
}

TEST(SpawnCompletion, AFailedEssentialPartStopsTheNodeWithAStatus) {
  asio::io_context ioc;
  int status = 0;
  // The same wiring as run_server: the stop function records the status and stops the loop.
  const auto stop = [&](int s) {
    status = s;
    ioc.stop();
  };
  // A part that keeps the loop busy until stopped.
  asio::steady_timer forever(ioc, std::chrono::hours(1));
  forever.async_wait([](boost::system::error_code) {});
  asio::co_spawn(ioc, fails(), StopProcess("pipeline", stop));
  ioc.run();  // returns only because the failure stopped the loop: the timer holds it an hour
  EXPECT_EQ(status, kExitInternalError);
  EXPECT_TRUE(ioc.stopped());
}

TEST(SpawnCompletion, AnEssentialPartThatEndsEarlyStopsTheNodeButNotWhileItStops) {
  asio::io_context ioc;
  int status = 0;
  bool stopping = false;
  const auto stop = [&](int s) { status = s; };
  asio::co_spawn(ioc, returns(), StopProcess("follower", stop, [&] { return stopping; }));
  ioc.run();
  EXPECT_EQ(status, kExitInternalError);

  status = 0;
  stopping = true;
  ioc.restart();
  asio::co_spawn(ioc, returns(), StopProcess("follower", stop, [&] { return stopping; }));
  ioc.run();
  EXPECT_EQ(status, 0);
}

TEST(SpawnCompletion, DescribeNamesTheException) {
  EXPECT_EQ(describe(std::make_exception_ptr(std::runtime_error("no route"))), "no route");
  EXPECT_EQ(describe(std::make_exception_ptr(42)), "an exception of unknown type");
}

}  // namespace
}  // namespace splitstream
