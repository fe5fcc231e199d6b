// state: the backup's row (dump_rows.h: one table's COPY text of the checked dump, read as it
// streams), then history's events from the snapshot to TIME folded in, column by column.
#include "src/ops/state.h"

#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/ops/backup_at.h"
#include "src/ops/dump_rows.h"
#include "verify/row_fold.h"

namespace auditpitr::ops {
namespace {

/// The row of `table` whose `key_column` is `key` in the backup: values in the dump's column order,
/// nullopt for NULL; nothing when the row is not there.
struct DumpRow {
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> values;
};

std::optional<DumpRow> row_from_dump(const Config& config, const BackupAt& chosen, const std::string& table,
                                     const std::string& key_column, const std::string& key, pg::ProcessRunner& runner) {
  std::optional<DumpRow> found;
  auto decode = [](const std::string& f) -> std::optional<std::string> {
    if (f == verify::rows::kNull) return std::nullopt;
    return verify::rows::copy_unescape(f);
  };
  read_dump_tables(
      config, chosen.file, {table}, runner,
      [&](const std::string&, const std::vector<std::string>& columns, const std::vector<std::string>& fields) {
        if (found) return;
        for (std::size_t i = 0; i < columns.size(); ++i) {
          if (columns[i] != key_column || decode(fields[i]) != key) continue;
          found = DumpRow{columns, {}};
          for (const auto& f : fields) found->values.push_back(decode(f));
        }
      });
  return found;
}

/// Folds one event into the row: its values, or its deletion. `deletion_columns`: what a
/// cascade's soft delete sets to its time (the soft-delete column and those it touches).
void fold(StateReport& report, const HistoryEntry& e, const std::vector<std::string>& deletion_columns,
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
  if (e.action == "cascade_soft_delete")
    for (const auto& name : deletion_columns) set(name, replay::format_time(e.time), false);
  if (e.action == "soft_delete" || e.action == "cascade_soft_delete") report.status = "deleted";
}

const char* kSources[] = {"backup", "event", "unknown"};

}  // namespace

const char* source_name(StateColumn::Source source) { return kSources[static_cast<int>(source)]; }

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
  std::vector<std::string> deletion_columns;
  if (!soft.empty()) deletion_columns.push_back(soft);
  for (const auto& touched : mapper.soft_delete_touches(options.table)) deletion_columns.push_back(touched);
  for (const auto& e : history.entries) fold(report, e, deletion_columns, table_columns);
  if (report.status == "absent") report.columns.clear();
  return report;
}

}  // namespace auditpitr::ops
