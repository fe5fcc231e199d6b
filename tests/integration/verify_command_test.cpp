// auditpitr verify against a real server: two databases, a database and a backup's manifest,
// --diff naming keys, --table/--columns, --json, and clear errors.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "tests/integration/backup_support.h"

using namespace auditpitr;
using test::BackupSetup;
using test::CliResult;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

CliResult run_verify(const BackupSetup& s, std::vector<std::string> args) {
  args.insert(args.begin(), "verify");
  CliResult r = s.cli(args);
  UNSCOPED_INFO("verify exit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  return r;
}

// Two copies of the Portfolio Manager fixture, configured as aliases a and b.
struct TwoDatabases {
  BackupSetup setup;
  pg::ConnInfo a, b;
  explicit TwoDatabases(const std::string& prefix)
      : setup({"a=" + prefix + "_a", "b=" + prefix + "_b"}),
        a(test::portfolio_database(prefix + "_a")),
        b(test::portfolio_database(prefix + "_b")) {}
};

simdjson::dom::element table_of(simdjson::dom::element root, const std::string& name) {
  for (auto t : root["tables"].get_array())
    if (std::string_view(t["name"].get_string()) == name) return t;
  FAIL("no table " << name << " in the JSON");
  throw;
}

}  // namespace

TEST_CASE("verify: equal databases match, named by alias, dbname or connection string", "[pg][verify]") {
  TwoDatabases d("vc_eq");
  auto r = run_verify(d.setup, {"--db", "a", "--against", "b"});
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, "public.projects: equal, 3 rows, 12 columns"));
  CHECK(has(r.out, "all 5 tables equal"));
  CHECK(run_verify(d.setup, {"--db", "vc_eq_a", "--against", "vc_eq_b"}).exit_code == 0);  // configured dbnames
  auto& c = test::cluster();
  std::string conninfo = "host=" + c.folder() + " port=" + std::to_string(c.port()) + " user=postgres dbname=vc_eq_b";
  CHECK(run_verify(d.setup, {"--db", "a", "--against", conninfo}).exit_code == 0);
  test::portfolio_database("vc_eq_other");  // not configured: a database on --db's server
  CHECK(run_verify(d.setup, {"--db", "a", "--against", "vc_eq_other"}).exit_code == 0);
}

TEST_CASE("verify: a changed value, a missing row and an extra row are each found and named", "[pg][verify]") {
  TwoDatabases d("vc_diff");
  std::string id;
  SECTION("a changed value") {
    test::execute(d.a, "UPDATE projects SET client = 'Someone else' WHERE id = 2");
    auto r = run_verify(d.setup, {"--db", "a", "--against", "b"});
    CHECK(r.exit_code == 3);
    CHECK(has(r.out, "public.projects: DIFFERENT, 3 rows, 12 columns"));
    CHECK(has(r.out, "column client: different"));
    CHECK(has(r.out, "11 other columns equal"));
    CHECK(has(r.err, "differs from database 'vc_diff_b'"));
    CHECK(has(r.err, "in 1 of 5 tables: public.projects"));
    auto diff = run_verify(d.setup, {"--db", "a", "--against", "b", "--diff"});
    CHECK(diff.exit_code == 3);
    CHECK(has(diff.out, "column client: different in 1 row"));
    CHECK(has(diff.out, "changed: 1 row: id=2 (client)"));
    CHECK(!has(diff.out, "missing from"));
    CHECK(!has(diff.out, "extra in"));
  }
  SECTION("a missing row") {
    id = test::query_value(d.a, "SELECT max(id) FROM section_contents");
    test::execute(d.a, "DELETE FROM section_contents WHERE id = " + id);
    auto r = run_verify(d.setup, {"--db", "a", "--against", "b", "--diff"});
    CHECK(r.exit_code == 3);
    CHECK(has(r.out, "public.section_contents: DIFFERENT"));
    CHECK(has(r.out, "missing from 'vc_diff_a': 1 row: id=" + id));
    CHECK(!has(r.out, "changed:"));
  }
  SECTION("an extra row") {
    test::execute(d.a, "INSERT INTO categories (id, title, owner_id, portfolio_id) VALUES (9001, 'New', 'user-x', 1)");
    auto r = run_verify(d.setup, {"--db", "a", "--against", "b", "--diff"});
    CHECK(r.exit_code == 3);
    CHECK(has(r.out, "extra in 'vc_diff_a': 1 row: id=9001"));
    // The other way round, the same row is missing.
    auto back = run_verify(d.setup, {"--db", "b", "--against", "a", "--diff"});
    CHECK(back.exit_code == 3);
    CHECK(has(back.out, "missing from 'vc_diff_b': 1 row: id=9001"));
  }
}

