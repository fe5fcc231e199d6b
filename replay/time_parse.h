// Time stamps in and out: RFC 3339 from the audit logs (hand-parsed, on the hot path) and the
// command-line forms users type (RFC 3339, local "YYYY-MM-DD HH:MM:SS", backup stamps).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "replay/event.h"

namespace auditpitr::replay {

/// Parses the fixed RFC 3339 layout `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a lowercase `t`/`z`
/// and a space instead of `T` are accepted too) and normalises it to UTC. Fractions beyond
/// microseconds are truncated; a leap second (`:60`) is folded into the next second.
/// Returns nullopt for anything else (no calendar surprises: 2025-02-30 is rejected).
std::optional<TimePoint> parse_rfc3339(std::string_view text);

/// The minute of the last time parsed: consecutive log lines nearly always share it, so comparing
/// 16 bytes replaces parsing and calendar arithmetic. One per thread (or per parser).
struct MinuteCache {
  uint64_t prefix[2] = {};  ///< the text's first 16 bytes, `YYYY-MM-DDTHH:MM`
  TimePoint minute{};
  bool valid = false;
};

/// parse_rfc3339 through `cache`, refreshing it.
std::optional<TimePoint> parse_rfc3339(std::string_view text, MinuteCache& cache);

/// parse_rfc3339 for the log path: what logrus writes (`…THH:MM:SSZ`) in the cached minute is
/// answered inline; anything else goes through parse_rfc3339(text, cache).
inline std::optional<TimePoint> parse_rfc3339_inline(std::string_view text, MinuteCache& cache) {
  if (cache.valid && text.size() == 20 && text[16] == ':' && text[19] == 'Z') {
    uint64_t prefix[2];
    std::memcpy(prefix, text.data(), sizeof prefix);
    unsigned tens = static_cast<unsigned char>(text[17]) - '0', ones = static_cast<unsigned char>(text[18]) - '0';
    if (prefix[0] == cache.prefix[0] && prefix[1] == cache.prefix[1] && tens <= 6 && ones <= 9 &&
        tens * 10 + ones <= 60)
      return cache.minute + std::chrono::seconds{tens * 10 + ones};
  }
  return parse_rfc3339(text, cache);
}

/// Parses a time given on the command line: RFC 3339, `YYYY-MM-DD HH:MM:SS` in local time (TZ
/// honoured), or a backup stamp `YYYYMMDD_HHMMSS` (local). Throws a usage Error naming `what`
/// (e.g. "--until") and listing the accepted forms when the text is none of them.
TimePoint parse_cli_time(std::string_view text, std::string_view what = "time");

/// `2025-01-23T14:05:30Z`, with `.ffffff` only when the time has a sub-second part.
std::string format_rfc3339(TimePoint time);

}  // namespace auditpitr::replay
