// LogReader: splitter → parser → statistics and issue reports.
#include "replay/log/log_reader.h"

#include <algorithm>

#include "replay/log/time_parse.h"
#include "src/error.h"
#include "src/util/interrupt.h"

namespace auditpitr::replay {
namespace {

const char* issue_text(LineIssue issue) {
  switch (issue) {
    case LineIssue::malformed_json: return "malformed JSON (cut short or broken)";
    case LineIssue::not_object: return "not a JSON object";
    case LineIssue::missing_time: return "no 'time' field";
    case LineIssue::bad_time: return "'time' is not an RFC 3339 time";
    case LineIssue::invalid_utf8: return "invalid UTF-8";
    case LineIssue::too_long: return "line too long";
    case LineIssue::missing_operation: return "info line without 'operation'";
    case LineIssue::out_of_order: return "out of time order";
    case LineIssue::damaged_file: return "compressed file is damaged, the rest of it is lost";
  }
  return "unknown problem";
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

void widen(std::optional<TimePoint>& earliest, std::optional<TimePoint>& latest, TimePoint t) {
  if (!earliest || t < *earliest) earliest = t;
  if (!latest || t > *latest) latest = t;
}

}  // namespace

std::string describe(const IssueReport& report) {
  std::string text =
      "audit log '" + report.file + "' line " + std::to_string(report.line_number) + ": " + issue_text(report.issue);
  if (!report.detail.empty()) text += ": " + report.detail;
  return text;
}

uint64_t FileStats::bad_lines() const {
  uint64_t sum = 0;
  for (std::size_t i = 0; i < kLineIssueKinds; ++i)
    if (i != static_cast<std::size_t>(LineIssue::out_of_order)) sum += issues[i];
  return sum;
}

FileStats total(const std::vector<FileStats>& files, std::string label) {
  FileStats sum;
  sum.path = std::move(label);
  for (const FileStats& f : files) {
    sum.bytes += f.bytes;
    sum.lines += f.lines;
    sum.records += f.records;
    sum.info_records += f.info_records;
    sum.blank_lines += f.blank_lines;
    if (f.earliest) widen(sum.earliest, sum.latest, *f.earliest);
    if (f.latest) widen(sum.earliest, sum.latest, *f.latest);
    for (std::size_t i = 0; i < kLineIssueKinds; ++i) sum.issues[i] += f.issues[i];
    sum.unfinished_line_bytes += f.unfinished_line_bytes;
  }
  return sum;
}

LogReader::LogReader(LogSet set, ReaderOptions options)
    : name_(std::move(set.name)),
      options_(std::move(options)),
      splitter_(set.files, options_.buffer_bytes, options_.max_line_bytes),
      live_file_(!set.files.empty() && set.files.back().live() ? set.files.size() - 1 : set.files.size()) {
  stats_.resize(set.files.size());
  for (std::size_t i = 0; i < set.files.size(); ++i) stats_[i].path = set.files[i].path;
}

void LogReader::report(LineIssue issue, std::size_t file_index, uint64_t line_number, std::string detail) {
  ++stats_[file_index].issues[static_cast<std::size_t>(issue)];
  IssueReport report{issue, stats_[file_index].path, line_number, std::move(detail)};
  if (options_.on_issue) options_.on_issue(report);
  if (options_.strict && issue != LineIssue::out_of_order)
    throw verification_error(describe(report), "fix or remove the line, or run without --strict to skip bad lines");
}

void LogReader::report_current(LineIssue issue, std::string detail) {
  report(issue, current_file_, current_line_, std::move(detail));
}

/// Parses one raw line; true when it is a record to hand out.
bool LogReader::accept(const RawLine& raw, LogRecord& out) {
  FileStats& stats = stats_[raw.file_index];
  if (raw.kind == RawLine::Kind::damaged) {
    report(LineIssue::damaged_file, raw.file_index, raw.line_number, std::string(raw.detail));
    return false;
  }
  if (raw.unterminated && raw.file_index == live_file_ && raw.kind == RawLine::Kind::line) {
    stats.unfinished_line_bytes = raw.text.size();  // being written: a later run reads it
    return false;
  }
  ++stats.lines;
  if (raw.kind == RawLine::Kind::too_long) {
    report(LineIssue::too_long, raw.file_index, raw.line_number,
           "line of " + std::to_string(raw.length) + " bytes exceeds the limit of " +
               std::to_string(options_.max_line_bytes));
    return false;
  }
  if (is_blank(raw.text)) {
    ++stats.blank_lines;
    return false;
  }
  ParsedLine parsed;
  LineIssue issue;
  if (!parser_.parse(raw.text, parsed, issue, raw.utf8_checked)) {
    report(issue, raw.file_index, raw.line_number, {});
    return false;
  }
  current_file_ = raw.file_index;
  current_line_ = raw.line_number;
  if (latest_ && parsed.time + options_.order_window < *latest_)
    report(LineIssue::out_of_order, raw.file_index, raw.line_number,
           format_rfc3339(parsed.time) + " after " + format_rfc3339(*latest_));
  if (!latest_ || parsed.time > *latest_) latest_ = parsed.time;
  ++stats.records;
  if (parsed.level == "info") ++stats.info_records;
  widen(stats.earliest, stats.latest, parsed.time);
  out = LogRecord{parsed.level, parsed.operation, parsed.time, raw.text, &stats.path, raw.line_number};
  return true;
}

bool LogReader::next(LogRecord& out) {
  RawLine raw;
  while (splitter_.next(raw)) {
    // Every reader of the logs (analyze, replay) stops within a moment of Ctrl-C or SIGTERM.
    if ((raw.line_number & 4095) == 0) throw_if_interrupted();
    stats_[raw.file_index].bytes = splitter_.bytes_read(raw.file_index);
    if (accept(raw, out)) return true;
  }
  for (std::size_t i = 0; i < stats_.size(); ++i) stats_[i].bytes = splitter_.bytes_read(i);
  return false;
}

}  // namespace auditpitr::replay
