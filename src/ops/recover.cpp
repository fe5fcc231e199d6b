// recover: plan (backup, names: every usage error before anything is written), then restore into
// the work database (or resume it), capture, replay, verify, and for --in-place swap.
#include "src/ops/recover.h"

#include <atomic>
#include <chrono>
#include <future>
#include <pqxx/pqxx>

#include "replay/apply/pg_sink.h"
#include "replay/apply/replay_state.h"
#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/ops/analyze.h"
#include "src/ops/backup_at.h"
#include "src/ops/replay.h"
#include "src/ops/restore_internal.h"
#include "src/pg/connection.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"
#include "verify/database_checksum.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// The backup named by --backup-stamp (drill's STAMP1): it must describe a moment at or before TIME.
void use_backup(const Catalog& catalog, RecoverPlan& plan) {
  plan.backup = catalog.resolve(plan.options.backup_stamp, plan.database->dbname);
  plan.snapshot = snapshot_of(plan.backup, plan.snapshot_from_stamp);
  if (plan.snapshot > plan.options.to)
    throw usage_error("backup " + plan.backup.stamp + " was taken after " + display_time(plan.options.to),
                      "start from an older backup");
}

void choose_backup(const Config& config, RecoverPlan& plan) {
  Catalog catalog = Catalog::scan(config.backup_dir);
  if (!plan.options.backup_stamp.empty()) return use_backup(catalog, plan);
  BackupAt chosen =
      newest_backup_at(catalog, config.backup_dir, plan.database->dbname, plan.options.to,
                       "recover needs a backup from before the moment to reach; `auditpitr list` shows them");
  plan.backup = chosen.file;
  plan.snapshot = chosen.snapshot;
  plan.snapshot_from_stamp = chosen.from_stamp;
}

/// Every table of the work database read once: its checksums, and the rows with `touched` keys.
verify::RecoveredRead read_work_database(const pg::ConnInfo& info, verify::TouchedKeys touched = {}) {
  pg::Connection conn(info);
  conn.set_canonical_output();
  try {
    pqxx::read_transaction tx(conn.raw());
    return verify::read_recovered(tx, std::move(touched));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "checksumming the recovered database", conn);
  }
}

/// Restores the backup into the work database (marked as recover's from its first instant), or
/// finds it there from an interrupted run. Anything else of that name is refused.
void restore_or_resume(const Config& config, const RecoverPlan& plan, detail::AdminSession& admin,
                       pg::ProcessRunner& runner, const Reporter& reporter, RecoverReport& report) {
  if (admin.database_exists(plan.work_dbname)) {
    auto mark = admin.mark_of(plan.work_dbname);
    if (!mark || mark->kind != CopyKind::recovering || mark->stamp != plan.recovery_stamp)
      throw usage_error("the database '" + plan.work_dbname +
                            "' already exists: recover never writes into an existing "
                            "database",
                        "choose another name with --into, or drop that database first");
    report.resumed = true;
    reporter.info("resuming the recovery in " + plan.work_dbname + " (an earlier run was interrupted)");
    return;
  }
  if (!plan.kept_dbname.empty() && admin.database_exists(plan.kept_dbname))
    throw runtime_error("'" + plan.kept_dbname + "' already exists: a recovery to this moment already replaced '" +
                            plan.database->dbname + "'",
                        "undo it (auditpitr restore --undo " + plan.recovery_stamp +
                            ") or drop the copy (auditpitr kept "
                            "--drop " +
                            plan.recovery_stamp + "), then run this again");
  RestoreRequest request;
  request.stamp = plan.backup.stamp;
  request.aliases = {plan.database->alias};
  request.into = plan.work_dbname;
  request.into_mark = DatabaseMark{CopyKind::recovering, plan.recovery_stamp, std::time(nullptr)};
  RestorePlan restore = plan_restore(config, request, runner, reporter);
  RestoreResult result = run_restore(config, restore, runner, reporter);
  if (!result.databases.empty()) report.restore_verification = result.databases.front().verification;
}

