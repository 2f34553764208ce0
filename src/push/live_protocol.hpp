// The WebSocket subscription protocol without I/O: client messages in (JSON text or binary
// Protobuf), validated subscriptions out, and live messages encoded in the connection's format.
// Tested with synthetic frames; websocket_session only moves bytes.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/event.hpp"
#include "splitstream/v1/live.pb.h"

namespace splitstream {

// WebSocket subprotocols (Sec-WebSocket-Protocol); a client that names none gets JSON.
inline constexpr std::string_view kJsonSubprotocol = "splitstream.v1.json";
inline constexpr std::string_view kProtobufSubprotocol = "splitstream.v1.protobuf";
enum class LiveFormat : std::uint8_t { json, protobuf };

struct LiveLimits {
  std::uint32_t max_subscriptions = 32;  // per connection, one per bib for RUNNERS
  std::uint32_t max_page_rows = 500;     // standings limit, passings snapshot size
  std::uint32_t max_bibs = 50;           // per RUNNERS subscribe
};

// What one subscription follows. Equal shapes share a key, a snapshot and the bytes of every
// update.
struct SubscriptionShape {
  v1::SubscriptionKind kind = v1::SUBSCRIPTION_KIND_UNSPECIFIED;
  RaceIndex race = kNoIndex;                 // standings; map (kNoIndex: every race)
  std::string category;                      // standings
  std::uint32_t offset = 0;                  // standings
  std::uint32_t limit = 0;                   // standings rows; passings snapshot size
  TimingPointIndex timing_point = kNoIndex;  // passings (kNoIndex: all)
  RunnerIndex runner = kNoIndex;             // runners
  std::string key;  // e.g. "standings/marathon/overall/0/10", "runner/1234"
};

// The event's names a client may use, built once.
class LiveCatalog {
 public:
  explicit LiveCatalog(const Event& event);
  const Event& event() const { return event_; }
  // Categories of a race: overall, genders, age groups (as the engine ranks them).
  const std::set<std::string, std::less<>>& categories(RaceIndex race) const {
    return categories_[race];
  }

 private:
  const Event& event_;
  std::vector<std::set<std::string, std::less<>>> categories_;
};

struct LiveRequestError {
  std::string code;  // see SubscriptionError in live.proto
  std::string message;
};

// A client frame: its text (JSON) or binary (Protobuf) payload as a ClientMessage.
std::variant<v1::ClientMessage, LiveRequestError> parse_client_message(std::string_view payload,
                                                                       bool binary);

// The console's feeds: only for a connection whose upgrade carried an official's session.
inline bool is_console_feed(v1::SubscriptionKind kind) {
  return kind == v1::SUBSCRIPTION_KIND_DEVICES || kind == v1::SUBSCRIPTION_KIND_REVIEW;
}

// A Subscribe checked against the event and the limits: its shapes (one per bib for RUNNERS).
std::variant<std::vector<SubscriptionShape>, LiveRequestError> resolve_subscribe(
    const LiveCatalog& catalog, const v1::Subscribe& subscribe, const LiveLimits& limits);

// A message in a connection's format: Protobuf binary, or Protobuf's JSON mapping as text.
std::string encode_live_message(const v1::LiveMessage& message, LiveFormat format);

v1::LiveMessage error_message(const LiveRequestError& error);

// One connection's subscriptions: counts them against the limit, forgets them on Unsubscribe.
class SubscriptionSet {
 public:
  explicit SubscriptionSet(std::uint32_t max) : max_(max) {}
  // Adds the shapes not yet held; an error (and nothing added) past the limit.
  std::variant<std::vector<SubscriptionShape>, LiveRequestError> add(
      std::vector<SubscriptionShape> shapes);
  bool remove(std::string_view key);
  bool contains(std::string_view key) const { return keys_.contains(key); }
  std::size_t size() const { return keys_.size(); }
  const std::set<std::string, std::less<>>& keys() const { return keys_; }

 private:
  std::uint32_t max_;
  std::set<std::string, std::less<>> keys_;
};

}  // namespace splitstream
