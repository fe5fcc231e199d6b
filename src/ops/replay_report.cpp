// replay's two renderings: one JSON object (docs/replay.md, "Output"), and lines for people.
#include "src/ops/replay.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

/// Conflicts and drift entries listed in the human report; --json has them all.
constexpr std::size_t kListed = 20;

void optional_text(JsonWriter& w, const char* name, const std::optional<std::string>& text) {
  w.key(name);
  if (text) w.value(*text);
  else w.null();
}

void position_json(JsonWriter& w, const char* name, const std::optional<replay::ReplayPosition>& p) {
  w.key(name);
  if (!p) {
    w.null();
    return;
  }
  w.begin_object().field("time", replay::format_time(p->time)).field("ordinal", p->ordinal);
  w.field("hash", p->hash).end_object();
}

void tables_json(JsonWriter& w, const replay::ApplySummary& s) {
  w.key("tables").begin_array();
  for (const auto& [name, t] : s.tables) {
    w.begin_object().field("table", name).field("inserted", t.inserted).field("insert_existing", t.insert_existing);
    w.field("updated", t.updated).field("deleted", t.deleted).field("soft_deleted", t.soft_deleted);
    w.field("already_deleted", t.already_deleted).field("cascaded", t.cascaded).field("scripted", t.scripted);
    w.field("conflicts", t.conflicts).field("drift", t.drift).end_object();
  }
  w.end_array();
}

void records_json(JsonWriter& w, const replay::ApplySummary& s) {
  w.key("conflicts").begin_array();
  for (const auto& c : s.conflicts) {
    w.begin_line_object().field("kind", c.kind).field("file", c.file).field("line", c.line);
    w.field("operation", c.operation).field("table", c.table).field("key", c.key).field("detail", c.detail);
    w.end_object();
  }
  w.end_array();
  w.key("drift").begin_array();
  for (const auto& d : s.drift_records) {
    w.begin_line_object().field("kind", d.in_margin ? "drift_in_margin" : "drift").field("file", d.file);
    w.field("line", d.line).field("operation", d.operation).field("table", d.table).field("key", d.key);
    w.field("column", d.column).field("field", d.field);
    optional_text(w, "logged", d.logged);
    optional_text(w, "found", d.found);
    w.end_object();
  }
  w.end_array();
}

double per_second(const ReplayReport& r) {
  return r.elapsed_seconds > 0 ? static_cast<double>(r.summary.in_window) / r.elapsed_seconds : 0;
}

std::string value_text(const std::optional<std::string>& v) { return v ? "'" + printable(*v) + "'" : "NULL"; }

std::vector<std::string> table_row(const std::string& name, const replay::TableTally& t) {
  return {"  " + name,
          grouped(t.inserted),
          grouped(t.insert_existing),
          grouped(t.updated),
          grouped(t.soft_deleted + t.deleted),
          grouped(t.already_deleted),
          grouped(t.cascaded),
          grouped(t.scripted),
          grouped(t.conflicts),
          grouped(t.drift)};
}

void tables_text(const replay::ApplySummary& s, std::vector<ReportLine>& out) {
  if (s.tables.empty()) return;
  out.push_back({ReportLine::Kind::heading, "Tables"});
  std::vector<std::vector<std::string>> rows{{"  table", "inserted", "existing", "updated", "deleted", "already",
                                              "cascaded", "scripted", "conflicts", "drift"}};
  for (const auto& [name, t] : s.tables) rows.push_back(table_row(name, t));
  for (auto& line : align_columns(rows)) out.push_back({ReportLine::Kind::plain, line});
}

void records_text(const replay::ApplySummary& s, std::vector<ReportLine>& out) {
  if (!s.conflicts.empty()) out.push_back({ReportLine::Kind::heading, "Conflicts (events left out or rows missing)"});
  for (std::size_t i = 0; i < s.conflicts.size() && i < kListed; ++i) {
    const auto& c = s.conflicts[i];
    out.push_back({ReportLine::Kind::warning, printable(c.file) + ":" + std::to_string(c.line) + " " +
                                                  printable(c.operation) + " " + c.table + " " + printable(c.key) +
                                                  ": " + c.kind + ": " + printable(c.detail)});
  }
  uint64_t conflicts = 0;
  for (const auto& [kind, n] : s.conflicts_by_kind) conflicts += n;
  if (conflicts > kListed)
    out.push_back(
        {ReportLine::Kind::plain, "  … and " + grouped(conflicts - kListed) + " more (--json lists them all)"});
  if (!s.drift_records.empty())
    out.push_back({ReportLine::Kind::heading, "Drift (applied; the row held another value)"});
  for (std::size_t i = 0; i < s.drift_records.size() && i < kListed; ++i) {
    const auto& d = s.drift_records[i];
    out.push_back({d.in_margin ? ReportLine::Kind::info : ReportLine::Kind::warning,
                   printable(d.file) + ":" + std::to_string(d.line) + " " + d.table + " " + printable(d.key) + " " +
                       d.column + ": logged " + value_text(d.logged) + ", found " + value_text(d.found) +
                       (d.in_margin ? " (in the skew margin)" : "")});
  }
  uint64_t drift = s.drift + s.drift_in_margin;
  if (drift > kListed)
    out.push_back({ReportLine::Kind::plain, "  … and " + grouped(drift - kListed) + " more (--json lists them all)"});
}

}  // namespace