/// The verified result becomes the user's: the work database loses recover's mark and working
/// tables in one transaction (a crash leaves either the marked, resumable database or the result).
void release_work_database(const pg::ConnInfo& work, const std::string& dbname) {
  replay::PgSession session(work);
  session.exec("BEGIN", {}, "finishing the recovery");
  verify::RecoveryCheck::discard(session);
  session.exec("COMMENT ON DATABASE " + pg::quote_ident(dbname) + " IS NULL", {}, "finishing the recovery");
  session.exec("COMMIT", {}, "finishing the recovery");
}

std::unique_ptr<replay::AuditEventSource> window_events(const std::string& dir, replay::TimePoint to) {
  replay::AuditSourceOptions options;
  options.until = to;
  return replay::open_event_logs(dir, options);
}

/// Events that end early once `stop` is set: a fold running alongside the replay is abandoned
/// when the replay fails, instead of being waited for to its end.
class StoppableEvents : public replay::AuditEventSource {
 public:
  StoppableEvents(std::unique_ptr<replay::AuditEventSource> events, const std::atomic<bool>& stop)
      : events_(std::move(events)), stop_(stop) {}
  bool next(replay::AuditEvent& event) override { return !stop_.load() && events_->next(event); }
  std::vector<replay::AuditFileStats> file_stats() const override { return events_->file_stats(); }

 private:
  std::unique_ptr<replay::AuditEventSource> events_;
  const std::atomic<bool>& stop_;
};

}  // namespace

RecoverPlan plan_recover(const Config& config, const RecoverOptions& options) {
  require_audit_section(config);
  std::string alias = options.alias.empty() ? config.audit_database : options.alias;
  if (alias != config.audit_database)
    throw usage_error("the audit logs describe database '" + config.audit_database + "', not '" + alias + "'",
                      "recover replays [audit]'s logs: leave out --db, or give --db " + config.audit_database);
  if (options.in_place && !options.into.empty())
    throw usage_error("--into and --in-place do not go together",
                      "--into builds the recovery in a new database; --in-place replaces the configured one");
  audit_dir_of(config, options.audit_dir);  // the folder exists
  RecoverPlan plan;
  plan.options = options;
  plan.database = &config.database(alias);
  choose_backup(config, plan);
  plan.recovery_stamp = time_to_stamp(std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(options.to)));
  plan.work_dbname =
      options.into.empty() ? copy_name(CopyKind::recovering, plan.database->dbname, plan.recovery_stamp) : options.into;
  if (options.in_place) plan.kept_dbname = before_restore_name(plan.database->dbname, plan.recovery_stamp);
  return plan;
}

