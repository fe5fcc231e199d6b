// changes over the fixture application's logs (no server): a window grouped by table and action,
// by user, by table; a bulk reorder counted once per row; the JSON form. Over scripted events: the
// memory holds counts and the first rows only, whatever the window's size.
#include "src/ops/changes.h"

#include <simdjson.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "src/error.h"
#include "src/util/json_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"
#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;

namespace {

ops::ChangesReport changes_of(const std::string& from, const std::string& to, std::vector<std::string> tables = {},
                              std::vector<std::string> users = {}) {
  replay::Mapper mapper(replay::load_mapping_rules(test::source_path("fixtures/portfolio-manager/mapping.toml")),
                        test::portfolio_catalog());
  ops::ChangesOptions options;
  options.from = replay::parse_cli_time(from);
  options.to = replay::parse_cli_time(to);
  options.tables = std::move(tables);
  options.users = std::move(users);
  replay::AuditSourceOptions source_options;
  source_options.until = options.to;
  auto events = replay::open_event_logs(test::source_path("fixtures/portfolio-manager/audit"), source_options);
  return ops::changes_events(*events, mapper, options);
}

std::vector<std::string> summary(const ops::ChangesReport& r) {
  std::vector<std::string> out;
  for (const auto& g : r.groups) out.push_back(g.table + " " + g.action + " " + std::to_string(g.count));
  return out;
}

std::vector<std::string> keys(const ops::ChangeGroup& g) {
  REQUIRE(g.first_rows.size() == g.count);  // the fixture's groups are all shown whole
  std::vector<std::string> out;
  for (const auto& row : g.first_rows) out.push_back(row.key);
  return out;
}

/// CREATE_PORTFOLIO lines for portfolios 1..count, a second apart, each followed by a
/// DELETE_PORTFOLIO of the same portfolio when `deletes`: two groups filled in turns.
class ScriptedSource : public replay::AuditEventSource {
 public:
  ScriptedSource(int count, bool deletes) : count_(count), deletes_(deletes) {}
  bool next(replay::AuditEvent& event) override {
    if (id_ == count_ && !pending_delete_) return false;
    std::string op = pending_delete_ ? "DELETE_PORTFOLIO" : "CREATE_PORTFOLIO";
    if (!pending_delete_) ++id_;
    std::string json = R"({"level":"info","operation":")" + op + R"(","portfolioID":)" + std::to_string(id_) +
                       R"(,"title":"Portfolio )" + std::to_string(id_) + R"(","userID":"user-)" +
                       std::to_string(id_ % 7) + R"("})";
    holder_ = std::make_unique<test::EventHolder>(op, json, 1736935200 + id_);
    event = holder_->event;
    event.line_number = ++line_;
    pending_delete_ = deletes_ && !pending_delete_;
    return true;
  }
  std::vector<replay::AuditFileStats> file_stats() const override { return {}; }

 private:
  int count_;
  bool deletes_;
  int id_ = 0;
  uint64_t line_ = 0;
  bool pending_delete_ = false;
  std::unique_ptr<test::EventHolder> holder_;
};

ops::ChangesReport scripted_changes(int count, bool deletes, std::size_t memory_budget, bool all_rows = true) {
  replay::Mapper mapper(replay::load_mapping_rules(test::source_path("fixtures/portfolio-manager/mapping.toml")),
                        test::portfolio_catalog());
  ops::ChangesOptions options;
  options.from = replay::parse_cli_time("2025-01-01T00:00:00Z");
  options.to = replay::parse_cli_time("2025-02-01T00:00:00Z");
  options.memory_budget = memory_budget;
  options.all_rows = all_rows;
  ScriptedSource source(count, deletes);
  return ops::changes_events(source, mapper, options);
}

