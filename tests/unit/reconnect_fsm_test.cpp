// The reconnect policy without sockets or clocks: each test feeds the inputs a driver would and
// checks the actions, delays and reports against hand-computed values.
#include "store/reconnect_fsm.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <ostream>
#include <vector>

namespace splitstream {
namespace {

using namespace std::chrono_literals;
using Action = ReconnectFsm::Action;
using Input = ReconnectFsm::Input;
using Report = ReconnectFsm::Report;
using State = ReconnectFsm::State;

ReconnectPolicy policy(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                       double factor) {
  ReconnectPolicy p;
  p.initial = initial;
  p.max = max;
  p.factor = factor;
  return p;
}

// Starts and fails `failures` attempts; returns the delay of each failure's wait.
std::vector<std::chrono::milliseconds> fail_repeatedly(ReconnectFsm& fsm, int failures) {
  std::vector<std::chrono::milliseconds> delays;
  EXPECT_EQ(fsm.handle(Input::start).action, Action::connect);
  for (int i = 0; i < failures; ++i) {
    const ReconnectFsm::Step failed = fsm.handle(Input::connect_failed);
    EXPECT_EQ(failed.action, Action::wait);
    EXPECT_EQ(failed.report, std::optional<Report>(Report::connect_failed));
    delays.push_back(failed.delay);
    EXPECT_EQ(fsm.handle(Input::backoff_elapsed).action, Action::connect);
  }
  return delays;
}

// A driver's record of one step: what it would report, and then do.
struct Performed {
  std::optional<Report> report;
  Action action;
  std::chrono::milliseconds delay;
  bool operator==(const Performed&) const = default;
};

void PrintTo(const Performed& p, std::ostream* out) {
  *out << "{report " << (p.report ? static_cast<int>(*p.report) : -1) << ", action "
       << static_cast<int>(p.action) << ", delay " << p.delay.count() << " ms}";
}

Performed perform(ReconnectFsm& fsm, Input input) {
  const ReconnectFsm::Step step = fsm.handle(input);
  return Performed{step.report, step.action, step.delay};
}

TEST(ReconnectFsmTest, StartsIdleAndAttemptsAtOnceWithoutReporting) {
  ReconnectFsm fsm(policy(100ms, 5000ms, 2.0));
  EXPECT_EQ(fsm.state(), State::idle);
  const ReconnectFsm::Step step = fsm.handle(Input::start);
  EXPECT_EQ(step.action, Action::connect);
  EXPECT_EQ(step.delay, 0ms);
  EXPECT_FALSE(step.report);
  EXPECT_EQ(fsm.state(), State::connecting);
}

TEST(ReconnectFsmTest, DelaysDoubleFromInitialUpToMax) {
  ReconnectFsm fsm(policy(100ms, 1000ms, 2.0));
  // 100, 200, 400, 800, then 1600 and 3200 capped at 1000.
  const std::vector<std::chrono::milliseconds> expected = {100ms, 200ms,  400ms,
                                                           800ms, 1000ms, 1000ms};
  EXPECT_EQ(fail_repeatedly(fsm, 6), expected);
}

TEST(ReconnectFsmTest, FractionalFactorTruncatesEachDelayToWholeMilliseconds) {
  ReconnectFsm fsm(policy(100ms, 1000ms, 1.5));
  // 100 * 1.5 = 150; 225; 337.5 -> 337; 337 * 1.5 = 505.5 -> 505; 757.5 -> 757; 1135.5 -> 1000.
  const std::vector<std::chrono::milliseconds> expected = {100ms, 150ms, 225ms, 337ms,
                                                           505ms, 757ms, 1000ms};
  EXPECT_EQ(fail_repeatedly(fsm, 7), expected);
}

TEST(ReconnectFsmTest, ConnectTimeoutCountsAsAFailedAttempt) {
  ReconnectFsm fsm(policy(100ms, 1000ms, 2.0));
  fsm.handle(Input::start);
  const ReconnectFsm::Step timed_out = fsm.handle(Input::connect_timed_out);
  EXPECT_EQ(timed_out.action, Action::wait);
  EXPECT_EQ(timed_out.delay, 100ms);
  EXPECT_EQ(timed_out.report, std::optional<Report>(Report::connect_failed));
  EXPECT_EQ(fsm.state(), State::backing_off);
  // The backoff grows across failures and timeouts alike.
  fsm.handle(Input::backoff_elapsed);
  EXPECT_EQ(fsm.handle(Input::connect_failed).delay, 200ms);
  fsm.handle(Input::backoff_elapsed);
  EXPECT_EQ(fsm.handle(Input::connect_timed_out).delay, 400ms);
}

TEST(ReconnectFsmTest, ConnectedResetsTheBackoff) {
  ReconnectFsm fsm(policy(100ms, 5000ms, 2.0));
  const std::vector<std::chrono::milliseconds> grown = {100ms, 200ms, 400ms};
  EXPECT_EQ(fail_repeatedly(fsm, 3), grown);

  const ReconnectFsm::Step connected = fsm.handle(Input::connect_succeeded);
  EXPECT_EQ(connected.action, Action::hold);
  EXPECT_EQ(connected.report, std::optional<Report>(Report::connected));
  EXPECT_EQ(fsm.state(), State::connected);

  // The wait after the drop starts again from initial, and the one after it is initial * 2:
  // not 800 as it would be without the reset.
  const ReconnectFsm::Step dropped = fsm.handle(Input::connection_dropped);
  EXPECT_EQ(dropped.action, Action::wait);
  EXPECT_EQ(dropped.delay, 100ms);
  EXPECT_EQ(dropped.report, std::optional<Report>(Report::disconnected));
  EXPECT_EQ(fsm.state(), State::backing_off);
  fsm.handle(Input::backoff_elapsed);
  EXPECT_EQ(fsm.handle(Input::connect_failed).delay, 200ms);
}

TEST(ReconnectFsmTest, EveryDropAfterAConnectionWaitsInitial) {
  ReconnectFsm fsm(policy(100ms, 5000ms, 2.0));
  fsm.handle(Input::start);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(fsm.handle(Input::connect_succeeded).action, Action::hold);
    EXPECT_EQ(fsm.handle(Input::connection_dropped).delay, 100ms) << "drop " << i;
    EXPECT_EQ(fsm.handle(Input::backoff_elapsed).action, Action::connect);
  }
}

TEST(ReconnectFsmTest, ReportsEventsInOrder) {
  ReconnectFsm fsm(policy(100ms, 300ms, 2.0));
  std::vector<Performed> performed;
  for (Input input :
       {Input::start, Input::connect_failed, Input::backoff_elapsed, Input::connect_timed_out,
        Input::backoff_elapsed, Input::connect_succeeded, Input::connection_dropped,
        Input::backoff_elapsed, Input::connect_failed, Input::backoff_elapsed,
        Input::connect_failed, Input::backoff_elapsed, Input::stop}) {
    performed.push_back(perform(fsm, input));
  }
  const std::vector<Performed> expected = {
      {std::nullopt, Action::connect, 0ms},          {Report::connect_failed, Action::wait, 100ms},
      {std::nullopt, Action::connect, 0ms},          {Report::connect_failed, Action::wait, 200ms},
      {std::nullopt, Action::connect, 0ms},          {Report::connected, Action::hold, 0ms},
      {Report::disconnected, Action::wait, 100ms},   {std::nullopt, Action::connect, 0ms},
      {Report::connect_failed, Action::wait, 200ms}, {std::nullopt, Action::connect, 0ms},
      {Report::connect_failed, Action::wait, 300ms},  // 400 capped at 300
      {std::nullopt, Action::connect, 0ms},          {std::nullopt, Action::stop, 0ms},
  };
  EXPECT_EQ(performed, expected);
}

// Brings a new machine into `state` by the inputs a driver would feed.
ReconnectFsm in_state(State state) {
  ReconnectFsm fsm(policy(100ms, 5000ms, 2.0));
  if (state == State::idle) return fsm;
  fsm.handle(Input::start);
  if (state == State::connected) fsm.handle(Input::connect_succeeded);
  if (state == State::backing_off) fsm.handle(Input::connect_failed);
  if (state == State::stopped) fsm.handle(Input::stop);
  return fsm;
}

TEST(ReconnectFsmTest, StopEndsEveryStateWithoutAReport) {
  for (State state :
       {State::idle, State::connecting, State::connected, State::backing_off, State::stopped}) {
    ReconnectFsm fsm = in_state(state);
    ASSERT_EQ(fsm.state(), state);
    const ReconnectFsm::Step step = fsm.handle(Input::stop);
    EXPECT_EQ(step.action, Action::stop) << static_cast<int>(state);
    EXPECT_FALSE(step.report) << static_cast<int>(state);
    EXPECT_EQ(fsm.state(), State::stopped);
  }
}

TEST(ReconnectFsmTest, StoppedIsFinal) {
  ReconnectFsm fsm = in_state(State::connected);
  fsm.handle(Input::stop);
  for (Input input :
       {Input::start, Input::connect_succeeded, Input::connect_failed, Input::connect_timed_out,
        Input::connection_dropped, Input::backoff_elapsed, Input::stop}) {
    const ReconnectFsm::Step step = fsm.handle(input);
    EXPECT_EQ(step.action, Action::stop) << static_cast<int>(input);
    EXPECT_FALSE(step.report) << static_cast<int>(input);
    EXPECT_EQ(fsm.state(), State::stopped);
  }
}

TEST(ReconnectFsmTest, InputsThatDoNotApplyChangeNothing) {
  struct Case {
    State state;
    Input input;
  };
  const std::vector<Case> cases = {
      {State::idle, Input::connect_succeeded},
      {State::idle, Input::connection_dropped},
      {State::idle, Input::backoff_elapsed},
      {State::connecting, Input::start},
      {State::connecting, Input::backoff_elapsed},
      {State::connecting, Input::connection_dropped},
      {State::connected, Input::start},
      {State::connected, Input::connect_failed},
      {State::connected, Input::connect_succeeded},
      {State::connected, Input::backoff_elapsed},
      {State::backing_off, Input::start},
      {State::backing_off, Input::connect_failed},
      {State::backing_off, Input::connect_timed_out},
      {State::backing_off, Input::connection_dropped},
  };
  for (const Case& c : cases) {
    ReconnectFsm fsm = in_state(c.state);
    const ReconnectFsm::Step step = fsm.handle(c.input);
    EXPECT_EQ(step.action, Action::none)
        << static_cast<int>(c.state) << " " << static_cast<int>(c.input);
    EXPECT_FALSE(step.report);
    EXPECT_EQ(fsm.state(), c.state);
  }
}

TEST(ReconnectFsmTest, AStrayInputDoesNotResetOrGrowTheBackoff) {
  ReconnectFsm fsm(policy(100ms, 5000ms, 2.0));
  fail_repeatedly(fsm, 2);  // waited 100 and 200; the next wait is 400
  fsm.handle(Input::connect_failed);
  EXPECT_EQ(fsm.handle(Input::connect_succeeded).action, Action::none);  // while backing off
  EXPECT_EQ(fsm.handle(Input::connect_failed).action, Action::none);
  fsm.handle(Input::backoff_elapsed);
  EXPECT_EQ(fsm.handle(Input::connect_failed).delay, 800ms);
}

TEST(ReconnectFsmTest, PolicyIsNormalized) {
  // A zero initial delay would spin on a dead server: 1 ms, doubling.
  ReconnectFsm zero(policy(0ms, 5000ms, 2.0));
  EXPECT_EQ(zero.policy().initial, 1ms);
  const std::vector<std::chrono::milliseconds> from_one = {1ms, 2ms, 4ms};
  EXPECT_EQ(fail_repeatedly(zero, 3), from_one);

  // A max below initial is raised to it.
  ReconnectFsm low_max(policy(300ms, 100ms, 2.0));
  EXPECT_EQ(low_max.policy().max, 300ms);
  const std::vector<std::chrono::milliseconds> constant = {300ms, 300ms};
  EXPECT_EQ(fail_repeatedly(low_max, 2), constant);

  // A factor below 1 (or NaN) would shrink the delay: it stays at initial.
  for (double factor : {0.5, 1.0, std::nan("")}) {
    ReconnectFsm flat(policy(100ms, 5000ms, factor));
    EXPECT_EQ(flat.policy().factor, 1.0);
    const std::vector<std::chrono::milliseconds> flat_delays = {100ms, 100ms, 100ms};
    EXPECT_EQ(fail_repeatedly(flat, 3), flat_delays) << factor;
  }
}

TEST(ReconnectFsmTest, HugeFactorJumpsToMaxWithoutOverflow) {
  ReconnectFsm fsm(policy(100ms, 5000ms, 1e300));
  const std::vector<std::chrono::milliseconds> expected = {100ms, 5000ms, 5000ms};
  EXPECT_EQ(fail_repeatedly(fsm, 3), expected);
  ReconnectFsm infinite(policy(100ms, 5000ms, std::numeric_limits<double>::infinity()));
  EXPECT_EQ(fail_repeatedly(infinite, 3), expected);
}

}  // namespace
}  // namespace splitstream
