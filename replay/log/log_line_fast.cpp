// A small validating scanner for flat logrus lines. It is exact where it says yes (strict JSON
// grammar, the same first-key-wins and raw key comparison as the simdjson path) and gives up on
// anything unusual, so simdjson remains the only judge of bad lines. Strings, the bulk of a log
// line, are found 16 bytes at a time with SSE2 (baseline on x86-64; elsewhere byte by byte); the
// padding that follows every line makes the over-read safe.
#include "replay/log/log_line_fast.h"

#include <simdjson.h>

#include <cstring>

#include "replay/log/time_parse.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace auditpitr::replay {
namespace {

static_assert(simdjson::SIMDJSON_PADDING >= 16, "string scanning reads up to 15 bytes past the line");

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) { return static_cast<unsigned char>(c - '0') <= 9; }
bool is_hex(char c) { return is_digit(c) || static_cast<unsigned char>((c | 0x20) - 'a') <= 5; }

[[gnu::always_inline]] inline const char* skip_space(const char* p, const char* end) {
  while (p < end && is_space(*p)) ++p;
  return p;
}

/// The first `"`, `\` or control character at or after `p` (possibly at or past `end`).
const char* find_special(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1f);
  for (; p < end; p += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));  // v <= 0x1f
    if (int mask = _mm_movemask_epi8(hits)) return p + __builtin_ctz(static_cast<unsigned>(mask));
  }
  return p;
#else
  while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
  return p;
#endif
}

/// `p` is just after an opening quote: the closing quote, or nullptr when the string is not
/// terminated within the line, holds a raw control character or a bad escape. `escaped` tells
/// whether it holds any escape at all.
const char* scan_string(const char* p, const char* end, bool& escaped) {
  for (;;) {
    p = find_special(p, end);
    if (p >= end) return nullptr;
    if (*p == '"') return p;
    if (*p != '\\' || end - p < 2) return nullptr;
    escaped = true;
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't': p += 2; break;
      case 'u':
        if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5])) return nullptr;
        p += 6;
        break;
      default: return nullptr;
    }
  }
}

/// Finds the end of each string of one line. Most lines are short and hold no backslash and no
/// control byte: every quote then delimits a string, so one pass lists the quotes' positions and
/// strings are consecutive pairs of them. That keeps the search for a string's end
/// off the parser's chain of dependent loads. Other lines are scanned string by string.
class StringEnds {
 public:
  StringEnds(const char* begin, const char* end) : begin_(begin), end_(end) { plain_ = index(); }

  /// As scan_string; `p` is just after an opening quote, and strings are asked for in order.
  [[gnu::always_inline]] const char* close(const char* p, bool& escaped) {
    if (!plain_) return scan_string(p, end_, escaped);
    // Every quote the parser meets opens a string (it never steps over one otherwise), so the
    // opening quote is the next listed one; the check only guards that reasoning.
    if (next_ + 1 >= count_ || begin_ + quotes_[next_] != p - 1) return nullptr;
    const char* closing = begin_ + quotes_[next_ + 1];
    next_ += 2;
    return closing;
  }

 private:
  static constexpr std::size_t kMaxLine = 1024;

  /// Lists the quotes; false when the line is long or has a backslash or control byte.
  bool index() {
#if defined(__SSE2__)
    std::size_t length = static_cast<std::size_t>(end_ - begin_);
    if (length > kMaxLine) return false;
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1f);
    unsigned special = 0;
    for (std::size_t i = 0; i < length; i += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(begin_ + i));
      unsigned valid = length - i >= 16 ? 0xffffu : (1u << (length - i)) - 1;  // not the padding
      auto bits = [&](__m128i hits) { return static_cast<unsigned>(_mm_movemask_epi8(hits)) & valid; };
      special |= bits(_mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(_mm_max_epu8(v, control), control)));
      for (unsigned q = bits(_mm_cmpeq_epi8(v, quote)); q; q &= q - 1)
        quotes_[count_++] = static_cast<uint16_t>(i + static_cast<unsigned>(__builtin_ctz(q)));
    }
    return special == 0;
#else
    return false;
#endif
  }

  const char* begin_;
  const char* end_;
  bool plain_ = false;
  std::size_t count_ = 0, next_ = 0;
  uint16_t quotes_[kMaxLine];  // offsets of the line's quotes, in order (count_ of them)
};

