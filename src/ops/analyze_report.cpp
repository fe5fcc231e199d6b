// analyze's two renderings: one JSON object, and lines for people.
#include <cstdio>

#include "src/ops/analyze.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

using replay::ColumnCoverage;

/// Gaps and bursts listed in the human report; --json has them all.
constexpr std::size_t kListed = 10;

std::string iso(const std::optional<replay::TimePoint>& t) { return t ? replay::format_time(*t) : ""; }

void time_field(JsonWriter& w, const char* name, const std::optional<replay::TimePoint>& t) {
  w.key(name);
  if (t) w.value(replay::format_time(*t));
  else w.null();
}

void file_json(JsonWriter& w, const replay::AuditFileStats& f) {
  w.begin_object().field("path", f.path).field("lines", f.lines).field("events", f.events);
  w.field("other_levels", f.other_levels).field("malformed", f.malformed);
  time_field(w, "first", f.first);
  time_field(w, "last", f.last);
  w.key("malformed_examples").begin_array();
  for (const auto& m : f.malformed_examples) w.value(m);
  w.end_array().end_object();
}

void operation_json(JsonWriter& w, const OperationSummary& s) {
  w.begin_object().field("operation", s.operation).field("events", s.events).field("changes", s.changes);
  w.field("outcome", replay::outcome_name(s.target.outcome));
  if (s.target.outcome == replay::MapOutcome::mapped) {
    w.field("table", s.target.table).field("action", replay::action_name(s.target.action));
  }
  w.field("from_rule", s.target.from_rule).field_or_null("reason", s.target.reason);
  w.field("invalid", s.invalid).field_or_null("first_invalid", s.first_invalid).end_object();
}

void coverage_json(JsonWriter& w, const replay::TableCoverage& t) {
  w.begin_object().field("table", t.table).field("inserts", t.inserts).field("updates", t.updates);
  w.field("deletes", t.deletes).field("no_create_events", t.no_create_events());
  w.key("columns").begin_array();
  for (const auto& c : t.columns) {
    w.begin_object().field("column", c.column).field("coverage", replay::coverage_name(c.coverage));
    w.key("written_by").begin_array();
    for (const auto& op : c.written_by) w.value(op);
    w.end_array().end_object();
  }
  w.end_array().end_object();
}

std::string duration_text(std::chrono::microseconds d) {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (minutes < 60) return std::to_string(minutes) + " min";
  if (minutes < 48 * 60) return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
  return std::to_string(minutes / (24 * 60)) + " days " + std::to_string((minutes / 60) % 24) + " h";
}

std::string target_text(const OperationSummary& s) {
  const auto& t = s.target;
  switch (t.outcome) {
    case replay::MapOutcome::mapped:
      return "-> " + t.table + " " + replay::action_name(t.action) + (t.from_rule ? " (rule)" : " (convention)");
    case replay::MapOutcome::ignored: return "ignored: " + t.reason;
    default: return "UNMAPPED: " + t.reason;
  }
}

void files_text(const AnalyzeReport& r, std::vector<ReportLine>& out) {
  out.push_back({ReportLine::Kind::heading, "Files"});
  std::vector<replay::AuditFileStats> all = r.files;
  all.insert(all.end(), r.error_files.begin(), r.error_files.end());
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : all)
    rows.push_back({"  " + base_name(f.path), count_text(f.lines, "line"), count_text(f.events, "event"),
                    grouped(f.malformed) + " malformed",
                    f.first ? display_time(*f.first) + " .. " + display_time(*f.last) : "no events"});
  if (r.files.empty())
    out.push_back({ReportLine::Kind::warning, "no create.log, update.log or delete.log (nor rotations of them) in '" +
                                                  r.audit_dir + "': is it the application's audit folder?"});
  std::vector<std::string> lines = align_columns(rows);
  for (std::size_t i = 0; i < all.size(); ++i) {
    out.push_back({ReportLine::Kind::plain, lines[i]});
    for (const auto& m : all[i].malformed_examples) out.push_back({ReportLine::Kind::warning, m});
  }
  left_out_text(r.left_out, out);
}

