// state: the backup's row (pg_restore -a -t TABLE of the checked dump, its COPY text read as it
// streams), then history's events from the snapshot to TIME folded in, column by column.
#include "src/ops/state.h"

#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/ops/backup_at.h"
#include "src/ops/check.h"
#include "src/ops/verified_dump.h"
#include "src/pg/pg_restore.h"
#include "verify/manifest.h"
#include "verify/row_fold.h"

namespace auditpitr::ops {
namespace {

/// A COPY text field: nullopt for NULL.
std::optional<std::string> decode_copy_field(const std::string& f) {
  if (f == verify::rows::kNull) return std::nullopt;
  return verify::rows::copy_unescape(f);
}

/// The column names of "COPY public.t (id, title, "order") FROM stdin;".
std::vector<std::string> copy_columns(const std::string& line) {
  std::vector<std::string> out;
  std::size_t open = line.find(" (");
  if (open == std::string::npos) return out;
  std::string name;
  bool quoted = false;
  for (std::size_t i = open + 2; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        name += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        name += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',' || c == ')') {
      out.push_back(name);
      name.clear();
      if (c == ')') break;
    } else if (c != ' ') {
      name += c;
    }
  }
  return out;
}

const char* kSources[] = {"backup", "event", "unknown"};

}  // namespace

const char* source_name(StateColumn::Source source) { return kSources[static_cast<int>(source)]; }

void CopyRowFinder::feed(const char* data, std::size_t size) {
  pending_.append(data, size);
  std::size_t start = 0;
  for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
    line(pending_.substr(start, nl - start));
  pending_.erase(0, start);
}

void CopyRowFinder::line(const std::string& text) {
  if (!in_copy_) {
    if (text.rfind("COPY ", 0) != 0) return;
    columns_ = copy_columns(text);
    key_index_ = columns_.size();
    for (std::size_t i = 0; i < columns_.size(); ++i)
      if (columns_[i] == key_column_) key_index_ = i;
    in_copy_ = saw_copy_ = true;
    return;
  }
  if (text == "\\.") {
    in_copy_ = false;
    return;
  }
  if (found_ || key_index_ == columns_.size()) return;  // found: the rest of the stream is only drained
  std::vector<std::string> fields = verify::rows::split_fields(text);
  if (fields.size() != columns_.size()) return;
  auto key = decode_copy_field(fields[key_index_]);
  if (!key || *key != key_) return;
  DumpRow row;
  row.columns = columns_;
  for (const auto& f : fields) row.values.push_back(decode_copy_field(f));
  found_ = std::move(row);
}

namespace {

std::optional<DumpRow> row_from_dump(const Config& config, const BackupAt& chosen, const std::string& table,
                                     const std::string& key_column, const std::string& key, pg::ProcessRunner& runner) {
  const BackupFile& backup = chosen.file;
  CheckResult checked = check_backup(config, backup, runner);
  if (!checked.sound())
    throw verification_error("backup '" + backup.path + "' is damaged: " + checked.problem,
                             "pick a moment after a sound backup");
  int version = backup.has_manifest ? verify::load_manifest(backup.manifest_path).server_version_num : 0;
  VerifiedDump archive(backup.path, checked.verified);
  pg::PgRestoreOptions options;
  options.input_file = archive.path();
  options.output_file = "-";
  options.data_only = true;
  options.tables = {table};
  const DatabaseConfig& db = config.database(config.audit_database);
  pg::Command command = pg::pg_restore_command(pg_restore_for(config, version, runner), db.connect_info(), options);
  CopyRowFinder finder(key_column, key);
  command.stdout_sink = [&finder](const char* data, std::size_t n) { finder.feed(data, n); };
  pg::ProcessResult result = runner.run(command);
  if (!result.ok())
    throw runtime_error("pg_restore " + result.describe() + " reading table '" + table + "' of '" + backup.path + "'",
                        "check the backup: auditpitr check " + backup.stamp, result.stderr_tail);
  return finder.result();
}

/// Folds one event into the row: its values, or its deletion.
void fold(StateReport& report, const HistoryEntry& e, const std::string& soft_delete_column,
          const std::vector<std::string>& table_columns) {
  auto column = [&report](const std::string& name) -> StateColumn& {
    for (auto& c : report.columns)
      if (c.name == name) return c;
    report.columns.push_back({name, {}, true, StateColumn::Source::unknown, std::nullopt});
    return report.columns.back();
  };
  auto set = [&](const std::string& name, const std::string& value, bool is_null) {
    StateColumn& c = column(name);
    c.value = value;
    c.is_null = is_null;
    c.source = StateColumn::Source::event;
    c.event = e;
  };
  if (e.action == "insert") {
    if (report.status != "existed") {  // a row created after the backup: only what the log sets is known
      report.columns.clear();
      for (const auto& name : table_columns)
        report.columns.push_back({name, {}, true, StateColumn::Source::unknown, std::nullopt});
    }
    report.status = "existed";
  }
  if (e.action == "delete" || e.action == "cascade_delete") {
    report.status = "absent";
    return;
  }
  for (const auto& v : e.set) set(v.column, v.value, v.is_null);
  if (e.action == "cascade_soft_delete" && !soft_delete_column.empty())
    set(soft_delete_column, replay::format_time(e.time), false);
  if (e.action == "soft_delete" || e.action == "cascade_soft_delete") report.status = "deleted";
}

}  // namespace

