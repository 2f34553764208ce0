// An ordered set with ranks: O(log n) insert, erase, rank of a key, and key at a rank.
// Standings keep one per race, category and split, so one passing updates a few of them
// instead of re-sorting the field.
#pragma once

#include <cstdint>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <functional>

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
  void insert(const RankKey& k) { tree_.insert(k); }
  void erase(const RankKey& k) { tree_.erase(k); }
  // 1-based rank of a key in the set, 0 if absent.
  std::uint32_t rank_of(const RankKey& k) const {
    if (tree_.find(k) == tree_.end()) return 0;
    return static_cast<std::uint32_t>(tree_.order_of_key(k)) + 1;
  }
  // Number of keys smaller than `k` (whether or not `k` is present).
  std::size_t count_before(const RankKey& k) const { return tree_.order_of_key(k); }
  std::size_t size() const { return tree_.size(); }
  bool empty() const { return tree_.empty(); }
  const RankKey& first() const { return *tree_.begin(); }
  // Calls f(key) for ranks offset+1 .. offset+limit, in order.
  template <typename F>
  void for_each(std::size_t offset, std::size_t limit, F&& f) const {
    if (offset >= tree_.size()) return;
    auto it = tree_.find_by_order(offset);
    for (std::size_t i = 0; i < limit && it != tree_.end(); ++i, ++it) f(*it);
  }

 private:
  using Tree = __gnu_pbds::tree<RankKey, __gnu_pbds::null_type, std::less<RankKey>,
                                __gnu_pbds::rb_tree_tag,
                                __gnu_pbds::tree_order_statistics_node_update>;
  Tree tree_;
};

}  // namespace splitstream
