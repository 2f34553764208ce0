// Chip -> runner lookup on every read: an open-addressing table of (hash, key, runner) slots
// that hold short chips' bytes too, so a lookup costs one probe run in a flat array and, for
// chips up to 19 characters (transponder codes such as "KZ12345"), no second memory access;
// longer ones (a 24-character EPC) are compared through the key list. Each chip keeps a
// small id for as long as the index lives, also while it belongs to nobody (detached).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace splitstream {

class ChipIndex {
 public:
  static constexpr std::uint32_t kNobody = 0xFFFFFFFFu;

  struct Entry {
    std::uint32_t id = 0;            // stable: the chip's position in chip(id)
    std::uint32_t runner = kNobody;  // kNobody: known but detached from every runner
  };

  // False when the chip is already there (its runner is left as it was).
  bool insert(std::string_view chip, std::uint32_t runner);
  // The chip's runner; nullopt when unknown or detached.
  std::optional<std::uint32_t> find(std::string_view chip) const;
  // The chip's entry, detached chips included.
  std::optional<Entry> lookup(std::string_view chip) const;
  // Starts fetching the memory a lookup of `chip` will read first; changes nothing.
  void prefetch(std::string_view chip) const;
  // Sets the chip's runner (kNobody: detach), adding the chip when new; returns its id.
  std::uint32_t assign(std::string_view chip, std::uint32_t runner);
  const std::string& chip(std::uint32_t id) const { return keys_[id]; }
  std::size_t size() const { return keys_.size(); }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  static constexpr std::size_t kInline = 19;
  // One 32-byte slot, aligned so that it never straddles two cache lines.
  struct alignas(32) Slot {
    std::uint32_t hash = 0;      // the hash's upper half (the lower one picks the slot)
    std::uint32_t key = kEmpty;  // index into keys_
    std::uint32_t runner = 0;
    std::uint8_t length = 0;   // the chip's length, up to kInline; longer: kInline + 1
    char bytes[kInline] = {};  // a chip up to kInline long

    bool holds(std::string_view chip, std::uint32_t h, const std::vector<std::string>& keys) const;
  };
  static_assert(sizeof(Slot) == 32);
  void grow();
  void fill(Slot& s, std::string_view chip, std::uint64_t hash, std::uint32_t runner);
  // The slot holding `chip`, or the empty slot where it would go.
  Slot& slot_for(std::string_view chip, std::uint64_t hash);
  const Slot* find_slot(std::string_view chip) const;

  std::vector<Slot> slots_;
  std::vector<std::string> keys_;
};

}  // namespace splitstream
