// An audit line's JSON object as a small tree, read once with simdjson on-demand, so that the
// mapping can look fields up in any order (on-demand itself is forward-only).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replay/mapping/mapping_value.h"

namespace auditpitr::replay {

struct JsonNode {
  enum class Kind { null, boolean, integer, number, string, object, array };
  Kind kind = Kind::null;
  std::string text;                                       ///< scalars: as in Value::text
  std::vector<std::pair<std::string, JsonNode>> members;  ///< objects, in line order
  std::vector<JsonNode> items;                            ///< arrays

  const JsonNode* find(std::string_view key) const;
  /// The node as a value: objects and arrays become compact JSON text.
  Value to_value() const;
};

/// Parses `json`, which must be followed by SIMDJSON_PADDING readable bytes (AuditEvent::json is).
/// Returns false (and fills `error`) when it is not a valid JSON object.
bool parse_event_json(std::string_view json, JsonNode& root, std::string& error);

/// Same, for text without padding guarantees (tests, rules): copies it first.
bool parse_json_text(const std::string& text, JsonNode& root, std::string& error);

}  // namespace auditpitr::replay
