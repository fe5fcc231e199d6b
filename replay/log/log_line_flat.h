// The line parser's quickest path, for the shape logrus writes: one flat object, no whitespace, no
// escapes. The whole line is classified with SIMD into bit masks (quotes, colons, commas…) and
// its grammar is checked with a few dozen word operations instead of a byte-by-byte walk.
#pragma once

#include <cstddef>
#include <string_view>

#include "replay/log/log_line.h"

namespace auditpitr::replay {

/// Longer lines are left to the other paths.
inline constexpr std::size_t kFlatMaxLine = 512;

/// True when `line` is `{"key":value,…}` with at least one member, no byte outside strings but
/// `{` first, `}` last, `:`, `,`, numbers and `true`/`false`/`null` (so no nesting and no
/// whitespace), no backslash and no control byte anywhere, a first `time` key whose value is an
/// RFC 3339 string and first `level`/`operation` keys, when present, with string values; `out` is
/// then filled exactly as simdjson's path would fill it. False means "not sure": the caller tries
/// the other paths. Does not check UTF-8 (the caller does). `line` must be followed by
/// SIMDJSON_PADDING readable bytes; nothing past them is read.
using FlatLineParser = bool (*)(std::string_view line, ParsedLine& out);

/// The SSE2 build (any x86-64) or a portable one elsewhere.
bool parse_line_flat(std::string_view line, ParsedLine& out);
#if defined(__x86_64__)
/// The AVX2 build: only to be called on CPUs with AVX2 and BMI.
bool parse_line_flat_avx2(std::string_view line, ParsedLine& out);
#endif
/// The fastest of the two this CPU runs.
FlatLineParser best_flat_line_parser();

}  // namespace auditpitr::replay
