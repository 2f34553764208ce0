// Per-address connection counting and the subscribe-rate token bucket, by hand.
#include "core/connection_limiter.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace splitstream {
namespace {

TEST(ConnectionLimiter, AnAddressAtItsLimitIsRefusedUntilASlotIsGivenBack) {
  auto limiter = ConnectionLimiter::create(2);
  auto a = limiter->acquire("10.0.0.1");
  auto b = limiter->acquire("10.0.0.1");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limiter->acquire("10.0.0.1"));
  EXPECT_TRUE(limiter->acquire("10.0.0.2"));  // another address; given back at once
  EXPECT_EQ(limiter->count("10.0.0.1"), 2u);
  EXPECT_EQ(limiter->count("10.0.0.2"), 0u);
  a.reset();
  EXPECT_EQ(limiter->count("10.0.0.1"), 1u);
  auto c = limiter->acquire("10.0.0.1");
  EXPECT_TRUE(c);
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(limiter->refusals_to_report(now, std::chrono::seconds(0)), 1u);
  EXPECT_EQ(limiter->refusals_to_report(now, std::chrono::seconds(0)), std::nullopt);
  // A slot moved keeps its place; destroyed once, given back once.
  ConnectionLimiter::Slot moved = std::move(*c);
  c.reset();
  EXPECT_EQ(limiter->count("10.0.0.1"), 2u);
}

TEST(ConnectionLimiter, RefusalsAreReportedAtMostOncePerInterval) {
  auto limiter = ConnectionLimiter::create(1);
  auto held = limiter->acquire("a");
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(limiter->refusals_to_report(t0, std::chrono::seconds(10)));  // none yet
  limiter->acquire("a");
  limiter->acquire("a");
  EXPECT_EQ(limiter->refusals_to_report(t0, std::chrono::seconds(10)), 2u);
  limiter->acquire("a");
  EXPECT_FALSE(limiter->refusals_to_report(t0 + std::chrono::seconds(9), std::chrono::seconds(10)));
  EXPECT_EQ(limiter->refusals_to_report(t0 + std::chrono::seconds(10), std::chrono::seconds(10)),
            1u);
}

TEST(ConnectionLimiter, ZeroMeansNoLimitAndSlotsOutliveTheLimiterHandle) {
  auto limiter = ConnectionLimiter::create(0);
  std::vector<ConnectionLimiter::Slot> slots;
  for (int i = 0; i < 1000; ++i)
    slots.push_back(std::move(*limiter->acquire("lb")));
  EXPECT_EQ(limiter->count("lb"), 1000u);
  std::weak_ptr<ConnectionLimiter> weak = limiter;
  limiter.reset();
  EXPECT_FALSE(weak.expired());  // the slots hold it
  slots.clear();
  EXPECT_TRUE(weak.expired());
}

TEST(ConnectionLimiter, CountsFromManyThreadsBalance) {
  auto limiter = ConnectionLimiter::create(1'000'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i)
        auto slot = limiter->acquire("x");
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(limiter->count("x"), 0u);
}

TEST(RateLimiter, ABurstThenTheRate) {
  RateLimiter r(2.0, 3.0);  // 2 per second after 3 at once
  EXPECT_TRUE(r.allow(0));
  EXPECT_TRUE(r.allow(0));
  EXPECT_TRUE(r.allow(0));
  EXPECT_FALSE(r.allow(0));
  EXPECT_FALSE(r.allow(400));  // 0.8 of a token
  EXPECT_TRUE(r.allow(500));   // 1.0
  EXPECT_FALSE(r.allow(500));
  EXPECT_TRUE(r.allow(10'000));  // refilled to the burst, not beyond
  EXPECT_TRUE(r.allow(10'000));
  EXPECT_TRUE(r.allow(10'000));
  EXPECT_FALSE(r.allow(10'000));
  EXPECT_FALSE(r.allow(9'000));  // a clock going back earns nothing
}

}  // namespace
}  // namespace splitstream
