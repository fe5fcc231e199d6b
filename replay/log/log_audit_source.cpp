// AuditEventSource over the real reader: EventStream for the change logs, LogReader for one log;
// the reader's per-file statistics are translated for analyze, with the first bad lines as examples.
#include <map>
#include <utility>
#include <vector>

#include "replay/log/audit_source.h"
#include "replay/log/event_stream.h"
#include "replay/log/log_reader.h"

namespace auditpitr::replay {
namespace {

constexpr std::size_t kExamplesPerFile = 5;

// Collects the first few issues of each file, worded as --strict words its error.
class IssueExamples {
 public:
  std::function<void(const IssueReport&)> callback() {
    return [this](const IssueReport& r) {
      auto& list = by_file_[r.file];
      if (list.size() < kExamplesPerFile)
        list.push_back(describe(r));  // as --strict's error says it (docs/log-format.md)
    };
  }
  std::vector<std::string> of(const std::string& file) const {
    auto it = by_file_.find(file);
    return it == by_file_.end() ? std::vector<std::string>{} : it->second;
  }

 private:
  std::map<std::string, std::vector<std::string>> by_file_;
};

AuditFileStats translate(const FileStats& s, uint64_t events, const IssueExamples& examples) {
  AuditFileStats out;
  out.path = s.path;
  out.lines = s.lines;
  out.events = events;
  out.malformed = s.bad_lines();
  out.other_levels = s.records - events - s.count(LineIssue::missing_operation);
  out.first = s.earliest;
  out.last = s.latest;
  out.malformed_examples = examples.of(s.path);
  out.unfinished_line_bytes = s.unfinished_line_bytes;
  return out;
}

ReaderOptions reader_options(const AuditSourceOptions& options, IssueExamples& examples) {
  ReaderOptions r;
  r.strict = options.strict;
  r.on_issue = examples.callback();
  return r;
}

class EventLogsSource : public AuditEventSource {
 public:
  EventLogsSource(const std::string& dir, const AuditSourceOptions& options) {
    EventStreamOptions o;
    o.reader = reader_options(options, examples_);
    o.until = options.until;
    stream_ = std::make_unique<EventStream>(dir, o);
  }
  bool next(AuditEvent& event) override {
    if (!stream_->next(event)) return false;
    count_event(event.file);
    return true;
  }
  std::vector<AuditFileStats> file_stats() const override {
    std::vector<AuditFileStats> out;
    for (const auto& reader : stream_->readers())
      for (const auto& s : reader->stats()) out.push_back(translate(s, count_of(s.path), examples_));
    return out;
  }

 private:
  uint64_t count_of(const std::string& path) const {
    for (const auto& [file, count] : events_by_file_)
      if (file && *file == path) return count;
    return 0;
  }
  void count_event(const std::string* file) {
    // From the newest: the files being read (one per log, rotations in order) were met last.
    for (auto it = events_by_file_.rbegin(); it != events_by_file_.rend(); ++it)
      if (it->first == file) return void(++it->second);
    events_by_file_.emplace_back(file, 1);
  }
  IssueExamples examples_;
  std::unique_ptr<EventStream> stream_;
  /// By the reader's own path string (one per file, fixed for the reader's life): a lookup by the
  /// path's text compared long common prefixes at every event. One file of each log is read at a
  /// time: a list looked through from its end finds it in a compare or three, less than a hash map.
  std::vector<std::pair<const std::string*, uint64_t>> events_by_file_;
};

class SingleLogSource : public AuditEventSource {
 public:
  SingleLogSource(const std::string& dir, const std::string& name, const AuditSourceOptions& options)
      : reader_(discover_log_set(dir, name), reader_options(options, examples_)) {}
  bool next(AuditEvent& event) override {
    LogRecord r;
    if (!reader_.next(r)) return false;
    event.operation = r.operation;
    event.time = r.time;
    event.level = r.level;
    event.json = r.json;
    event.file = r.file;
    event.line_number = r.line_number;
    event.sequence = ++sequence_;
    return true;
  }
  std::vector<AuditFileStats> file_stats() const override {
    std::vector<AuditFileStats> out;
    for (const auto& s : reader_.stats()) out.push_back(translate(s, s.records, examples_));
    return out;
  }

 private:
  IssueExamples examples_;
  LogReader reader_;
  uint64_t sequence_ = 0;
};

}  // namespace

std::unique_ptr<AuditEventSource> open_event_logs(const std::string& audit_dir, const AuditSourceOptions& options) {
  return std::make_unique<EventLogsSource>(audit_dir, options);
}

std::unique_ptr<AuditEventSource> open_single_log(const std::string& audit_dir, const std::string& name,
                                                  const AuditSourceOptions& options) {
  return std::make_unique<SingleLogSource>(audit_dir, name, options);
}

}  // namespace auditpitr::replay
