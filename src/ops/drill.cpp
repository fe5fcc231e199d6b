// drill: recover STAMP1 up to STAMP2's snapshot into a scratch database (recover's machinery, its
// own verification included), compare with STAMP2's manifest, judge each column by its coverage.
#include "src/ops/drill.h"

#include "src/error.h"
#include "src/ops/outcome_record.h"
#include "src/ops/restore_internal.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

const replay::TableCoverage* coverage_of(const RecoverReport& r, const std::string& table) {
  for (const auto& t : r.coverage)
    if (t.table == table) return &t;
  return nullptr;
}

/// What the logs of the window claim to reproduce: keys and columns written by creates and updates,
/// in a table whose creations are logged.
bool claimed(replay::ColumnCoverage c) {
  return c == replay::ColumnCoverage::key || c == replay::ColumnCoverage::created_and_updated;
}

DrillTable judge(const verify::TableComparison& t, const RecoverReport& recovery, DrillReport& report) {
  DrillTable table;
  table.table = t.qualified();
  table.expected_rows = t.expected_rows;
  table.recovered_rows = t.actual_rows;
  const replay::TableCoverage* coverage = coverage_of(recovery, t.name);
  table.creations_logged = coverage && !coverage->no_create_events();
  for (const auto& c : t.columns) {
    DrillColumn column;
    column.column = c.name;
    column.coverage = "not_written_in_window";
    if (coverage)
      for (const auto& entry : coverage->columns)
        if (entry.column == c.name) {
          column.coverage = replay::coverage_name(entry.coverage);
          column.claimed = table.creations_logged && claimed(entry.coverage);
        }
    column.verdict = c.verdict;
    column.why = c.why;
    ++report.columns;
    if (c.verdict == verify::Verdict::equal) ++report.reproduced;
    else if (column.claimed)
      report.failures.push_back(table.table + "." + c.name + " differs, though the logs carry it");
    table.columns.push_back(std::move(column));
  }
  if (table.creations_logged && table.expected_rows != table.recovered_rows)
    report.failures.push_back(table.table + ": " + grouped(table.expected_rows) + " rows in " + report.to_stamp + ", " +
                              grouped(table.recovered_rows) + " recovered, though its creations are logged");
  return table;
}

/// Without --from: the newest complete set older than the target that holds the database's dump, so
/// that `auditpitr drill` alone (a scheduled job) drills the last two backups.
std::string previous_backup(const Catalog& catalog, const BackupFile& target) {
  for (const auto& set : catalog.sets())  // newest first
    if (set.stamp < target.stamp && !set.partial() && set.dump_of(target.dbname)) return set.stamp;
  throw usage_error("no complete backup of " + target.dbname + " older than " + target.stamp +
                        ": a drill starts from an earlier backup and compares with a later one",
                    "make another backup later (auditpitr backup), or name both: --from STAMP1 --to STAMP2");
}

}  // namespace

namespace {

DrillReport drill(const Config& config, const DrillOptions& options, pg::ProcessRunner& runner,
                  const Reporter& reporter) {
  require_audit_section(config);
  const DatabaseConfig& db = config.database(config.audit_database);
  Catalog catalog = Catalog::scan(config.backup_dir);
  const BackupFile& target = catalog.resolve(options.to_stamp.empty() ? "latest" : options.to_stamp, db.dbname);
  if (!target.has_manifest)
    throw usage_error("backup " + target.stamp + " has no manifest: drill compares the recovery with its figures",
                      "choose as --to a backup auditpitr made (auditpitr list)");
  verify::Manifest manifest = verify::load_manifest(target.manifest_path);
  auto snapshot = replay::parse_rfc3339(manifest.snapshot_time_utc);
  if (!snapshot) throw verification_error("the manifest of " + target.stamp + " has no valid snapshot time");

  RecoverOptions recover;
  recover.to = *snapshot;
  recover.backup_stamp = options.from_stamp.empty() ? previous_backup(catalog, target) : options.from_stamp;
  recover.keep_marked = true;
  recover.audit_dir = options.audit_dir;
  recover.progress_total = options.progress_total;
  recover.into = db.dbname + "_drill_" + target.stamp;
  RecoverPlan plan = plan_recover(config, recover);
  if (plan.backup.stamp == target.stamp)
    throw usage_error("--from and --to name the same backup", "--from is the older backup the drill starts from");

  DrillReport report;
  report.from_stamp = plan.backup.stamp;
  report.to_stamp = target.stamp;
  report.scratch = plan.work_dbname;
  report.kept = options.keep;
  report.recovery = run_recover(config, plan, runner, reporter);
  for (const auto& t : verify::compare_tables(manifest.tables, report.recovery.checksums))
    report.tables.push_back(judge(t, report.recovery, report));
  if (!report.recovery.ok())
    report.failures.push_back("the recovery differs from what the backup and the logs call for (see its verification)");
  if (!options.keep) {
    detail::AdminSession admin(db.connect_info());
    admin.drop_marked_database(plan.work_dbname, CopyKind::recovering, plan.recovery_stamp);
  }
  return report;
}

}  // namespace

