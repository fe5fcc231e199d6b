// The line parser's fast path: one pass over a line that accepts only strictly valid JSON objects
// whose `time`, `level` and `operation` are plain strings. Anything else goes to simdjson.
#pragma once

#include <string_view>

#include "replay/log/log_line.h"

namespace auditpitr::replay {

/// Nesting deeper than this is left to simdjson.
inline constexpr int kFastPathMaxDepth = 63;

/// True when `line` is one JSON object (RFC 8259: strings, escapes, numbers, literals, nesting, no
/// trailing text) with a first `time` key whose value is an unescaped RFC 3339 string, and whose
/// first `level`/`operation` keys, when present, have unescaped string values; `out` is then
/// filled exactly as simdjson's path would fill it, with views into `line`. False means "not
/// sure": the caller must parse the line with simdjson, which decides whether and why it is bad.
/// Does not check UTF-8 (the caller does). `line` must be followed by SIMDJSON_PADDING readable
/// bytes; nothing past them is read.
bool parse_line_fast(std::string_view line, ParsedLine& out);

/// A JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) or `true`/`false`/`null`
/// starting at `p`: the end of it, or nullptr. Reads only [p, end).
const char* scan_json_scalar(const char* p, const char* end);

}  // namespace auditpitr::replay
