// Completion handlers for co_spawn: no coroutine is spawned `detached`, so an exception that
// escapes one is never lost (`detached` swallows it: a dead stream follower would end without a
// word while /readyz stayed green). Two policies:
// - a connection's coroutine (HTTP, WebSocket, device session): log, drop that connection, serve
//   the others (log_and_drop);
// - a part the node cannot work without (pipeline, stream follower, Redis connections): log and
//   stop the process with a non-zero status, so that a supervisor restarts it (stop_process).
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <utility>

#include "observe/log.hpp"

namespace splitstream {

// The text of an exception_ptr's exception, for a log line.
inline std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

// For a coroutine that serves one connection.
class LogAndDrop {
 public:
  explicit LogAndDrop(const char* what) : what_(what) {}
  template <typename... Result>
  void operator()(const std::exception_ptr& error, Result&&...) const {
    if (error) log::error(what_, "dropped after an unexpected error", {{"error", describe(error)}});
  }

 private:
  const char* what_;
};

// Exit status of a node stopped by a failed part (EX_SOFTWARE in sysexits.h).
inline constexpr int kExitInternalError = 70;

// For a coroutine the node cannot do without: an exception, or a return before the node asked it
// to stop, calls `stop` with kExitInternalError.
class StopProcess {
 public:
  StopProcess(
      const char* what, std::function<void(int exit_status)> stop,
      std::function<bool()> stopping = [] { return false; })
      : what_(what), stop_(std::move(stop)), stopping_(std::move(stopping)) {}
  template <typename... Result>
  void operator()(const std::exception_ptr& error, Result&&...) const {
    if (error) {
      log::error(what_, "failed: stopping the node", {{"error", describe(error)}});
    } else if (!stopping_()) {
      log::error(what_, "ended while the node runs: stopping the node");
    } else {
      return;
    }
    stop_(kExitInternalError);
  }

 private:
  const char* what_;
  std::function<void(int)> stop_;
  std::function<bool()> stopping_;
};

}  // namespace splitstream