std::string replay_json(const ReplayReport& r) {
  const replay::ApplySummary& s = r.summary;
  JsonWriter w;
  w.begin_object().field("database", r.database).field("from", replay::format_time(r.from));
  w.field("to", replay::format_time(r.to)).field("from_source", r.from_source);
  w.key("backup");
  if (r.backup.empty()) w.null();
  else w.value(r.backup);
  w.field("skew_margin_seconds", r.skew_margin_seconds).field("dry_run", r.dry_run);
  w.key("sql_file");
  if (r.sql_file.empty()) w.null();
  else w.value(r.sql_file);
  position_json(w, "resumed_after", r.resumed_after);
  position_json(w, "position", s.position);
  w.field("already_applied", r.already_applied);
  left_out_json(w, r.left_out);
  w.key("events").begin_object().field("read", s.read).field("in_window", s.in_window);
  w.field("before_position", s.before_position).field("applied", s.applied).field("skipped_filter", s.skipped_filter);
  w.field("skipped_conflict", s.skipped_conflict).field("unmapped", s.unmapped).field("invalid", s.invalid);
  w.end_object();
  w.key("conflicts_by_kind").begin_object();
  for (const auto& [kind, n] : s.conflicts_by_kind) w.field(kind, n);
  w.end_object();
  w.field("drift_count", s.drift).field("drift_in_margin_count", s.drift_in_margin);
  tables_json(w, s);
  records_json(w, s);
  w.field("batches_folded", r.batches_folded).field("batches_not_folded", r.batches_not_folded);
  w.field("not_folded_because", r.not_folded_because);
  w.field("elapsed_seconds", r.elapsed_seconds).field("events_per_second", per_second(r));
  w.end_object();
  return w.str();
}

std::vector<ReportLine> replay_text(const ReplayReport& r) {
  const replay::ApplySummary& s = r.summary;
  std::vector<ReportLine> out;
  std::string mode = r.dry_run             ? " (dry run: nothing was changed)"
                     : !r.sql_file.empty() ? " (script written to '" + r.sql_file + "')"
                                           : "";
  out.push_back({ReportLine::Kind::heading, "Replay into " + r.database + mode});
  out.push_back({ReportLine::Kind::plain, "  window: after " + display_time(r.from) + " up to " + display_time(r.to) +
                                              " (start from " + r.from_source + ")"});
  if (!r.backup.empty())
    out.push_back({ReportLine::Kind::plain,
                   "  restored backup: " + r.backup + ", skew margin " + std::to_string(r.skew_margin_seconds) + " s"});
  left_out_text(r.left_out, out);
  if (r.already_applied) {
    out.push_back(
        {ReportLine::Kind::info,
         "already applied up to " + display_time(s.position ? s.position->time : r.to) + ": nothing left to do"});
    return out;
  }
  if (r.resumed_after)
    out.push_back({ReportLine::Kind::info, "resumed after " + display_time(r.resumed_after->time) + " (" +
                                               grouped(s.before_position) + " events applied by an earlier run)"});
  out.push_back({ReportLine::Kind::plain, "  events: " + grouped(s.in_window) + " in the window, " +
                                              grouped(s.applied) + " applied, " + grouped(s.skipped_conflict) +
                                              " left out by conflicts, " + grouped(s.skipped_filter) + " filtered, " +
                                              grouped(s.unmapped) + " unmapped, " + grouped(s.invalid) + " invalid"});
  out.push_back({ReportLine::Kind::plain,
                 "  drift: " + grouped(s.drift) + " (and " + grouped(s.drift_in_margin) + " in the skew margin)"});
  tables_text(s, out);
  records_text(s, out);
  if (r.batches_not_folded > 0)  // slower, same result: worth a word when the run was slow
    out.push_back({ReportLine::Kind::info, grouped(r.batches_not_folded) +
                                               (r.batches_not_folded == 1 ? " batch" : " batches") +
                                               " not folded whole (the first because of " + r.not_folded_because +
                                               "): applied statement by statement where the fold could not "
                                               "follow; docs/replay.md, \"The fold\""});
  char speed[64];
  std::snprintf(speed, sizeof speed, "%.1f s, %s events/s", r.elapsed_seconds,
                grouped(static_cast<uint64_t>(per_second(r))).c_str());
  out.push_back({ReportLine::Kind::info, std::string("done in ") + speed});
  return out;
}

}  // namespace auditpitr::ops
