// lost's renderings: one JSON object (docs/lost.md) and, for a terminal, one block per row.
#include "src/ops/history.h"
#include "src/ops/lost.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"
#include "verify/row_fold.h"

namespace auditpitr::ops {
namespace {

/// COPY text as the value it stands for; nullopt for NULL.
std::optional<std::string> plain(const std::string& copy_text) {
  if (copy_text == verify::rows::kNull) return std::nullopt;
  return verify::rows::copy_unescape(copy_text);
}

void value_json(JsonWriter& w, const std::string& name, const std::optional<std::string>& value) {
  w.key(name);
  if (value) w.value(*value);
  else w.null();
}

void event_json(JsonWriter& w, const std::string& name, const std::shared_ptr<const LostEvent>& e) {
  w.key(name);
  if (!e) {
    w.null();
    return;
  }
  w.begin_object().field("operation", e->operation).field("time", replay::format_time(e->time));
  w.field_or_null("user", e->user).field("file", e->file).field("line", e->line_number).end_object();
}

std::string where(const LostEvent& e) {
  return e.operation + " " + display_time(e.time) + " " + e.file.substr(e.file.rfind('/') + 1) + ":" +
         std::to_string(e.line_number) + (e.user.empty() ? "" : " by " + printable(e.user));
}

std::string shown(const std::string& copy_text) {
  auto v = plain(copy_text);
  return v ? printable(cut_text(*v, 40)) : "NULL";
}

std::string key_text(const std::string& key) {
  std::string out;
  for (const auto& f : verify::rows::split_fields(key)) out += (out.empty() ? "" : ", ") + shown(f);
  return out;
}

const char* kind_text(const std::string& kind) {
  if (kind == "missing") return "missing: the logs say it exists, the database lacks it";
  if (kind == "changed") return "changed: the database differs from the logged values";
  return "deleted without a logged delete: in the backup, gone from the database";
}

}  // namespace

void lost_json(const LostReport& r, const std::function<void(const std::string&)>& write) {
  JsonWriter w;
  w.begin_object().field("database", r.database).field("audit_dir", r.audit_dir).field("user_field", r.user_field);
  w.key("backup").begin_object().field("stamp", r.backup_stamp).field("snapshot", replay::format_time(r.snapshot));
  w.field("snapshot_from_stamp", r.snapshot_from_stamp).end_object();
  w.field("events_read", r.events).field("touched_rows", r.touched_rows).field("backup_rows_read", r.backup_rows);
  w.field("explained_by_cascades", r.explained);
  w.key("rows").begin_array();
  for (const auto& row : r.rows) {
    w.begin_line_object().field("table", row.table).key("key").begin_array();
    for (const auto& f : verify::rows::split_fields(row.key)) w.value(plain(f).value_or(""));
    w.end_array().field("kind", row.kind).field("in_backup", row.in_backup);
    event_json(w, "event", row.event);
    w.key("values").begin_array();
    for (const auto& v : row.values) {
      w.begin_object().field("column", v.column);
      value_json(w, "value", plain(v.value));
      w.field("source", v.source).field("automatic", v.automatic);
      event_json(w, "event", v.event);
      value_json(w, "live", v.live ? plain(*v.live) : std::nullopt);
      w.end_object();
    }
    w.end_array().end_object();
    if (w.str().size() >= JsonWriter::kPieceBytes) write(w.take());  // thousands of findings: hundreds of MB
  }
  w.end_array();
  w.key("restore").begin_object().field("restored", r.restored);
  value_json(w, "sql_file", r.sql_file.empty() ? std::nullopt : std::optional<std::string>(r.sql_file));
  w.field("statements", r.statements).end_object();
  left_out_json(w, r.left_out);
  w.end_object();
  write(w.take());
}

void lost_text(const LostReport& r, const std::function<void(const ReportLine&)>& emit) {
  emit({ReportLine::Kind::heading, "Lost rows of " + r.database + " since backup " + r.backup_stamp + " (snapshot " +
                                       display_time(r.snapshot) +
                                       (r.snapshot_from_stamp ? ", its stamp: no manifest" : "") + "; times in UTC)"});
  emit({ReportLine::Kind::info, grouped(r.events) + " logged events after the snapshot reach " +
                                    grouped(r.touched_rows) + " rows; " + grouped(r.backup_rows) +
                                    " rows of the backup read"});
  if (r.explained)
    emit({ReportLine::Kind::info,
          count_text(r.explained, "absent row") + " explained by a logged delete's cascade (not lost)"});
  if (r.rows.empty())
    emit({ReportLine::Kind::plain, "Nothing is lost: the database holds what the backup and the logs say."});
  for (const auto& row : r.rows) {
    emit({ReportLine::Kind::warning, row.table + " " + key_text(row.key) + ": " + kind_text(row.kind)});
    if (row.event) emit({ReportLine::Kind::plain, "    last logged: " + where(*row.event)});
    std::vector<std::vector<std::string>> lines;
    for (const auto& v : row.values) {
      std::string source = v.source == "log" && v.event
                               ? "logged: " + v.event->operation + " " + base_name(v.event->file) + ":" +
                                     std::to_string(v.event->line_number)
                               : "from the backup";
      if (v.live) lines.push_back({v.column, shown(v.value), "database has " + shown(*v.live), source});
      else lines.push_back({v.column, shown(v.value), source});
    }
    for (const auto& line : align_columns(lines)) emit({ReportLine::Kind::plain, "    " + line});
  }
  if (r.restored)
    emit({ReportLine::Kind::plain,
          "Brought back " + count_text(r.rows.size(), "row") + " into " + r.database + " in one transaction."});
  if (!r.sql_file.empty())
    emit({ReportLine::Kind::plain, "Wrote " + count_text(r.statements, "statement") + " to " + r.sql_file +
                                       " (one transaction): psql -v ON_ERROR_STOP=1 -f " + r.sql_file});
  std::vector<ReportLine> left_out;
  left_out_text(r.left_out, left_out);
  for (const auto& line : left_out) emit(line);
}

std::vector<ReportLine> lost_text(const LostReport& r) {
  std::vector<ReportLine> out;
  lost_text(r, [&out](const ReportLine& line) { out.push_back(line); });
  return out;
}

}  // namespace auditpitr::ops
