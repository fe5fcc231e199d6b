// status's three outputs: the lines people read, the JSON scripts read, and the Prometheus text
// format node_exporter's textfile collector reads (docs/status.md lists each).
#include <chrono>
#include <sstream>

#include "replay/log/time_parse.h"
#include "src/ops/analyze.h"
#include "src/ops/status.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

std::string utc(std::time_t t) { return replay::format_rfc3339(replay::TimePoint(std::chrono::seconds(t))); }

int64_t unix_seconds(replay::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string ago(std::time_t now, std::time_t then) { return age_text(static_cast<int64_t>(now - then)) + " ago"; }

void outcome_json_fields(JsonWriter& w, const std::string& key, const OutcomeStatus& o) {
  w.key(key);
  if (!o.record && o.unreadable.empty()) {
    w.null();
    return;
  }
  w.begin_object().field("ok", o.ok()).field_or_null("unreadable", o.unreadable);
  if (o.record) {
    const OutcomeRecord& r = *o.record;
    w.field("started", utc(r.started)).field("finished", utc(r.finished));
    w.field("seconds", static_cast<int64_t>(r.finished - r.started)).field_or_null("stamp", r.stamp);
    w.field("detail", r.detail).field("bytes", r.bytes);
  }
  w.end_object();
}

void logs_json(JsonWriter& w, const LogStatus& s) {
  w.key("logs");
  if (!s.configured) {
    w.null();
    return;
  }
  w.begin_object().field("ok", s.ok()).field("audit_dir", s.audit_dir).field("alias", s.alias);
  w.field("dbname", s.dbname).field_or_null("since_stamp", s.since_stamp);
  w.field_or_null("since", s.since ? replay::format_rfc3339(*s.since) : "");
  w.field("events", s.events).field_or_null("first_event", s.first ? replay::format_rfc3339(*s.first) : "");
  w.field_or_null("newest_event", s.newest ? replay::format_rfc3339(*s.newest) : "");
  w.field("reaches_back", s.reaches_back).field("files_read", s.files_read);
  w.field("files_skipped", s.files_skipped).field("malformed_lines", s.malformed_lines);
  w.key("silences").begin_array();
  for (const auto& g : s.silences) {
    w.begin_object().field("from", replay::format_rfc3339(g.from)).field("to", replay::format_rfc3339(g.to));
    w.field("seconds", unix_seconds(g.to) - unix_seconds(g.from)).field("until_now", g.until_now).end_object();
  }
  w.end_array().key("unread_files").begin_array();
  for (const auto& f : s.unread_files)
    w.begin_object().field("path", f.path).field("reason", f.reason).field("hint", f.hint).end_object();
  w.end_array().key("problems").begin_array();
  for (const auto& p : s.problems) w.value(p);
  w.end_array().end_object();
}

}  // namespace

std::string status_json(const StatusReport& r) {
  JsonWriter w;
  w.begin_object().field("healthy", r.healthy()).field("checked_at", utc(r.now)).field("backup_dir", r.backup_dir);
  w.key("attention").begin_array();
  for (const auto& a : r.attention()) w.value(a);
  w.end_array().key("limits").begin_object();
  w.field("max_backup_age_seconds", r.limits.max_backup_age_seconds);
  w.field("max_log_lag_seconds", r.limits.max_log_lag_seconds).end_object();
  w.key("databases").begin_array();
  for (const auto& d : r.databases) {
    w.begin_object().field("alias", d.alias).field("dbname", d.dbname).field("ok", d.ok);
    w.field_or_null("stamp", d.stamp);
    w.field_or_null("snapshot_time_utc", d.stamp.empty() ? "" : utc(d.backup_time));
    w.key("age_seconds");
    if (d.stamp.empty()) w.null();
    else w.value(d.age_seconds);
    w.key("size");
    if (d.stamp.empty()) w.null();
    else w.value(d.size);
    w.end_object();
  }
  w.end_array();
  outcome_json_fields(w, "last_backup", r.last_backup);
  outcome_json_fields(w, "last_drill", r.last_drill);
  outcome_json_fields(w, "last_push", r.last_push);
  w.key("space").begin_object().field("ok", r.space.ok()).field("free_bytes", r.space.free_bytes);
  w.field("needed_bytes", r.space.needed_bytes).field("margin_bytes", r.space.margin_bytes);
  w.field_or_null("as_large_as", r.space.as_large_as).end_object();
  logs_json(w, r.logs);
  w.end_object();
  return w.str();
}

