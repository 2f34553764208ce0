#include "engine/chip_index.hpp"

#include <cstring>
#include <functional>

namespace splitstream {
namespace {

std::uint64_t hash_of(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

std::uint32_t upper_half(std::uint64_t h) {
  return static_cast<std::uint32_t>(h >> 32);
}

}  // namespace

bool ChipIndex::Slot::holds(std::string_view chip, std::uint32_t h,
                            const std::vector<std::string>& keys) const {
  if (hash != h) return false;
  if (chip.size() > kInline) return length > kInline && keys[key] == chip;
  return length == chip.size() &&
         (chip.empty() || std::memcmp(bytes, chip.data(), chip.size()) == 0);
}

void ChipIndex::fill(Slot& s, std::string_view chip, std::uint64_t hash, std::uint32_t runner) {
  s.hash = upper_half(hash);
  s.key = static_cast<std::uint32_t>(keys_.size());
  s.runner = runner;
  s.length = static_cast<std::uint8_t>(chip.size() > kInline ? kInline + 1 : chip.size());
  // (Not for an empty chip: a string_view{} has no data pointer to hand to memcpy.)
  if (!chip.empty() && chip.size() <= kInline) std::memcpy(s.bytes, chip.data(), chip.size());
  keys_.emplace_back(chip);
}

const ChipIndex::Slot* ChipIndex::find_slot(std::string_view chip) const {
  if (slots_.empty()) return nullptr;
  const std::uint64_t h = hash_of(chip);
  const std::uint32_t upper = upper_half(h);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == kEmpty) return nullptr;
    if (s.holds(chip, upper, keys_)) return &s;
  }
}

void ChipIndex::prefetch(std::string_view chip) const {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[hash_of(chip) & (slots_.size() - 1)]);
}

std::optional<std::uint32_t> ChipIndex::find(std::string_view chip) const {
  const Slot* s = find_slot(chip);
  if (!s || s->runner == kNobody) return std::nullopt;
  return s->runner;
}

std::optional<ChipIndex::Entry> ChipIndex::lookup(std::string_view chip) const {
  const Slot* s = find_slot(chip);
  if (!s) return std::nullopt;
  return Entry{s->key, s->runner};
}

ChipIndex::Slot& ChipIndex::slot_for(std::string_view chip, std::uint64_t hash) {
  const std::uint32_t upper = upper_half(hash);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.key == kEmpty || s.holds(chip, upper, keys_)) return s;
  }
}

bool ChipIndex::insert(std::string_view chip, std::uint32_t runner) {
  if ((keys_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t h = hash_of(chip);
  Slot& s = slot_for(chip, h);
  if (s.key != kEmpty) return false;
  fill(s, chip, h, runner);
  return true;
}

std::uint32_t ChipIndex::assign(std::string_view chip, std::uint32_t runner) {
  if ((keys_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t h = hash_of(chip);
  Slot& s = slot_for(chip, h);
  if (s.key == kEmpty) {
    fill(s, chip, h, runner);
  } else {
    s.runner = runner;
  }
  return s.key;
}

void ChipIndex::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    // Slots keep half the hash: the other half, which places them, comes from the chip again.
    std::size_t i = hash_of(keys_[s.key]) & mask;
    while (slots_[i].key != kEmpty)
      i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace splitstream
