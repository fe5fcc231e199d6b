// verify's two renderings: one JSON object (docs/verify.md, "JSON") and lines for people.
#include <algorithm>

#include "src/ops/verify.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

using verify::Presence;
using verify::TableComparison;
using verify::TableDiff;
using verify::Verdict;

void key_json(JsonWriter& w, const std::vector<std::string>& columns, const std::vector<std::string>& key) {
  w.begin_object();
  for (std::size_t i = 0; i < columns.size() && i < key.size(); ++i) w.field(columns[i], key[i]);
  w.end_object();
}

void keys_json(JsonWriter& w, const char* name, const TableDiff& d, const std::vector<std::vector<std::string>>& keys) {
  w.key(name).begin_array();
  for (const auto& key : keys) key_json(w, d.key_columns, key);
  w.end_array();
}

void diff_json(JsonWriter& w, const TableComparison& t) {
  w.key("diff");
  if (!t.diff) {
    w.null();
    return;
  }
  const TableDiff& d = *t.diff;
  w.begin_object().field("keyed", d.keyed()).key("key_columns").begin_array();
  for (const auto& k : d.key_columns) w.value(k);
  w.end_array().field("missing", d.missing).field("extra", d.extra).field("changed", d.changed);
  keys_json(w, "missing_keys", d, d.missing_keys);
  keys_json(w, "extra_keys", d, d.extra_keys);
  w.key("changed_rows").begin_array();
  for (const auto& row : d.changed_rows) {
    w.begin_object().key("key");
    key_json(w, d.key_columns, row.key);
    w.key("columns").begin_array();
    for (const auto& c : row.columns) w.value(c);
    w.end_array().end_object();
  }
  w.end_array();
  bool truncated =
      d.missing_keys.size() < d.missing || d.extra_keys.size() < d.extra || d.changed_rows.size() < d.changed;
  w.field("truncated", d.keyed() && truncated).end_object();
}

void column_json(JsonWriter& w, const verify::ColumnComparison& c) {
  w.begin_object().field("name", c.name).field("verdict", verdict_name(c.verdict)).field("why", c.why);
  w.key("rows_different");
  if (c.rows_different) w.value(*c.rows_different);
  else w.null();
  w.end_object();
}

void table_json(JsonWriter& w, const TableComparison& t, bool columns_only) {
  w.begin_object().field("schema", t.schema).field("name", t.name).field("equal", t.equal());
  w.field("in_expected", t.in_expected).field("in_actual", t.in_actual);
  w.field("expected_rows", t.expected_rows).field("actual_rows", t.actual_rows);
  w.key("primary_key").begin_array();
  for (const auto& k : t.primary_key) w.value(k);
  w.end_array();
  w.field("content", columns_only ? "not_compared" : verdict_name(t.content)).field("content_why", t.content_why);
  w.key("columns").begin_array();
  for (const auto& c : t.columns) column_json(w, c);
  w.end_array();
  diff_json(w, t);
  w.field("diff_skipped", t.diff_skipped).end_object();
}

// "id=7", "(portfolio_id, position)=(3, 12)": values made safe to print, long ones cut.
std::string key_text(const std::vector<std::string>& columns, const std::vector<std::string>& key) {
  auto value = [](const std::string& v) { return printable(v.size() > 40 ? v.substr(0, 40) + "..." : v); };
  if (columns.size() == 1 && key.size() == 1) return columns[0] + "=" + value(key[0]);
  std::string names, values;
  for (std::size_t i = 0; i < columns.size() && i < key.size(); ++i) {
    names += (i ? ", " : "") + columns[i];
    values += (i ? ", " : "") + value(key[i]);
  }
  return "(" + names + ")=(" + values + ")";
}

std::string rows_text(uint64_t n) { return count_text(n, "row"); }

