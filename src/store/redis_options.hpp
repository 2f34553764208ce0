// Where a Redis connection goes and how it behaves when Redis is slow or away (light: the
// settings need no Asio).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace splitstream {

struct RedisOptions {
  std::string host = "127.0.0.1";  // an IP address; a name is resolved by hiredis, blocking
  std::uint16_t port = 6379;
  std::chrono::milliseconds connect_timeout{2000};
  // A command without a reply after this long fails with command_timeout and the connection is
  // dropped and re-established (a stuck Redis must not hang callers). Zero: no timeout.
  std::chrono::milliseconds command_timeout{5000};
  // Delay before each reconnect attempt: initial, times factor after each failure, up to max;
  // back to initial once connected (the exact rule: store/reconnect_fsm.hpp).
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{5000};
  double reconnect_factor = 2.0;
};

}  // namespace splitstream
