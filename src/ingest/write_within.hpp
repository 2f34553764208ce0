// Writing to a device or a decoder with a deadline on progress. A peer that stops reading while
// it goes on sending fills its receive window and then ours: without a deadline the session
// would wait on that write for ever, reading nothing more and holding the connection. When no
// byte went out for the limit the caller closes the connection; the peer resends whatever was
// not acknowledged when it is back.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <string_view>

namespace splitstream {

// All of `bytes` written, or the error; boost::asio::error::timed_out when `limit` passed with
// nothing written (the write is cancelled; the connection is then unusable). A peer that reads
// slowly but steadily restarts the deadline with each part it takes.
template <typename Stream>
boost::asio::awaitable<boost::system::error_code> write_within(
    Stream& stream, std::string_view bytes, std::chrono::steady_clock::duration limit) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
  asio::steady_timer deadline(co_await asio::this_coro::executor);
  while (!bytes.empty()) {
    deadline.expires_after(limit);
    // No structured bindings across the await (GCC 12): the result is named whole.
    const auto done = co_await (stream.async_write_some(asio::buffer(bytes), no_throw) ||
                                deadline.async_wait(no_throw));
    if (done.index() == 1) co_return asio::error::timed_out;
    const auto& written = std::get<0>(done);
    if (std::get<0>(written)) co_return std::get<0>(written);
    bytes.remove_prefix(std::get<1>(written));
  }
  co_return boost::system::error_code();
}

}  // namespace splitstream
