// ScriptSink: build_statement with literals instead of placeholders. psql's ON_ERROR_ROLLBACK
// undoes a refused statement alone, as replay's skip leaves out a refused event.
#include "replay/apply/script_sink.h"

#include "replay/apply/row_statement.h"

namespace auditpitr::replay {
namespace {

/// Text from the logs for a `--` comment: no line break or other control character can end the
/// comment early and make the rest of the line SQL.
std::string comment_text(const std::string& text) {
  std::string out;
  for (unsigned char ch : text) out += ch < 0x20 || ch == 0x7f ? '?' : static_cast<char>(ch);
  return out;
}

}  // namespace

ScriptSink::ScriptSink(AtomicFile& file, const TargetCatalog& catalog, ConflictPolicy policy,
                       const std::string& header_comment)
    : file_(file), catalog_(catalog) {
  text_ = "-- " + comment_text(header_comment) + "\n";
  text_ += policy == ConflictPolicy::fail ? "\\set ON_ERROR_STOP on\n" : "\\set ON_ERROR_ROLLBACK on\n";
  text_ += "SET standard_conforming_strings = on;\nBEGIN;\n";
}

bool ScriptSink::apply_all(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes,
                           std::optional<std::size_t>&) {
  outcomes.clear();
  for (const RowChange* change : changes) {
    auto params = statement_params(*change);
    text_ +=
        "-- " + comment_text(change->file + ":" + std::to_string(change->line_number) + " " + change->operation) + "\n";
    text_ += build_statement(*change, catalog_, [&](std::size_t i) { return sql_literal(params[i]); });
    text_ += ";\n";
    ChangeOutcome out;
    out.kind = ChangeOutcomeKind::scripted;
    outcomes.push_back(out);
  }
  return true;
}

std::vector<ChangeOutcome> ScriptSink::apply_event(const std::vector<const RowChange*>& changes) {
  std::vector<ChangeOutcome> outcomes;
  std::optional<std::size_t> never_refused;
  apply_all(changes, outcomes, never_refused);
  return outcomes;
}

void ScriptSink::flush() {
  file_.write(text_);
  text_.clear();
}

void ScriptSink::finish(const std::string& closing_sql) {
  text_ += closing_sql;
  text_ += "COMMIT;\n";
  flush();
}

}  // namespace auditpitr::replay
