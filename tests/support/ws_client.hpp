// A blocking WebSocket viewer for tests (Beast, synchronous): connects to /ws with a
// subprotocol, sends ClientMessages, receives LiveMessages in JSON or Protobuf. Compiled once
// (tests/support/ws_client.cpp, the test support library): Beast's WebSocket client costs about
// ten seconds of compile in every file that would otherwise instantiate it.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "splitstream/v1/live.pb.h"

namespace splitstream::testing {

class WsClient {
 public:
  // `subprotocol` empty: none offered (the server answers in JSON).
  // `cookie`: a Cookie header's value for the upgrade (a signed-in official's session).
  WsClient(int port, const std::string& subprotocol, const std::string& origin = "",
           int receive_buffer = 0, const std::string& cookie = "");
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  bool open() const;
  const boost::system::error_code& error() const;
  // The last receive() ended because no message came within its 10 s.
  bool timed_out() const;
  // The server closed the connection (a close frame) before or during the last receive().
  bool closed_by_server() const;
  // The handshake's response: its status, a header's value ("" when absent), its body (the
  // server's reason when it refused the upgrade).
  int response_status() const;
  std::string response_header(std::string_view name) const;
  std::string response_body() const;

  bool send_text(const std::string& text);
  bool send(const v1::ClientMessage& m);

  // The next message, or nullopt when closed or after 10 s. `raw` gets the frame's bytes.
  std::optional<v1::LiveMessage> receive(std::string* raw = nullptr);

  // Pings received (and answered) during receive(); safe to read from another thread.
  int pings_received() const;

  // The close reason the server sent, once receive() failed with `closed`.
  std::string close_reason() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

inline v1::ClientMessage subscribe_standings(const std::string& race, const std::string& category,
                                             std::uint32_t limit, std::uint64_t since = 0) {
  v1::ClientMessage m;
  v1::Subscribe* s = m.mutable_subscribe();
  s->set_kind(v1::SUBSCRIPTION_KIND_STANDINGS);
  s->set_race_id(race);
  s->set_category_id(category);
  s->set_limit(limit);
  s->set_since_version(since);
  return m;
}

inline v1::ClientMessage subscribe_passings(const std::string& timing_point = "",
                                            std::uint64_t since = 0) {
  v1::ClientMessage m;
  v1::Subscribe* s = m.mutable_subscribe();
  s->set_kind(v1::SUBSCRIPTION_KIND_PASSINGS);
  s->set_timing_point_id(timing_point);
  s->set_since_version(since);
  return m;
}

}  // namespace splitstream::testing
