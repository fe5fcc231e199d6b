// recover's two renderings (docs/recover.md, "Report"): one JSON object, and lines for people.
#include "replay/log/time_parse.h"
#include "src/ops/recover.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

using verify::ColumnCheck;

/// Columns whose values a recovery from these logs cannot vouch for, by analyze's classes.
bool not_carried(replay::ColumnCoverage c) {
  return c == replay::ColumnCoverage::created_only || c == replay::ColumnCoverage::updated_only ||
         c == replay::ColumnCoverage::never_written || c == replay::ColumnCoverage::automatic_timestamp;
}

/// Tables with something the logs cannot bring back: no creations logged, or columns not carried.
bool has_limits(const replay::TableCoverage& t) {
  if (t.inserts + t.updates + t.deletes == 0) return false;  // untouched by the window: the backup's rows
  if (t.no_create_events()) return true;
  for (const auto& c : t.columns)
    if (not_carried(c.coverage)) return true;
  return false;
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", s);
  return text;
}

uint64_t missing_row_conflicts(const replay::ApplySummary& s, const std::string& table) {
  uint64_t n = 0;
  for (const auto& c : s.conflicts)
    if (c.kind == "missing_row" && (c.table == table || table.empty())) ++n;
  return n;
}

void verification_json(JsonWriter& w, const verify::RecoveryVerification& v) {
  w.key("verification").begin_object().field("ok", v.ok()).key("tables").begin_array();
  for (const auto& t : v.tables) {
    w.begin_object().field("table", t.table).field("ok", t.ok()).field("expected_rows", t.expected_rows);
    w.field("actual_rows", t.actual_rows).field("touched_rows", t.touched_rows);
    w.field("missing_rows", t.missing_rows).field("extra_rows", t.extra_rows);
    w.field("untouched_rows_equal", t.untouched_equal).field_or_null("note", t.note);
    w.key("columns").begin_array();
    for (const auto& c : t.columns) {
      w.begin_object().field("column", c.column).field("state", verify::state_name(c.state)).field("rows", c.rows);
      w.field("why", c.why).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
}

void limits_json(JsonWriter& w, const RecoverReport& r) {
  w.key("not_recoverable").begin_array();
  for (const auto& t : r.coverage) {
    if (!has_limits(t)) continue;
    w.begin_object().field("table", t.table).field("no_create_events", t.no_create_events());
    w.field("missing_row_conflicts", missing_row_conflicts(r.replay.summary, t.table));
    w.key("columns").begin_array();
    for (const auto& c : t.columns) {
      if (!not_carried(c.coverage)) continue;
      w.begin_object().field("column", c.column).field("coverage", replay::coverage_name(c.coverage));
      w.field("meaning", replay::coverage_meaning(c.coverage)).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array();
}

void verification_text(const verify::RecoveryVerification& v, std::vector<ReportLine>& out) {
  out.push_back({ReportLine::Kind::heading, "Verification (backup figures + logged changes, read independently)"});
  for (const auto& t : v.tables) {
    uint64_t equal = 0, unverifiable = 0;
    std::vector<const ColumnCheck*> different;
    for (const auto& c : t.columns) {
      if (c.state == ColumnCheck::State::equal) ++equal;
      else if (c.state == ColumnCheck::State::not_verifiable) ++unverifiable;
      else different.push_back(&c);
    }
    std::string line = "  " + t.table + ": " + grouped(t.actual_rows) + " rows";
    if (t.actual_rows != t.expected_rows) line += " (" + grouped(t.expected_rows) + " expected)";
    line += ", " + std::to_string(equal) + " of " + std::to_string(t.columns.size()) + " columns verified";
    if (t.touched_rows) line += ", " + grouped(t.touched_rows) + " rows changed by the logs";
    out.push_back({t.ok() ? ReportLine::Kind::plain : ReportLine::Kind::warning, line});
    if (!t.note.empty()) out.push_back({ReportLine::Kind::warning, "    " + t.note});
    if (t.missing_rows)
      out.push_back(
          {ReportLine::Kind::warning, "    " + grouped(t.missing_rows) + " row(s) the logs create are missing"});
    if (t.extra_rows)
      out.push_back(
          {ReportLine::Kind::warning, "    " + grouped(t.extra_rows) + " row(s) the logs delete are still there"});
    if (!t.untouched_equal)
      out.push_back({ReportLine::Kind::warning, "    rows the logs did not touch differ from the backup"});
    for (const auto* c : different) out.push_back({ReportLine::Kind::warning, "    " + c->column + ": " + c->why});
    for (const auto& c : t.columns)
      if (c.state == ColumnCheck::State::not_verifiable)
        out.push_back({ReportLine::Kind::info, "    " + c.column + " not verifiable: " + c.why});
  }
}

void limits_text(const RecoverReport& r, std::vector<ReportLine>& out) {
  bool heading = false;
  for (const auto& t : r.coverage) {
    if (!has_limits(t)) continue;
    if (!heading) out.push_back({ReportLine::Kind::heading, "What the logs could not bring back"});
    heading = true;
    if (t.no_create_events()) {
      uint64_t missing = missing_row_conflicts(r.replay.summary, t.table);
      out.push_back({ReportLine::Kind::warning,
                     "  " + t.table + ": creations are not logged: rows created after the backup cannot come back" +
                         (missing ? " (" + grouped(missing) + " changes met a row that is not there)" : "")});
    }
    for (const auto& c : t.columns)
      if (not_carried(c.coverage))
        out.push_back(
            {ReportLine::Kind::info, "  " + t.table + "." + c.column + ": " + replay::coverage_meaning(c.coverage)});
  }
  if (!heading)
    out.push_back({ReportLine::Kind::info, "the logs of this window carry every column of the tables they change"});
}

}  // namespace

std::string recover_json(const RecoverReport& r) {
  const RecoverPlan& p = r.plan;
  JsonWriter w;
  w.begin_object().field("ok", r.ok()).field("database", p.database->alias).field("dbname", r.dbname);
  w.field("to", replay::format_time(p.options.to)).field("in_place", p.options.in_place).field("swapped", r.swapped);
  w.field("kept_copy", r.swapped ? p.kept_dbname : std::string()).field("resumed", r.resumed);
  w.key("backup").begin_object().field("stamp", p.backup.stamp).field("file", p.backup.path);
  w.field("snapshot_time", replay::format_time(p.snapshot)).field("snapshot_from_stamp", p.snapshot_from_stamp);
  w.field("restore_verification", r.restore_verification).end_object();
  w.key("window").begin_object().field("from", replay::format_time(r.window_from));
  w.field("to", replay::format_time(p.options.to)).end_object();
  w.key("replay").json(replay_json(r.replay));
  verification_json(w, r.verification);
  limits_json(w, r);
  w.key("seconds").begin_object().field("restore", r.seconds.restore).field("capture", r.seconds.capture);
  w.field("replay", r.seconds.replay).field("verify", r.seconds.verify).field("swap", r.seconds.swap);
  w.field("total", r.total_seconds).end_object();
  w.end_object();
  return w.str();
}

std::vector<ReportLine> recover_text(const RecoverReport& r) {
  const RecoverPlan& p = r.plan;
  std::vector<ReportLine> out;
  out.push_back({ReportLine::Kind::heading, "Recovery of " + p.database->dbname + " to " + display_time(p.options.to)});
  out.push_back({ReportLine::Kind::plain, "  backup: " + p.backup.stamp + ", snapshot " + display_time(p.snapshot) +
                                              (r.resumed ? " (resumed an interrupted recovery)" : "")});
  if (p.snapshot_from_stamp)
    out.push_back({ReportLine::Kind::warning,
                   "the backup has no manifest: its stamp (when the old script started) stands for its snapshot, "
                   "a weaker bound; events near it may be in the backup already, which replaying again makes "
                   "harmless"});
  out.push_back({ReportLine::Kind::plain, "  window: after " + display_time(r.window_from) + " up to " +
                                              display_time(p.options.to) + " (skew margin included)"});
  std::vector<ReportLine> replay_lines = replay_text(r.replay);
  out.push_back({ReportLine::Kind::heading, "Replay"});
  out.insert(out.end(), replay_lines.begin() + 1, replay_lines.end());  // its own heading names the work database
  verification_text(r.verification, out);
  limits_text(r, out);
  out.push_back({ReportLine::Kind::heading, "Time"});
  out.push_back({ReportLine::Kind::plain,
                 "  restore " + seconds_text(r.seconds.restore) + ", capture " + seconds_text(r.seconds.capture) +
                     ", replay " + seconds_text(r.seconds.replay) + ", verification " + seconds_text(r.seconds.verify) +
                     (p.options.in_place ? ", swap " + seconds_text(r.seconds.swap) : "") + ", total " +
                     seconds_text(r.total_seconds)});
  if (!r.ok()) {
    out.push_back(
        {ReportLine::Kind::warning, "verification failed: the recovered data in '" + r.dbname +
                                        "' differs from what the backup and the logs call for" +
                                        (p.options.in_place ? "; '" + p.database->dbname + "' was not replaced" : "")});
  } else if (r.swapped) {
    out.push_back({ReportLine::Kind::info, p.database->dbname +
                                               " now holds the recovered data; the replaced database "
                                               "is kept as " +
                                               p.kept_dbname + " (undo: auditpitr restore --undo " + p.recovery_stamp +
                                               ")"});
  } else {
    out.push_back({ReportLine::Kind::info, "recovered and verified into the database '" + r.dbname + "'"});
  }
  return out;
}

}  // namespace auditpitr::ops
