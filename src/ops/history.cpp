// history: one pass over the merged events. The row's own changes are picked by table and key;
// cascades are judged from the foreign keys the logs carried up to the parent's delete (the row's
// own, and those of the intermediate tables of each cascade path: only those are kept in memory).
#include "src/ops/history.h"

#include <unordered_map>

#include "src/error.h"

namespace auditpitr::ops {
namespace {

/// One level of a cascade path: rows of `table` whose `foreign_key` holds the parent's key.
struct Step {
  uint32_t table = 0;
  uint32_t column = 0;  // foreign_key's index in the table's columns
  std::string label;    // "projects.category_id"
};

/// A delete of `root` reaches the row through `steps` (the last step is the row's own table).
struct CascadePath {
  uint32_t root = 0;
  std::vector<Step> steps;
};

uint32_t table_index(const replay::MappingCatalog& catalog, const std::string& name) {
  const auto& tables = catalog.tables();
  for (uint32_t i = 0; i < tables.size(); ++i)
    if (tables[i].name == name) return i;
  return UINT32_MAX;
}

uint32_t column_index(const verify::TableShape& table, const std::string& column) {
  for (uint32_t i = 0; i < table.columns.size(); ++i)
    if (table.columns[i] == column) return i;
  return UINT32_MAX;
}

void collect_paths(const replay::Mapper& mapper, uint32_t root, const std::vector<replay::CascadeDelete>& cascades,
                   uint32_t target, std::vector<Step>& path, std::vector<CascadePath>& out) {
  const auto& catalog = mapper.catalog();
  for (const auto& c : cascades) {
    uint32_t table = table_index(catalog, c.table);
    if (table == UINT32_MAX) continue;
    uint32_t column = column_index(catalog.tables()[table], c.foreign_key);
    if (column == UINT32_MAX) continue;
    path.push_back({table, column, c.table + "." + c.foreign_key});
    if (table == target) out.push_back({root, path});
    collect_paths(mapper, root, c.children, target, path, out);
    path.pop_back();
  }
}

/// The foreign keys the logs carried: per (table, column) of a cascade step, key -> value. Of the
/// row's own table only the row itself is kept; intermediate tables keep every row the logs name.
class ForeignKeys {
 public:
  ForeignKeys(const std::vector<CascadePath>& paths, uint32_t target, std::string key)
      : target_(target), key_(std::move(key)) {
    for (const auto& p : paths)
      for (const auto& s : p.steps) links_[link(s.table, s.column)];
  }

  bool tracks(uint32_t table) const {
    for (const auto& [l, values] : links_)
      if (static_cast<uint32_t>(l >> 32) == table) return true;
    return false;
  }

  void learn(uint32_t table, std::string_view key, const replay::CompactValue& v) {
    if (table == target_ && key != key_) return;
    auto it = links_.find(link(table, v.column));
    if (it == links_.end()) return;
    if (v.kind == replay::Value::Kind::null) it->second.erase(std::string(key));
    else it->second[std::string(key)] = std::string(v.text);
  }

  const std::string* parent_of(const Step& step, const std::string& key) const {
    auto it = links_.find(link(step.table, step.column));
    if (it == links_.end()) return nullptr;
    auto found = it->second.find(key);
    return found == it->second.end() ? nullptr : &found->second;
  }

 private:
  static uint64_t link(uint32_t table, uint32_t column) { return (uint64_t(table) << 32) | column; }
  uint32_t target_;
  std::string key_;
  std::unordered_map<uint64_t, std::unordered_map<std::string, std::string>> links_;
};

HistoryValue history_value(const std::string& column, const replay::Value& v, const std::string& field) {
  return {column, v.text, v.is_null(), field};
}

bool is_delete(replay::ChangeAction a) {
  return a == replay::ChangeAction::remove || a == replay::ChangeAction::soft_delete;
}

std::string single_key(const replay::MappedEvent& mapped, const replay::CompactChange& c) {
  auto key = mapped.key(c);
  return key.size() == 1 ? std::string(key.begin()->text) : std::string();
}

class HistoryScan {
 public:
  HistoryScan(replay::Mapper& mapper, const HistoryOptions& options, HistoryReport& report)
      : mapper_(mapper),
        options_(options),
        report_(report),
        target_(resolve_table()),
        fks_(find_paths(), target_, options.key) {}

  void add(const replay::AuditEvent& e) {
    mapper_.map_compact(e, mapped_);
    if (mapped_.outcome != replay::MapOutcome::mapped) return;
    bool shown = false;
    for (const auto& c : mapped_.changes) {
      std::string key = single_key(mapped_, c);
      if (key.empty()) continue;
      if (tracked_[c.table]) {
        for (const auto& v : mapped_.set(c)) fks_.learn(c.table, key, v);
        for (const auto& v : mapped_.expect(c)) fks_.learn(c.table, key, v);
      }
      if (!in_window(e)) continue;
      if (c.table == target_ && key == options_.key && !shown) {
        report_.entries.push_back(entry(e, c));
        shown = true;  // one entry per event (a fan-out names a row once)
      } else if (is_delete(c.action)) {
        judge_cascade(e, c, key);
      }
    }
  }

