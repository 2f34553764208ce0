#include "engine/ranking.hpp"

namespace splitstream {

std::size_t Ranking::block_for(const RankKey& k) const {
  const auto it = std::lower_bound(block_last_.begin(), block_last_.end(), k);
  if (it == block_last_.end()) return block_last_.size() - 1;
  return static_cast<std::size_t>(it - block_last_.begin());
}

std::size_t Ranking::keys_before_block(std::size_t b) const {
  std::size_t sum = 0;
  for (std::size_t i = b; i > 0; i -= i & (~i + 1))
    sum += static_cast<std::size_t>(fenwick_[i - 1]);
  return sum;
}

void Ranking::fenwick_add(std::size_t b, int delta) {
  for (std::size_t i = b + 1; i <= fenwick_.size(); i += i & (~i + 1))
    fenwick_[i - 1] += delta;
}

void Ranking::rebuild_index() {
  const std::size_t n = blocks_.size();
  block_last_.resize(n);
  fenwick_.assign(n, 0);
  for (std::size_t b = 0; b < n; ++b) {
    block_last_[b] = blocks_[b].back();
    fenwick_[b] += static_cast<std::int32_t>(blocks_[b].size());
    const std::size_t parent = b + ((b + 1) & (~(b + 1) + 1));
    if (parent < n) fenwick_[parent] += fenwick_[b];
  }
}

void Ranking::insert(const RankKey& k) {
  if (blocks_.empty()) {
    blocks_.push_back({k});
    ++size_;
    rebuild_index();
    return;
  }
  const std::size_t b = block_for(k);
  std::vector<RankKey>& block = blocks_[b];
  const auto pos = std::lower_bound(block.begin(), block.end(), k);
  if (pos != block.end() && *pos == k) return;
  block.insert(pos, k);
  ++size_;
  if (block.size() > kMaxBlock) {
    std::vector<RankKey> upper(block.begin() + kMaxBlock / 2, block.end());
    block.resize(kMaxBlock / 2);
    block.shrink_to_fit();  // blocks left behind by in-order arrival are rarely touched again
    if (b + 1 == blocks_.size()) {
      // Splitting the last block (keys arriving in order): append, no index shifts.
      const auto moved = static_cast<int>(upper.size());
      fenwick_add(b, 1 - moved);
      block_last_[b] = block.back();
      block_last_.push_back(upper.back());
      blocks_.push_back(std::move(upper));
      // The new Fenwick node covers blocks (n - lowbit(n), n], 1-based.
      const std::size_t n = blocks_.size();
      const std::size_t low = n & (~n + 1);
      fenwick_.push_back(static_cast<std::int32_t>(
          static_cast<std::size_t>(moved) + keys_before_block(n - 1) - keys_before_block(n - low)));
      return;
    }
    // Elsewhere block indices after b shift: rebuild the index (every ~128 inserts there).
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(b) + 1, std::move(upper));
    rebuild_index();
    return;
  }
  block_last_[b] = block.back();
  fenwick_add(b, 1);
}

bool Ranking::erase(const RankKey& k) {
  if (blocks_.empty()) return false;
  const std::size_t b = block_for(k);
  std::vector<RankKey>& block = blocks_[b];
  const auto pos = std::lower_bound(block.begin(), block.end(), k);
  if (pos == block.end() || !(*pos == k)) return false;
  block.erase(pos);
  --size_;
  if (block.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(b));
    rebuild_index();
    return true;
  }
  block_last_[b] = block.back();
  fenwick_add(b, -1);
  return true;
}

std::uint32_t Ranking::rank_of(const RankKey& k) const {
  if (blocks_.empty()) return 0;
  const std::size_t b = block_for(k);
  const std::vector<RankKey>& block = blocks_[b];
  const auto pos = std::lower_bound(block.begin(), block.end(), k);
  if (pos == block.end() || !(*pos == k)) return 0;
  return static_cast<std::uint32_t>(keys_before_block(b) +
                                    static_cast<std::size_t>(pos - block.begin()) + 1);
}

}  // namespace splitstream
