// Connections per client address, counted across threads: a slot is taken when a connection is
// accepted and given back when it closes, and an address at its limit is refused at once.
// Also the subscribe-rate token bucket. Building blocks with no I/O (the listeners use them).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace splitstream {

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  // `limit` 0: no limit (slots are still counted).
  static std::shared_ptr<ConnectionLimiter> create(std::size_t limit) {
    return std::shared_ptr<ConnectionLimiter>(new ConnectionLimiter(limit));
  }

  // Holds one connection's place; gives it back when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept
        : owner_(std::move(other.owner_)), address_(std::move(other.address_)) {}
    Slot& operator=(Slot&& other) noexcept {
      release();
      owner_ = std::move(other.owner_);
      address_ = std::move(other.address_);
      return *this;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

   private:
    friend class ConnectionLimiter;
    Slot(std::shared_ptr<ConnectionLimiter> owner, std::string address)
        : owner_(std::move(owner)), address_(std::move(address)) {}
    void release();
    std::shared_ptr<ConnectionLimiter> owner_;
    std::string address_;
  };

  // A slot for a connection from `address`, or nullopt when the address holds `limit` already.
  std::optional<Slot> acquire(std::string_view address);
  std::size_t count(std::string_view address) const;
  std::size_t limit() const { return limit_; }
  // The refusals since the last report, to report in one log line at most once per `every`
  // (steady clock) rather than one per refusal; nullopt when there are none or the last report
  // is more recent.
  std::optional<std::uint64_t> refusals_to_report(std::chrono::steady_clock::time_point now,
                                                  std::chrono::seconds every);

 private:
  explicit ConnectionLimiter(std::size_t limit) : limit_(limit) {}
  void release(const std::string& address);

  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> open_;
  std::uint64_t refused_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_report_;
};

// A token bucket: `rate` per second after a burst of `burst`. Times in milliseconds from any
// steady origin.
class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst)
      : rate_per_ms_(rate_per_second / 1000.0), burst_(burst), tokens_(burst) {}
  // True (and one token used) when a message may pass at `now_ms`.
  bool allow(std::int64_t now_ms);

 private:
  double rate_per_ms_;
  double burst_;
  double tokens_;
  std::optional<std::int64_t> last_ms_;
};

}  // namespace splitstream
