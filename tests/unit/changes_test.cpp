// changes over the fixture application's logs (no server): a window grouped by table and action,
// by user, by table; a bulk reorder counted once per row; the JSON form.
#include "src/ops/changes.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

#include "src/error.h"
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
  for (const auto& g : r.groups) out.push_back(g.table + " " + g.action + " " + std::to_string(g.rows.size()));
  return out;
}

std::vector<std::string> keys(const ops::ChangeGroup& g) {
  std::vector<std::string> out;
  for (const auto& row : g.rows) out.push_back(row.key);
  return out;
}

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
    for (const auto& row : g.rows) CHECK(row.user == "user-bob");
  const ops::ChangeGroup* moved = nullptr;
  for (const auto& g : r.groups)
    if (g.table == "categories" && g.action == "update") moved = &g;
  REQUIRE(moved);
  CHECK(keys(*moved) == std::vector<std::string>{"3", "5"});  // BULK_REORDER_CATEGORIES items
  CHECK(moved->rows[0].file.substr(moved->rows[0].file.rfind('/') + 1) == "update.log");
  CHECK(moved->rows[0].line_number == 6);
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