RecoverReport run_recover(const Config& config, const RecoverPlan& plan, pg::ProcessRunner& runner,
                          const Reporter& reporter) {
  auto started = Clock::now();
  RecoverReport report;
  report.plan = plan;
  const DatabaseConfig& db = *plan.database;
  detail::AdminSession admin(db.connect_info());
  admin.lock_target("recover " + plan.work_dbname);

  auto phase = Clock::now();
  restore_or_resume(config, plan, admin, runner, reporter, report);
  report.seconds.restore = since(phase);
  pause_point("recover-restored");

  pg::ConnInfo work = db.connect_info().with_dbname(plan.work_dbname);
  std::string dir = audit_dir_of(config, plan.options.audit_dir);
  {  // the session on the work database ends before a swap renames it
    replay::PgSession session(work);
    std::vector<replay::TargetTable> tables = replay::read_target_tables(session);
    replay::Mapper mapper = mapper_for(config, tables);
    auto restored = replay::load_restored_from(session);
    if (!restored)
      throw runtime_error(session.describe() + " does not record the backup it holds",
                          "drop it and run recover again: it will restore the backup afresh");
    report.window_from = restored->snapshot_time - std::chrono::seconds(config.audit_skew_margin_seconds);

    phase = Clock::now();
    // The replay's statistics (pg_sink.h) are gathered by the server while capture folds the logs.
    auto analyzed = std::async(std::launch::async, [&work] {
      replay::PgSession own(work);
      replay::analyze_tables_without_statistics(own);
    });
    verify::RecoveryCheck check(tables, mapper);
    if (!verify::RecoveryCheck::captured(session)) {
      reporter.progress("reading the rows the logs will change");
      std::vector<verify::TableChecksum> baseline = plan.snapshot_from_stamp
                                                        ? read_work_database(work).checksums
                                                        : verify::load_manifest(plan.backup.manifest_path).tables;
      check.capture(session, *window_events(dir, plan.options.to), report.window_from, baseline);
    }
    analyzed.get();
    report.seconds.capture = since(phase);
    pause_point("recover-captured");
    throw_if_interrupted();

    phase = Clock::now();
    ReplayOptions replay_options;
    replay_options.to = plan.options.to;
    replay_options.into = plan.work_dbname;
    replay_options.audit_dir = plan.options.audit_dir;
    replay_options.on_conflict = plan.options.on_conflict;
    replay_options.count_first = plan.options.progress_total;
    // The verification's fold needs the captured rows and the logs, nothing the replay writes: it
    // runs on a connection of its own while the server applies the replay, taking every event
    // (the replay refusing none is the usual case; otherwise it is folded again below).
    std::atomic<bool> abandon{false};
    auto early_fold = std::async(std::launch::async, [&] {
      replay::PgSession own(work);
      StoppableEvents events(window_events(dir, plan.options.to), abandon);
      return check.fold(own, events, report.window_from);
    });
    try {
      report.replay = run_replay(config, replay_options, reporter);
    } catch (...) {
      abandon = true;
      throw;
    }
    report.seconds.replay = since(phase);
    pause_point("recover-replayed");

    phase = Clock::now();
    reporter.progress("verifying " + plan.work_dbname);
    // The whole database is read on a connection of its own: its checksums, and the touched rows
    // the verification compares (no second read by key).
    auto recovered =
        std::async(std::launch::async, [&work, touched = verify::RecoveryCheck::touched_keys(session)]() mutable {
          return read_work_database(work, std::move(touched));
        });
    std::shared_ptr<verify::RecoveryCheck::Folded> folded = early_fold.get();
    std::set<std::string> refused = replay::load_refused_events(session);
    if (!refused.empty())
      folded = check.fold(session, *window_events(dir, plan.options.to), report.window_from, refused);
    report.verification = check.judge(session, *folded, [&] {
      verify::RecoveredRead read = recovered.get();
      report.checksums = read.checksums;
      return read;
    });
    AnalyzeOptions coverage_options;
    coverage_options.since = report.window_from;
    coverage_options.until = plan.options.to;
    report.coverage =
        analyze_events(*window_events(dir, plan.options.to), nullptr, mapper, coverage_options, Reporter{}).coverage;
    report.seconds.verify = since(phase);
    reporter.progress("");
  }

  report.dbname = plan.work_dbname;
  if (report.ok()) {
    if (plan.options.in_place) {
      phase = Clock::now();
      admin.lock_target(db.dbname);
      detail::swap_into_place(admin, db.dbname, plan.work_dbname, plan.kept_dbname,
                              {CopyKind::kept, plan.recovery_stamp, std::time(nullptr)}, reporter);
      report.swapped = true;
      report.dbname = db.dbname;
      replay::PgSession live(db.connect_info());
      verify::RecoveryCheck::discard(live);
      report.seconds.swap = since(phase);
    } else if (!plan.options.keep_marked) {
      release_work_database(work, plan.work_dbname);
    }
  }
  report.total_seconds = since(started);
  return report;
}

}  // namespace auditpitr::ops
