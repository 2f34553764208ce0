#include "engine/ranking.hpp"

namespace splitstream {
namespace {

std::size_t lowest_bit(std::size_t i) {
  return i & (~i + 1);
}

}  // namespace

void BlockCounts::push_back(std::int32_t count) {
  // The new node covers blocks (n - lowbit(n), n], 1-based.
  const std::size_t n = tree_.size() + 1;
  const std::size_t covered = before(n - 1) - before(n - lowest_bit(n));
  tree_.push_back(count + static_cast<std::int32_t>(covered));
}

void BlockCounts::add(std::size_t block, int delta) {
  for (std::size_t i = block + 1; i <= tree_.size(); i += lowest_bit(i))
    tree_[i - 1] += delta;
}

std::size_t BlockCounts::before(std::size_t block) const {
  std::size_t sum = 0;
  for (std::size_t i = block; i > 0; i -= lowest_bit(i))
    sum += static_cast<std::size_t>(tree_[i - 1]);
  return sum;
}

std::size_t Ranking::block_for(const RankKey& k) const {
  const std::size_t n = block_last_.size();
  // Keys arriving in order (live reads at a split) belong to the last block: no search.
  if (n >= 2 && block_last_[n - 2] < k) return n - 1;
  const auto it = std::lower_bound(block_last_.begin(), block_last_.end(), k);
  if (it == block_last_.end()) return n - 1;
  return static_cast<std::size_t>(it - block_last_.begin());
}

bool Ranking::locate(const RankKey& k, std::size_t& block, std::size_t& index) const {
  if (blocks_.empty()) return false;
  block = block_for(k);
  const Block& b = blocks_[block];
  const auto pos = std::lower_bound(b.begin(), b.end(), k, KeyLess{});
  if (pos == b.end() || !(*pos == k)) return false;
  index = static_cast<std::size_t>(pos - b.begin());
  return true;
}

void Ranking::rebuild_index() {
  const std::size_t n = blocks_.size();
  block_last_.resize(n);
  for (std::size_t b = 0; b < n; ++b)
    block_last_[b] = blocks_[b].back().key();
  sizes_.assign(n, [this](std::size_t b) { return static_cast<std::int32_t>(blocks_[b].size()); });
  marked_ranks_.assign(n, [this](std::size_t b) { return marked_in_block_[b]; });
}

void Ranking::insert(const RankKey& k, bool marked) {
  const Entry entry{k.primary, k.secondary, k.runner, marked ? 1u : 0u};
  const int mark = marked ? 1 : 0;
  if (blocks_.empty()) {
    blocks_.emplace_back(1, entry);
    marked_in_block_.push_back(mark);
    ++size_;
    marked_ += static_cast<std::size_t>(mark);
    rebuild_index();
    return;
  }
  const std::size_t b = block_for(k);
  Block& block = blocks_[b];
  const auto pos = std::lower_bound(block.begin(), block.end(), k, KeyLess{});
  if (pos != block.end() && *pos == k) return;
  block.insert(pos, entry);
  ++size_;
  marked_ += static_cast<std::size_t>(mark);
  marked_in_block_[b] += mark;
  if (block.size() <= kMaxBlock) {
    block_last_[b] = block.back().key();
    sizes_.add(b, 1);
    if (marked) marked_ranks_.add(b, 1);
    return;
  }
  Block upper(block.begin() + kMaxBlock / 2, block.end());
  block.resize(kMaxBlock / 2);
  block.shrink_to_fit();  // blocks left behind by in-order arrival are rarely touched again
  const auto moved = static_cast<std::int32_t>(upper.size());
  const auto moved_marked = static_cast<std::int32_t>(
      std::count_if(upper.begin(), upper.end(), [](const Entry& e) { return e.marked != 0; }));
  marked_in_block_[b] -= moved_marked;
  if (b + 1 == blocks_.size()) {
    // Splitting the last block (keys arriving in order): append, no index shifts.
    sizes_.add(b, 1 - moved);
    marked_ranks_.add(b, mark - moved_marked);
    block_last_[b] = block.back().key();
    block_last_.push_back(upper.back().key());
    blocks_.push_back(std::move(upper));
    marked_in_block_.push_back(moved_marked);
    sizes_.push_back(moved);
    marked_ranks_.push_back(moved_marked);
    return;
  }
  // Elsewhere block indices after b shift: rebuild the index (every ~128 inserts there).
  const auto at = static_cast<std::ptrdiff_t>(b) + 1;
  blocks_.insert(blocks_.begin() + at, std::move(upper));
  marked_in_block_.insert(marked_in_block_.begin() + at, moved_marked);
  rebuild_index();
}

bool Ranking::erase(const RankKey& k) {
  std::size_t b = 0;
  std::size_t i = 0;
  if (!locate(k, b, i)) return false;
  Block& block = blocks_[b];
  const int mark = block[i].marked != 0 ? 1 : 0;
  block.erase(block.begin() + static_cast<std::ptrdiff_t>(i));
  --size_;
  marked_ -= static_cast<std::size_t>(mark);
  marked_in_block_[b] -= mark;
  if (block.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(b));
    marked_in_block_.erase(marked_in_block_.begin() + static_cast<std::ptrdiff_t>(b));
    rebuild_index();
    return true;
  }
  block_last_[b] = block.back().key();
  sizes_.add(b, -1);
  if (mark != 0) marked_ranks_.add(b, -1);
  return true;
}

bool Ranking::set_marked(const RankKey& k, bool marked) {
  std::size_t b = 0;
  std::size_t i = 0;
  if (!locate(k, b, i)) return false;
  Entry& entry = blocks_[b][i];
  if ((entry.marked != 0) == marked) return true;
  entry.marked = marked ? 1u : 0u;
  const int delta = marked ? 1 : -1;
  marked_ = marked ? marked_ + 1 : marked_ - 1;
  marked_in_block_[b] += delta;
  marked_ranks_.add(b, delta);
  return true;
}

std::uint32_t Ranking::rank_of(const RankKey& k) const {
  std::size_t b = 0;
  std::size_t i = 0;
  if (!locate(k, b, i)) return 0;
  return static_cast<std::uint32_t>(sizes_.before(b) + i + 1);
}

std::uint32_t Ranking::marked_rank_of(const RankKey& k) const {
  std::size_t b = 0;
  std::size_t i = 0;
  if (!locate(k, b, i) || blocks_[b][i].marked == 0) return 0;
  const Block& block = blocks_[b];
  const auto ahead = std::count_if(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(i),
                                   [](const Entry& e) { return e.marked != 0; });
  return static_cast<std::uint32_t>(marked_ranks_.before(b) + static_cast<std::size_t>(ahead) + 1);
}

}  // namespace splitstream
