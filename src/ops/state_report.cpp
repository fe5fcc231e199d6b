// state's renderings: one JSON object (docs/state.md) and the row as aligned lines.
#include "src/ops/state.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

std::string where(const HistoryEntry& e) {
  return e.operation + " " + display_time(e.time) + " " + e.file.substr(e.file.rfind('/') + 1) + ":" +
         std::to_string(e.line_number);
}

}  // namespace

std::string state_json(const StateReport& r) {
  JsonWriter w;
  w.begin_object().field("database", r.database).field("table", r.table).field("key_column", r.key_column);
  w.field("key", r.key).field("at", replay::format_time(r.at)).field("status", r.status);
  w.key("backup").begin_object().field("stamp", r.backup_stamp).field("path", r.backup_path);
  w.field("snapshot", replay::format_time(r.snapshot)).field("snapshot_from_stamp", r.snapshot_from_stamp);
  w.field("row_in_backup", r.in_backup).end_object();
  w.key("columns").begin_array();
  for (const auto& c : r.columns) {
    w.begin_object().field("name", c.name).key("value");
    if (c.is_null || c.source == StateColumn::Source::unknown) w.null();
    else w.value(c.value);
    w.field("source", source_name(c.source)).key("event");
    if (c.event)
      w.begin_object()
          .field("operation", c.event->operation)
          .field("time", replay::format_time(c.event->time))
          .field("file", c.event->file)
          .field("line", c.event->line_number)
          .end_object();
    else w.null();
    w.end_object();
  }
  w.end_array();
  w.key("events").begin_array();
  for (const auto& e : r.events)
    w.begin_object()
        .field("operation", e.operation)
        .field("action", e.action)
        .field("time", replay::format_time(e.time))
        .field("file", e.file)
        .field("line", e.line_number)
        .end_object();
  w.end_array();
  w.key("unjudged_cascades").begin_array();
  for (const auto& u : r.unjudged) w.value(u);
  w.end_array();
  w.end_object();
  return w.str();
}

std::vector<ReportLine> state_text(const StateReport& r) {
  std::vector<ReportLine> out;
  std::string row = r.table + " " + r.key_column + "=" + printable(r.key);
  out.push_back({ReportLine::Kind::heading, row + " at " + display_time(r.at) + " (times in UTC)"});
  out.push_back({ReportLine::Kind::info, "from backup " + r.backup_stamp + " (snapshot " + display_time(r.snapshot) +
                                             (r.snapshot_from_stamp ? ", its stamp: no manifest" : "") +
                                             "): " + (r.in_backup ? "the row is in it" : "the row is not in it") +
                                             ", then " + count_text(r.events.size(), "logged event") + " up to " +
                                             display_time(r.at)});
  if (r.status == "absent") {
    out.push_back({ReportLine::Kind::warning,
                   row + " did not exist at " + display_time(r.at) + " (as far as the backup and the logs say)"});
    return out;
  }
  if (r.status == "deleted") out.push_back({ReportLine::Kind::warning, row + " was (soft-)deleted at that moment"});
  std::vector<std::vector<std::string>> rows{{"COLUMN", "VALUE", "SOURCE"}};
  for (const auto& c : r.columns) {
    std::string value = c.source == StateColumn::Source::unknown ? "?"
                        : c.is_null                              ? "NULL"
                                                                 : printable(cut_text(c.value, 40));
    std::string source = c.source == StateColumn::Source::backup  ? "backup, unchanged since"
                         : c.source == StateColumn::Source::event ? "set by " + where(*c.event)
                                                                  : "not vouched for (no backup or logged value)";
    rows.push_back({c.name, value, source});
  }
  for (const auto& line : align_columns(rows)) out.push_back({ReportLine::Kind::plain, "  " + line});
  if (!r.unjudged.empty())
    out.push_back({ReportLine::Kind::info,
                   "a cascade could not be judged (the logs never said the row's parent), e.g. " + r.unjudged.front()});
  return out;
}

}  // namespace auditpitr::ops