void operations_text(const AnalyzeReport& r, std::vector<ReportLine>& out) {
  out.push_back({ReportLine::Kind::heading,
                 "Operations (" + count_text(r.events, "event") + ", " + count_text(r.changes, "row change") + ")"});
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : r.operations) rows.push_back({s.operation, grouped(s.events), target_text(s)});
  std::vector<std::string> lines = align_columns(rows);
  for (std::size_t i = 0; i < r.operations.size(); ++i) {
    const OperationSummary& s = r.operations[i];
    bool bad = s.target.outcome != replay::MapOutcome::mapped && s.target.outcome != replay::MapOutcome::ignored;
    out.push_back({bad ? ReportLine::Kind::warning : ReportLine::Kind::plain, bad ? lines[i] : "  " + lines[i]});
    if (s.invalid)
      out.push_back({ReportLine::Kind::warning, std::to_string(s.invalid) + " " + s.operation +
                                                    " line(s) cannot be replayed, first: " + s.first_invalid});
  }
  if (!r.error_operations.empty()) {
    out.push_back({ReportLine::Kind::heading, "Failures logged in error.log (not replayed)"});
    std::vector<std::vector<std::string>> failures;
    for (const auto& [op, n] : r.error_operations) failures.push_back({"  " + op, grouped(n)});
    for (const auto& line : align_columns(failures)) out.push_back({ReportLine::Kind::plain, line});
  }
  for (const auto& u : r.unmapped)
    out.push_back({ReportLine::Kind::warning, "field '" + u.field + "' of " + u.operation + " maps to no column (" +
                                                  std::to_string(u.count) + "x, first " + u.file + ":" +
                                                  std::to_string(u.line_number) + ")"});
}

/// The first kListed of `items` through `line`, then how many more there are.
template <typename T, typename Line>
void capped_list(const std::vector<T>& items, const std::string& noun, std::vector<ReportLine>& out, Line line) {
  for (std::size_t i = 0; i < items.size() && i < kListed; ++i) out.push_back(line(items[i]));
  if (items.size() > kListed)
    out.push_back({ReportLine::Kind::info,
                   "and " + count_text(items.size() - kListed, "more " + noun) + " (--json lists them all)"});
}

void timeline_text(const AnalyzeReport& r, std::vector<ReportLine>& out) {
  out.push_back({ReportLine::Kind::heading, "Timeline"});
  if (r.first) out.push_back({ReportLine::Kind::plain, "  " + display_time(*r.first) + " .. " + display_time(*r.last)});
  capped_list(r.gaps, "gap", out, [](const Gap& g) {
    return ReportLine{ReportLine::Kind::warning, "gap of " + duration_text(g.to - g.from) + ": " +
                                                     display_time(g.from) + " (" + g.after + ") .. " +
                                                     display_time(g.to) + " (" + g.before + ")"};
  });
  if (r.gaps.empty())
    out.push_back({ReportLine::Kind::info, "no gap longer than " + duration_text(r.options.gap_threshold)});
  capped_list(r.bursts, "burst", out, [&r](const Burst& b) {
    return ReportLine{ReportLine::Kind::info,
                      "burst: " + count_text(b.events, "event") + " from " + display_time(b.start) + " to " +
                          display_time(b.end) + " (" + count_text(b.windows, "window") + " of " +
                          std::to_string(r.options.burst_window.count()) + " s with " +
                          std::to_string(r.options.burst_events) + " or more, at most " + grouped(b.peak) + " in one)"};
  });
}

/// "events from … up to … only; …" for --since/--until.
std::string window_text(const AnalyzeOptions& options) {
  std::string text = "events";
  if (options.since) text += " from " + display_time(*options.since);
  if (options.until) text += " up to " + display_time(*options.until);
  return text + " only; the file counts cover the whole logs";
}

void coverage_text(const AnalyzeReport& r, std::vector<ReportLine>& out) {
  out.push_back({ReportLine::Kind::heading, "Column coverage (what a recovery from these logs can rebuild)"});
  const ColumnCoverage order[] = {ColumnCoverage::created_and_updated, ColumnCoverage::created_only,
                                  ColumnCoverage::updated_only, ColumnCoverage::automatic_timestamp,
                                  ColumnCoverage::never_written};
  for (const auto& t : r.coverage) {
    out.push_back({ReportLine::Kind::plain, "  " + t.table + ": " + count_text(t.inserts, "insert") + ", " +
                                                count_text(t.updates, "update") + ", " +
                                                count_text(t.deletes, "delete")});
    if (t.no_create_events())
      out.push_back(
          {ReportLine::Kind::warning, t.table + ": no create events: rows created after the backup cannot come back"});
    for (ColumnCoverage c : order) {
      std::string columns;
      for (const auto& col : t.columns)
        if (col.coverage == c) columns += (columns.empty() ? "" : ", ") + col.column;
      if (!columns.empty())
        out.push_back({ReportLine::Kind::plain, "    " + pad(std::string(replay::coverage_name(c)), 21) + columns +
                                                    "  (" + replay::coverage_meaning(c) + ")"});
    }
  }
}

}  // namespace

void LogsLeftOut::add_unfinished(const std::vector<replay::AuditFileStats>& files) {
  for (const auto& f : files)
    if (f.unfinished_line_bytes > 0) unfinished_lines.push_back({f.path, f.unfinished_line_bytes});
}

