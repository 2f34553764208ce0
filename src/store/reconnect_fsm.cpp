#include "store/reconnect_fsm.hpp"

#include <algorithm>

namespace splitstream {

ReconnectPolicy normalized(ReconnectPolicy policy) {
  policy.initial = std::max(policy.initial, std::chrono::milliseconds(1));
  policy.max = std::max(policy.max, policy.initial);
  if (!(policy.factor >= 1.0)) policy.factor = 1.0;
  return policy;
}

ReconnectFsm::ReconnectFsm(ReconnectPolicy policy)
    : policy_(normalized(policy)), next_delay_(policy_.initial) {}

ReconnectFsm::Step ReconnectFsm::handle(Input input) {
  Step step;
  if (state_ == State::stopped || input == Input::stop) {
    state_ = State::stopped;
    step.action = Action::stop;
    return step;
  }
  switch (state_) {
    case State::idle:
      if (input == Input::start) {
        state_ = State::connecting;
        step.action = Action::connect;
      }
      break;
    case State::connecting:
      if (input == Input::connect_succeeded) {
        state_ = State::connected;
        next_delay_ = policy_.initial;
        step.action = Action::hold;
        step.report = Report::connected;
      } else if (input == Input::connect_failed || input == Input::connect_timed_out) {
        step = back_off(Report::connect_failed);
      }
      break;
    case State::connected:
      if (input == Input::connection_dropped) step = back_off(Report::disconnected);
      break;
    case State::backing_off:
      if (input == Input::backoff_elapsed) {
        state_ = State::connecting;
        step.action = Action::connect;
      }
      break;
    case State::stopped:
      break;
  }
  return step;
}

ReconnectFsm::Step ReconnectFsm::back_off(Report report) {
  state_ = State::backing_off;
  Step step;
  step.action = Action::wait;
  step.delay = next_delay_;
  step.report = report;
  // Compared before converting: a huge factor must not overflow the integer count.
  const double grown = static_cast<double>(next_delay_.count()) * policy_.factor;
  if (grown >= static_cast<double>(policy_.max.count())) {
    next_delay_ = policy_.max;
  } else {
    next_delay_ = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(grown));
  }
  return step;
}

}  // namespace splitstream