 private:
  uint32_t resolve_table() {
    const auto& catalog = mapper_.catalog();
    const verify::TableShape* t = catalog.table(options_.table);
    if (!t)
      throw usage_error("no table '" + options_.table + "' in " + report_.schema_source,
                        "the tables are: " + catalog.table_list());
    if (t->primary_key.size() != 1)
      throw usage_error(
          "table '" + options_.table + "' has " +
              (t->primary_key.empty() ? std::string("no primary key")
                                      : "a primary key of " + std::to_string(t->primary_key.size()) + " columns") +
              ": history follows rows by a single-column key",
          "pick a table with an id column");
    report_.key_column = t->primary_key.front();
    return table_index(catalog, t->name);
  }

  const std::vector<CascadePath>& find_paths() {
    const auto& tables = mapper_.catalog().tables();
    std::vector<Step> path;
    for (uint32_t i = 0; i < tables.size(); ++i)
      collect_paths(mapper_, i, mapper_.cascades_of(tables[i].name), target_, path, paths_);
    tracked_.assign(tables.size(), false);
    for (const auto& p : paths_)
      for (const auto& s : p.steps) tracked_[s.table] = true;
    return paths_;
  }

  bool in_window(const replay::AuditEvent& e) const {
    return (!options_.since || e.time >= *options_.since) && (!options_.until || e.time <= *options_.until);
  }

  HistoryEntry entry(const replay::AuditEvent& e, const replay::CompactChange& c) {
    replay::RowChange r = mapper_.to_row_change(e, mapped_, c);
    HistoryEntry h;
    h.time = e.time;
    h.operation = std::string(e.operation);
    h.action = replay::change_action_name(r.action);
    h.user = mapped_.user;
    for (const auto& v : r.set) h.set.push_back(history_value(v.column, v.value, v.field));
    for (const auto& v : r.expect) h.from.push_back(history_value(v.column, v.expected, v.field));
    h.file = e.file ? *e.file : std::string();
    h.line_number = e.line_number;
    h.element = c.element;
    return h;
  }

  /// A delete of `key` in c.table: does a cascade path lead from it to the row?
  void judge_cascade(const replay::AuditEvent& e, const replay::CompactChange& c, const std::string& key) {
    for (const auto& p : paths_) {
      if (p.root != c.table) continue;
      std::vector<std::string> links;
      std::string current = options_.key;
      bool known = true;
      for (auto s = p.steps.rbegin(); s != p.steps.rend(); ++s) {
        const std::string* parent = fks_.parent_of(*s, current);
        if (!parent) {
          known = false;
          break;
        }
        links.insert(links.begin(), s->label + " = " + *parent);
        current = *parent;
      }
      const std::string& root = mapper_.catalog().tables()[p.root].name;
      if (!known) {
        note_unjudged(e, root, key);
        continue;
      }
      if (current != key) continue;
      HistoryEntry h = entry(e, c);
      h.action = c.action == replay::ChangeAction::soft_delete ? "cascade_soft_delete" : "cascade_delete";
      h.set.clear();
      h.from.clear();
      h.cascade = CascadeCause{root, key, links};
      report_.entries.push_back(std::move(h));
      return;
    }
  }

  void note_unjudged(const replay::AuditEvent& e, const std::string& table, const std::string& key) {
    ++unjudged_;
    if (report_.unjudged_cascades.size() < 20)
      report_.unjudged_cascades.push_back(std::string(e.operation) + " " + table + " " + key + " at " +
                                          (e.file ? *e.file : "?") + ":" + std::to_string(e.line_number));
  }

  replay::Mapper& mapper_;
  const HistoryOptions& options_;
  HistoryReport& report_;
  uint32_t target_;
  std::vector<CascadePath> paths_;
  std::vector<bool> tracked_;
  ForeignKeys fks_;
  replay::MappedEvent mapped_;
  uint64_t unjudged_ = 0;
};

}  // namespace

HistoryReport history_events(replay::AuditEventSource& events, replay::Mapper& mapper, const HistoryOptions& options,
                             const std::string& schema_source) {
  HistoryReport report;
  report.schema_source = schema_source;
  report.table = options.table;
  report.key = options.key;
  report.since = options.since;
  report.until = options.until;
  report.user_field = mapper.rules().user_field;
  HistoryScan scan(mapper, options, report);
  replay::AuditEvent e;
  while (events.next(e)) {
    ++report.events;
    scan.add(e);
  }
  report.left_out.add_unfinished(events.file_stats());
  return report;
}

HistoryReport history(const Config& config, const HistoryOptions& options) {
  std::string dir = audit_dir_of(config, options.audit_dir);
  std::string schema_source;
  replay::Mapper mapper = open_mapper(config, options.backup, &schema_source);
  replay::AuditSourceOptions source_options;
  source_options.strict = options.strict;
  source_options.until = options.until;
  auto events = replay::open_event_logs(dir, source_options);
  HistoryReport report = history_events(*events, mapper, options, schema_source);
  report.left_out.unread_files = replay::unread_log_files(dir, kReplayedLogs);
  report.audit_dir = dir;
  return report;
}

}  // namespace auditpitr::ops