/// Sets TMPDIR to a fresh folder for the scope.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    const char* old = std::getenv("TMPDIR");
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv("TMPDIR", dir_.path().c_str(), 1);
  }
  ~TemporaryFolder() {
    if (had_) ::setenv("TMPDIR", old_.c_str(), 1);
    else ::unsetenv("TMPDIR");
  }
  bool empty() const { return std::filesystem::is_empty(dir_.path()); }
  const std::string& path() const { return dir_.path(); }

 private:
  test::TempDir dir_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST_CASE("changes of the whole fixture day, grouped by table and action", "[changes]") {
  // create.log's last line is still being written (no newline): not read, so 2 category inserts.
  ops::ChangesReport r = changes_of("2025-01-15T00:00:00Z", "2025-01-16T00:00:00Z");
  CHECK(summary(r) == std::vector<std::string>{"categories insert 2", "categories soft_delete 1", "categories update 4",
                                               "portfolios insert 1", "portfolios soft_delete 1", "portfolios update 1",
                                               "projects soft_delete 1", "section_contents soft_delete 1",
                                               "sections insert 2", "sections soft_delete 1", "sections update 3"});
}

TEST_CASE("changes --user: what this user did, a bulk reorder once per row", "[changes]") {
  ops::ChangesReport r = changes_of("2025-01-15T00:00:00Z", "2025-01-16T00:00:00Z", {}, {"user-bob"});
  for (const auto& g : r.groups)
    for (const auto& row : g.first_rows) CHECK(row.user == "user-bob");
  const ops::ChangeGroup* moved = nullptr;
  for (const auto& g : r.groups)
    if (g.table == "categories" && g.action == "update") moved = &g;
  REQUIRE(moved);
  CHECK(keys(*moved) == std::vector<std::string>{"3", "5"});  // BULK_REORDER_CATEGORIES items
  CHECK(moved->first_rows[0].file.substr(moved->first_rows[0].file.rfind('/') + 1) == "update.log");
  CHECK(moved->first_rows[0].line_number == 6);
}

TEST_CASE("changes --table and the window's edges (both included)", "[changes]") {
  ops::ChangesReport r = changes_of("2025-01-15T09:31:00Z", "2025-01-15T12:32:00Z", {"categories"});
  CHECK(summary(r) == std::vector<std::string>{"categories insert 1", "categories update 4"});
  CHECK(keys(r.groups[0]) == std::vector<std::string>{"5"});
  CHECK(keys(r.groups[1]) == std::vector<std::string>{"2", "1", "3", "5"});  // 09:31 and 12:32 included
  try {
    changes_of("2025-01-15T00:00:00Z", "2025-01-16T00:00:00Z", {"category"});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(exit_code(e.kind()) == 2);
    CHECK(e.hint().find("categories") != std::string::npos);
  }
}

