// history's renderings: one JSON object (docs/history.md) and aligned lines for a terminal.
#include <algorithm>

#include "src/ops/history.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

void time_field(JsonWriter& w, const std::string& name, const std::optional<replay::TimePoint>& t) {
  w.key(name);
  if (t) w.value(replay::format_time(*t));
  else w.null();
}

void entry_json(JsonWriter& w, const HistoryEntry& e) {
  w.begin_line_object().field("time", replay::format_time(e.time)).field("operation", e.operation);
  w.field("action", e.action).field_or_null("user", e.user);
  values_json(w, "set", e.set);
  values_json(w, "from", e.from);
  w.field("file", e.file).field("line", e.line_number);
  w.key("element");
  if (e.element >= 0) w.value(static_cast<int64_t>(e.element));
  else w.null();
  w.key("cascade");
  if (e.cascade) {
    w.begin_object().field("table", e.cascade->table).field("key", e.cascade->key).key("path").begin_array();
    for (const auto& p : e.cascade->path) w.value(p);
    w.end_array().end_object();
  } else {
    w.null();
  }
  w.end_object();
}

const HistoryValue* find(const std::vector<HistoryValue>& values, const std::string& column) {
  for (const auto& v : values)
    if (v.column == column) return &v;
  return nullptr;
}

}  // namespace

void values_json(JsonWriter& w, const std::string& name, const std::vector<HistoryValue>& values) {
  w.key(name).begin_array();
  for (const auto& v : values) {
    w.begin_object().field("column", v.column).key("value");
    if (v.is_null) w.null();
    else w.value(v.value);
    w.field("field", v.field).end_object();
  }
  w.end_array();
}

std::string cut_text(const std::string& text, std::size_t width) {
  if (text.size() <= width) return text;
  std::size_t end = width > 1 ? width - 1 : 0;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not inside a UTF-8 character
  return text.substr(0, end) + "…";
}

std::string value_text(const HistoryValue& v) { return v.is_null ? "NULL" : printable(cut_text(v.value, 40)); }

std::string values_text(const std::vector<HistoryValue>& set, const std::vector<HistoryValue>& from) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  for (const auto& v : set) {
    if (v.field == "(event time)") continue;  // updated_at and the like: in --json
    const HistoryValue* before = find(from, v.column);
    add(v.column + "=" + (before ? value_text(*before) + "→" : "") + value_text(v));
  }
  for (const auto& v : from)
    if (!find(set, v.column)) add("(" + v.column + " was " + value_text(v) + ")");
  return out;
}

std::string history_json(const HistoryReport& r) {
  JsonWriter w;
  w.begin_object().field("audit_dir", r.audit_dir).field("schema_source", r.schema_source);
  w.field("table", r.table).field("key_column", r.key_column).field("key", r.key).field("user_field", r.user_field);
  time_field(w, "since", r.since);
  time_field(w, "until", r.until);
  w.field("events_read", r.events);
  w.key("entries").begin_array();
  for (const auto& e : r.entries) entry_json(w, e);
  w.end_array();
  w.key("unjudged_cascades").begin_array();
  for (const auto& u : r.unjudged_cascades) w.value(u);
  w.end_array();
  left_out_json(w, r.left_out);
  w.end_object();
  return w.str();
}

std::vector<ReportLine> history_text(const HistoryReport& r) {
  std::vector<ReportLine> out;
  out.push_back({ReportLine::Kind::heading, "History of " + r.table + " " + r.key_column + "=" + printable(r.key) +
                                                " (" + count_text(r.entries.size(), "event") + " of " +
                                                grouped(r.events) + " read; times in UTC)"});
  if (r.entries.empty())
    out.push_back({ReportLine::Kind::warning, "no logged event touched " + r.table + " " + r.key_column + "=" +
                                                  printable(r.key) + (r.since || r.until ? " in that window" : "")});
  std::vector<std::vector<std::string>> rows;
  if (!r.entries.empty()) rows.push_back({"TIME", "OPERATION", "ACTION", "USER", "AT", "VALUES"});
  for (const auto& e : r.entries) {
    std::string at = e.file.substr(e.file.rfind('/') + 1) + ":" + std::to_string(e.line_number);
    std::string values = values_text(e.set, e.from);
    if (e.element >= 0) values = "(item " + std::to_string(e.element) + ") " + values;
    if (e.cascade) {
      values = "cascade from " + e.cascade->table + " " + printable(e.cascade->key);
      for (const auto& p : e.cascade->path) values += "; " + printable(p);
    }
    rows.push_back({display_time(e.time), e.operation, e.action, printable(cut_text(e.user, 24)), at, values});
  }
  for (const auto& line : align_columns(rows)) out.push_back({ReportLine::Kind::plain, "  " + line});
  if (!r.unjudged_cascades.empty()) {
    out.push_back({ReportLine::Kind::info, "deletes that cascade to " + r.table +
                                               " but could not be judged (the logs never said which parent "
                                               "the row belongs to), e.g. " +
                                               r.unjudged_cascades.front()});
  }
  left_out_text(r.left_out, out);
  return out;
}

}  // namespace auditpitr::ops
