// The event model shared by the audit-log reader (producer) and the mapping/applier (consumers).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace auditpitr::replay {

/// UTC, microsecond resolution (logs carry whole seconds or fractions).
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

/// One candidate change event: an `info` line of create/update/delete.log.
/// The views point into the reader's buffers and stay valid only until the reader advances;
/// copy what must outlive that.
struct AuditEvent {
  std::string_view operation;  ///< e.g. "CREATE_PORTFOLIO"
  TimePoint time;              ///< normalised to UTC
  std::string_view level;      ///< "info" for events
  /// The whole JSON object of the line. At least SIMDJSON_PADDING readable bytes follow it, so
  /// consumers may parse it with simdjson on-demand without copying.
  std::string_view json;
  const std::string* file = nullptr;  ///< path of the file it came from
  uint64_t line_number = 0;           ///< 1-based line in that file
  uint64_t sequence = 0;              ///< position in the merged stream (ties keep file order)
};

}  // namespace auditpitr::replay