TEST_CASE("changes --json is one object with the documented keys", "[changes]") {
  ops::ChangesReport r = changes_of("2025-01-15T00:00:00Z", "2025-01-16T00:00:00Z", {}, {"user-bob"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(ops::changes_json(r));
  for (const char* key : {"audit_dir", "schema_source", "from", "to", "tables", "users", "user_field", "events",
                          "matched_events", "groups", "unread_files", "unfinished_lines"})
    CHECK(doc[key].error() == simdjson::SUCCESS);
  simdjson::dom::element group = doc["groups"].get_array().at(0);
  for (const char* key : {"table", "action", "count", "rows"}) CHECK(group[key].error() == simdjson::SUCCESS);
  simdjson::dom::element row = group["rows"].get_array().at(0);
  for (const char* key : {"key", "time", "operation", "user", "set", "from", "file", "line"})
    CHECK(row[key].error() == simdjson::SUCCESS);
}

TEST_CASE("changes holds counts and the first rows only, whatever the window's size", "[changes]") {
  TemporaryFolder tmp;
  constexpr int kRows = 3000;
  constexpr std::size_t kBudget = 16u << 10;
  ops::ChangesReport r = scripted_changes(kRows, true, kBudget);
  CHECK(summary(r) == std::vector<std::string>{"portfolios insert 3000", "portfolios soft_delete 3000"});
  for (const auto& g : r.groups) CHECK(g.first_rows.size() == ops::kChangesRowsShown);
  // --json's rows: within the budget in memory, the rest in a temporary file already unlinked.
  REQUIRE(r.rows);
  CHECK(r.rows->buffered_bytes() <= kBudget);
  CHECK(r.rows->spilled_bytes() > 100 * kBudget);
  CHECK(r.rows->path().rfind(tmp.path() + "/auditpitr-spill-", 0) == 0);
  CHECK(tmp.empty());
  // and they come back whole, in order, group after group.
  std::string json = ops::changes_json(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  simdjson::dom::array groups = doc["groups"].get_array();
  REQUIRE(groups.size() == 2);
  for (simdjson::dom::element g : groups) {
    CHECK(uint64_t(g["count"]) == kRows);
    simdjson::dom::array rows = g["rows"].get_array();
    REQUIRE(rows.size() == kRows);
    int expected = 0;
    for (simdjson::dom::element row : rows) {
      CHECK(std::string(row["key"].get_string().value()) == std::to_string(++expected));
      if (expected == 30) break;
    }
    CHECK(std::string(rows.at(kRows - 1)["key"].get_string().value()) == std::to_string(kRows));
  }
  // The same document as when everything stays in memory, byte for byte; the text alike.
  ops::ChangesReport in_memory = scripted_changes(kRows, true, 64u << 20);
  CHECK(in_memory.rows->spilled_bytes() == 0);
  CHECK(ops::changes_json(in_memory) == json);
  CHECK(tmp.empty());
  auto texts = [](const ops::ChangesReport& report) {
    std::string out;
    for (const auto& line : ops::changes_text(report)) out += line.text + "\n";
    return out;
  };
  ops::ChangesReport text_only = scripted_changes(kRows, true, kBudget, false);
  CHECK(!text_only.rows);
  CHECK(texts(text_only) == texts(r));
  CHECK_THAT(texts(r), Catch::Contains("and 2,980 more rows (--json lists them all)"));
}

TEST_CASE("changes --json's document is the same whether handed over whole or in pieces", "[changes]") {
  ops::ChangesReport r = scripted_changes(500, false, 4u << 10);
  std::string pieces;
  int count = 0;
  ops::changes_json(r, [&](const std::string& piece) {
    pieces += piece;
    ++count;
  });
  CHECK(count > 1);
  CHECK(pieces == ops::changes_json(r));
}

// The document as it was written before the rows left the memory (all rows held, one writer): the
// spilled rows must come out byte for byte the same (docs/changes.md is the contract).
std::string reference_json(const ops::ChangesReport& r) {
  JsonWriter w;
  w.begin_object().field("audit_dir", r.audit_dir).field("schema_source", r.schema_source);
  w.field("from", replay::format_time(r.options.from)).field("to", replay::format_time(r.options.to));
  w.key("tables").begin_array();
  for (const auto& v : r.options.tables) w.value(v);
  w.end_array().key("users").begin_array();
  for (const auto& v : r.options.users) w.value(v);
  w.end_array();
  w.field("user_field", r.user_field).field("events", r.events).field("matched_events", r.matched_events);
  w.key("groups").begin_array();
  for (const auto& g : r.groups) {
    REQUIRE(g.first_rows.size() == g.count);
    w.begin_object().field("table", g.table).field("action", g.action).field("count", uint64_t(g.first_rows.size()));
    w.key("rows").begin_array();
    for (const auto& row : g.first_rows) {
      w.begin_line_object().field("key", row.key).field("time", replay::format_time(row.time));
      w.field("operation", row.operation).field_or_null("user", row.user);
      ops::values_json(w, "set", row.set);
      ops::values_json(w, "from", row.from);
      w.field("file", row.file).field("line", row.line_number).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array();
  ops::left_out_json(w, r.left_out);
  w.end_object();
  return w.str();
}

TEST_CASE("changes --json writes the rows exactly as the whole document did", "[changes]") {
  ops::ChangesReport r = changes_of("2025-01-15T00:00:00Z", "2025-01-16T00:00:00Z");
  CHECK(ops::changes_json(r) == reference_json(r));
  ops::ChangesReport bob = changes_of("2025-01-15T00:00:00Z", "2025-01-16T00:00:00Z", {"categories"}, {"user-bob"});
  CHECK(ops::changes_json(bob) == reference_json(bob));
  ops::ChangesReport none = changes_of("2024-01-15T00:00:00Z", "2024-01-16T00:00:00Z");
  CHECK(none.groups.empty());
  CHECK(ops::changes_json(none) == reference_json(none));
}
