// The merged, time-ordered stream of change events from create.log, update.log and delete.log:
// a k-way merge over one LogReader per log, in one streaming pass.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replay/log/event.h"
#include "replay/log/log_files.h"
#include "replay/log/log_reader.h"

namespace auditpitr::replay {

struct EventStreamOptions {
  ReaderOptions reader;
  /// Stop at this time: events later than it are not returned. Each log is read up to
  /// `until + order_window`, so a slightly out-of-order event at or before `until` is still seen.
  std::optional<TimePoint> until;
};

/// Events in time order. Ties (equal times: the logs have whole seconds) go by source order —
/// the order of the sets given, create < update < delete for discover_event_logs, which is
/// causal order for one row within one second — then by position in the log. Only
/// `level == "info"` lines are events; an info line without `operation` is reported
/// (missing_operation) and skipped. Within one log, lines keep file order: the merge never
/// reorders a log against itself (out-of-order lines are reported by the reader).
class EventStream {
 public:
  /// Reads the event logs of `audit_dir` (discover_event_logs).
  explicit EventStream(const std::string& audit_dir, EventStreamOptions options = {});
  /// Reads the given logical logs; their order is the tie order.
  explicit EventStream(std::vector<LogSet> sources, EventStreamOptions options = {});

  /// The next event, with `sequence` = 1, 2, 3…; false at the end (or past `until`). The event's
  /// views stay valid until the next call. Throws in strict mode.
  bool next(AuditEvent& out);

  uint64_t events_returned() const { return sequence_; }
  /// The readers, in source order, for their statistics (complete after next() returned false).
  const std::vector<std::unique_ptr<LogReader>>& readers() const { return readers_; }

 private:
  bool advance(std::size_t source);

  EventStreamOptions options_;
  std::vector<std::unique_ptr<LogReader>> readers_;
  std::vector<LogRecord> heads_;           // the current candidate of each source
  std::vector<char> has_head_;             // false once a source is exhausted (not vector<bool>: bit access is slow)
  std::optional<std::size_t> to_advance_;  // source of the event last returned
  bool started_ = false;
  uint64_t sequence_ = 0;
};

}  // namespace auditpitr::replay
