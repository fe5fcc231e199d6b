// Checksums against a real server: order independence, sensitivity, odd identifiers.
#include <catch2/catch.hpp>

#include "src/pg/connection.h"
#include "tests/support/test_cluster.h"
#include "verify/database_checksum.h"
#include "verify/database_compare.h"

using namespace auditpitr;

namespace {

const verify::TableChecksum& find(const std::vector<verify::TableChecksum>& sums, const std::string& name) {
  for (const auto& s : sums)
    if (s.name == name) return s;
  FAIL("no table " << name);
  throw;
}

}  // namespace

TEST_CASE("tables, columns and primary keys are listed from the catalog", "[pg][verify]") {
  auto info = test::portfolio_database("verify_list");
  pg::Connection conn(info);
  pqxx::work tx(conn.raw());
  auto tables = verify::list_tables(tx);
  REQUIRE(tables.size() == 5);
  CHECK(tables[0].name == "categories");
  CHECK(tables[0].primary_key == std::vector<std::string>{"id"});
  auto& contents = tables[3];
  CHECK(contents.name == "section_contents");
  CHECK(std::find(contents.columns.begin(), contents.columns.end(), "order") != contents.columns.end());
}

TEST_CASE("checksums ignore physical row order but see every change", "[pg][verify]") {
  auto info = test::portfolio_database("verify_order");
  auto before = test::checksums_of(info);
  CHECK(find(before, "projects").rows == 3);

  // Rewriting every row changes the physical order, not the content.
  test::execute(info, "UPDATE projects SET title = title WHERE id = 1");
  test::execute(info, "VACUUM FULL projects");
  auto reordered = test::checksums_of(info);
  CHECK(find(reordered, "projects").row_sum == find(before, "projects").row_sum);
  CHECK(find(reordered, "projects").column_sums == find(before, "projects").column_sums);

  test::execute(info, "UPDATE projects SET client = 'ACME' WHERE id = 3");
  auto changed = test::checksums_of(info);
  const auto& p = find(changed, "projects");
  CHECK(p.row_sum != find(before, "projects").row_sum);
  CHECK(p.column_sums.at("client") != find(before, "projects").column_sums.at("client"));
  CHECK(p.column_sums.at("title") == find(before, "projects").column_sums.at("title"));
}

TEST_CASE("a value moved to another row changes the column checksum", "[pg][verify]") {
  auto info = test::portfolio_database("verify_swap");
  auto before = test::checksums_of(info);
  test::execute(
      info,
      "UPDATE portfolios SET owner_id = CASE id WHEN 1 THEN 'user-bob' WHEN 2 THEN 'user-alice' ELSE owner_id END");
  auto after = test::checksums_of(info);
  CHECK(find(after, "portfolios").column_sums.at("owner_id") != find(before, "portfolios").column_sums.at("owner_id"));
}

TEST_CASE("odd identifiers and tables without a primary key are checksummed", "[pg][verify]") {
  auto info = test::fresh_database("verify_odd");
  test::execute(info,
                "CREATE SCHEMA \"Odd Schema\"; CREATE TABLE \"Odd Schema\".\"my \"\"table\"\"\" (\"a b\" int, c text);"
                "INSERT INTO \"Odd Schema\".\"my \"\"table\"\"\" VALUES (1, E'x\\ty'), (2, NULL)");
  auto sums = test::checksums_of(info);
  REQUIRE(sums.size() == 1);
  CHECK(sums[0].schema == "Odd Schema");
  CHECK(sums[0].name == "my \"table\"");
  CHECK(sums[0].rows == 2);
  CHECK(sums[0].primary_key.empty());
}

TEST_CASE("compare_databases and compare_with_checksums give a structured result per table and column",
          "[pg][verify]") {
  auto expected_info = test::portfolio_database("verify_cmp_e");
  auto actual_info = test::portfolio_database("verify_cmp_a");
  auto figures = test::checksums_of(expected_info);  // e.g. what a recovery works out
  test::execute(actual_info, "UPDATE projects SET client = 'X' WHERE id = 1; DELETE FROM section_contents");
  pg::Connection expected(expected_info), actual(actual_info);

  verify::DatabaseCompareOptions options;
  options.diff = true;
  auto result = verify::compare_databases(expected, actual, options);
  CHECK(result.differing_tables() == 2);
  for (const auto& t : result.tables) {
    if (t.name == "projects") {
      REQUIRE(t.diff);
      CHECK(t.diff->changed == 1);
      CHECK(t.diff->changed_rows[0].key == std::vector<std::string>{"1"});
      CHECK(t.diff->changed_rows[0].columns == std::vector<std::string>{"client"});
    }
    if (t.name == "section_contents") CHECK(t.actual_rows == 0);
    if (t.name == "categories") CHECK(t.equal());
  }

  std::set<std::string> reproducible{"projects.title", "categories.title"};
  options = {};
  options.tables = {"projects", "public.categories"};
  options.only_columns = reproducible;
  auto limited = verify::compare_with_checksums(figures, actual, options);
  REQUIRE(limited.tables.size() == 2);
  CHECK(limited.equal());  // the changed client is not among the columns compared
  CHECK(limited.tables[1].columns.size() == 1);
}
