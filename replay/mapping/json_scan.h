// The strict JSON scanning steps JsonDocument's hand-written parser and LinePlan share: string
// bodies sixteen bytes at a time, and numbers as simdjson takes them for certain.
#pragma once

#include <algorithm>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace auditpitr::replay::json_scan {

inline bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// The first '"', '\\' or control byte at or after `p`, or `end`; sets `non_ascii` when a byte
/// before it is over 0x7F. The text must be followed by 16 readable bytes (SIMDJSON_PADDING).
inline const char* string_stop(const char* p, const char* end, bool& non_ascii) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
  for (; p < end; p += 16) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
                                _mm_cmpeq_epi8(_mm_max_epu8(bytes, control), control));  // <= 0x1F
    unsigned stops = static_cast<unsigned>(_mm_movemask_epi8(stop));
    unsigned high = static_cast<unsigned>(_mm_movemask_epi8(bytes));
    if (stops) high &= (stops & (0u - stops)) - 1;  // only the bytes before the first stop
    non_ascii |= high != 0;
    if (stops) return std::min(p + __builtin_ctz(stops), end);
  }
  return end;
#else
  for (; p != end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20; ++p)
    non_ascii |= static_cast<unsigned char>(*p) >= 0x80;
  return p;
#endif
}

/// A JSON number at `p`, without exponent and with fewer than 19 digits (simdjson decides the
/// others): returns its end and sets `whole`, or nullptr. The caller checks what follows it.
inline const char* number_end(const char* p, const char* end, bool& whole) {
  if (p != end && *p == '-') ++p;
  const char* digits = p;
  if (p == end || !is_digit(*p)) return nullptr;
  if (*p == '0') ++p;
  else
    while (p != end && is_digit(*p)) ++p;
  whole = true;
  if (p != end && *p == '.') {
    whole = false;
    ++p;
    if (p == end || !is_digit(*p)) return nullptr;
    while (p != end && is_digit(*p)) ++p;
  }
  if (p != end && (*p == 'e' || *p == 'E')) return nullptr;
  return p - digits >= 19 ? nullptr : p;
}

}  // namespace auditpitr::replay::json_scan
