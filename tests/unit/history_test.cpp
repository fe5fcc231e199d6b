// history over the fixture application's logs and generated lines (no server): a row created,
// reordered through a fan-out and deleted by a cascade; windows; unknown tables; the JSON form.
#include "src/ops/history.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

#include "src/error.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"
#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;

namespace {

ops::HistoryReport history_of(const std::string& dir, const std::string& table, const std::string& key,
                              ops::HistoryOptions options = {}) {
  replay::Mapper mapper(replay::load_mapping_rules(test::source_path("fixtures/portfolio-manager/mapping.toml")),
                        test::portfolio_catalog());
  options.table = table;
  options.key = key;
  replay::AuditSourceOptions source_options;
  source_options.until = options.until;
  auto events = replay::open_event_logs(dir, source_options);
  return ops::history_events(*events, mapper, options);
}

std::string fixture_logs() { return test::source_path("fixtures/portfolio-manager/audit"); }

std::vector<std::string> actions(const ops::HistoryReport& r) {
  std::vector<std::string> out;
  for (const auto& e : r.entries) out.push_back(e.operation + " " + e.action);
  return out;
}

const ops::HistoryValue* find(const std::vector<ops::HistoryValue>& values, const std::string& column) {
  for (const auto& v : values)
    if (v.column == column) return &v;
  return nullptr;
}

replay::TimePoint at(const std::string& text) { return replay::parse_cli_time(text); }

}  // namespace

TEST_CASE("history of a section: created, reordered through a bulk fan-out, deleted by its portfolio's cascade",
          "[history]") {
  ops::HistoryReport r = history_of(fixture_logs(), "sections", "3");
  REQUIRE(actions(r) == std::vector<std::string>{"CREATE_SECTION insert", "BULK_REORDER_SECTIONS update",
                                                 "DELETE_PORTFOLIO cascade_soft_delete"});
  const auto& created = r.entries[0];
  CHECK(created.user == "user-alice");
  CHECK(find(created.set, "title")->value == "Bio");
  CHECK(created.file.substr(created.file.rfind('/') + 1) == "create.log");
  CHECK(created.line_number == 3);
  const auto& reordered = r.entries[1];
  CHECK(reordered.element == 1);  // items[1] of the line, not BULK_REORDER_CATEGORIES' id 3
  CHECK(find(reordered.set, "position")->value == "1");
  CHECK(find(reordered.set, "position")->field == "items[1].position");
  const auto& cascade = r.entries[2];
  REQUIRE(cascade.cascade);
  CHECK(cascade.cascade->table == "portfolios");
  CHECK(cascade.cascade->key == "4");
  CHECK(cascade.cascade->path == std::vector<std::string>{"sections.portfolio_id = 4"});
  CHECK(cascade.line_number == 4);
  CHECK(r.key_column == "id");
}

TEST_CASE("history of a category deleted directly and then by its portfolio; the from value of a move", "[history]") {
  ops::HistoryReport r = history_of(fixture_logs(), "categories", "4");
  CHECK(actions(r) == std::vector<std::string>{"CREATE_CATEGORY insert", "DELETE_CATEGORY soft_delete",
                                               "DELETE_PORTFOLIO cascade_soft_delete"});
  ops::HistoryReport moved = history_of(fixture_logs(), "categories", "2");
  REQUIRE(moved.entries.size() == 1);
  CHECK(find(moved.entries[0].set, "position")->value == "1");
  CHECK(find(moved.entries[0].from, "position")->value == "2");
  CHECK(ops::values_text(moved.entries[0].set, moved.entries[0].from).find("position=2→1") != std::string::npos);
}

