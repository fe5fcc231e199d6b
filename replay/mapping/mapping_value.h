// A value taken from an audit-log line (or the event time, or a rule constant), kept as typed text
// so that it reaches PostgreSQL as a bound parameter, never as SQL text.
#pragma once

#include <string>

namespace auditpitr::replay {

struct Value {
  enum class Kind { null, boolean, integer, number, string, json, timestamp };
  Kind kind = Kind::null;
  /// Canonical text: "true"/"false", the number as logged, the string unescaped, compact JSON for
  /// objects and arrays, RFC 3339 UTC with microseconds for timestamps. Empty for null.
  std::string text;

  static Value null() { return {}; }
  static Value of(Kind kind, std::string text) { return Value{kind, std::move(text)}; }
  bool is_null() const { return kind == Kind::null; }
  bool operator==(const Value& other) const { return kind == other.kind && text == other.text; }
  bool operator!=(const Value& other) const { return !(*this == other); }
};

const char* kind_name(Value::Kind kind);

}  // namespace auditpitr::replay
