// Inside the Mapper: an operation's last mapped line as the plan for its next lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "replay/mapping/mapping.h"

namespace auditpitr::replay {

/// The same field names in the same order with the same kinds of scalar values map to the same
/// change, values aside, and an application logs each operation that way, line after line. A line
/// that fits the plan is read field by field against the expected names, without a tree, and its
/// change filled from its values. Anything else (another name, order or kind, whitespace, an
/// escape, a nested value, bytes that are not UTF-8) does not fit: the general path maps that line,
/// and the plan is learned again from it. Only strict JSON fits, so the general path would read
/// the same tree from any line that does.
class LinePlan {
 public:
  /// Learns from a line the general path mapped into `out`: `doc` is its tree, `unmapped` the
  /// unmapped_ entries it counted. A line with nested values, escaped names or a fan-out leaves
  /// the plan empty.
  void learn(const JsonDocument& doc, const MappedEvent& out, const std::vector<uint32_t>& unmapped,
             std::string_view user_field);
  /// Maps `json` into `out` (empty) when it fits the plan; false leaves `out` untouched.
  bool apply(std::string_view json, TimePoint time, Mapper& mapper, MappedEvent& out);

 private:
  struct Field {
    std::string name;
    std::string quoted;  ///< `"name":`, as the line must have it
    JsonDocument::Kind kind;
  };
  struct Slot {
    CompactValue value;  ///< as learned; its text is the line's when `field` is set
    uint32_t field;      ///< the field whose value it is, or npos (event time, constant)
  };
  static constexpr uint32_t npos = UINT32_MAX;

  bool same_shape(const JsonDocument& doc) const;
  bool read_value(const Field& field, const char*& p, const char* end, bool& non_ascii, std::string_view& text) const;

  std::vector<Field> fields_;
  std::vector<Slot> slots_;
  CompactChange change_;
  std::vector<uint32_t> unmapped_;
  uint32_t user_ = npos;  ///< the field naming the acting user (MappedEvent::user), when the lines have it
  bool valid_ = false;
  std::vector<std::string_view> texts_;  ///< per line: each field's value
};

}  // namespace auditpitr::replay