TEST_CASE("history follows a cascade over two levels with the foreign keys the logs carried", "[history]") {
  test::TempDir dir;
  test::write_text(
      dir / "create.log",
      R"({"level":"info","operation":"CREATE_CATEGORY","categoryID":10,"portfolioID":1,"title":"A","userID":"u1","time":"2025-02-01T10:00:00Z"})"
      "\n"
      R"({"level":"info","operation":"CREATE_PROJECT","projectID":7,"categoryID":10,"title":"P","userID":"u1","time":"2025-02-01T10:01:00Z"})"
      "\n"
      R"({"level":"info","operation":"CREATE_PROJECT","projectID":8,"categoryID":11,"title":"Q","userID":"u1","time":"2025-02-01T10:02:00Z"})"
      "\n");
  test::write_text(
      dir / "delete.log",
      R"({"level":"info","operation":"DELETE_PORTFOLIO","portfolioID":2,"userID":"u2","time":"2025-02-01T11:00:00Z"})"
      "\n"
      R"({"level":"info","operation":"DELETE_PORTFOLIO","portfolioID":1,"userID":"u1","time":"2025-02-01T12:00:00Z"})"
      "\n");
  ops::HistoryReport r = history_of(dir.path(), "projects", "7");
  REQUIRE(actions(r) == std::vector<std::string>{"CREATE_PROJECT insert", "DELETE_PORTFOLIO cascade_soft_delete"});
  CHECK(r.entries[1].user == "u1");
  CHECK(r.entries[1].cascade->path ==
        std::vector<std::string>{"categories.portfolio_id = 1", "projects.category_id = 10"});
  // Project 8's category was never created in the logs: the portfolio deletes cannot be judged.
  ops::HistoryReport unknown = history_of(dir.path(), "projects", "8");
  CHECK(actions(unknown) == std::vector<std::string>{"CREATE_PROJECT insert"});
  CHECK(unknown.unjudged_cascades.size() == 2);
}

TEST_CASE("history --since/--until keep the events of the window only", "[history]") {
  ops::HistoryOptions options;
  options.since = at("2025-01-15T09:30:00Z");
  options.until = at("2025-01-15T13:00:30Z");
  ops::HistoryReport r = history_of(fixture_logs(), "categories", "4", options);
  CHECK(actions(r) == std::vector<std::string>{"DELETE_CATEGORY soft_delete"});
}

TEST_CASE("history names the tables for an unknown one, and says when nothing touched the row", "[history]") {
  try {
    history_of(fixture_logs(), "category", "4");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(exit_code(e.kind()) == 2);
    CHECK(std::string(e.what()).find("'category'") != std::string::npos);
    CHECK(e.hint().find("categories") != std::string::npos);
  }
  ops::HistoryReport none = history_of(fixture_logs(), "portfolios", "99");
  CHECK(none.entries.empty());
  auto lines = ops::history_text(none);
  bool said = false;
  for (const auto& l : lines) said |= l.text.find("no logged event touched portfolios id=99") != std::string::npos;
  CHECK(said);
}

TEST_CASE("history --json is one object with the documented keys", "[history]") {
  ops::HistoryReport r = history_of(fixture_logs(), "sections", "3");
  std::string json = ops::history_json(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  CHECK(std::string(doc["table"].get_string().value()) == "sections");
  CHECK(std::string(doc["key"].get_string().value()) == "3");
  simdjson::dom::array entries = doc["entries"].get_array();
  REQUIRE(entries.size() == 3);
  simdjson::dom::element first = entries.at(0);
  for (const char* key : {"time", "operation", "action", "user", "set", "from", "file", "line", "element", "cascade"})
    CHECK(first[key].error() == simdjson::SUCCESS);
  CHECK(entries.at(1)["element"].get_int64().value() == 1);
  CHECK(std::string(entries.at(2)["cascade"]["table"].get_string().value()) == "portfolios");
  for (const char* key : {"audit_dir", "schema_source", "key_column", "user_field", "since", "until", "events_read",
                          "unjudged_cascades", "unread_files", "unfinished_lines"})
    CHECK(doc[key].error() == simdjson::SUCCESS);
}
