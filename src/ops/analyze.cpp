// analyze: one pass over the merged events (mapping, gaps, bursts, coverage), one over error.log.
#include "src/ops/analyze.h"

#include <algorithm>

#include "replay/mapping/mapping_rules.h"
#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/pause_point.h"
#include "verify/database_checksum.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

std::string where(const std::string& file, uint64_t line) { return file + ":" + std::to_string(line); }
std::string where(const replay::AuditEvent& e) { return where(e.file ? *e.file : "?", e.line_number); }

/// Gaps between consecutive events, and bursts: runs of consecutive windows of burst_window
/// (aligned to the epoch) that each hold burst_events or more, reported as one period each.
class TimeShape {
 public:
  explicit TimeShape(const AnalyzeOptions& options)
      : options_(options), window_(std::max<int64_t>(std::chrono::microseconds(options.burst_window).count(), 1)) {}

  void add(const replay::AuditEvent& e, AnalyzeReport& report) {
    if (previous_ && e.time - *previous_ > options_.gap_threshold)
      report.gaps.push_back({*previous_, e.time, where(previous_file_, previous_line_), where(e)});
    previous_ = e.time;
    // The place is kept as a name and a number, made text only for a gap: not a string per event.
    static const std::string unknown = "?";
    const std::string& file = e.file ? *e.file : unknown;
    if (file != previous_file_) previous_file_ = file;
    previous_line_ = e.line_number;
    int64_t window = e.time.time_since_epoch().count() / window_;
    if (window != window_index_) {
      finish(report);
      window_index_ = window;
    }
    ++window_events_;
  }

  /// Closes the current window (at the end, or when an event starts another one).
  void finish(AnalyzeReport& report) {
    if (window_events_ > 0 && window_events_ >= options_.burst_events) {
      if (report.bursts.empty() || last_busy_window_ != window_index_ - 1) {
        report.bursts.push_back({start_of(window_index_), {}, 0, 0, 0});
      }
      Burst& burst = report.bursts.back();
      burst.end = start_of(window_index_ + 1);
      burst.events += window_events_;
      ++burst.windows;
      burst.peak = std::max(burst.peak, window_events_);
      last_busy_window_ = window_index_;
    }
    window_events_ = 0;
  }

 private:
  replay::TimePoint start_of(int64_t window) const {
    return replay::TimePoint(std::chrono::microseconds(window * window_));
  }

  const AnalyzeOptions& options_;
  const int64_t window_;  // microseconds
  std::optional<replay::TimePoint> previous_;
  std::string previous_file_;
  uint64_t previous_line_ = 0;
  int64_t window_index_ = INT64_MIN;
  int64_t last_busy_window_ = INT64_MIN;
  uint64_t window_events_ = 0;
};

/// Transient progress about twice a second; the clock is read once every few thousand events.
class Progress {
 public:
  explicit Progress(const Reporter& reporter) : reporter_(reporter), last_(std::chrono::steady_clock::now()) {}
  ~Progress() {
    if (shown_) reporter_.progress("");
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void event(uint64_t count, replay::TimePoint time) {
    if (count % 4096 != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    shown_ = true;
    reporter_.progress("reading the audit logs: " + count_text(count, "event") + ", at " + display_time(time));
  }

 private:
  const Reporter& reporter_;
  std::chrono::steady_clock::time_point last_;
  bool shown_ = false;
};

/// The summary of `op`, found by its id (an index), created on its first event.
OperationSummary& summary_for(std::map<std::string, OperationSummary>& ops, std::vector<OperationSummary*>& by_id,
                              const replay::MappedOperation& op) {
  if (op.id < by_id.size() && by_id[op.id]) return *by_id[op.id];
  OperationSummary& s = ops[op.name];
  s.operation = op.name;
  s.target = op.target;
  if (by_id.size() <= op.id) by_id.resize(op.id + 1, nullptr);
  return *(by_id[op.id] = &s);
}

bool in_window(const replay::AuditEvent& e, const AnalyzeOptions& options) {
  return (!options.since || e.time >= *options.since) && (!options.until || e.time <= *options.until);
}

}  // namespace

AnalyzeReport analyze_events(replay::AuditEventSource& events, replay::AuditEventSource* errors, replay::Mapper& mapper,
                             const AnalyzeOptions& options, const Reporter& reporter) {
  AnalyzeReport report;
  report.options = options;
  std::map<std::string, OperationSummary> ops;
  std::vector<OperationSummary*> ops_by_id;
  replay::CoverageTracker coverage;
  replay::MappedEvent mapped;  // reused: mapping allocates nothing per event
  TimeShape shape(options);
  Progress progress(reporter);
  uint64_t read = 0;
  replay::AuditEvent e;
  pause_point("analyze-reading");  // tests stop here, then send SIGINT mid-way (the reader polls it)
  while (events.next(e)) {
    progress.event(++read, e.time);
    if (!in_window(e, options)) continue;
    ++report.events;
    if (!report.first) report.first = e.time;
    report.last = e.time;
    shape.add(e, report);
    mapper.map_compact(e, mapped);
    OperationSummary& s = summary_for(ops, ops_by_id, *mapped.operation);
    ++s.events;
    if (mapped.outcome == replay::MapOutcome::invalid && s.invalid++ == 0)
      s.first_invalid = where(e) + ": " + mapped.reason;
    coverage.add(mapped);
    s.changes += mapped.changes.size();
    report.changes += mapped.changes.size();
  }
  shape.finish(report);
  report.files = events.file_stats();
  report.left_out.add_unfinished(report.files);
  if (errors) {
    while (errors->next(e))
      if (in_window(e, options)) ++report.error_operations[std::string(e.operation)];
    report.error_files = errors->file_stats();
    report.left_out.add_unfinished(report.error_files);
  }
  for (auto& [name, s] : ops) report.operations.push_back(std::move(s));
  report.unmapped = mapper.unmapped_fields();
  report.coverage = coverage.result(mapper.catalog());
  return report;
}

namespace {

std::vector<verify::TableShape> tables_of_database(const DatabaseConfig& db) {
  pg::Connection conn(db.connect_info());
  try {
    pqxx::read_transaction tx(conn.raw());
    return verify::list_tables(tx);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "reading the catalog", conn);
  }
}

std::vector<verify::TableShape> tables_of_backup(const Config& config, const DatabaseConfig& db,
                                                 const std::string& stamp, std::string& described) {
  Catalog catalog = Catalog::scan(config.backup_dir);
  const BackupFile& backup = catalog.resolve(stamp, db.dbname);
  if (!backup.has_manifest)
    throw usage_error("backup " + backup.stamp + " of '" + db.dbname +
                          "' has no manifest (it was made by the old scripts), "
                          "so it does not record the tables' columns",
                      "use a backup made by auditpitr, or leave out --backup to read the schema from the database");
  described = "backup " + backup.stamp + " (manifest)";
  return verify::table_shapes(verify::load_manifest(backup.manifest_path));
}

}  // namespace

