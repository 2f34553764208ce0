// Writing to a device or a decoder with a deadline. A peer that stops reading while it goes on
// sending fills its receive window and then ours: without a deadline the session would wait on
// that write for ever, reading nothing more and holding the connection. Past the deadline the
// caller closes the connection; the peer resends whatever was not acknowledged when it is back.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string_view>

namespace splitstream {

// All of `bytes` written, or the error; boost::asio::error::timed_out when `limit` passed first
// (the write is cancelled; the connection is then unusable).
template <typename Stream>
boost::asio::awaitable<boost::system::error_code> write_within(
    Stream& stream, std::string_view bytes, std::chrono::steady_clock::duration limit) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
  asio::steady_timer deadline(co_await asio::this_coro::executor);
  deadline.expires_after(limit);
  const auto done = co_await (asio::async_write(stream, asio::buffer(bytes), no_throw) ||
                              deadline.async_wait(no_throw));
  if (done.index() == 1) co_return asio::error::timed_out;
  co_return std::get<0>(std::get<0>(done));
}

}  // namespace splitstream
