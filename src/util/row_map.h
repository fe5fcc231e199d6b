// Rows of one table by key, for the folds (verify/row_fold.h, replay/apply/fold_sink.cpp). A fold
// of a million events holds half a million rows and looks one up per change, in no order: with
// std::unordered_map each lookup reads a bucket, the node before the first of the bucket, then that
// node (three cache misses on a large fold). Here a lookup reads one slot of an open-addressing
// index and, when the slot's hash tag matches, the entry. Entries live in fixed blocks, so their
// addresses never change; nothing is ever erased. The interface is the part of std::unordered_map
// the folds need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace auditpitr {

template <typename Value>
class RowMap {
 public:
  using value_type = std::pair<const std::string, Value>;

  template <typename Map, typename Ref>
  class Iter {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::remove_const_t<Ref>;
    using difference_type = std::ptrdiff_t;
    using pointer = Ref*;
    using reference = Ref&;

    Iter(Map* map, std::size_t at) : map_(map), at_(at) {}
    Ref& operator*() const { return map_->entry(at_).value; }
    Ref* operator->() const { return &map_->entry(at_).value; }
    Iter& operator++() {
      ++at_;
      return *this;
    }
    bool operator==(const Iter& other) const { return at_ == other.at_; }
    bool operator!=(const Iter& other) const { return at_ != other.at_; }

   private:
    Map* map_;
    std::size_t at_;
  };
  using iterator = Iter<RowMap, value_type>;
  using const_iterator = Iter<const RowMap, const value_type>;

  RowMap() = default;
  RowMap(const RowMap&) = delete;
  RowMap& operator=(const RowMap&) = delete;
  RowMap(RowMap&& other) noexcept { swap(other); }
  RowMap& operator=(RowMap&& other) noexcept {
    swap(other);
    return *this;
  }
  ~RowMap() {
    for (std::size_t i = 0; i < size_; ++i) entry(i).~Entry();
    for (Entry* block : blocks_) ::operator delete(block, std::align_val_t(kLine));
  }

  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator find(const std::string& key) { return {this, locate(key, hash_of(key)).second}; }
  const_iterator find(const std::string& key) const { return find(key, hash_of(key)); }
  /// The same, `hash` being hash_of(key), computed ahead.
  const_iterator find(const std::string& key, uint64_t hash) const { return {this, locate(key, hash).second}; }
  std::size_t count(const std::string& key) const { return locate(key, hash_of(key)).second != size_; }
  Value& at(const std::string& key) {
    std::size_t at = locate(key, hash_of(key)).second;
    if (at == size_) throw std::out_of_range("no row with key '" + key + "'");
    return entry(at).value.second;
  }

  /// The entry of `key`, added with a default Value when absent (the key copied only then).
  std::pair<iterator, bool> try_emplace(const std::string& key) {
    return insert(key, hash_of(key), [] { return Value(); });
  }
  /// The same, `hash` being hash_of(key), computed ahead.
  std::pair<iterator, bool> try_emplace(const std::string& key, uint64_t hash) {
    return insert(key, hash, [] { return Value(); });
  }
  std::pair<iterator, bool> emplace(std::string key, Value value) {
    uint64_t hash = hash_of(key);
    return insert(std::move(key), hash, [&] { return std::move(value); });
  }

  static uint64_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }

  /// For loading ahead in stages (verify::rows::load_rows): the first slot of `hash` (a load), then the
  /// value its entry holds when the slot's tag matches (most likely the key's; not compared).
  uint64_t first_slot(uint64_t hash) const { return slots_.empty() ? 0 : slots_[hash & (slots_.size() - 1)]; }
  const Value* probable(uint64_t slot, uint64_t hash) const {
    return slot != 0 && tag_of(slot) == tag_of(hash) ? &entry((slot & kIndexBits) - 1).value.second : nullptr;
  }

 private:
  static constexpr std::size_t kBlock = 1024;
  /// Blocks start on a cache line: a fold's 64-byte entry (key and row) is then one line, not two.
  static constexpr std::size_t kLine = 64;
  static constexpr uint64_t kIndexBits = 0xffffffffu;  ///< a slot: hash tag above, 1 + entry below; 0 empty

  struct Entry {
    value_type value;
    uint64_t hash;
  };

  template <typename Key, typename MakeValue>
  std::pair<iterator, bool> insert(Key&& key, uint64_t hash, MakeValue make_value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    auto [slot, at] = locate(key, hash);
    if (at != size_) return {{this, at}, false};
    if (size_ == blocks_.size() * kBlock)
      blocks_.push_back(static_cast<Entry*>(::operator new(sizeof(Entry) * kBlock, std::align_val_t(kLine))));
    new (&entry(size_)) Entry{value_type(std::forward<Key>(key), make_value()), hash};
    slots_[slot] = tag_of(hash) | (size_ + 1);
    return {{this, size_++}, true};
  }

  static uint64_t tag_of(uint64_t hash) { return hash & ~kIndexBits; }
  Entry& entry(std::size_t i) { return blocks_[i / kBlock][i % kBlock]; }
  const Entry& entry(std::size_t i) const { return blocks_[i / kBlock][i % kBlock]; }

  /// The slot holding `key` or the empty slot it would take, and its entry (size_ when absent).
  std::pair<std::size_t, std::size_t> locate(const std::string& key, uint64_t hash) const {
    if (slots_.empty()) return {0, size_};
    std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      uint64_t s = slots_[slot];
      if (s == 0) return {slot, size_};
      std::size_t at = (s & kIndexBits) - 1;
      if (tag_of(s) == tag_of(hash) && entry(at).value.first == key) return {slot, at};
    }
  }

  void grow() {
    std::vector<uint64_t> slots(slots_.empty() ? 64 : slots_.size() * 2, 0);
    std::size_t mask = slots.size() - 1;
    for (std::size_t i = 0; i < size_; ++i) {
      uint64_t hash = entry(i).hash;
      std::size_t slot = hash & mask;
      while (slots[slot] != 0) slot = (slot + 1) & mask;
      slots[slot] = tag_of(hash) | (i + 1);
    }
    slots_.swap(slots);
  }

  void swap(RowMap& other) noexcept {
    blocks_.swap(other.blocks_);
    slots_.swap(other.slots_);
    std::swap(size_, other.size_);
  }

  std::vector<Entry*> blocks_;
  std::vector<uint64_t> slots_;
  std::size_t size_ = 0;
};

}  // namespace auditpitr