const char* scan_digits(const char* p, const char* end) {
  while (p < end && is_digit(*p)) ++p;
  return p;
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: the end of the number, or nullptr.
const char* scan_number(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p >= end || !is_digit(*p)) return nullptr;
  p = *p == '0' ? p + 1 : scan_digits(p, end);
  if (p < end && *p == '.') {
    const char* digits = p + 1;
    p = scan_digits(digits, end);
    if (p == digits) return nullptr;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    const char* digits = p;
    p = scan_digits(digits, end);
    if (p == digits) return nullptr;
  }
  return p;
}

const char* scan_word(const char* p, const char* end, const char* word, std::size_t length) {
  if (static_cast<std::size_t>(end - p) < length || std::memcmp(p, word, length) != 0) return nullptr;
  return p + length;
}

enum Field { kTime, kLevel, kOperation, kOther };

Field classify(const char* key, std::size_t length) {
  if (length == 4 && std::memcmp(key, "time", 4) == 0) return kTime;
  if (length == 5 && std::memcmp(key, "level", 5) == 0) return kLevel;
  if (length == 9 && std::memcmp(key, "operation", 9) == 0) return kOperation;
  return kOther;
}

}  // namespace

const char* scan_json_scalar(const char* p, const char* end) {
  if (p >= end) return nullptr;
  switch (*p) {
    case 't': return scan_word(p, end, "true", 4);
    case 'f': return scan_word(p, end, "false", 5);
    case 'n': return scan_word(p, end, "null", 4);
    default: return scan_number(p, end);
  }
}

bool parse_line_fast(std::string_view line, ParsedLine& out) {
  const char* p = line.data();
  const char* const end = p + line.size();
  p = skip_space(p, end);
  if (p >= end || *p != '{') return false;
  p = skip_space(p + 1, end);
  if (p >= end || *p == '}') return false;  // an empty object has no time: simdjson reports it

  StringEnds strings(line.data(), end);
  std::string_view fields[3];  // time, level, operation: first occurrence, unescaped strings only
  bool seen[3] = {false, false, false};
  uint64_t objects = 1;  // bit d: the container at depth d is an object (depth 0: the line itself)
  int depth = 0;
  bool want_key = true;
  for (;;) {
    Field field = kOther;
    if (want_key) {
      if (p >= end || *p != '"') return false;
      bool escaped = false;
      const char* close = strings.close(p + 1, escaped);
      if (!close) return false;
      if (depth == 0) field = classify(p + 1, static_cast<std::size_t>(close - p - 1));
      if (field != kOther && seen[field]) field = kOther;  // a duplicate: the first one counts
      p = skip_space(close + 1, end);
      if (p >= end || *p != ':') return false;
      p = skip_space(p + 1, end);
    }
    if (p >= end) return false;
    if (*p == '"') {
      bool escaped = false;
      const char* close = strings.close(p + 1, escaped);
      if (!close) return false;
      if (field != kOther) {
        if (escaped) return false;  // simdjson would unescape it: leave that to simdjson
        seen[field] = true;
        fields[field] = std::string_view(p + 1, static_cast<std::size_t>(close - p - 1));
      }
      p = close + 1;
    } else if (field != kOther) {
      return false;  // time/level/operation that is not a string: simdjson's rules apply
    } else if (*p == '{' || *p == '[') {
      if (++depth > kFastPathMaxDepth) return false;
      bool object = *p == '{';
      objects = object ? objects | (uint64_t{1} << depth) : objects & ~(uint64_t{1} << depth);
      p = skip_space(p + 1, end);
      if (p >= end) return false;
      if (*p != (object ? '}' : ']')) {
        want_key = object;
        continue;
      }
      --depth;  // `{}` or `[]`: a complete value
      ++p;
    } else {
      p = scan_json_scalar(p, end);
      if (!p) return false;
    }
    // After a value: a comma, or the end of one or more containers.
    for (;;) {
      p = skip_space(p, end);
      if (p >= end) return false;
      bool object = (objects >> depth) & 1;
      if (*p == ',') {
        p = skip_space(p + 1, end);
        want_key = object;
        break;
      }
      if (*p != (object ? '}' : ']')) return false;
      ++p;
      if (depth == 0) {
        if (skip_space(p, end) != end || !seen[kTime]) return false;
        auto time = parse_rfc3339(fields[kTime]);
        if (!time) return false;
        out.time = *time;
        out.level = fields[kLevel];
        out.operation = fields[kOperation];
        return true;
      }
      --depth;
    }
  }
}

}  // namespace auditpitr::replay
