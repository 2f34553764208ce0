#include "core/connection_limiter.hpp"

#include <algorithm>
#include <utility>

namespace splitstream {

void ConnectionLimiter::Slot::release() {
  if (owner_) owner_->release(address_);
  owner_.reset();
}

std::optional<ConnectionLimiter::Slot> ConnectionLimiter::acquire(std::string_view address) {
  const std::lock_guard lock(mutex_);
  std::size_t& n = open_[std::string(address)];
  if (limit_ > 0 && n >= limit_) {
    ++refused_;
    return std::nullopt;
  }
  ++n;
  return Slot(shared_from_this(), std::string(address));
}

void ConnectionLimiter::release(const std::string& address) {
  const std::lock_guard lock(mutex_);
  const auto it = open_.find(address);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

std::size_t ConnectionLimiter::count(std::string_view address) const {
  const std::lock_guard lock(mutex_);
  const auto it = open_.find(std::string(address));
  return it == open_.end() ? 0 : it->second;
}

std::optional<std::uint64_t> ConnectionLimiter::refusals_to_report(
    std::chrono::steady_clock::time_point now, std::chrono::seconds every) {
  const std::lock_guard lock(mutex_);
  if (refused_ == 0 || (last_report_ && now - *last_report_ < every)) return std::nullopt;
  last_report_ = now;
  return std::exchange(refused_, 0);
}

bool RateLimiter::allow(std::int64_t now_ms) {
  if (last_ms_ && now_ms > *last_ms_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - *last_ms_) * rate_per_ms_);
  }
  if (!last_ms_ || now_ms > *last_ms_) last_ms_ = now_ms;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace splitstream