void require_audit_section(const Config& config) {
  if (config.audit_dir.empty())
    throw usage_error("no [audit] section in '" + config.path + "'",
                      "add [audit] with dir = \"audit\" and database = \"<alias>\" (docs/mapping.md)");
}

std::string audit_dir_of(const Config& config, const std::string& override_dir) {
  require_audit_section(config);
  std::string dir = override_dir.empty() ? config.audit_dir : override_dir;
  if (!path_exists(dir))
    throw usage_error("audit log folder '" + dir + "' not found", "check [audit] dir, or pass --audit-dir DIR");
  return dir;
}

replay::Mapper open_mapper(const Config& config, const std::string& backup, std::string* described) {
  require_audit_section(config);
  // Rules first; their structure mistakes are named with the unknown names (the Mapper checks
  // both), or alone when the tables cannot be had: a broken file is reported without the server.
  replay::MappingRules rules;
  if (!config.audit_mapping.empty()) rules = replay::read_mapping_rules(config.audit_mapping);
  const DatabaseConfig& db = config.database(config.audit_database);
  std::string from = "database '" + db.dbname + "'";
  std::vector<verify::TableShape> tables;
  try {
    tables = backup.empty() ? tables_of_database(db) : tables_of_backup(config, db, backup, from);
  } catch (const Error&) {
    replay::raise_problems(rules);
    throw;
  }
  if (described) *described = from;
  return replay::Mapper(std::move(rules), replay::MappingCatalog(std::move(tables)));
}

namespace {

// The server is only needed for the tables' columns, which a backup's manifest records as well:
// a failure to reach it (runtime, as rules and names are usage errors) points at --backup latest.
replay::Mapper open_mapper_or_hint(const Config& config, const std::string& backup, std::string* described) {
  try {
    return open_mapper(config, backup, described);
  } catch (const Error& e) {
    if (!backup.empty() || e.kind() != ErrorKind::runtime) throw;
    throw Error(ErrorKind::runtime, e.what(),
                e.hint() + "; or, without the server, read the tables from the newest backup: " +
                    "auditpitr analyze --backup latest",
                e.cause());
  }
}

}  // namespace

AnalyzeReport analyze_audit(const Config& config, const AnalyzeOptions& options, const Reporter& reporter) {
  // A wrong folder is said before the server is contacted (which may be down, or slow to refuse).
  std::string dir = audit_dir_of(config, options.audit_dir);
  std::string schema_source;
  replay::Mapper mapper = open_mapper_or_hint(config, options.backup, &schema_source);
  replay::AuditSourceOptions source_options;
  source_options.strict = options.strict;
  auto events = replay::open_event_logs(dir, source_options);
  auto errors = replay::open_single_log(dir, "error.log", source_options);
  AnalyzeReport report = analyze_events(*events, errors.get(), mapper, options, reporter);
  report.left_out.unread_files = replay::unread_log_files(dir, kAnalyzedLogs);
  report.audit_dir = dir;
  report.database = config.audit_database;
  report.mapping = config.audit_mapping;
  report.schema_source = schema_source;
  return report;
}

}  // namespace auditpitr::ops
