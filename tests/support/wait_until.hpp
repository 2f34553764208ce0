// The one polling helper of the tests: waits for a condition with a deadline, never a fixed
// sleep followed by an assertion. Asserting on its result names what never happened.
#pragma once

#include <chrono>
#include <thread>

namespace splitstream::testing {

inline constexpr std::chrono::milliseconds kDefaultWait{10'000};

// True as soon as `condition()` holds; false when it still does not after `deadline` (checked
// once more at the deadline, so a slow machine is not failed by the last poll's timing).
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds deadline = kDefaultWait,
                std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return static_cast<bool>(condition());
}

}  // namespace splitstream::testing
