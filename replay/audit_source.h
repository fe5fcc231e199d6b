// The seam between audit-log reading and its consumers (analyze today, replay later): a time-ordered
// stream of AuditEvents plus per-file line statistics.
// TEMPORARY: branch `reader` brings the real reader (replay/log_reader.h, replay/event_stream.h:
// rotation, gzip, k-way merge, strict mode). At merge, implement AuditEventSource over it and delete
// simple_audit_source.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replay/event.h"

namespace auditpitr::replay {

struct AuditFileStats {
  std::string path;
  uint64_t lines = 0;
  uint64_t events = 0;        ///< lines handed out as events
  uint64_t other_levels = 0;  ///< valid lines skipped for their level (not "info")
  uint64_t malformed = 0;     ///< bad JSON, not an object, no operation or no valid time
  std::optional<TimePoint> first;
  std::optional<TimePoint> last;
  std::vector<std::string> malformed_examples;  ///< "file:line: reason", the first few
};

class AuditEventSource {
 public:
  virtual ~AuditEventSource() = default;
  /// The next event in time order (ties keep file order); false at the end. The event's views stay
  /// valid until the next call.
  virtual bool next(AuditEvent& event) = 0;
  /// Statistics per file; complete once next() has returned false.
  virtual std::vector<AuditFileStats> file_stats() const = 0;
};

/// TEMPORARY (see above): plain files only, read with std::getline, merged by time.
/// `info_only`: hand out only `"level":"info"` lines (create/update/delete.log); false for error.log.
/// Missing files are skipped (listed with zero lines).
std::unique_ptr<AuditEventSource> open_simple_audit_source(const std::vector<std::string>& files, bool info_only);

/// TEMPORARY minimal RFC 3339 parser ("2025-01-15T09:00:00Z", "-03:00" offsets, fractions), until
/// the reader's time module lands.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace auditpitr::replay
