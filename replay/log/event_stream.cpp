// The merge keeps one head record per source and returns the earliest; the source whose event was
// returned is advanced only on the next call, so the event's views stay valid meanwhile.
#include "replay/log/event_stream.h"

namespace auditpitr::replay {

EventStream::EventStream(const std::string& audit_dir, EventStreamOptions options)
    : EventStream(discover_event_logs(audit_dir), std::move(options)) {}

EventStream::EventStream(std::vector<LogSet> sources, EventStreamOptions options) : options_(std::move(options)) {
  for (LogSet& set : sources) readers_.push_back(std::make_unique<LogReader>(std::move(set), options_.reader));
  heads_.resize(readers_.size());
  has_head_.assign(readers_.size(), false);
}

/// Moves `source` to its next event; false when it has none left (or is past `until`).
bool EventStream::advance(std::size_t source) {
  LogReader& reader = *readers_[source];
  LogRecord& head = heads_[source];
  while (reader.next(head)) {
    if (head.level != "info") continue;
    if (head.operation.empty()) {
      reader.report_current(LineIssue::missing_operation);
      continue;
    }
    if (options_.until && head.time > *options_.until) {
      if (head.time > *options_.until + options_.reader.order_window) return false;
      continue;
    }
    return true;
  }
  return false;
}

bool EventStream::next(AuditEvent& out) {
  if (!started_) {
    started_ = true;
    for (std::size_t s = 0; s < readers_.size(); ++s) has_head_[s] = advance(s);
  } else if (to_advance_) {
    has_head_[*to_advance_] = advance(*to_advance_);
    to_advance_.reset();
  }
  // The earliest head; on equal times the first source. A scan beats a heap for a few logs.
  std::size_t earliest = readers_.size();
  for (std::size_t s = 0; s < readers_.size(); ++s)
    if (has_head_[s] && (earliest == readers_.size() || heads_[s].time < heads_[earliest].time)) earliest = s;
  if (earliest == readers_.size()) return false;
  to_advance_ = earliest;
  const LogRecord& head = heads_[earliest];
  out = AuditEvent{head.operation, head.time, head.level, head.json, head.file, head.line_number, ++sequence_};
  return true;
}

}  // namespace auditpitr::replay
