// replay: target and window first (all usage errors before anything is written), then the loop
// over the logs through PgSink (or ScriptSink for --sql), then the report.
#include "src/ops/replay.h"

#include <chrono>

#include "replay/apply/fold_sink.h"
#include "replay/apply/pg_sink.h"
#include "replay/apply/replay_state.h"
#include "replay/apply/script_sink.h"
#include "replay/log/audit_source.h"
#include "replay/mapping/mapping_rules.h"
#include "src/error.h"
#include "src/util/format.h"
#include "src/util/fs.h"

namespace auditpitr::ops {
namespace {

struct Target {
  std::vector<replay::TargetTable> tables;
  replay::TargetCatalog catalog;
};

/// The window's start, from the option, the recorded replay or the restored backup (docs/replay.md).
void decide_window(const Config& config, const ReplayOptions& options, replay::PgSession& session, ReplayReport& report,
                   std::optional<replay::ReplayRecord>& record) {
  record = replay::load_replay_record(session);
  std::optional<replay::RestoredFrom> restored = replay::load_restored_from(session);
  report.skew_margin_seconds = config.audit_skew_margin_seconds;
  if (restored) {
    report.backup = restored->backup;
    report.margin_end = restored->snapshot_time;
  }
  if (record) {
    if (options.from && *options.from != record->window_from)
      throw usage_error("this database holds a replay that started at " + display_time(record->window_from) +
                            ", not at --from " + display_time(*options.from),
                        "leave out --from (or give that time) to continue it; applying older events again could "
                        "overwrite newer values");
    report.from = record->window_from;
    report.from_source = options.from ? "option" : "recorded_replay";
    if (record->backup != report.backup) report.margin_end.reset();
  } else if (options.from) {
    report.from = *options.from;
    report.from_source = "option";
    report.margin_end.reset();  // an explicit --from is taken as given
  } else if (restored) {
    report.from = restored->snapshot_time - std::chrono::seconds(config.audit_skew_margin_seconds);
    report.from_source = "restored_backup";
  } else {
    throw usage_error(
        "--from is required: " + session.describe() + " does not record the backup it was restored from",
        "give the time the database's content dates from, e.g. the backup's stamp: --from 20250123_140530");
  }
  if (options.to <= report.from)
    throw usage_error("--to " + display_time(options.to) + " is not after the window's start " +
                      display_time(report.from));
}

void check_tables(const std::set<std::string>& tables, const replay::TargetCatalog& catalog) {
  for (const auto& t : tables) catalog.table(t);  // usage Error naming it
}

uint64_t count_window_events(const std::string& dir, replay::TimePoint from, replay::TimePoint to) {
  replay::AuditSourceOptions source_options;
  source_options.until = to;
  auto events = replay::open_event_logs(dir, source_options);
  replay::AuditEvent e;
  uint64_t n = 0;
  while (events->next(e))
    if (e.time > from) ++n;
  return n;
}

/// apply_events, whose verification errors (the logs do not hold the recorded position, a conflict
/// under --on-conflict fail) name the log-like files that were not read: often the cause.
replay::ApplySummary apply_all(replay::AuditEventSource& events, replay::Mapper& mapper, replay::ChangeSink& sink,
                               const replay::ApplyOptions& apply, const std::vector<replay::UnreadFile>& unread) {
  try {
    return replay::apply_events(events, mapper, sink, apply);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::verification || unread.empty()) throw;
    std::string files;
    for (const auto& u : unread) files += (files.empty() ? "'" : ", '") + u.path + "'";
    throw Error(e.kind(), e.what(),
                e.hint() + "; note that files of the audit folder were not read: " + files +
                    " (the report of 'auditpitr analyze' says why and how to have them read)",
                e.cause());
  }
}

}  // namespace

replay::Mapper mapper_for(const Config& config, const std::vector<replay::TargetTable>& tables) {
  replay::MappingRules rules;
  // Read leniently: the Mapper names the structure mistakes together with the unknown names.
  if (!config.audit_mapping.empty()) rules = replay::read_mapping_rules(config.audit_mapping);
  std::vector<verify::TableShape> shapes;
  for (const auto& t : tables) {
    verify::TableShape shape{t.schema, t.name, {}, t.primary_key};
    for (const auto& c : t.columns) shape.columns.push_back(c.name);
    shapes.push_back(std::move(shape));
  }
  return replay::Mapper(std::move(rules), replay::MappingCatalog(std::move(shapes)));
}