TEST_CASE("verify --diff --json: keys and columns per table, in one object", "[pg][verify]") {
  TwoDatabases d("vc_json");
  test::execute(d.a,
                "UPDATE projects SET title = 'T', link = 'https://x' WHERE id = 3; DELETE FROM projects WHERE id = 1");
  auto r = run_verify(d.setup, {"--db", "a", "--against", "b", "--diff", "--json"});
  CHECK(r.exit_code == 3);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  REQUIRE(!parser.parse(r.out).get(root));
  CHECK(uint64_t(root["format"].get_uint64()) == 1);
  CHECK(root["error"].error() == simdjson::NO_SUCH_FIELD);  // its verdict, exit 3, is its own document
  CHECK(root["note"].is_null());                            // absent is null, not ""
  CHECK(root["expected"]["stamp"].is_null());
  CHECK(!bool(root["equal"].get_bool()));
  CHECK(uint64_t(root["tables_differing"].get_uint64()) == 1);
  CHECK(std::string_view(root["expected"]["kind"].get_string()) == "database");
  auto projects = table_of(root, "projects");
  CHECK(uint64_t(projects["expected_rows"].get_uint64()) == 3);
  CHECK(uint64_t(projects["actual_rows"].get_uint64()) == 2);
  auto diff = projects["diff"];
  CHECK(uint64_t(diff["missing"].get_uint64()) == 1);
  CHECK(uint64_t(diff["changed"].get_uint64()) == 1);
  CHECK(std::string_view(diff["missing_keys"].at(0)["id"].get_string()) == "1");
  auto changed = diff["changed_rows"].at(0);
  CHECK(std::string_view(changed["key"]["id"].get_string()) == "3");
  CHECK(std::string_view(changed["columns"].at(0).get_string()) == "title");
  CHECK(std::string_view(changed["columns"].at(1).get_string()) == "link");
  for (auto column : projects["columns"].get_array())
    if (std::string_view(column["name"].get_string()) == "title")
      CHECK(uint64_t(column["rows_different"].get_uint64()) == 1);
  CHECK(bool(table_of(root, "categories")["equal"].get_bool()));
}

TEST_CASE("verify --diff: keys sort alike on both sides; a table without a key is a multiset", "[pg][verify]") {
  BackupSetup s({"a=vc_keys_a", "b=vc_keys_b"});
  std::string sql =
      "CREATE TABLE words (w text PRIMARY KEY, n int);"
      "INSERT INTO words VALUES ('a', 1), ('B', 2), (E'a\\tb', 3), (E'a\\\\b', 4), ('é', 5), ('', 6), ('a b', 7),"
      "  (E'\\x01', 8), ('Z', 9), ('aa', 10);"
      "CREATE TABLE nums (id bigint PRIMARY KEY, v int); INSERT INTO nums SELECT g, g FROM generate_series(-5, 12) g;"
      "CREATE TABLE mixed (a int, b text, v int, PRIMARY KEY (a, b));"
      "INSERT INTO mixed SELECT g % 11, chr(65 + g % 7), g FROM generate_series(1, 60) g ON CONFLICT DO NOTHING;"
      "CREATE TABLE pairs (x int, y text); INSERT INTO pairs VALUES (1, 'one'), (1, 'one'), (2, NULL);";
  auto a = test::fresh_database("vc_keys_a"), b = test::fresh_database("vc_keys_b");
  test::execute(a, sql);
  test::execute(b, sql);
  CHECK(run_verify(s, {"--db", "a", "--against", "b"}).exit_code == 0);
  test::execute(a,
                "UPDATE words SET n = 0 WHERE w = E'a\\\\b'; DELETE FROM pairs WHERE y IS NULL;"
                "INSERT INTO pairs VALUES (1, 'one'); DELETE FROM nums WHERE id IN (-5, 2, 10);"
                "UPDATE nums SET v = 0 WHERE id = 11; UPDATE mixed SET v = 0 WHERE a = 10 AND b = 'D'");
  auto r = run_verify(s, {"--db", "a", "--against", "b", "--diff"});
  CHECK(r.exit_code == 3);
  // Nothing missing or extra where only values changed: the merge kept step on text keys...
  CHECK(has(r.out, "changed: 1 row: w=a\\b (n)"));
  CHECK(has(r.out, "changed: 1 row: (a, b)=(10, D) (v)"));
  // ...and integer keys are listed in their order.
  CHECK(has(r.out, "missing from 'vc_keys_a': 3 rows: id=-5, id=2, id=10"));
  CHECK(has(r.out, "changed: 1 row: id=11 (v)"));
  CHECK(!has(r.out, "extra in"));
  CHECK(has(r.out, "no primary key, whole rows compared: 1 row only in 'vc_keys_b', 1 only in 'vc_keys_a'"));
}

