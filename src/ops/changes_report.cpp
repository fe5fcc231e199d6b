// changes' renderings: one JSON object (docs/changes.md) and per-group aligned lines.
#include "src/ops/changes.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

constexpr std::size_t kRowsShown = 20;  // per group in the text form; --json lists them all

void strings_json(JsonWriter& w, const std::string& name, const std::vector<std::string>& values) {
  w.key(name).begin_array();
  for (const auto& v : values) w.value(v);
  w.end_array();
}

}  // namespace

std::string changes_json(const ChangesReport& r) {
  JsonWriter w;
  w.begin_object().field("audit_dir", r.audit_dir).field("schema_source", r.schema_source);
  w.field("from", replay::format_time(r.options.from)).field("to", replay::format_time(r.options.to));
  strings_json(w, "tables", r.options.tables);
  strings_json(w, "users", r.options.users);
  w.field("user_field", r.user_field).field("events", r.events).field("matched_events", r.matched_events);
  w.key("groups").begin_array();
  for (const auto& g : r.groups) {
    w.begin_object().field("table", g.table).field("action", g.action).field("count", uint64_t(g.rows.size()));
    w.key("rows").begin_array();
    for (const auto& row : g.rows) {
      w.begin_object().field("key", row.key).field("time", replay::format_time(row.time));
      w.field("operation", row.operation).field_or_null("user", row.user);
      values_json(w, "set", row.set);
      values_json(w, "from", row.from);
      w.field("file", row.file).field("line", row.line_number).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array();
  left_out_json(w, r.left_out);
  w.end_object();
  return w.str();
}

std::vector<ReportLine> changes_text(const ChangesReport& r) {
  std::vector<ReportLine> out;
  std::string filters;
  for (const auto& t : r.options.tables) filters += " --table " + t;
  for (const auto& u : r.options.users) filters += " --user " + printable(u);
  out.push_back({ReportLine::Kind::heading, "Changes " + display_time(r.options.from) + " .. " +
                                                display_time(r.options.to) + filters + " (times in UTC; " +
                                                count_text(r.matched_events, "event") + " of " + grouped(r.events) +
                                                " in the window)"});
  if (r.groups.empty()) out.push_back({ReportLine::Kind::info, "no logged change matches"});
  std::vector<std::vector<std::string>> summary;
  for (const auto& g : r.groups) summary.push_back({"  " + g.table, g.action, grouped(g.rows.size())});
  for (const auto& line : align_columns(summary)) out.push_back({ReportLine::Kind::plain, line});
  for (const auto& g : r.groups) {
    out.push_back({ReportLine::Kind::heading, g.table + " " + g.action + " (" + grouped(g.rows.size()) + ")"});
    std::vector<std::vector<std::string>> rows{{"KEY", "TIME", "OPERATION", "USER", "AT", "VALUES"}};
    for (std::size_t i = 0; i < g.rows.size() && i < kRowsShown; ++i) {
      const ChangedRow& row = g.rows[i];
      rows.push_back({printable(cut_text(row.key, 24)), display_time(row.time), row.operation,
                      printable(cut_text(row.user, 24)), base_name(row.file) + ":" + std::to_string(row.line_number),
                      values_text(row.set, row.from)});
    }
    for (const auto& line : align_columns(rows)) out.push_back({ReportLine::Kind::plain, "  " + line});
    if (g.rows.size() > kRowsShown)
      out.push_back({ReportLine::Kind::info,
                     "and " + count_text(g.rows.size() - kRowsShown, "more row") + " (--json lists them all)"});
  }
  left_out_text(r.left_out, out);
  return out;
}

}  // namespace auditpitr::ops
