// An audit line's JSON object as a flat tree of views, read once, so that the mapping can look
// fields up in any order (simdjson's on-demand API is forward-only). Nothing is allocated per line
// once the document has grown to the longest line: names and texts view into the line itself, or
// into the document's own buffer where a string had escapes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "replay/mapping/mapping_value.h"

namespace auditpitr::replay {

class JsonDocument {
 public:
  enum class Kind : uint8_t { null, boolean, integer, number, string, object, array };
  /// Nodes are stored in document order; a node's children follow it, and `end` is the index just
  /// past its subtree (its next sibling).
  struct Node {
    Kind kind = Kind::null;
    std::string_view key;   ///< an object member's name, unescaped; empty for array items and the root
    std::string_view text;  ///< scalars, as in Value::text: "true"/"false", the number as logged, the string unescaped
    uint32_t end = 0;
  };
  static constexpr uint32_t npos = UINT32_MAX;

  /// Parses `json`, which must be followed by SIMDJSON_PADDING readable bytes (AuditEvent::json is)
  /// and must outlive the views. Returns false (and fills `error`) when it is not a valid JSON
  /// object. The usual lines take a strict hand-written parser; whatever it does not take for
  /// certain goes to simdjson on-demand, which decides: the answer is simdjson's for every input.
  bool parse(std::string_view json, std::string& error);
  /// Same, for text without padding guarantees (tests, fuzzing): copies it first.
  bool parse_text(const std::string& text, std::string& error);
  /// Only simdjson, never the hand-written parser: the reference the tests and the fuzz target
  /// compare the fast path with.
  bool parse_with_simdjson(std::string_view json, std::string& error);

  const Node& node(uint32_t i) const { return nodes_[i]; }
  uint32_t size() const { return static_cast<uint32_t>(nodes_.size()); }
  static constexpr uint32_t root = 0;
  /// The first child of `parent`, or npos; then next(child) until npos.
  uint32_t first(uint32_t parent) const { return parent + 1 < nodes_[parent].end ? parent + 1 : npos; }
  uint32_t next(uint32_t parent, uint32_t child) const {
    return nodes_[child].end < nodes_[parent].end ? nodes_[child].end : npos;
  }
  /// The first member of object `object` named `key`, or npos.
  uint32_t find(uint32_t object, std::string_view key) const;
  /// The node as a value: objects and arrays become compact JSON text.
  Value value(uint32_t i) const;
  /// Compact JSON of the node; numbers keep their logged text.
  std::string compact_json(uint32_t i) const;
  /// Whether the last parse was taken by the hand-written parser (tests and benchmarks).
  bool fast() const { return fast_; }

 private:
  friend class FastJsonParser;
  friend class SimdjsonTreeReader;
  std::vector<Node> nodes_;
  std::string strings_;  ///< unescaped strings; reserved to the line's length first, so views stay valid
  std::string padded_;   ///< parse_text's copy
  bool fast_ = false;
};

}  // namespace auditpitr::replay
