// An ordered set with ranks: O(log n) rank of a key, insert and erase in O(log n) plus a
// short memmove, and key at a rank. Standings keep one per race, category and split, so a
// passing updates a few of them instead of re-sorting the field.
//
// Keys live in sorted blocks of at most kMaxBlock, with a Fenwick tree over block sizes for
// ranks. Contiguous blocks keep a 60,000-runner field cache-friendly, and live reads mostly
// land near the end of a split's ranking, where an insert moves almost nothing.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace splitstream {

// (primary, secondary, runner): smaller ranks first.
struct RankKey {
  std::int64_t primary = 0;
  std::int64_t secondary = 0;
  std::uint32_t runner = 0;

  friend auto operator<=>(const RankKey&, const RankKey&) = default;
};

class Ranking {
 public:
  void insert(const RankKey& k);
  // Returns false when the key was not there.
  bool erase(const RankKey& k);
  // 1-based rank of a key in the set, 0 if absent.
  std::uint32_t rank_of(const RankKey& k) const;
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const RankKey& first() const { return blocks_.front().front(); }
  // Calls f(key) for ranks offset+1 .. offset+limit, in order.
  template <typename F>
  void for_each(std::size_t offset, std::size_t limit, F&& f) const {
    std::size_t b = 0;
    while (b < blocks_.size() && offset >= blocks_[b].size())
      offset -= blocks_[b++].size();
    for (; b < blocks_.size() && limit > 0; ++b, offset = 0) {
      for (std::size_t i = offset; i < blocks_[b].size() && limit > 0; ++i, --limit)
        f(blocks_[b][i]);
    }
  }

 private:
  static constexpr std::size_t kMaxBlock = 256;

  // The first block whose last key is >= k (the last block if none).
  std::size_t block_for(const RankKey& k) const;
  std::size_t keys_before_block(std::size_t b) const;
  void fenwick_add(std::size_t b, int delta);
  void rebuild_index();

  std::vector<std::vector<RankKey>> blocks_;
  std::vector<RankKey> block_last_;    // last key of each block, for the block search
  std::vector<std::int32_t> fenwick_;  // over block sizes
  std::size_t size_ = 0;
};

}  // namespace splitstream