void left_out_text(const LogsLeftOut& left_out, std::vector<ReportLine>& out) {
  for (const auto& u : left_out.unread_files) {
    out.push_back({ReportLine::Kind::warning, "not read: '" + u.path + "': " + u.reason});
    out.push_back({ReportLine::Kind::plain, "    hint: " + u.hint});
  }
  if (left_out.unfinished_lines.empty()) return;
  std::string files;
  for (const auto& f : left_out.unfinished_lines)
    files += (files.empty() ? "" : ", ") + base_name(f.path) + " (" + count_text(f.bytes, "byte") + ")";
  std::string text = "not read yet, as the application is still writing it (no newline): the last line of ";
  out.push_back({ReportLine::Kind::info, text + files});
}

void left_out_json(JsonWriter& w, const LogsLeftOut& left_out) {
  w.key("unread_files").begin_array();
  for (const auto& u : left_out.unread_files)
    w.begin_object().field("path", u.path).field("reason", u.reason).field_or_null("hint", u.hint).end_object();
  w.end_array();
  w.key("unfinished_lines").begin_array();
  for (const auto& f : left_out.unfinished_lines)
    w.begin_object().field("path", f.path).field("bytes", f.bytes).end_object();
  w.end_array();
}

std::string display_time(replay::TimePoint time) {
  std::string text = replay::format_time(time);  // 2025-01-15T09:00:00.000000Z
  text[10] = ' ';
  if (text.compare(19, 7, ".000000") == 0) text.erase(19, 7);
  return text;
}

std::string analyze_json(const AnalyzeReport& r) {
  JsonWriter w;
  w.begin_object().field("audit_dir", r.audit_dir).field("database", r.database).field_or_null("mapping", r.mapping);
  w.field("schema_source", r.schema_source);
  time_field(w, "since", r.options.since);
  time_field(w, "until", r.options.until);
  w.field("events", r.events).field("changes", r.changes);
  time_field(w, "first", r.first);
  time_field(w, "last", r.last);
  w.key("files").begin_array();
  for (const auto& f : r.files) file_json(w, f);
  w.end_array();
  left_out_json(w, r.left_out);
  w.key("operations").begin_array();
  for (const auto& s : r.operations) operation_json(w, s);
  w.end_array();
  w.key("errors").begin_object().key("files").begin_array();
  for (const auto& f : r.error_files) file_json(w, f);
  w.end_array();
  w.key("operations").begin_object();
  for (const auto& [op, n] : r.error_operations) w.field(op, n);
  w.end_object().end_object();
  w.key("gaps").begin_object().field("threshold_seconds", static_cast<int64_t>(r.options.gap_threshold.count()));
  w.key("list").begin_array();
  for (const auto& g : r.gaps) {
    w.begin_object().field("from", iso(g.from)).field("to", iso(g.to));
    w.field("seconds", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(g.to - g.from).count()));
    w.field("after", g.after).field("before", g.before).end_object();
  }
  w.end_array().end_object();
  w.key("bursts").begin_object().field("window_seconds", static_cast<int64_t>(r.options.burst_window.count()));
  w.field("min_events", r.options.burst_events).key("list").begin_array();
  for (const auto& b : r.bursts)
    w.begin_object()
        .field("start", iso(b.start))
        .field("end", iso(b.end))
        .field("events", b.events)
        .field("windows", b.windows)
        .field("peak", b.peak)
        .end_object();
  w.end_array().end_object();
  w.key("unmapped_fields").begin_array();
  for (const auto& u : r.unmapped)
    w.begin_object()
        .field("operation", u.operation)
        .field("field", u.field)
        .field("count", u.count)
        .field("first_seen", u.file + ":" + std::to_string(u.line_number))
        .end_object();
  w.end_array();
  w.key("coverage").begin_array();
  for (const auto& t : r.coverage) coverage_json(w, t);
  w.end_array().end_object();
  return w.str();
}

std::vector<ReportLine> analyze_text(const AnalyzeReport& r) {
  std::vector<ReportLine> out;
  out.push_back(
      {ReportLine::Kind::info, "audit logs in '" + r.audit_dir + "', replayed into '" + r.database + "'" +
                                   (r.mapping.empty() ? " by conventions only" : " with rules '" + r.mapping + "'")});
  out.push_back({ReportLine::Kind::info, "tables and columns from the " + r.schema_source});
  if (r.options.since || r.options.until) out.push_back({ReportLine::Kind::info, window_text(r.options)});
  files_text(r, out);
  operations_text(r, out);
  timeline_text(r, out);
  coverage_text(r, out);
  return out;
}

}  // namespace auditpitr::ops
