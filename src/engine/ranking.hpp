// An ordered set with ranks: O(log n) rank of a key, insert and erase in O(log n) plus a
// short memmove, and key at a rank. The engine keeps one per race, category and split, so a
// passing updates a few of them instead of re-sorting the field.
//
// Keys can be marked, and the marked keys are a ranked set of their own: the engine marks a
// runner's key at its furthest split, so each split's marked keys are the standings' section of
// runners who got that far, and the standings need no set of their own.
//
// Keys live in sorted blocks of at most kMaxBlock, with Fenwick trees over block sizes and over
// marked keys per block for ranks. Contiguous blocks keep a 60,000-runner field cache-friendly,
// and live reads mostly land near the end of a split's ranking, where an insert moves almost
// nothing.
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

// Prefix sums over per-block counts.
class BlockCounts {
 public:
  // Blocks 0 .. n-1 holding count(b) keys, in O(n).
  template <typename Count>
  void assign(std::size_t n, Count count) {
    tree_.resize(n);
    for (std::size_t b = 0; b < n; ++b)
      tree_[b] = count(b);
    for (std::size_t b = 0; b < n; ++b) {
      const std::size_t parent = b + ((b + 1) & (~(b + 1) + 1));
      if (parent < n) tree_[parent] += tree_[b];
    }
  }
  // Appends a block with `count` keys in O(log n).
  void push_back(std::int32_t count);
  void add(std::size_t block, int delta);
  // Keys in blocks [0, block).
  std::size_t before(std::size_t block) const;

 private:
  std::vector<std::int32_t> tree_;
};

class Ranking {
 public:
  void insert(const RankKey& k, bool marked = false);
  // Returns false when the key was not there.
  bool erase(const RankKey& k);
  // Returns false when the key is not there.
  bool set_marked(const RankKey& k, bool marked);
  // 1-based rank of a key in the set, 0 if absent.
  std::uint32_t rank_of(const RankKey& k) const;
  // 1-based rank of a marked key among the marked ones, 0 if absent or not marked.
  std::uint32_t marked_rank_of(const RankKey& k) const;
  std::size_t size() const { return size_; }
  std::size_t marked_count() const { return marked_; }
  bool empty() const { return size_ == 0; }
  RankKey first() const { return blocks_.front().front().key(); }
  // Calls f(key) for the marked keys of marked ranks offset+1 .. offset+limit, in order;
  // returns how many it called f for.
  template <typename F>
  std::size_t for_each_marked(std::size_t offset, std::size_t limit, F&& f) const {
    std::size_t b = 0;
    while (b < blocks_.size() && offset >= static_cast<std::size_t>(marked_in_block_[b]))
      offset -= static_cast<std::size_t>(marked_in_block_[b++]);
    std::size_t called = 0;
    for (; b < blocks_.size() && called < limit; ++b) {
      for (std::size_t i = 0; i < blocks_[b].size() && called < limit; ++i) {
        if (!blocks_[b][i].marked) continue;
        if (offset > 0) {
          --offset;
          continue;
        }
        f(blocks_[b][i].key());
        ++called;
      }
    }
    return called;
  }

 private:
  static constexpr std::size_t kMaxBlock = 256;
  // A key and its mark in 24 bytes, as a RankKey alone (the mark fills its padding).
  struct Entry {
    std::int64_t primary = 0;
    std::int64_t secondary = 0;
    std::uint32_t runner = 0;
    std::uint32_t marked = 0;

    RankKey key() const { return {primary, secondary, runner}; }
    bool operator==(const RankKey& k) const {
      return primary == k.primary && secondary == k.secondary && runner == k.runner;
    }
  };
  struct KeyLess {
    bool operator()(const Entry& e, const RankKey& k) const {
      if (e.primary != k.primary) return e.primary < k.primary;
      if (e.secondary != k.secondary) return e.secondary < k.secondary;
      return e.runner < k.runner;
    }
  };
  using Block = std::vector<Entry>;

  // The first block whose last key is >= k (the last block if none).
  std::size_t block_for(const RankKey& k) const;
  // Where k is: its block and its index there; false if absent.
  bool locate(const RankKey& k, std::size_t& block, std::size_t& index) const;
  void rebuild_index();

  std::vector<Block> blocks_;
  std::vector<RankKey> block_last_;  // last key of each block, for the block search
  std::vector<std::int32_t> marked_in_block_;
  BlockCounts sizes_;         // keys per block
  BlockCounts marked_ranks_;  // marked keys per block
  std::size_t size_ = 0;
  std::size_t marked_ = 0;
};

}  // namespace splitstream