DrillReport run_drill(const Config& config, const DrillOptions& options, pg::ProcessRunner& runner,
                      const Reporter& reporter) {
  // Its result, for `auditpitr status`: passed, failed (what the logs should carry was not
  // reproduced), or could not run.
  OutcomeRecord record{"drill", false, std::time(nullptr), 0, "", "", 0};
  DrillReport report;
  try {
    report = drill(config, options, runner, reporter);
  } catch (const std::exception& e) {
    auto* error = dynamic_cast<const Error*>(&e);
    if (error && error->kind() == ErrorKind::usage) throw;  // a mistyped stamp is no drill result: nothing ran
    record.finished = std::time(nullptr);
    record.stamp = options.to_stamp;
    record.detail = std::string("the drill did not finish: ") + e.what();
    record_outcome(config.backup_dir, record);
    throw;
  }
  record.ok = report.ok();
  record.finished = std::time(nullptr);
  record.stamp = report.to_stamp;
  record.detail = "from " + report.from_stamp + " to " + report.to_stamp + ": " + grouped(report.reproduced) + " of " +
                  grouped(report.columns) + " columns reproduced exactly";
  if (!report.failures.empty())
    record.detail += "; " + std::to_string(report.failures.size()) + " failure(s), first: " + report.failures.front();
  record_outcome(config.backup_dir, record);
  return report;
}

std::string drill_json(const DrillReport& r) {
  JsonWriter w;
  w.begin_object().field("ok", r.ok()).field("from", r.from_stamp).field("to", r.to_stamp);
  w.field("scratch_database", r.scratch).field("kept", r.kept);
  w.field("columns", r.columns).field("columns_reproduced", r.reproduced);
  w.key("failures").begin_array();
  for (const auto& f : r.failures) w.value(f);
  w.end_array().key("tables").begin_array();
  for (const auto& t : r.tables) {
    w.begin_object().field("table", t.table).field("rows_in_backup", t.expected_rows);
    w.field("rows_recovered", t.recovered_rows).field("creations_logged", t.creations_logged);
    w.field("rows_without_log", t.rows_without_log()).key("columns").begin_array();
    for (const auto& c : t.columns) {
      w.begin_object().field("column", c.column).field("coverage", c.coverage).field("claimed", c.claimed);
      w.field("verdict", verify::verdict_name(c.verdict)).field("why", c.why).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().key("recovery").json(recover_json(r.recovery)).end_object();
  return w.str();
}

std::vector<ReportLine> drill_text(const DrillReport& r) {
  std::vector<ReportLine> out;
  out.push_back({ReportLine::Kind::heading, "Recovery drill: backup " + r.from_stamp + " + audit logs, up to backup " +
                                                r.to_stamp + "'s snapshot"});
  out.push_back({ReportLine::Kind::plain,
                 "  recovered in " + std::to_string(static_cast<int>(r.recovery.total_seconds)) +
                     " s (restore, replay, verification) into " + r.scratch + (r.kept ? " (kept)" : " (dropped)")});
  out.push_back({ReportLine::Kind::heading, "Reproduced by the logs"});
  std::string rows_without;
  for (const auto& t : r.tables) {
    std::vector<std::string> differ;
    for (const auto& c : t.columns)
      if (c.verdict != verify::Verdict::equal) differ.push_back(c.column + " (" + c.coverage + ")");
    std::size_t same = t.columns.size() - differ.size();
    std::string line =
        "  " + t.table + ": " + std::to_string(same) + " of " + std::to_string(t.columns.size()) + " columns exactly";
    if (!differ.empty()) {
      line += "; not reproduced: ";
      for (std::size_t i = 0; i < differ.size(); ++i) line += (i ? ", " : "") + differ[i];
    }
    out.push_back({differ.empty() ? ReportLine::Kind::plain : ReportLine::Kind::info, line});
    if (t.rows_without_log() > 0)
      rows_without +=
          (rows_without.empty() ? "" : ", ") + t.table + " " + grouped(static_cast<uint64_t>(t.rows_without_log()));
  }
  out.push_back({ReportLine::Kind::heading, "Recoverability"});
  out.push_back({ReportLine::Kind::plain,
                 "  " + grouped(r.reproduced) + " of " + grouped(r.columns) + " columns reproduced exactly" +
                     (rows_without.empty() ? "" : "; rows created without a log line: " + rows_without)});
  for (const auto& f : r.failures) out.push_back({ReportLine::Kind::warning, f});
  if (r.ok()) out.push_back({ReportLine::Kind::info, "everything the logs claim to carry was reproduced"});
  return out;
}

}  // namespace auditpitr::ops