struct TextContext {
  const VerifyReport& report;
  std::size_t listed;
  std::vector<ReportLine>& out;
  void line(const std::string& text) const { out.push_back({ReportLine::Kind::plain, text}); }
  std::string where(Presence p) const {
    return p == Presence::expected_only ? "only in " + report.expected_short : "only in " + report.actual_short;
  }
  // The first keys, then how many more there are.
  std::string listed_keys(const std::vector<std::string>& texts, uint64_t total) const {
    std::string out;
    for (std::size_t i = 0; i < texts.size() && i < listed; ++i) out += (i ? ", " : "") + texts[i];
    uint64_t shown = std::min<uint64_t>(total, std::min(texts.size(), listed));
    if (total > shown)
      out += " and " + grouped(total - shown) + " more (--json lists up to " + grouped(report.max_keys) + ")";
    return out;
  }
};

std::string table_headline(const TextContext& c, const TableComparison& t) {
  const VerifyReport& r = c.report;
  std::string name = printable(t.qualified());
  if (!t.in_actual)
    return name + ": MISSING from " + r.actual_short + " (" + rows_text(t.expected_rows) + " in " + r.expected_short +
           ")";
  if (!t.in_expected) return name + ": UNEXPECTED, only in " + r.actual_short + " (" + rows_text(t.actual_rows) + ")";
  if (!t.rows_equal())
    return name + ": DIFFERENT: " + rows_text(t.expected_rows) + " in " + r.expected_short + ", " +
           grouped(t.actual_rows) + " in " + r.actual_short;
  std::size_t compared = t.columns.size();
  std::string columns = r.columns_only ? count_text(compared, "column") + " compared" : count_text(compared, "column");
  return name + (t.equal() ? ": equal, " : ": DIFFERENT, ") + rows_text(t.actual_rows) + ", " + columns;
}

// Per column what is not equal. With other row counts every column's checksum differs, which
// says nothing; once the rows were matched by key, a column differs where matched rows differ.
void column_lines(const TextContext& c, const TableComparison& t) {
  bool counted = t.diff && t.diff->keyed();
  if (t.content == Verdict::not_comparable) c.line("    whole rows not comparable: " + t.content_why);
  if (!t.rows_equal() && !counted) c.line("    the column checksums differ, as they do when rows are missing or extra");
  std::size_t same = 0, listed = 0;
  for (const auto& col : t.columns) {
    std::string name = "    column " + printable(col.name) + ": ";
    if (col.verdict == Verdict::not_comparable) {
      c.line(name + "not comparable, " + (col.presence == Presence::both ? col.why : c.where(col.presence)));
      ++listed;
    } else if (counted ? col.rows_different.value_or(0) > 0 : col.verdict == Verdict::different && t.rows_equal()) {
      c.line(name + "different" + (counted ? " in " + rows_text(*col.rows_different) : ""));
      ++listed;
    } else {
      ++same;
    }
  }
  bool unmatched = !t.rows_equal() || (t.diff && (t.diff->missing > 0 || t.diff->extra > 0));
  std::string where = unmatched ? " in the rows on both sides" : "";
  if (listed > 0 && same > 0) c.line("    " + count_text(same, "other column") + " equal" + where);
  if (listed == 0 && counted) c.line("    every column equal" + where);
  if (t.content == Verdict::different && t.rows_equal() && listed == 0 && !counted)
    c.line("    the rows differ, though every column's checksum is equal");
}

std::vector<std::string> key_texts(const TableDiff& d, const std::vector<std::vector<std::string>>& keys) {
  std::vector<std::string> texts;
  for (const auto& k : keys) texts.push_back(key_text(d.key_columns, k));
  return texts;
}

void diff_lines(const TextContext& c, const TableComparison& t) {
  const VerifyReport& r = c.report;
  if (!t.diff_skipped.empty()) c.line("    rows not compared one by one: " + t.diff_skipped);
  if (!t.diff) return;
  const TableDiff& d = *t.diff;
  if (!d.keyed()) {
    c.line("    no primary key, whole rows compared: " + rows_text(d.missing) + " only in " + r.expected_short + ", " +
           grouped(d.extra) + " only in " + r.actual_short + " (a changed row counts in both; no key to name them)");
    return;
  }
  if (d.missing)
    c.line("    missing from " + r.actual_short + ": " + rows_text(d.missing) + ": " +
           c.listed_keys(key_texts(d, d.missing_keys), d.missing));
  if (d.extra)
    c.line("    extra in " + r.actual_short + ": " + rows_text(d.extra) + ": " +
           c.listed_keys(key_texts(d, d.extra_keys), d.extra));
  if (d.changed) {
    std::vector<std::string> texts;
    for (const auto& row : d.changed_rows) {
      std::string columns;
      for (const auto& col : row.columns) columns += (columns.empty() ? "" : ", ") + printable(col);
      texts.push_back(key_text(d.key_columns, row.key) + " (" + columns + ")");
    }
    c.line("    changed: " + rows_text(d.changed) + ": " + c.listed_keys(texts, d.changed));
  }
}