StateReport row_state(const Config& config, const StateOptions& options, pg::ProcessRunner& runner,
                      const Reporter& reporter) {
  std::string dir = audit_dir_of(config, options.audit_dir);
  const DatabaseConfig& db = config.database(config.audit_database);
  BackupAt chosen =
      newest_backup_at(Catalog::scan(config.backup_dir), config.backup_dir, db.dbname, options.at,
                       "state starts from a backup; `auditpitr history TABLE KEY` shows what the logs alone say");
  std::string schema_source;
  replay::Mapper mapper = open_mapper(config, chosen.file.has_manifest ? chosen.file.stamp : "", &schema_source);

  // The events first: an unknown table is said before the dump is read.
  HistoryOptions h;
  h.table = options.table;
  h.key = options.key;
  h.since = chosen.snapshot;  // an event of the snapshot's second may be in the backup: folding it again is harmless
  h.until = options.at;
  h.strict = options.strict;
  replay::AuditSourceOptions source_options;
  source_options.strict = options.strict;
  source_options.until = options.at;
  auto events = replay::open_event_logs(dir, source_options);
  HistoryReport history = history_events(*events, mapper, h, schema_source);

  StateReport report;
  report.table = options.table;
  report.key = options.key;
  report.key_column = history.key_column;
  report.database = db.dbname;
  report.at = options.at;
  report.backup_stamp = chosen.file.stamp;
  report.backup_path = chosen.file.path;
  report.snapshot = chosen.snapshot;
  report.snapshot_from_stamp = chosen.from_stamp;
  report.events = history.entries;
  report.unjudged = history.unjudged_cascades;

  reporter.info("Reading table '" + options.table + "' of backup " + chosen.file.stamp + "...");
  std::optional<DumpRow> row = row_from_dump(config, chosen, options.table, history.key_column, options.key, runner);
  report.in_backup = row.has_value();
  report.status = row ? "existed" : "absent";
  if (row)
    for (std::size_t i = 0; i < row->columns.size(); ++i)
      report.columns.push_back({row->columns[i], row->values[i].value_or(""), !row->values[i].has_value(),
                                StateColumn::Source::backup, std::nullopt});
  std::string soft = mapper.soft_delete_column(options.table);
  if (row && !soft.empty()) {
    for (const auto& c : report.columns)
      if (c.name == soft && !c.is_null) report.status = "deleted";
  }
  const std::vector<std::string>& table_columns = mapper.catalog().table(options.table)->columns;
  for (const auto& e : history.entries) fold(report, e, soft, table_columns);
  if (report.status == "absent") report.columns.clear();
  return report;
}

}  // namespace auditpitr::ops
