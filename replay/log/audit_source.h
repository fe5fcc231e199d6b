// The seam between audit-log reading and its consumers (analyze today, replay later): a time-ordered
// stream of AuditEvents plus per-file line statistics. The real implementation sits on the reader
// (replay/log/event_stream.h, replay/log/log_reader.h); tests may feed their own.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replay/log/event.h"

namespace auditpitr::replay {

struct AuditFileStats {
  std::string path;
  uint64_t lines = 0;
  uint64_t events = 0;        ///< lines handed out as events
  uint64_t other_levels = 0;  ///< valid lines skipped for their level (not "info")
  uint64_t malformed = 0;     ///< bad JSON, not an object, no operation or no valid time
  std::optional<TimePoint> first;
  std::optional<TimePoint> last;
  std::vector<std::string> malformed_examples;  ///< describe(IssueReport) of the first few
  /// The live file's last line, still without its newline (being written): bytes left unread.
  uint64_t unfinished_line_bytes = 0;
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

struct AuditSourceOptions {
  bool strict = false;             ///< a bad line is fatal (naming file:line) instead of skipped
  std::optional<TimePoint> until;  ///< events after this moment are not returned
};

/// The change events of create.log, update.log and delete.log in `audit_dir` (rotations and .gz
/// included), merged by time.
std::unique_ptr<AuditEventSource> open_event_logs(const std::string& audit_dir, const AuditSourceOptions& options = {});

/// Every well-formed line of one logical log (e.g. error.log, all levels) as events, in file order.
std::unique_ptr<AuditEventSource> open_single_log(const std::string& audit_dir, const std::string& name,
                                                  const AuditSourceOptions& options = {});

}  // namespace auditpitr::replay
