// A folded row's fields (COPY text) and a mark per field in one allocation: the marks, each
// field's end offset, then the texts back to back. A fold of 3 M events keeps 1.5 M rows; as a std::vector<std::string>
// each row cost a vector, 32 bytes per field and an allocation per long value (a timestamp), which made the fold's
// memory (and its page faults) about twice the rows' text.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

namespace auditpitr::verify::rows {

template <typename Mark = uint8_t>
class RowFields {
 public:
  RowFields() = default;
  /// `count` fields, each `text`, each marked `mark`, with room for `more` bytes of text beyond
  /// (a row about to be filled: one allocation instead of growing field by field).
  RowFields(std::size_t count, std::string_view text, const Mark& mark = Mark(), std::size_t more = 0) {
    allocate(count, count * text.size() + more, mark);
    for (std::size_t i = 0; i < count; ++i) {
      std::memcpy(texts() + i * text.size(), text.data(), text.size());
      ends()[i] = static_cast<uint32_t>((i + 1) * text.size());
    }
  }
  /// The fields of `fields`, in order (strings or views), each marked `mark`.
  template <typename Fields>
  explicit RowFields(const Fields& fields, const Mark& mark = Mark()) {
    std::size_t bytes = 0;
    for (const auto& f : fields) bytes += f.size();
    allocate(fields.size(), bytes, mark);
    uint32_t at = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      std::memcpy(texts() + at, fields[i].data(), fields[i].size());
      at += static_cast<uint32_t>(fields[i].size());
      ends()[i] = at;
    }
  }
  RowFields(const RowFields& other) { *this = other; }
  RowFields& operator=(const RowFields& other) {  // the block copied whole: its marks are trivially copyable
    if (this == &other) return *this;
    if (!other.block_) {
      block_.reset();
      return *this;
    }
    std::size_t bytes = other.header()->bytes;
    std::unique_ptr<char[]> copy(new char[bytes]);
    std::memcpy(copy.get(), other.block_.get(), bytes);
    block_ = std::move(copy);
    return *this;
  }
  RowFields(RowFields&&) noexcept = default;
  RowFields& operator=(RowFields&&) noexcept = default;

  std::size_t size() const { return block_ ? header()->count : 0; }
  /// The block holding the header, marks, offsets and texts (nullptr when none): for loading ahead.
  const char* block() const { return block_.get(); }
  /// The size of a block() (read from its header).
  static std::size_t block_bytes(const char* block) { return reinterpret_cast<const Header*>(block)->bytes; }
  Mark& mark(std::size_t i) { return marks()[i]; }
  const Mark& mark(std::size_t i) const { return marks()[i]; }
  std::string_view operator[](std::size_t i) const {
    uint32_t start = i == 0 ? 0 : ends()[i - 1];
    return {texts() + start, ends()[i] - start};
  }

  /// Field `i` becomes `text` (which may be a view of this row's own fields); nothing when there is no field `i`.
  void assign(std::size_t i, std::string_view text) {
    const char* base = block_.get();
    if (!base || i >= size()) return;  // no such field
    if (text.data() >= base && text.data() < base + header()->bytes) {
      std::string copy(text);  // the move below would shift it
      assign(i, copy);
      return;
    }
    uint32_t start = i == 0 ? 0 : ends()[i - 1];
    uint32_t old_end = ends()[i];
    if (text.size() == old_end - start) {  // as long as before (a time, a value placed ahead): in place
      std::memcpy(texts() + start, text.data(), text.size());
      return;
    }
    uint32_t used = ends()[size() - 1];
    std::size_t new_used = used - (old_end - start) + text.size();
    if (new_used > header()->capacity) grow(new_used);
    char* t = texts();
    std::memmove(t + start + text.size(), t + old_end, used - old_end);
    std::memcpy(t + start, text.data(), text.size());
    int64_t delta = static_cast<int64_t>(text.size()) - static_cast<int64_t>(old_end - start);
    for (std::size_t j = i; j < size(); ++j) ends()[j] = static_cast<uint32_t>(ends()[j] + delta);
  }

 private:
  struct Header {
    uint32_t count;     ///< fields
    uint32_t capacity;  ///< bytes for the texts
    uint32_t bytes;     ///< the whole block's size
  };
  static_assert(std::is_trivially_copyable_v<Mark> && std::is_trivially_destructible_v<Mark>);
  static constexpr std::size_t kSlack = 16;  ///< room to grow a field or two without reallocating

  static_assert(alignof(Mark) <= alignof(uint32_t), "marks sit after the 4-byte aligned header");
  /// The marks' room, rounded up so that the offsets after them are aligned.
  static std::size_t marks_bytes(std::size_t count) { return (count * sizeof(Mark) + 3) / 4 * 4; }

  void allocate(std::size_t count, std::size_t text_bytes, const Mark& mark) {
    std::size_t capacity = text_bytes + kSlack;
    std::size_t bytes = sizeof(Header) + marks_bytes(count) + count * sizeof(uint32_t) + capacity;
    block_.reset(new char[bytes]);
    *header() = {static_cast<uint32_t>(count), static_cast<uint32_t>(capacity), static_cast<uint32_t>(bytes)};
    for (std::size_t i = 0; i < count; ++i) new (&marks()[i]) Mark(mark);
  }
  void grow(std::size_t needed) {
    RowFields bigger;
    std::size_t count = size();
    bigger.allocate(count, needed + needed / 2, Mark());
    for (std::size_t i = 0; i < count; ++i) bigger.mark(i) = mark(i);
    std::memcpy(bigger.ends(), ends(), count * sizeof(uint32_t));
    std::memcpy(bigger.texts(), texts(), count ? ends()[count - 1] : 0);
    *this = std::move(bigger);
  }

  Header* header() const { return reinterpret_cast<Header*>(block_.get()); }
  Mark* marks() const { return reinterpret_cast<Mark*>(block_.get() + sizeof(Header)); }
  uint32_t* ends() const {
    return reinterpret_cast<uint32_t*>(block_.get() + sizeof(Header) + marks_bytes(header()->count));
  }
  char* texts() const { return reinterpret_cast<char*>(ends() + header()->count); }

  std::unique_ptr<char[]> block_;
};

}  // namespace auditpitr::verify::rows