std::vector<StatusLine> status_lines(const StatusReport& r) {
  std::vector<StatusLine> out;
  for (const auto& d : r.databases) {
    if (d.stamp.empty()) {
      out.push_back({false, false, "backup " + d.dbname + ": none yet"});
      continue;
    }
    std::string limit = r.limits.max_backup_age_seconds ? age_text(r.limits.max_backup_age_seconds) : "none";
    out.push_back({d.ok, false,
                   "backup " + d.dbname + ": " + d.stamp + ", " + ago(r.now, d.backup_time) + " (limit " + limit +
                       "), " + human_size(d.size)});
  }
  for (const OutcomeStatus* o : {&r.last_backup, &r.last_drill, &r.last_push}) {
    std::string what = "last " + o->operation + ": ";
    if (!o->unreadable.empty()) {
      out.push_back({false, false, what + o->unreadable});
    } else if (!o->record) {
      out.push_back({true, true, what + "never"});
    } else {
      const OutcomeRecord& rec = *o->record;
      out.push_back({rec.ok, false,
                     what + (rec.ok ? "succeeded " : "FAILED ") + ago(r.now, rec.finished) + " (" +
                         age_text(static_cast<int64_t>(rec.finished - rec.started)) + "): " + rec.detail});
    }
  }
  const SpaceStatus& s = r.space;
  if (!s.ok()) out.push_back({false, false, "free space: " + s.problem});
  else
    out.push_back({true, false,
                   "free space: " + human_size(s.free_bytes) + " free in " + r.backup_dir + "; the next backup needs " +
                       (s.as_large_as.empty() ? "nothing to go by yet"
                                              : "about " + human_size(s.needed_bytes) + " (+ " +
                                                    human_size(s.margin_bytes) + " margin)")});
  const LogStatus& l = r.logs;
  if (!l.configured) {
    out.push_back({true, true, "audit logs: no [audit] section, not checked"});
  } else if (!l.since) {
    out.push_back({true, true, "audit logs: no backup of " + l.dbname + " yet, nothing to cover"});
  } else {
    std::string line = "audit logs: " + count_text(l.events, "event") + " since backup " + l.since_stamp;
    if (l.newest) line += ", newest " + ago(r.now, unix_seconds(*l.newest));
    line += " (" + count_text(l.files_read, "file") + " read";
    if (l.malformed_lines) line += ", " + count_text(l.malformed_lines, "malformed line");
    line += ")";
    if (l.ok()) out.push_back({true, false, line});
    else
      for (const auto& p : l.problems) out.push_back({false, false, "audit logs: " + p});
  }
  return out;
}

namespace {

std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Metrics {
 public:
  /// Starts a metric family: its HELP and TYPE lines (gauges: each value is the state now).
  /// A family without samples is left out altogether (its HELP and TYPE too).
  Metrics& family(const std::string& name, const std::string& help) {
    header_ = "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
    name_ = name;
    return *this;
  }
  Metrics& sample(double value, const std::string& labels = {}) {
    out_ << header_;
    header_.clear();
    out_ << name_ << (labels.empty() ? "" : "{" + labels + "}") << " " << number(value) << "\n";
    return *this;
  }
  std::string str() const { return out_.str(); }

 private:
  static std::string number(double v) {
    std::ostringstream s;
    s.precision(15);
    s << v;
    return s.str();
  }
  std::ostringstream out_;
  std::string header_, name_;
};

std::string db_labels(const std::string& dbname, const std::string& alias) {
  return "database=\"" + label_value(dbname) + "\",alias=\"" + label_value(alias) + "\"";
}

}  // namespace

