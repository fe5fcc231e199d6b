// Reading one logical log (all its rotations, oldest first) as well-formed records. Bad lines are
// counted by kind, reported with file:line and skipped, or fatal in strict mode; per-file
// statistics feed `analyze`. The live file's last line without its newline is being written: it
// is left for the next run, not reported as bad.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "replay/log/event.h"
#include "replay/log/line_splitter.h"
#include "replay/log/log_files.h"
#include "replay/log/log_line.h"

namespace auditpitr::replay {

/// A problem with one line (or file), as handed to ReaderOptions::on_issue.
struct IssueReport {
  LineIssue issue;
  std::string file;  ///< path of the file
  uint64_t line_number = 0;
  std::string detail;  ///< e.g. "line of 5242880 bytes exceeds the limit of 1048576"; may be empty
};

/// "audit log 'audit/create.log' line 12: malformed JSON (cut short or broken): detail".
std::string describe(const IssueReport& report);

struct ReaderOptions {
  /// Any bad line, or a damaged .gz, throws a verification Error (exit 3) naming file:line
  /// instead of being skipped. Out-of-order lines are still only reported: nothing is lost.
  bool strict = false;
  std::size_t max_line_bytes = 1u << 20;  ///< longer lines are too_long (skipped unread)
  std::size_t buffer_bytes = 1u << 20;    ///< read chunk; memory per log ≈ this + max_line_bytes
  /// A line earlier than the latest time seen before it in the same log by more than this is
  /// reported as out_of_order (requests finishing in a different order than they started are
  /// normal within a second or two).
  std::chrono::seconds order_window{5};
  /// Called for every issue (before strict mode throws). Counting happens regardless.
  std::function<void(const IssueReport&)> on_issue;
};

/// Counts for one physical file of a log.
struct FileStats {
  std::string path;
  uint64_t bytes = 0;                         ///< uncompressed bytes read
  uint64_t lines = 0;                         ///< every line, good or bad (blank ones included)
  uint64_t records = 0;                       ///< well-formed lines (returned by LogReader::next)
  uint64_t info_records = 0;                  ///< of which `level == "info"`
  uint64_t blank_lines = 0;                   ///< empty or whitespace-only: skipped, counted, not reported
  std::optional<TimePoint> earliest, latest;  ///< over the well-formed lines
  std::array<uint64_t, kLineIssueKinds> issues{};
  /// The live file's bytes after its last newline: the line the application is writing. Not read,
  /// not a line, not an issue (0: none). In any other file such bytes are a line, often malformed.
  uint64_t unfinished_line_bytes = 0;
  uint64_t count(LineIssue issue) const { return issues[static_cast<std::size_t>(issue)]; }
  /// Lines skipped as bad (all issue kinds except out_of_order, whose lines are kept).
  uint64_t bad_lines() const;
};

/// One well-formed line. Views stay valid until the reader's next call to next().
struct LogRecord {
  std::string_view level;
  std::string_view operation;
  TimePoint time;
  std::string_view json;  ///< the whole line, followed by SIMDJSON_PADDING readable bytes
  const std::string* file = nullptr;
  uint64_t line_number = 0;
};

/// Streams one logical log: bounded memory (buffer_bytes + max_line_bytes + simdjson's parser,
/// sized by the longest accepted line), one pass, no seeking.
class LogReader {
 public:
  explicit LogReader(LogSet set, ReaderOptions options = {});

  /// The next well-formed line of any level; false after the last one. Throws in strict mode.
  bool next(LogRecord& out);
  /// Reports an issue about the record last returned (used by EventStream for missing_operation).
  void report_current(LineIssue issue, std::string detail = {});

  const std::string& name() const { return name_; }
  /// One entry per file of the set, oldest first; complete once next() has returned false.
  const std::vector<FileStats>& stats() const { return stats_; }

 private:
  void report(LineIssue issue, std::size_t file_index, uint64_t line_number, std::string detail);
  bool accept(const RawLine& raw, LogRecord& out);

  std::string name_;
  ReaderOptions options_;
  LineSplitter splitter_;
  LineParser parser_;
  std::vector<FileStats> stats_;
  std::size_t live_file_;            // index of the live file (LogFile::live), or the file count when none
  std::optional<TimePoint> latest_;  // across the files of the log: rotation keeps order
  std::size_t current_file_ = 0;
  uint64_t current_line_ = 0;
};

/// Sums the statistics of several files (a whole logical log, for instance).
FileStats total(const std::vector<FileStats>& files, std::string label);

}  // namespace auditpitr::replay
