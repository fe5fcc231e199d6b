// Time stamps in and out: RFC 3339 from the audit logs (hand-parsed, on the hot path), the
// command-line forms users type (RFC 3339, local "YYYY-MM-DD HH:MM:SS", backup stamps), and
// UTC text out (by hand too: the mapper writes one per row change).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "replay/log/event.h"

namespace auditpitr::replay {

/// Parses the fixed RFC 3339 layout `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a lowercase `t`/`z`
/// and a space instead of `T` are accepted too) and normalises it to UTC. Fractions beyond
/// microseconds are truncated; a leap second (`:60`) is folded into the next second.
/// Returns nullopt for anything else (no calendar surprises: 2025-02-30 is rejected).
std::optional<TimePoint> parse_rfc3339(std::string_view text);

/// Parses a time given on the command line: RFC 3339, `YYYY-MM-DD HH:MM:SS` in local time (TZ
/// honoured), or a backup stamp `YYYYMMDD_HHMMSS` (local). Throws a usage Error naming `what`
/// (e.g. "--until") and listing the accepted forms when the text is none of them.
TimePoint parse_cli_time(std::string_view text, std::string_view what = "time");

/// `2025-01-23T14:05:30Z`, with `.ffffff` only when the time has a sub-second part.
std::string format_rfc3339(TimePoint time);
/// `2025-01-23T14:05:30.000000Z`: always with microseconds, so that the text of every time has
/// the same shape (values written to the database, reports).
std::string format_time(TimePoint time);

}  // namespace auditpitr::replay
