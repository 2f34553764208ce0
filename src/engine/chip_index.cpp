#include "engine/chip_index.hpp"

#include <functional>

namespace splitstream {
namespace {

std::uint64_t hash_of(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

}  // namespace

const ChipIndex::Slot* ChipIndex::find_slot(std::string_view chip) const {
  if (slots_.empty()) return nullptr;
  const std::uint64_t h = hash_of(chip);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == kEmpty) return nullptr;
    if (s.hash == h && keys_[s.key] == chip) return &s;
  }
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
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.key == kEmpty || (s.hash == hash && keys_[s.key] == chip)) return s;
  }
}

bool ChipIndex::insert(std::string_view chip, std::uint32_t runner) {
  if ((keys_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t h = hash_of(chip);
  Slot& s = slot_for(chip, h);
  if (s.key != kEmpty) return false;
  s = {h, static_cast<std::uint32_t>(keys_.size()), runner};
  keys_.emplace_back(chip);
  return true;
}

std::uint32_t ChipIndex::assign(std::string_view chip, std::uint32_t runner) {
  if ((keys_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t h = hash_of(chip);
  Slot& s = slot_for(chip, h);
  if (s.key == kEmpty) {
    s = {h, static_cast<std::uint32_t>(keys_.size()), runner};
    keys_.emplace_back(chip);
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
    std::size_t i = s.hash & mask;
    while (slots_[i].key != kEmpty)
      i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace splitstream
