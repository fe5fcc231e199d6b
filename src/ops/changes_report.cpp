// changes' renderings: one JSON object (docs/changes.md), streamed with the rows read back from
// their buckets, and per-group aligned lines from the groups' first rows.
#include <stdexcept>

#include "src/ops/changes.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

void strings_json(JsonWriter& w, const std::string& name, const std::vector<std::string>& values) {
  w.key(name).begin_array();
  for (const auto& v : values) w.value(v);
  w.end_array();
}

}  // namespace

std::string changed_row_json(const ChangedRow& row) {
  JsonWriter w;  // a line object: the same wherever json() inserts it
  w.begin_line_object().field("key", row.key).field("time", replay::format_time(row.time));
  w.field("operation", row.operation).field_or_null("user", row.user);
  values_json(w, "set", row.set);
  values_json(w, "from", row.from);
  w.field("file", row.file).field("line", row.line_number).end_object();
  return w.str();
}

void changes_json(const ChangesReport& r, const std::function<void(const std::string&)>& write) {
  if (!r.rows) throw std::logic_error("changes_json needs a report made with all_rows");
  JsonWriter w;
  w.begin_object().field("audit_dir", r.audit_dir).field("schema_source", r.schema_source);
  w.field("from", replay::format_time(r.options.from)).field("to", replay::format_time(r.options.to));
  strings_json(w, "tables", r.options.tables);
  strings_json(w, "users", r.options.users);
  w.field("user_field", r.user_field).field("events", r.events).field("matched_events", r.matched_events);
  w.key("groups").begin_array();
  for (const auto& g : r.groups) {
    w.begin_object().field("table", g.table).field("action", g.action).field("count", g.count);
    w.key("rows").begin_array();
    r.rows->read(g.bucket, [&](std::string_view row) {
      w.json(row);
      if (w.str().size() >= JsonWriter::kPieceBytes) write(w.take());
    });
    w.end_array().end_object();
  }
  w.end_array();
  left_out_json(w, r.left_out);
  w.end_object();
  write(w.take());
}

std::string changes_json(const ChangesReport& r) {
  std::string out;
  changes_json(r, [&out](const std::string& piece) { out += piece; });
  return out;
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
  for (const auto& g : r.groups) summary.push_back({"  " + g.table, g.action, grouped(g.count)});
  for (const auto& line : align_columns(summary)) out.push_back({ReportLine::Kind::plain, line});
  for (const auto& g : r.groups) {
    out.push_back({ReportLine::Kind::heading, g.table + " " + g.action + " (" + grouped(g.count) + ")"});
    std::vector<std::vector<std::string>> rows{{"KEY", "TIME", "OPERATION", "USER", "AT", "VALUES"}};
    for (const ChangedRow& row : g.first_rows)
      rows.push_back({printable(cut_text(row.key, 24)), display_time(row.time), row.operation,
                      printable(cut_text(row.user, 24)), base_name(row.file) + ":" + std::to_string(row.line_number),
                      values_text(row.set, row.from)});
    for (const auto& line : align_columns(rows)) out.push_back({ReportLine::Kind::plain, "  " + line});
    if (g.count > kChangesRowsShown)
      out.push_back({ReportLine::Kind::info,
                     "and " + count_text(g.count - kChangesRowsShown, "more row") + " (--json lists them all)"});
  }
  left_out_text(r.left_out, out);
  return out;
}

}  // namespace auditpitr::ops