std::string status_metrics(const StatusReport& r) {
  Metrics m;
  m.family("auditpitr_status_healthy", "1 when auditpitr status finds nothing that needs attention, else 0")
      .sample(r.healthy() ? 1 : 0);
  m.family("auditpitr_status_checked_timestamp_seconds", "When auditpitr status ran (Unix time)")
      .sample(static_cast<double>(r.now));
  m.family("auditpitr_backup_present", "1 when the database has a complete backup, else 0");
  for (const auto& d : r.databases) m.sample(d.stamp.empty() ? 0 : 1, db_labels(d.dbname, d.alias));
  m.family("auditpitr_backup_ok", "1 when the newest complete backup is younger than [status] max_backup_age");
  for (const auto& d : r.databases) m.sample(d.ok ? 1 : 0, db_labels(d.dbname, d.alias));
  m.family("auditpitr_backup_last_timestamp_seconds", "Snapshot time of the newest complete backup (Unix time)");
  for (const auto& d : r.databases)
    if (!d.stamp.empty()) m.sample(static_cast<double>(d.backup_time), db_labels(d.dbname, d.alias));
  m.family("auditpitr_backup_last_size_bytes", "Size of the newest complete backup's dump file");
  for (const auto& d : r.databases)
    if (!d.stamp.empty()) m.sample(static_cast<double>(d.size), db_labels(d.dbname, d.alias));
  for (const OutcomeStatus* o : {&r.last_backup, &r.last_drill, &r.last_push}) {
    const std::string base = "auditpitr_last_" + o->operation;
    m.family(base + "_success", "1 when the last " + o->operation + " succeeded, 0 when it failed (absent: never ran)");
    if (o->record || !o->unreadable.empty()) m.sample(o->ok() ? 1 : 0);
    if (!o->record) continue;
    m.family(base + "_finished_timestamp_seconds", "When the last " + o->operation + " ended (Unix time)")
        .sample(static_cast<double>(o->record->finished));
    m.family(base + "_duration_seconds", "How long the last " + o->operation + " took")
        .sample(static_cast<double>(o->record->finished - o->record->started));
    if (o->operation != "drill")
      m.family(base + "_bytes", "Bytes the last " + o->operation + " wrote or sent")
          .sample(static_cast<double>(o->record->bytes));
  }
  m.family("auditpitr_backup_folder_free_bytes", "Free space in the backup folder's file system");
  if (r.space.known) m.sample(static_cast<double>(r.space.free_bytes));
  m.family("auditpitr_backup_next_needed_bytes", "Space the next backup is expected to need (the last one's size)")
      .sample(static_cast<double>(r.space.needed_bytes));
  m.family("auditpitr_backup_space_ok", "1 when the free space holds the next backup and the margin, else 0")
      .sample(r.space.ok() ? 1 : 0);
  if (r.logs.configured) {
    const LogStatus& l = r.logs;
    std::string labels = db_labels(l.dbname, l.alias);
    m.family("auditpitr_audit_logs_covered",
             "1 when the audit logs cover the time since the newest backup (docs/status.md), else 0")
        .sample(l.ok() ? 1 : 0, labels);
    m.family("auditpitr_audit_logs_events_since_backup", "Audit events after the newest backup's snapshot")
        .sample(static_cast<double>(l.events), labels);
    if (l.newest)
      m.family("auditpitr_audit_logs_newest_event_timestamp_seconds", "Time of the newest audit event (Unix time)")
          .sample(static_cast<double>(unix_seconds(*l.newest)), labels);
    m.family("auditpitr_audit_logs_silences", "Stretches without an audit event longer than [status] max_log_lag")
        .sample(static_cast<double>(l.silences.size()), labels);
    m.family("auditpitr_audit_logs_unread_files", "Files looking like audit logs, written since the backup, not read")
        .sample(static_cast<double>(l.unread_files.size()), labels);
  }
  return m.str();
}

}  // namespace auditpitr::ops