std::vector<std::string> differing_names(const VerifyReport& r) {
  std::vector<std::string> names;
  for (const auto& t : r.comparison.tables)
    if (!t.equal()) names.push_back(t.qualified());
  return names;
}

}  // namespace

std::string verify_json(const VerifyReport& r) {
  JsonWriter w;
  w.begin_object().field("actual", r.actual).key("expected").begin_object();
  w.field("kind", r.against_backup ? "backup" : "database").field("description", r.expected);
  w.field_or_null("stamp", r.stamp).field_or_null("snapshot_time_utc", r.snapshot_time_utc).end_object();
  w.field_or_null("note", r.note).field("columns_only", r.columns_only).field("diff", r.diff);
  w.field("max_keys", static_cast<uint64_t>(r.max_keys));
  w.field("equal", r.comparison.equal()).field("tables_compared", static_cast<uint64_t>(r.comparison.tables.size()));
  w.field("tables_differing", static_cast<uint64_t>(r.comparison.differing_tables()));
  w.field("checksum_seconds", r.comparison.checksum_seconds).field("diff_seconds", r.comparison.diff_seconds);
  w.key("tables").begin_array();
  for (const auto& t : r.comparison.tables) table_json(w, t, r.columns_only);
  w.end_array().end_object();
  return w.str();
}

std::vector<ReportLine> verify_text(const VerifyReport& r, std::size_t listed_keys) {
  std::vector<ReportLine> out;
  TextContext c{r, listed_keys, out};
  out.push_back({ReportLine::Kind::heading, "Verifying " + r.actual});
  std::string snapshot = r.snapshot_time_utc.empty() ? "" : " (snapshot " + r.snapshot_time_utc + ")";
  out.push_back({ReportLine::Kind::info, "against " + r.expected + snapshot});
  if (!r.note.empty()) out.push_back({ReportLine::Kind::warning, r.note});
  if (r.columns_only)
    out.push_back({ReportLine::Kind::info, "only the --columns named are compared, with the row counts"});
  for (const auto& t : r.comparison.tables) {
    c.line("  " + table_headline(c, t));
    if (t.equal() || !t.in_actual || !t.in_expected) continue;
    column_lines(c, t);
    diff_lines(c, t);
  }
  out.push_back({ReportLine::Kind::heading, "Result"});
  std::string took = " (" + human_duration(r.comparison.checksum_seconds + r.comparison.diff_seconds) + ")";
  if (r.comparison.equal()) {
    out.push_back({ReportLine::Kind::info, "all " + count_text(r.comparison.tables.size(), "table") + " equal" + took});
  } else {
    out.push_back({ReportLine::Kind::warning, verify_summary(r) + took});
    if (!r.diff && !r.against_backup)
      out.push_back({ReportLine::Kind::info, "--diff names the rows that are missing, extra or changed"});
  }
  return out;
}

std::string verify_summary(const VerifyReport& r) {
  std::vector<std::string> names = differing_names(r);
  std::string listed;
  for (std::size_t i = 0; i < names.size() && i < 5; ++i) listed += (i ? ", " : "") + printable(names[i]);
  if (names.size() > 5) listed += " and " + std::to_string(names.size() - 5) + " more";
  if (names.empty()) return r.actual + " matches " + r.expected;
  return r.actual + " differs from " + r.expected + " in " + std::to_string(names.size()) + " of " +
         count_text(r.comparison.tables.size(), "table") + ": " + listed;
}

}  // namespace auditpitr::ops
