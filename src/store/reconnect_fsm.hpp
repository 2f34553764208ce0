// The reconnect policy of a connection to Redis as a sans-I/O state machine: it decides when to
// attempt a connection, how long to back off after a failure or a drop, and what to report. It
// does no I/O and reads no clock: the driver (RedisConnection::run()) performs each Step, with
// its own timers, and feeds back what happened as an Input. So the policy is tested without
// sockets or sleeps, and another transport can reuse it.
//
//   idle --start--> connecting --connect_succeeded--> connected
//                     ^   |                                |
//                     |   connect_failed,                  connection_dropped
//                     |   connect_timed_out                |
//      backoff_elapsed|   v                                v
//                     backing_off <------------------------+
//   stop: from every state to stopped, which it never leaves. An input that does not apply in
//   the current state changes nothing (Action::none).
//
// Backoff: the first wait is `initial`; each wait multiplies the next one by `factor` (the
// product truncated to whole milliseconds), up to `max`. A successful connection resets it: the
// wait after the next drop is `initial` again, and the first failed attempt after that waits
// initial * factor.
//
// A transport that can be told its server is no longer the primary (issue 17: Sentinel's
// "+switch-master", a READONLY reply) fits as one more Input from `connected`, answered like
// connection_dropped but with an Action to ask the sentinels again before the next attempt.
#pragma once

#include <chrono>
#include <optional>

namespace splitstream {

struct ReconnectPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
  double factor = 2.0;
};

// The policy as the state machine applies it: initial at least 1 ms (a zero delay would spin on
// a dead server), max at least initial, factor at least 1 (a NaN factor counts as 1).
ReconnectPolicy normalized(ReconnectPolicy policy);

class ReconnectFsm {
 public:
  enum class State { idle, connecting, connected, backing_off, stopped };

  enum class Input {
    start,               // the driver starts: the first attempt
    connect_succeeded,   // the attempt asked for by Action::connect is connected
    connect_failed,      // ... failed (refused, unreachable, ...)
    connect_timed_out,   // ... did not complete in the driver's connect timeout: a failure
    connection_dropped,  // the connection held after Action::hold went away
    backoff_elapsed,     // the Action::wait delay has passed
    stop,                // final: nothing starts again
  };

  enum class Action {
    none,     // the input does not apply in this state: carry on with the current action
    connect,  // attempt a connection now; answer with connect_succeeded/failed/timed_out
    hold,     // connected: keep the connection; answer with connection_dropped when it goes
    wait,     // wait `delay`, then answer with backoff_elapsed
    stop,     // release the connection and end
  };

  // What the driver tells its listeners (RedisConnectionEvent::Kind).
  enum class Report { connected, disconnected, connect_failed };

  struct Step {
    Action action = Action::none;
    std::chrono::milliseconds delay{0};  // Action::wait's delay; the report's "retry in"
    std::optional<Report> report;        // to report before performing the action
  };

  explicit ReconnectFsm(ReconnectPolicy policy);

  Step handle(Input input);

  State state() const { return state_; }
  const ReconnectPolicy& policy() const { return policy_; }

 private:
  Step back_off(Report report);

  ReconnectPolicy policy_;
  State state_ = State::idle;
  std::chrono::milliseconds next_delay_;
};

}  // namespace splitstream
