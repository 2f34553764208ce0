// Chip -> runner lookup on every read: an open-addressing table of (hash, key, runner) slots,
// so a lookup costs one probe run in a flat array and one string compare.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace splitstream {

class ChipIndex {
 public:
  // False when the chip is already there.
  bool insert(std::string_view chip, std::uint32_t runner);
  std::optional<std::uint32_t> find(std::string_view chip) const;
  std::size_t size() const { return keys_.size(); }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t key = kEmpty;  // index into keys_
    std::uint32_t runner = 0;
  };
  void grow();

  std::vector<Slot> slots_;
  std::vector<std::string> keys_;
};

}  // namespace splitstream
