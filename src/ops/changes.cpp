// changes: one pass over the events of [from, to]; each mapped row change that passes the table and
// user filters is counted in its (table, action) group, kept when it is among the group's first
// rows, and with all_rows rendered as JSON into the group's bucket (memory, then a temporary file).
#include "src/ops/changes.h"

#include <algorithm>
#include <map>
#include <set>

#include "src/error.h"

namespace auditpitr::ops {
namespace {

void check_tables(const replay::MappingCatalog& catalog, const std::vector<std::string>& tables,
                  const std::string& schema_source) {
  for (const auto& t : tables)
    if (!catalog.table(t))
      throw usage_error("--table " + t + ": no such table in " + schema_source,
                        "the tables are: " + catalog.table_list());
}

std::vector<HistoryValue> values_of(const std::vector<replay::ColumnValue>& set) {
  std::vector<HistoryValue> out;
  for (const auto& v : set) out.push_back({v.column, v.value.text, v.value.is_null(), v.field});
  return out;
}

std::vector<HistoryValue> values_of(const std::vector<replay::ExpectedValue>& expect) {
  std::vector<HistoryValue> out;
  for (const auto& v : expect) out.push_back({v.column, v.expected.text, v.expected.is_null(), v.field});
  return out;
}

std::string key_text(const replay::RowChange& r) {
  std::string out;
  for (const auto& k : r.key) out += (out.empty() ? "" : ",") + k.value.text;
  return out;
}

}  // namespace

ChangesReport changes_events(replay::AuditEventSource& events, replay::Mapper& mapper, const ChangesOptions& options,
                             const std::string& schema_source) {
  check_tables(mapper.catalog(), options.tables, schema_source);
  ChangesReport report;
  report.options = options;
  report.schema_source = schema_source;
  report.user_field = mapper.rules().user_field;
  if (options.all_rows)
    report.rows = std::make_shared<SpillBuckets>("changes' rows", "narrow the window (--from, --to, --table, --user)",
                                                 options.memory_budget);
  std::set<std::string> tables(options.tables.begin(), options.tables.end());
  std::set<std::string> users(options.users.begin(), options.users.end());
  std::map<std::pair<std::string, std::string>, ChangeGroup> groups;
  replay::MappedEvent mapped;
  replay::AuditEvent e;
  while (events.next(e)) {
    if (e.time < options.from || e.time > options.to) continue;
    ++report.events;
    mapper.map_compact(e, mapped);
    if (mapped.outcome != replay::MapOutcome::mapped) continue;
    const std::string& user = mapped.user;
    if (!users.empty() && !users.count(user)) continue;
    bool matched = false;
    for (const auto& c : mapped.changes) {
      const std::string& table = mapper.catalog().tables()[c.table].name;
      if (!tables.empty() && !tables.count(table)) continue;
      replay::RowChange r = mapper.to_row_change(e, mapped, c);
      const char* action = replay::change_action_name(r.action);
      auto [at, added] = groups.try_emplace({table, action});
      ChangeGroup& g = at->second;
      if (added) {
        g.table = table;
        g.action = action;
        if (report.rows) g.bucket = report.rows->add_bucket();
      }
      ++g.count;
      matched = true;
      if (g.first_rows.size() >= kChangesRowsShown && !report.rows) continue;
      ChangedRow row{key_text(r),
                     e.time,
                     std::string(e.operation),
                     user,
                     values_of(r.set),
                     values_of(r.expect),
                     e.file ? *e.file : std::string(),
                     e.line_number};
      if (report.rows) report.rows->append(g.bucket, changed_row_json(row));
      if (g.first_rows.size() < kChangesRowsShown) g.first_rows.push_back(std::move(row));
    }
    if (matched) ++report.matched_events;
  }
  for (auto& [name, g] : groups) report.groups.push_back(std::move(g));
  report.left_out.add_unfinished(events.file_stats());
  return report;
}

ChangesReport changes(const Config& config, const ChangesOptions& options) {
  std::string dir = audit_dir_of(config, options.audit_dir);
  std::string schema_source;
  replay::Mapper mapper = open_mapper(config, options.backup, &schema_source);
  replay::AuditSourceOptions source_options;
  source_options.strict = options.strict;
  source_options.until = options.to;
  auto events = replay::open_event_logs(dir, source_options);
  ChangesReport report = changes_events(*events, mapper, options, schema_source);
  report.left_out.unread_files = replay::unread_log_files(dir, kReplayedLogs);
  report.audit_dir = dir;
  return report;
}

}  // namespace auditpitr::ops
