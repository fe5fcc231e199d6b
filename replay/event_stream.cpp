// The merge keeps one head record per source in a binary heap; the source whose event was
// returned is advanced only on the next call, so the event's views stay valid meanwhile.
#include "replay/event_stream.h"

#include <algorithm>

namespace auditpitr::replay {

EventStream::EventStream(const std::string& audit_dir, EventStreamOptions options)
    : EventStream(discover_event_logs(audit_dir), std::move(options)) {}

EventStream::EventStream(std::vector<LogSet> sources, EventStreamOptions options) : options_(std::move(options)) {
  for (LogSet& set : sources) readers_.push_back(std::make_unique<LogReader>(std::move(set), options_.reader));
  heads_.resize(readers_.size());
}

/// True when source a's head comes before source b's head.
bool EventStream::before(std::size_t a, std::size_t b) const {
  if (heads_[a].time != heads_[b].time) return heads_[a].time < heads_[b].time;
  return a < b;
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
  // std heap functions keep the *largest* on top: invert the order.
  auto later = [this](std::size_t a, std::size_t b) { return before(b, a); };
  if (!started_) {
    started_ = true;
    for (std::size_t s = 0; s < readers_.size(); ++s)
      if (advance(s)) heap_.push_back(s);
    std::make_heap(heap_.begin(), heap_.end(), later);
  } else if (to_advance_) {
    std::size_t source = *to_advance_;
    to_advance_.reset();
    if (advance(source)) {
      heap_.push_back(source);
      std::push_heap(heap_.begin(), heap_.end(), later);
    }
  }
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), later);
  std::size_t source = heap_.back();
  heap_.pop_back();
  to_advance_ = source;
  const LogRecord& head = heads_[source];
  out = AuditEvent{head.operation, head.time, head.level, head.json, head.file, head.line_number, ++sequence_};
  return true;
}

}  // namespace auditpitr::replay