TEST_CASE("verify --table and --columns limit what is compared", "[pg][verify]") {
  TwoDatabases d("vc_limit");
  test::execute(d.a, "UPDATE projects SET client = 'Someone else' WHERE id = 2");
  CHECK(run_verify(d.setup, {"--db", "a", "--against", "b", "--table", "categories"}).exit_code == 0);
  CHECK(run_verify(d.setup, {"--db", "a", "--against", "b", "--table", "public.projects"}).exit_code == 3);
  auto title = run_verify(d.setup, {"--db", "a", "--against", "b", "--columns", "title,owner_id"});
  CHECK(title.exit_code == 0);
  CHECK(has(title.out, "public.projects: equal, 3 rows, 2 columns compared"));
  auto client = run_verify(d.setup, {"--db", "a", "--against", "b", "--columns", "projects.client", "--diff"});
  CHECK(client.exit_code == 3);
  CHECK(has(client.out, "changed: 1 row: id=2 (client)"));
  auto table = run_verify(d.setup, {"--db", "a", "--against", "b", "--table", "nosuch"});
  CHECK(table.exit_code == 2);
  CHECK(has(table.err, "no table 'nosuch' in either database"));
  CHECK(has(table.err, "public.projects"));
  auto column = run_verify(d.setup, {"--db", "a", "--against", "b", "--columns", "nosuch"});
  CHECK(column.exit_code == 2);
  CHECK(has(column.err, "no column 'nosuch'"));
}

TEST_CASE("verify --backup: a fresh backup matches, a change does not; no manifest, nothing to compare",
          "[pg][verify]") {
  BackupSetup s({"vb_db"});
  auto db = test::portfolio_database("vb_db");
  auto backup = s.cli({"backup"});
  INFO(backup.out << backup.err);
  REQUIRE(backup.exit_code == 0);
  std::string stamp = test::newest_stamp(s.backups());
  auto fresh = run_verify(s, {"--db", "vb_db", "--backup", "latest"});
  CHECK(fresh.exit_code == 0);
  CHECK(has(fresh.out, "against backup " + stamp + " of vb_db (snapshot "));
  CHECK(run_verify(s, {"--db", "vb_db", "--backup", stamp, "--json"}).exit_code == 0);

  test::execute(db, "UPDATE portfolios SET title = 'Renamed' WHERE id = 1");
  auto changed = run_verify(s, {"--db", "vb_db", "--backup", stamp});
  CHECK(changed.exit_code == 3);
  CHECK(has(changed.out, "public.portfolios: DIFFERENT"));
  CHECK(has(changed.out, "column title: different"));
  CHECK(run_verify(s, {"--db", "vb_db", "--backup", stamp, "--columns", "portfolios.owner_id"}).exit_code == 0);
  // A copy under another name is checked against the backup of the database it copies.
  test::portfolio_database("vb_copy");
  CHECK(run_verify(s, {"--db", "vb_copy", "--backup", stamp, "--of", "vb_db"}).exit_code == 0);

  auto diff = run_verify(s, {"--db", "vb_db", "--backup", stamp, "--diff"});
  CHECK(diff.exit_code == 2);
  CHECK(has(diff.err, "restore"));

  test::old_script_backup("vb_db", s.backups(), "20200101_000000");
  auto old = run_verify(s, {"--db", "vb_db", "--backup", "20200101_000000"});
  CHECK(old.exit_code == 3);
  CHECK(has(old.err, "backup 20200101_000000 of vb_db has no manifest (a backup of the old scripts)"));
  CHECK(has(old.err, "there are no row counts or checksums to compare"));
}

TEST_CASE("verify: an unknown database is a clear error naming the server", "[pg][verify]") {
  TwoDatabases d("vc_unknown");
  auto r = run_verify(d.setup, {"--db", "a", "--against", "vc_no_such_db"});
  CHECK(r.exit_code == 1);
  auto& c = test::cluster();
  CHECK(has(r.err, "database 'vc_no_such_db' at " + c.folder() + ":" + std::to_string(c.port())));
  CHECK(has(r.err, "does not exist"));
  auto neither = run_verify(d.setup, {"--db", "a"});
  CHECK(neither.exit_code == 2);
}

TEST_CASE("verify: Ctrl-C before the checksums or in the middle of --diff's rows stops it (exit 130)", "[pg][verify]") {
  BackupSetup s({"a=vc_int_a", "b=vc_int_b"});
  std::string sql =
      "CREATE TABLE big (id int PRIMARY KEY, v int); INSERT INTO big SELECT g, g FROM generate_series(1, 100000) g";
  test::execute(test::fresh_database("vc_int_a"), sql);
  test::execute(test::fresh_database("vc_int_b"), sql + "; UPDATE big SET v = 0");
  std::string phase = GENERATE(as<std::string>{}, "verify-checksums", "verify-diff");
  INFO(phase);
  std::vector<std::string> args{"-c", s.config, "verify", "--db", "a", "--against", "b"};
  if (phase == "verify-diff") args.push_back("--diff");  // without: nothing after the checksums checks
  int pid = test::run_cli_until_paused(args, phase);
  REQUIRE(pid > 0);
  ::kill(pid, SIGINT);
  CHECK(test::resume_and_wait(pid) == 130);
}