ReplayReport run_replay(const Config& config, const ReplayOptions& options, const Reporter& reporter) {
  auto started = std::chrono::steady_clock::now();
  std::string dir = audit_dir_of(config, options.audit_dir);
  pg::ConnInfo target = config.database(config.audit_database).connect_info();
  if (!options.into.empty()) target = target.with_dbname(options.into);

  replay::PgSession session(target);
  replay::lock_replay(session);
  std::vector<replay::TargetTable> tables = replay::read_target_tables(session);
  replay::Mapper mapper = mapper_for(config, tables);
  for (auto& t : tables) t.soft_delete = mapper.soft_delete_column(t.name);
  replay::TargetCatalog catalog(tables);
  check_tables(options.tables, catalog);

  ReplayReport report;
  report.left_out.unread_files = replay::unread_log_files(dir, kReplayedLogs);
  report.database = session.describe();
  report.to = options.to;
  report.dry_run = options.dry_run;
  report.sql_file = options.sql_file;
  std::optional<replay::ReplayRecord> record;
  decide_window(config, options, session, report, record);
  bool scripting = !options.sql_file.empty();

  replay::ApplyOptions apply;
  apply.from = report.from;
  apply.to = options.to;
  apply.margin_end = report.margin_end;
  apply.tables = options.tables;
  apply.users = options.users;
  apply.user_field = mapper.rules().user_field;
  apply.on_conflict = options.on_conflict;
  apply.batch_events = options.batch_events;
  if (record && record->position && !scripting) {
    report.resumed_after = record->position;
    apply.resume_after = record->position;
    if (record->position->time >= options.to) {
      report.already_applied = true;
      report.summary.position = record->position;
      return report;
    }
  }
  uint64_t total = options.count_first ? count_window_events(dir, report.from, options.to) : 0;
  apply.progress = [&, total](uint64_t events, replay::TimePoint at) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string text = "replaying: " + count_text(events, "event") + (total ? " of " + grouped(total) : "") + ", at " +
                       display_time(at);
    if (seconds > 0) text += ", " + grouped(static_cast<uint64_t>(events / seconds)) + " events/s";
    if (total && events && seconds > 0 && events < total)
      text += ", ETA " + std::to_string(static_cast<int>((total - events) * seconds / events)) + " s";
    reporter.progress(text);
  };
  apply.retrying = [&](const Error& failure, int next_attempt, int attempts) {
    reporter.warning(std::string(failure.what()) + ": the batch was rolled back and is applied again (attempt " +
                     std::to_string(next_attempt) + " of " + std::to_string(attempts) + ")");
  };

  replay::AuditSourceOptions source_options;
  source_options.until = options.to;
  auto events = replay::open_event_logs(dir, source_options);
  if (scripting) {
    AtomicFile file(options.sql_file, 0600);
    replay::ScriptSink sink(file, catalog, options.on_conflict,
                            "auditpitr replay --sql: events after " + replay::format_time(report.from) + " up to " +
                                replay::format_time(options.to));
    report.summary = apply_all(*events, mapper, sink, apply, report.left_out.unread_files);
    sink.finish(replay::advance_key_sequences_sql(session, tables));
    file.commit();
  } else {
    if (!options.dry_run) {
      replay::create_replay_schema(session);
      replay::save_replay_window(session, {report.from, options.to, report.backup, {}, 0, false});
    }
    replay::PgSink statements(session, catalog, options.dry_run);
    // A dry run's batches are never committed: a session of its own would not see the earlier ones.
    std::optional<replay::PgSession> ahead;
    if (options.fold && !options.dry_run) ahead.emplace(target);
    replay::FoldSink fold(session, catalog, statements, ahead ? &*ahead : nullptr);
    replay::ChangeSink& sink = options.fold ? static_cast<replay::ChangeSink&>(fold) : statements;
    report.summary = apply_all(*events, mapper, sink, apply, report.left_out.unread_files);
    statements.finish();
    report.batches_folded = fold.folded_batches();
    report.batches_not_folded = fold.declined_batches();
    report.not_folded_because = fold.first_decline_reason();
    if (!options.dry_run) {
      replay::advance_key_sequences(session, tables);
      replay::mark_replay_finished(session);
    }
  }
  reporter.progress("");
  report.left_out.add_unfinished(events->file_stats());
  if (report.resumed_after && report.summary.applied == 0 && report.summary.skipped_conflict == 0 &&
      report.summary.in_window == 0)
    report.already_applied = true;
  report.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace auditpitr::ops
