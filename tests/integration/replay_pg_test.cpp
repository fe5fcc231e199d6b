// `auditpitr replay` against a real PostgreSQL, run as a user would (the built binary): each
// action and its idempotence, automatic timestamps and defaults, cascades, conflicts under both
// policies, drift, filters, dry run, the SQL script through psql, an injection attempt, the
// fixture application's own logs.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>

#include "replay/log/time_parse.h"
#include "src/pg/local_cluster.h"
#include "src/pg/process_runner.h"
#include "tests/integration/replay_support.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"
#include "verify/manifest.h"

using namespace auditpitr;
using test::LogLine;

namespace {

const char* const kTo = "2025-01-16T00:00:00Z";
const char* const kFrom = "2025-01-15T00:00:00Z";

std::string q(const pg::ConnInfo& db, const std::string& sql) { return test::query_value(db, sql); }

LogLine portfolio(const std::string& op, const std::string& time, int id, const std::string& more = "") {
  return {op, time, "\"portfolioID\":" + std::to_string(id) + (more.empty() ? "" : "," + more)};
}

}  // namespace

TEST_CASE("each action, automatic timestamps, defaults and cascades; a second run changes nothing", "[pg][replay]") {
  auto db = test::portfolio_database("replay_actions");
  test::ReplayWorkspace ws(
      db, {
              portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:01Z", 10, R"("title":"New","userID":"user-carol")"),
              portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:02Z", 2, R"("title":"Photos","userID":"user-bob")"),
              portfolio("UPDATE_PORTFOLIO", "2025-01-15T10:00:03Z", 10, R"("title":"Newer","userID":"user-carol")"),
              {"CREATE_CATEGORY", "2025-01-15T10:00:04Z",
               R"("categoryID":20,"portfolioID":10,"title":"a","userID":"user-carol")"},
              {"CREATE_CATEGORY", "2025-01-15T10:00:04Z",
               R"("categoryID":21,"portfolioID":10,"title":"b","userID":"user-carol")"},
              {"DELETE_CATEGORY", "2025-01-15T10:00:05Z",
               R"("categoryID":21,"portfolioID":10,"title":"b","userID":"user-carol")"},
              portfolio("DELETE_PORTFOLIO", "2025-01-15T10:00:06Z", 10, R"("title":"Newer","userID":"user-carol")"),
              portfolio("DELETE_PORTFOLIO", "2025-01-15T10:00:07Z", 3, R"("userID":"user-alice")"),
          });
  auto r = ws.replay({"--from", kFrom, "--to", kTo, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("applied": 8)"));

  // insert: the event's columns, created_at/updated_at = event time, description takes its default
  CHECK(
      q(db, "SELECT title || '|' || owner_id || '|' || coalesce(description, 'NULL') FROM portfolios WHERE id = 10") ==
      "Newer|user-carol|NULL");
  CHECK(q(db,
          "SELECT created_at = '2025-01-15T10:00:01Z' AND updated_at = '2025-01-15T10:00:03Z' FROM portfolios "
          "WHERE id = 10") == "t");
  // insert of an existing key: the carried columns, updated_at; created_at keeps the row's own
  CHECK(q(db,
          "SELECT title || '|' || (created_at = '2025-01-11 11:15:00+00') || '|' || "
          "(updated_at = '2025-01-15T10:00:02Z') FROM portfolios WHERE id = 2") == "Photos|true|true");
  CHECK(q(db, "SELECT position FROM categories WHERE id = 20") == "0");  // the column's default
  // delete: soft, cascades to the alive child; the child deleted earlier keeps its own time
  CHECK(q(db, "SELECT deleted_at = '2025-01-15T10:00:06Z' FROM portfolios WHERE id = 10") == "t");
  CHECK(q(db, "SELECT deleted_at = '2025-01-15T10:00:06Z' FROM categories WHERE id = 20") == "t");
  CHECK(q(db, "SELECT deleted_at = '2025-01-15T10:00:05Z' FROM categories WHERE id = 21") == "t");
  // a delete of a row deleted earlier changes nothing
  CHECK(q(db, "SELECT deleted_at = '2025-01-13 08:00:00+00' FROM portfolios WHERE id = 3") == "t");
  // the key sequence moved past the replayed keys
  CHECK(q(db, "SELECT nextval('portfolios_id_seq') > 10") == "t");

  auto after = test::snapshot(db);
  auto again = ws.replay({"--to", kTo});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("already applied up to"));
  CHECK(test::compare(after, test::snapshot(db)).empty());

  // Idempotent without the record too: replaying over a database that holds the events already.
  test::execute(db, "DROP SCHEMA auditpitr CASCADE");
  auto over = ws.replay({"--from", kFrom, "--to", kTo});
  INFO(over.err);
  CHECK(over.exit_code == 0);
  CHECK(test::compare(after, test::snapshot(db)) == "");
}

TEST_CASE("conflicts: skip leaves the event out and goes on, fail exits 3 with the batch rolled back", "[pg][replay]") {
  std::vector<LogLine> lines = {
      portfolio("UPDATE_PORTFOLIO", "2025-01-15T10:00:01Z", 99, R"("title":"x","userID":"u")"),
      {"CREATE_CATEGORY", "2025-01-15T10:00:02Z", R"("categoryID":30,"portfolioID":999,"title":"orphan","userID":"u")"},
      portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:03Z", 11, R"("title":"kept","userID":"u")"),
  };
  SECTION("skip") {
    auto db = test::portfolio_database("replay_conflict_skip");
    test::ReplayWorkspace ws(db, lines);
    auto r = ws.replay({"--from", kFrom, "--to", kTo, "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains(R"("missing_row": 1)") && Catch::Contains(R"("foreign_key": 1)") &&
                          Catch::Contains("create.log") && Catch::Contains(R"("key": "id=30")"));
    CHECK(q(db, "SELECT count(*) FROM categories WHERE id = 30") == "0");
    CHECK(q(db, "SELECT title FROM portfolios WHERE id = 11") == "kept");
  }
  SECTION("fail") {
    auto db = test::portfolio_database("replay_conflict_fail");
    auto before = test::snapshot(db);
    test::ReplayWorkspace ws(db, lines);
    auto r = ws.replay({"--from", kFrom, "--to", kTo, "--on-conflict", "fail"});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("missing_row") && Catch::Contains("update.log:1"));
    CHECK(test::compare(before, test::snapshot(db)).empty());
  }
}

TEST_CASE("drift is reported and the change applied", "[pg][replay]") {
  auto db = test::portfolio_database("replay_drift");
  test::ReplayWorkspace ws(db, {{"UPDATE_CATEGORY_POSITION", "2025-01-15T10:00:01Z",
                                 R"("categoryID":1,"oldPosition":5,"newPosition":3,"userID":"user-alice")"}});
  auto r = ws.replay({"--from", kFrom, "--to", kTo, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("column": "position")") && Catch::Contains(R"("logged": "5")") &&
                        Catch::Contains(R"("found": "1")") && Catch::Contains(R"("drift_count": 1)"));
  CHECK(q(db, "SELECT position FROM categories WHERE id = 1") == "3");
}

TEST_CASE("--table and --user restrict what is applied", "[pg][replay]") {
  auto db = test::portfolio_database("replay_filters");
  test::ReplayWorkspace ws(
      db, {portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:01Z", 12, R"("title":"bob's","userID":"user-bob")"),
           portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:02Z", 13, R"("title":"alice's","userID":"user-alice")"),
           {"CREATE_CATEGORY", "2025-01-15T10:00:03Z",
            R"("categoryID":31,"portfolioID":12,"title":"c","userID":"user-bob")"}});
  REQUIRE(ws.replay({"--from", kFrom, "--to", kTo, "--user", "user-bob", "--table", "portfolios"}).exit_code == 0);
  CHECK(q(db, "SELECT count(*) FROM portfolios WHERE id IN (12, 13)") == "1");
  CHECK(q(db, "SELECT title FROM portfolios WHERE id = 12") == "bob's");
  CHECK(q(db, "SELECT count(*) FROM categories WHERE id = 31") == "0");
}

TEST_CASE("a log line crafted to inject SQL is applied as plain data", "[pg][replay]") {
  auto db = test::portfolio_database("replay_injection");
  std::string evil = R"(x'); DROP TABLE categories; --\\ \" $1 :foo)";
  test::ReplayWorkspace ws(
      db, {portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:01Z", 14, "\"title\":\"" + evil + "\",\"userID\":\"u\"")});
  REQUIRE(ws.replay({"--from", kFrom, "--to", kTo}).exit_code == 0);
  CHECK(q(db, "SELECT title FROM portfolios WHERE id = 14") == R"(x'); DROP TABLE categories; --\ " $1 :foo)");
  CHECK(q(db, "SELECT count(*) FROM categories") == "3");
}

TEST_CASE("--dry-run reports and changes nothing; --sql through psql gives what replay gives", "[pg][replay]") {
  std::vector<LogLine> lines = {
      portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:01Z", 15, R"("title":"it's \"quoted\"\ttab","userID":"u")"),
      portfolio("UPDATE_PORTFOLIO", "2025-01-15T10:00:02Z", 1, R"("title":"Renamed","userID":"user-alice")"),
      {"UPDATE_CATEGORY_POSITION", "2025-01-15T10:00:03Z",
       R"("categoryID":2,"oldPosition":2,"newPosition":7,"userID":"user-alice")"},
      {"DELETE_CATEGORY", "2025-01-15T10:00:04Z", R"("categoryID":1,"portfolioID":1,"userID":"user-alice")"},
      portfolio("UPDATE_PORTFOLIO", "2025-01-15T10:00:05Z", 98, R"("title":"missing","userID":"u")"),
  };
  auto replayed = test::portfolio_database("replay_sql_replayed");
  test::ReplayWorkspace ws(replayed, lines);
  auto before = test::snapshot(replayed);
  auto dry = ws.replay({"--from", kFrom, "--to", kTo, "--dry-run", "--json"});
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains(R"("dry_run": true)") && Catch::Contains(R"("applied": 4)"));
  CHECK(test::compare(before, test::snapshot(replayed)).empty());
  CHECK(q(replayed, "SELECT to_regclass('auditpitr.replay') IS NULL") == "t");

  std::string script = ws.path() + "/replay.sql";
  REQUIRE(ws.replay({"--from", kFrom, "--to", kTo, "--sql", script}).exit_code == 0);
  REQUIRE(ws.replay({"--from", kFrom, "--to", kTo}).exit_code == 0);

  auto scripted = test::portfolio_database("replay_sql_scripted");
  pg::Command psql;
  psql.program = pg::server_bin_dir() + "/psql";
  psql.args = {"-X", "-q", "-f", script};
  psql.env = scripted.child_environment();
  auto result = pg::PosixProcessRunner().run(psql);
  INFO(result.stderr_tail);
  REQUIRE(result.ok());
  CHECK(test::compare(test::snapshot(replayed), test::snapshot(scripted)) == "");
  // the script moves the key sequences as replay does: the next insert gets the same key
  CHECK(q(scripted, "SELECT nextval('portfolios_id_seq')") == "16");
  CHECK(q(replayed, "SELECT nextval('portfolios_id_seq')") == "16");
  CHECK(q(scripted, "SELECT nextval('categories_id_seq')") == q(replayed, "SELECT nextval('categories_id_seq')"));
}

TEST_CASE("the fixture application's logs replay with its rules", "[pg][replay]") {
  auto db = test::portfolio_database("replay_fixture");
  test::ReplayWorkspace ws(db, {});
  auto r =
      test::run_cli({"-c", ws.config(), "replay", "--audit-dir", test::source_path("fixtures/portfolio-manager/audit"),
                     "--from", kFrom, "--to", kTo, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("invalid": 0)"));
  CHECK(q(db, "SELECT title FROM portfolios WHERE id = 4") == "Illustration");
  CHECK(q(db, "SELECT title FROM portfolios WHERE id = 1") == "Design Portfolio 2025");
  CHECK(q(db, "SELECT deleted_at IS NOT NULL FROM categories WHERE id = 4") == "t");
}

// Runs of inserts and updates of one shape go to PostgreSQL as one set-based statement (pg_sink.h):
// the result must be what one statement per change gives, which the --sql script is.
TEST_CASE("set-based runs give what one statement per change gives: conflicts, drift, a row twice", "[pg][replay]") {
  std::vector<LogLine> lines;
  for (int id = 20; id < 30; ++id)  // a run of inserts, one of them an existing key (2)
    lines.push_back(portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:01Z", id == 25 ? 2 : id,
                              R"("title":"P )" + std::to_string(id) + R"( \"q\" \\","userID":"user-alice")"));
  // updates: a missing row (77), drift (3 is user-bob's), the same row twice (1: 5, then 9)
  lines.push_back({"BULK_REORDER_CATEGORIES", "2025-01-15T10:00:02Z",
                   R"("itemCount":5,"items":[{"id":1,"position":5},{"id":2,"position":6},{"id":77,"position":1},)"
                   R"({"id":3,"position":4},{"id":1,"position":9}],"userID":"user-alice")"});
  for (int id = 20; id < 30; ++id)
    lines.push_back(portfolio("UPDATE_PORTFOLIO", "2025-01-15T10:00:03Z",
                              id == 25   ? 2
                              : id == 27 ? 3
                                         : id,
                              R"("title":"Q )" + std::to_string(id) + R"(","userID":"user-alice")"));
  auto replayed = test::portfolio_database("replay_set_based");
  test::ReplayWorkspace ws(replayed, lines);
  auto r = ws.replay({"--from", kFrom, "--to", kTo, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("missing_row": 1)") && Catch::Contains(R"("key": "id=77")") &&
                        Catch::Contains(R"("inserted": 9)") && Catch::Contains(R"("insert_existing": 1)") &&
                        Catch::Contains(R"("updated": 10)") && Catch::Contains(R"("conflicts": 1)") &&
                        Catch::Contains(R"("found": "user-bob")"));
  CHECK(q(replayed, "SELECT position FROM categories WHERE id = 1") == "9");
  CHECK(q(replayed, "SELECT title FROM portfolios WHERE id = 24") == "Q 24");
  CHECK(q(replayed, "SELECT title FROM portfolios WHERE id = 2") == "Q 25");
  CHECK(q(replayed, "SELECT title FROM portfolios WHERE id = 3") == "Q 27");
  CHECK(q(replayed, "SELECT created_at = '2025-01-11 11:15:00+00' FROM portfolios WHERE id = 2") == "t");

  std::string script = ws.path() + "/replay.sql";
  REQUIRE(ws.replay({"--from", kFrom, "--to", kTo, "--sql", script}).exit_code == 0);
  auto scripted = test::portfolio_database("replay_set_based_scripted");
  pg::Command psql;
  psql.program = pg::server_bin_dir() + "/psql";
  psql.args = {"-X", "-q", "-f", script};
  psql.env = scripted.child_environment();
  auto result = pg::PosixProcessRunner().run(psql);
  INFO(result.stderr_tail);
  REQUIRE(result.ok());
  CHECK(test::compare(test::snapshot(replayed), test::snapshot(scripted)) == "");
}

TEST_CASE("a value too long for varchar(n) in a set-based run is refused, not cut", "[pg][replay]") {
  auto db = test::portfolio_database("replay_set_based_varchar");
  std::vector<LogLine> lines;
  for (int id = 10; id < 14; ++id)
    lines.push_back({"CREATE_SECTION_CONTENT", "2025-01-15T10:00:01Z",
                     "\"sectionContentID\":" + std::to_string(id) + R"(,"sectionID":1,"type":")" +
                         (id == 12 ? "paragraph-long" : "text") + R"(","content":"c","userID":"user-alice")"});
  test::ReplayWorkspace ws(db, lines);
  auto r = ws.replay({"--from", kFrom, "--to", kTo, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("type": 1)") && Catch::Contains(R"("key": "id=12")"));
  CHECK(q(db, "SELECT string_agg(id || ':' || type, ',' ORDER BY id) FROM section_contents WHERE id >= 10") ==
        "10:text,11:text,13:text");
}

TEST_CASE("a value with a NUL character is a type conflict, not a cut value", "[pg][replay]") {
  std::vector<LogLine> lines = {
      portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:01Z", 16, R"("title":"before\u0000after","userID":"u")"),
      portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:02Z", 17, R"("title":"fine","userID":"u")"),
  };
  SECTION("skip") {
    auto db = test::portfolio_database("replay_nul_skip");
    test::ReplayWorkspace ws(db, lines);
    auto r = ws.replay({"--from", kFrom, "--to", kTo, "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains(R"("type": 1)") && Catch::Contains("NUL character") &&
                          Catch::Contains(R"("key": "id=16")"));
    CHECK(q(db, "SELECT count(*) FROM portfolios WHERE id = 16") == "0");
    CHECK(q(db, "SELECT title FROM portfolios WHERE id = 17") == "fine");
  }
  SECTION("fail") {
    auto db = test::portfolio_database("replay_nul_fail");
    test::ReplayWorkspace ws(db, lines);
    auto r = ws.replay({"--from", kFrom, "--to", kTo, "--on-conflict", "fail"});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("NUL character") && Catch::Contains("create.log:1"));
    CHECK(q(db, "SELECT count(*) FROM portfolios WHERE id IN (16, 17)") == "0");
  }
}

TEST_CASE("progress on a terminal: events done of the total, events/s, ETA; nothing of it elsewhere", "[pg][replay]") {
  std::vector<LogLine> lines = {
      // before the window: read, neither applied nor counted
      portfolio("CREATE_PORTFOLIO", "2025-01-14T10:00:00Z", 38, R"("title":"t","userID":"u")"),
      portfolio("CREATE_PORTFOLIO", "2025-01-14T10:00:01Z", 39, R"("title":"t","userID":"u")")};
  for (int id = 40; id < 44; ++id)
    lines.push_back(portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:0" + std::to_string(id - 39) + "Z", id,
                              R"("title":"t","userID":"u")"));
  auto db = test::portfolio_database("replay_progress");
  test::ReplayWorkspace ws(db, lines);
  auto terminal =
      test::run_cli_on_terminal({"-c", ws.config(), "replay", "--from", kFrom, "--to", kTo, "--batch", "1"});
  INFO(terminal.out);
  REQUIRE(terminal.exit_code == 0);
  CHECK_THAT(terminal.out, Catch::Contains("replaying: 1 event of 4") && Catch::Contains("events/s") &&
                               Catch::Contains("ETA") && Catch::Contains("\r"));
  CHECK_THAT(terminal.out, Catch::Contains("replaying: 4 events of 4"));
  CHECK_THAT(terminal.out, !Catch::Contains("5 events of 4") && !Catch::Contains("6 events of 4"));

  test::execute(db, "DROP SCHEMA auditpitr CASCADE");
  auto piped = ws.replay({"--from", kFrom, "--to", kTo, "--batch", "1"});
  REQUIRE(piped.exit_code == 0);
  CHECK_THAT(piped.err + piped.out, !Catch::Contains("replaying:") && !Catch::Contains("ETA"));
}

// One batch mixing parents and their new children, a child deleted before its parent's cascade and
// one after it, updates of rows a cascade reached: the result must be one statement per change in
// the batch's order, which the --sql script is.
TEST_CASE("gathering across a batch keeps parents before children and children's own deletion times", "[pg][replay]") {
  std::vector<LogLine> lines = {
      {"CREATE_CATEGORY", "2025-01-15T10:00:01Z",
       R"("categoryID":40,"portfolioID":1,"title":"a","userID":"user-alice")"},
      portfolio("CREATE_PORTFOLIO", "2025-01-15T10:00:01Z", 41, R"("title":"new","userID":"user-carol")"),
      {"CREATE_CATEGORY", "2025-01-15T10:00:02Z",
       R"("categoryID":42,"portfolioID":41,"title":"b","userID":"user-carol")"},
      {"DELETE_PROJECT", "2025-01-15T10:00:03Z", R"("projectID":1,"categoryID":1,"userID":"user-alice")"},
      {"DELETE_CATEGORY", "2025-01-15T10:00:04Z", R"("categoryID":1,"portfolioID":1,"userID":"user-alice")"},
      {"DELETE_CATEGORY", "2025-01-15T10:00:04Z", R"("categoryID":2,"portfolioID":1,"userID":"user-alice")"},
      {"DELETE_PROJECT", "2025-01-15T10:00:05Z", R"("projectID":2,"categoryID":2,"userID":"user-alice")"},
      {"UPDATE_CATEGORY_POSITION", "2025-01-15T10:00:05Z",
       R"("categoryID":3,"oldPosition":1,"newPosition":4,"userID":"user-bob")"},
      portfolio("DELETE_PORTFOLIO", "2025-01-15T10:00:06Z", 2, R"("userID":"user-bob")"),
      {"UPDATE_CATEGORY_POSITION", "2025-01-15T10:00:07Z",
       R"("categoryID":3,"oldPosition":4,"newPosition":6,"userID":"user-bob")"},
      {"CREATE_CATEGORY", "2025-01-15T10:00:07Z", R"("categoryID":43,"portfolioID":2,"title":"c","userID":"user-bob")"},
  };
  auto replayed = test::portfolio_database("replay_waves");
  test::ReplayWorkspace ws(replayed, lines);
  auto r = ws.replay({"--from", kFrom, "--to", kTo, "--json"});
  INFO(r.err << r.out);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("drift_count": 0)") && Catch::Contains(R"("already_deleted": 1)"));
  CHECK(q(replayed, "SELECT deleted_at = '2025-01-15T10:00:03Z' FROM projects WHERE id = 1") == "t");  // its own
  CHECK(q(replayed, "SELECT deleted_at = '2025-01-15T10:00:04Z' FROM projects WHERE id = 2") == "t");  // the cascade's
  CHECK(q(replayed, "SELECT position || ' ' || (deleted_at = '2025-01-15T10:00:06Z') FROM categories WHERE id = 3") ==
        "6 true");
  CHECK(q(replayed, "SELECT deleted_at IS NULL FROM categories WHERE id = 43") == "t");  // created after the cascade
  CHECK(q(replayed, "SELECT count(*) FROM categories WHERE id IN (40, 42) AND deleted_at IS NULL") == "2");

  std::string script = ws.path() + "/replay.sql";
  REQUIRE(ws.replay({"--from", kFrom, "--to", kTo, "--sql", script}).exit_code == 0);
  auto scripted = test::portfolio_database("replay_waves_scripted");
  pg::Command psql;
  psql.program = pg::server_bin_dir() + "/psql";
  psql.args = {"-X", "-q", "-f", script};
  psql.env = scripted.child_environment();
  auto result = pg::PosixProcessRunner().run(psql);
  INFO(result.stderr_tail);
  REQUIRE(result.ok());
  CHECK(test::compare(test::snapshot(replayed), test::snapshot(scripted)) == "");
}

#include "replay/apply/fold_sink.h"
#include "replay/apply/pg_session.h"
#include "replay/apply/pg_sink.h"
#include "replay/apply/replay_state.h"

namespace {

replay::RowChange category_update(int id, const std::string& column, replay::Value::Kind kind,
                                  const std::string& value) {
  replay::RowChange c;
  c.table = "categories";
  c.action = replay::ChangeAction::update;
  c.key.push_back(
      {"id", replay::Value::of(replay::Value::Kind::integer, std::to_string(id)), "id", replay::ValueOrigin::field});
  c.set.push_back({column, replay::Value::of(kind, value), column, replay::ValueOrigin::field});
  return c;
}

std::vector<const replay::RowChange*> pointers(const std::vector<replay::RowChange>& changes) {
  std::vector<const replay::RowChange*> out;
  for (const auto& c : changes) out.push_back(&c);
  return out;
}

/// A session on `db` and its catalog, soft deletes by deleted_at, for the sinks.
struct SinkSession {
  explicit SinkSession(const pg::ConnInfo& db) : session(db), tables(replay::read_target_tables(session)) {
    for (auto& t : tables) t.soft_delete = "deleted_at";
    catalog = std::make_unique<replay::TargetCatalog>(tables);
  }
  replay::PgSession session;
  std::vector<replay::TargetTable> tables;
  std::unique_ptr<replay::TargetCatalog> catalog;
};

}  // namespace

// A refused change undoes its own apply_all call only (the batch's earlier calls stay, the batch
// stays open) and is named, so the applier can apply the changes before it in one go and its event
// alone. Both sinks: PgSink (the database refuses) and FoldSink (it foresees the refusal).
TEST_CASE("a refused apply_all undoes only its own changes and names the refused one", "[pg][replay]") {
  using K = replay::Value::Kind;
  auto db = test::portfolio_database("replay_refused_part");
  SinkSession s(db);
  replay::PgSink statements(s.session, *s.catalog, false);
  replay::FoldSink fold(s.session, *s.catalog, statements);
  const std::string positions = "SELECT string_agg(position::text, ',' ORDER BY id) FROM categories";
  for (replay::ChangeSink* sink :
       {static_cast<replay::ChangeSink*>(&statements), static_cast<replay::ChangeSink*>(&fold)}) {
    for (const auto& refused_one : {category_update(3, "position", K::string, "three"),        // the type refuses it
                                    category_update(3, "portfolio_id", K::integer, "999")}) {  // no such portfolio
      INFO((sink == &statements ? "PgSink, " : "FoldSink, ") << refused_one.set[0].column);
      test::execute(db, "UPDATE categories SET position = id");
      sink->begin_batch();
      std::vector<replay::RowChange> first = {category_update(1, "position", K::integer, "10"),
                                              category_update(2, "position", K::integer, "20")};
      std::vector<replay::RowChange> second = {category_update(2, "position", K::integer, "21"),
                                               category_update(1, "position", K::integer, "11"), refused_one,
                                               category_update(1, "position", K::integer, "12")};
      std::vector<replay::ChangeOutcome> outcomes;
      std::optional<std::size_t> refused;
      REQUIRE(sink->apply_all(pointers(first), outcomes, refused));
      CHECK_FALSE(sink->apply_all(pointers(second), outcomes, refused));
      if (sink == &statements && refused_one.set[0].column == "position")
        CHECK(!refused);  // refused in a set-based statement with the two before it: which one, it cannot tell
      else CHECK(refused.value_or(99) == 2);
      // Inside the batch, still open: the first call's changes stay, none of the second's.
      CHECK(replay::first_value(s.session.exec(positions, {}, "test").get()) == std::optional<std::string>("10,20,3"));
      sink->rollback_batch();
    }
  }
  CHECK(fold.first_decline_reason() == "a value its column's type refuses");
}

// The run's first part is read ahead in pieces while it is mapped (FoldSink::read_ahead): rows are
// read then with the columns the changes so far need. Later changes that check or cascade through
// other columns of those rows must find them read too: the result is what change by change gives.
TEST_CASE("rows read ahead get the columns later changes need: the result is change by change's", "[pg][replay]") {
  using K = replay::Value::Kind;
  auto reference = test::portfolio_database("replay_read_ahead_reference");
  std::string title_1 = q(reference, "SELECT title FROM categories WHERE id = 1");
  std::string portfolio_1 = q(reference, "SELECT portfolio_id FROM categories WHERE id = 1");
  auto portfolio_deleted = [&](long seconds) {  // cascades through categories' portfolio_id
    replay::RowChange deleted;
    deleted.table = "portfolios";
    deleted.action = replay::ChangeAction::soft_delete;
    deleted.time = replay::TimePoint(std::chrono::seconds(seconds));
    deleted.key.push_back({"id", replay::Value::of(K::integer, portfolio_1), "id", replay::ValueOrigin::field});
    deleted.set.push_back({"deleted_at", replay::Value::of(K::timestamp, replay::format_time(deleted.time)),
                           "deleted_at", replay::ValueOrigin::field});
    deleted.cascade.push_back({"categories", "portfolio_id", "deleted_at", {}, {}});
    return deleted;
  };
  replay::RowChange undeleted;
  undeleted.table = "portfolios";
  undeleted.action = replay::ChangeAction::update;
  undeleted.key.push_back({"id", replay::Value::of(K::integer, portfolio_1), "id", replay::ValueOrigin::field});
  undeleted.set.push_back({"deleted_at", replay::Value::null(), "deleted_at", replay::ValueOrigin::field});
  std::vector<replay::RowChange> changes = {category_update(1, "position", K::integer, "10"),
                                            portfolio_deleted(1737367200),  // 2025-01-20T10:00:00Z
                                            category_update(1, "position", K::integer, "11"),
                                            category_update(2, "position", K::integer, "21"),
                                            undeleted,
                                            category_update(3, "portfolio_id", K::integer, portfolio_1),
                                            portfolio_deleted(1737453600)};  // a day later
  // A check of a column not read for the first changes, on rows read then: it holds, or drifts.
  changes[2].expect.push_back({"title", replay::Value::of(K::string, title_1), "title"});
  changes[3].expect.push_back({"title", replay::Value::of(K::string, "not its title"), "title"});
  // Category 3, moved under the portfolio between its two deletes, is a child of the second.
  std::vector<const replay::RowChange*> all = pointers(changes);

  auto apply = [&](const pg::ConnInfo& target, bool fold_it, std::size_t read_ahead) {
    SinkSession s(target);
    replay::create_replay_schema(s.session);
    replay::PgSink statements(s.session, *s.catalog, false);
    replay::FoldSink fold(s.session, *s.catalog, statements);
    replay::ChangeSink& sink = fold_it ? static_cast<replay::ChangeSink&>(fold) : statements;
    sink.prepare();
    for (std::size_t n = 2; n <= read_ahead; n += 2)
      sink.read_ahead(std::vector<const replay::RowChange*>(all.begin(), all.begin() + static_cast<long>(n)));
    sink.begin_batch();
    std::vector<replay::ChangeOutcome> outcomes;
    std::optional<std::size_t> refused;
    REQUIRE(sink.apply_all(all, outcomes, refused));
    sink.commit_batch({replay::TimePoint(std::chrono::seconds(1)), 1, "a"}, 1);
    if (fold_it) {
      CHECK(fold.batches_read_ahead() == (read_ahead ? 1u : 0u));
      CHECK(fold.folded_batches() == 1);  // folded, not handed to the statements
    }
    return outcomes;
  };
  auto rows = [](const pg::ConnInfo& target) {
    return q(target, "SELECT string_agg(t::text, ';' ORDER BY id) FROM categories t") + " / " +
           q(target, "SELECT string_agg(t::text, ';' ORDER BY id) FROM portfolios t");
  };
  auto expected = apply(reference, false, 0);
  REQUIRE(expected.size() == 7);
  CHECK(expected[2].checks.at(0).same);
  CHECK_FALSE(expected[3].checks.at(0).same);
  CHECK(expected[1].cascaded >= 1);
  CHECK(expected[6].cascaded == 1);  // category 3; the others keep their own deletion time
  for (std::size_t read_ahead : {2, 4, 6}) {
    INFO("read ahead in pieces up to " << read_ahead << " changes");
    auto db = test::portfolio_database("replay_read_ahead_" + std::to_string(read_ahead));
    auto got = apply(db, true, read_ahead);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO("change " << i);
      CHECK(got[i].kind == expected[i].kind);
      CHECK(got[i].cascaded == expected[i].cascaded);
      REQUIRE(got[i].checks.size() == expected[i].checks.size());
      for (std::size_t c = 0; c < got[i].checks.size(); ++c) {
        CHECK(got[i].checks[c].same == expected[i].checks[c].same);
        if (!got[i].checks[c].same) CHECK(got[i].checks[c].found == expected[i].checks[c].found);
      }
    }
    CHECK(rows(db) == rows(reference));
  }
}

// Planning a statement again at every execution cost a quarter of a replay: the sink's session
// takes the generic plans (pg_prepared_statements counts the plans of this session's statements).
// The next batch is folded on a session of its own while this one is written: that session does
// not see this batch's uncommitted writes, so the fold takes the rows this batch changed, created
// or moved under a parent from this batch's fold.
TEST_CASE("a batch folded while the one before is written sees that batch's rows", "[pg][replay]") {
  using K = replay::Value::Kind;
  auto db = test::portfolio_database("replay_fold_ahead");
  SinkSession s(db);
  replay::create_replay_schema(s.session);
  replay::PgSession ahead(db);
  replay::PgSink statements(s.session, *s.catalog, false);
  replay::FoldSink fold(s.session, *s.catalog, statements, &ahead);
  auto field = [](const std::string& column, K kind, const std::string& value) {
    return replay::ColumnValue{column, replay::Value::of(kind, value), column, replay::ValueOrigin::field};
  };
  replay::RowChange created;  // category 50 under portfolio 2, new in the first batch
  created.table = "categories";
  created.action = replay::ChangeAction::insert;
  created.key.push_back(field("id", K::integer, "50"));
  for (const auto& v : {field("title", K::string, "New"), field("owner_id", K::string, "user-bob"),
                        field("portfolio_id", K::integer, "2"), field("position", K::integer, "5")})
    created.set.push_back(v);
  std::vector<replay::RowChange> first = {category_update(1, "position", K::integer, "10"),
                                          category_update(2, "portfolio_id", K::integer, "2"), created};
  // The second batch checks what the first left: category 1's position 10, category 50's 5.
  replay::RowChange moved = category_update(1, "position", K::integer, "11");
  moved.expect.push_back({"position", replay::Value::of(K::integer, "10"), "from"});
  replay::RowChange created_moved = category_update(50, "position", K::integer, "6");
  created_moved.expect.push_back({"position", replay::Value::of(K::integer, "5"), "from"});
  replay::RowChange deleted;  // portfolio 2's soft delete cascades to categories 2 (moved) and 50 (new) too
  deleted.table = "portfolios";
  deleted.action = replay::ChangeAction::soft_delete;
  deleted.key.push_back(field("id", K::integer, "2"));
  deleted.set.push_back(field("deleted_at", K::timestamp, "2025-01-20T10:00:00Z"));
  deleted.cascade.push_back({"categories", "portfolio_id", "deleted_at", {}, {}});
  std::vector<replay::RowChange> second = {moved, created_moved, deleted};
  std::vector<const replay::RowChange*> second_pointers = pointers(second);

  // Category 3 moved in a part of its own, between the two.
  std::vector<replay::RowChange> between = {category_update(3, "position", K::integer, "7"),
                                            category_update(2, "position", K::integer, "8")};
  std::vector<const replay::RowChange*> between_pointers = pointers(between);
  auto apply = [&](const std::vector<const replay::RowChange*>& changes, replay::ChangeSink::NextChanges next) {
    fold.set_next_batch([next] { return next; });
    std::vector<replay::ChangeOutcome> outcomes;
    std::optional<std::size_t> refused;
    REQUIRE(fold.apply_all(changes, outcomes, refused));
    fold.set_next_batch(nullptr);
    return outcomes;
  };
  auto commit = [&](int second) { fold.commit_batch({replay::TimePoint(std::chrono::seconds(second)), 1, "a"}, 3); };
  auto category_writes = [&] {  // in the open transaction
    return replay::first_value(s.session
                                   .exec("SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
                                         "WHERE relname = 'categories'",
                                         {}, "test")
                                   .get());
  };
  std::vector<replay::ChangeOutcome> outcomes;
  std::string positions = "1:11:false,2:2:true,3:1:true,50:6:true";
  SECTION("the next batch") {
    fold.begin_batch();
    apply(pointers(first), {&second_pointers, false});
    commit(1);
    fold.begin_batch();
    outcomes = apply(second_pointers, {});
    commit(2);
    CHECK(fold.folded_batches() == 2);
  }
  SECTION("the next part of the same batch: the rows it changes again are written once, by it") {
    fold.begin_batch();
    apply(pointers(first), {&second_pointers, true});
    outcomes = apply(second_pointers, {});
    // Categories 1 and 50, which the second part changes again, are written once: 2 (moved by the
    // first part, deleted by the cascade), 1, 50, and 3 (deleted): 5 writes, not 7.
    CHECK(category_writes() == std::optional<std::string>("5"));
    commit(1);
    CHECK(fold.folded_batches() == 1);
  }
  SECTION("a batch's second part written while the next batch is folded: that fold sees both parts") {
    fold.begin_batch();
    apply(pointers(first), {&between_pointers, true});
    apply(between_pointers, {&second_pointers, false});
    commit(1);
    fold.begin_batch();
    outcomes = apply(second_pointers, {});
    commit(2);
    CHECK(fold.folded_ahead() == 2);
    positions = "1:11:false,2:8:true,3:7:true,50:6:true";
  }
  SECTION("a held row is written before anything the fold did not make") {
    fold.begin_batch();
    apply(pointers(first), {&second_pointers, true});
    std::vector<replay::RowChange> other = {category_update(3, "position", K::integer, "4")};
    auto single = fold.apply_event(pointers(other));  // not the part folded ahead: category 1 and 50 go first
    REQUIRE(single.size() == 1);
    commit(1);
    CHECK(q(db, "SELECT string_agg(id || ':' || position, ',' ORDER BY id) FROM categories") == "1:10,2:2,3:4,50:5");
    return;
  }
  CHECK(fold.folded_ahead() >= 1);
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].checks.at(0).same);  // 10, as the first batch left it
  CHECK(outcomes[1].kind == replay::ChangeOutcomeKind::updated);
  CHECK(outcomes[1].checks.at(0).same);
  CHECK(outcomes[2].cascaded == 3);  // categories 2, 3 and 50
  CHECK(q(db,
          "SELECT string_agg(id || ':' || position || ':' || (deleted_at IS NOT NULL), ',' ORDER BY id) "
          "FROM categories") == positions);
}

TEST_CASE("the sink's prepared statements run on generic plans, never planned again per execution", "[pg][replay]") {
  auto db = test::portfolio_database("replay_generic_plans");
  SinkSession s(db);
  replay::PgSession& session = s.session;
  replay::PgSink sink(session, *s.catalog, false);
  std::vector<replay::RowChange> changes;
  for (int i = 0; i < 12; ++i)  // runs of three rows: set-based statements
    changes.push_back(category_update(1 + i % 3, "position", replay::Value::Kind::integer, std::to_string(i)));
  std::vector<const replay::RowChange*> all = pointers(changes);
  for (int batch = 0; batch < 8; ++batch) {
    sink.begin_batch();
    std::vector<replay::ChangeOutcome> outcomes;
    std::optional<std::size_t> refused;
    REQUIRE(sink.apply_all(all, outcomes, refused));
    sink.rollback_batch();
  }
  auto r = session.exec("SELECT count(*), sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements");
  INFO(PQgetvalue(r.get(), 0, 0) << " statements");
  CHECK(std::string(PQgetvalue(r.get(), 0, 1)) != "0");
  CHECK(std::string(PQgetvalue(r.get(), 0, 2)) == "0");
}

// A restored database has no planner statistics (pg_dump carries none), and the generic plans
// made without them scan a whole soft-delete index per cascade: the sink analyzes such tables
// first; a dry run's analysis is rolled back with the rest of it.
TEST_CASE("the sink analyzes the tables that have no statistics; a dry run leaves none behind", "[pg][replay]") {
  auto db = test::portfolio_database("replay_analyze");
  const std::string analyzed = "SELECT count(DISTINCT tablename) FROM pg_stats WHERE schemaname = 'public'";
  REQUIRE(q(db, analyzed) == "0");
  SinkSession s(db);
  replay::PgSession& session = s.session;
  const replay::TargetCatalog& catalog = *s.catalog;
  {
    replay::PgSink dry(session, catalog, true);
    dry.prepare();
    CHECK(q(db, analyzed) == "0");  // not yet committed: another session sees nothing
    dry.finish();
  }
  CHECK(q(db, analyzed) == "0");
  replay::PgSink sink(session, catalog, false);
  CHECK(q(db, analyzed) == "0");  // not before prepare(), which runs while the first batch is read
  sink.prepare();
  CHECK(q(db, analyzed) == "5");  // the five tables with rows
}

TEST_CASE("what a soft delete touches is a mapping setting, followed by the cascades too", "[pg][replay]") {
  const std::string deleted = "2025-01-15 10:00:01+00";
  std::vector<LogLine> lines = {portfolio("DELETE_PORTFOLIO", "2025-01-15T10:00:01Z", 1, R"("userID":"user-alice")")};
  // Default (gorm's): only the soft-delete column.
  auto plain = test::portfolio_database("replay_soft_default");
  test::ReplayWorkspace plain_ws(plain, lines);
  REQUIRE(plain_ws.replay({"--from", kFrom, "--to", kTo}).exit_code == 0);
  CHECK(q(plain, "SELECT deleted_at = '" + deleted + "' AND updated_at <> deleted_at FROM portfolios WHERE id = 1") ==
        "t");

  // soft_delete_touches = ["updated_at"] for portfolios and categories, not for projects.
  auto db = test::portfolio_database("replay_soft_touches");
  test::ReplayWorkspace ws(db, lines);
  std::string rules = test::read_text(test::source_path("fixtures/portfolio-manager/mapping.toml"));
  for (const std::string table : {"portfolios", "categories"}) {
    std::string header = "[tables." + table + "]\n";
    rules.replace(rules.find(header), header.size(), header + "soft_delete_touches = [\"updated_at\"]\n");
  }
  std::string rules_path = ws.path() + "/rules.toml";
  test::write_text(rules_path, rules);
  std::string config = test::read_text(ws.config());
  std::string fixture = test::source_path("fixtures/portfolio-manager/mapping.toml");
  config.replace(config.find(fixture), fixture.size(), rules_path);
  test::write_text(ws.config(), config);
  auto r = ws.replay({"--from", kFrom, "--to", kTo});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(q(db, "SELECT deleted_at = '" + deleted + "' AND updated_at = deleted_at FROM portfolios WHERE id = 1") == "t");
  CHECK(q(db, "SELECT count(*) FROM categories WHERE portfolio_id = 1 AND deleted_at = '" + deleted + "'") ==
        q(db, "SELECT count(*) FROM categories WHERE portfolio_id = 1 AND updated_at = '" + deleted + "'"));
  CHECK(q(db, "SELECT count(*) FROM categories WHERE portfolio_id = 1 AND updated_at = '" + deleted + "'") != "0");
  CHECK(q(db, "SELECT count(*) FROM projects WHERE deleted_at = '" + deleted + "'") != "0");
  CHECK(q(db, "SELECT count(*) FROM projects WHERE updated_at = '" + deleted + "'") == "0");

  // an unknown column in the setting is named
  test::write_text(rules_path, rules + "\n[tables.projects]\nsoft_delete_touches = [\"updated_att\"]\n");
  auto bad = ws.replay({"--from", kFrom, "--to", kTo});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("updated_att"));
}

TEST_CASE("without --from, replay over a restored backup starts the skew margin before its snapshot", "[pg][replay]") {
  auto db = test::portfolio_database("replay_margin");
  test::ReplayWorkspace ws(db, {});
  // What the backup holds: changes made before it, one of them never logged.
  test::execute(db,
                "UPDATE portfolios SET title = 'In the backup' WHERE id = 1; "
                "UPDATE categories SET position = 3 WHERE id = 1");
  auto backup = ws.cli({"backup"});
  INFO(backup.err);
  REQUIRE(backup.exit_code == 0);
  std::string manifest_path;
  for (const auto& e : std::filesystem::directory_iterator(ws.path() + "/backups"))
    if (e.path().string().find(".manifest.json") != std::string::npos) manifest_path = e.path().string();
  REQUIRE(!manifest_path.empty());
  verify::Manifest manifest = verify::load_manifest(manifest_path);
  auto snapshot = replay::parse_rfc3339(manifest.snapshot_time_utc);
  REQUIRE(snapshot);
  std::time_t snap = std::chrono::system_clock::to_time_t(*snapshot);
  // The logs, as the application's clock wrote them: a change well before the snapshot (outside
  // the margin: the backup holds what came after it), one in the margin that the backup already
  // holds (its logged old position is not what the backup has), and one after the snapshot.
  ws.append({portfolio("UPDATE_PORTFOLIO", test::rfc3339(snap - 60), 1, R"("title":"Logged long before")"),
             {"UPDATE_CATEGORY_POSITION", test::rfc3339(snap - 2),
              R"("categoryID":1,"oldPosition":5,"newPosition":3,"userID":"user-alice")"},
             portfolio("UPDATE_PORTFOLIO", test::rfc3339(snap + 2), 2, R"("title":"After the backup")")});
  auto restored = ws.cli({"restore", manifest.stamp, "--yes"});
  INFO(restored.err);
  REQUIRE(restored.exit_code == 0);

  auto r = ws.replay({"--to", test::rfc3339(snap + 10), "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\"from\": \"" + replay::format_time(*snapshot - std::chrono::seconds(5)) + "\"") &&
                        Catch::Contains(R"("skew_margin_seconds": 5)") && Catch::Contains(R"("applied": 2)") &&
                        Catch::Contains(R"("drift_in_margin_count": 1)") && Catch::Contains(R"("drift_count": 0)"));
  CHECK(q(db, "SELECT title FROM portfolios WHERE id = 1") == "In the backup");
  CHECK(q(db, "SELECT position FROM categories WHERE id = 1") == "3");
  CHECK(q(db, "SELECT title FROM portfolios WHERE id = 2") == "After the backup");
}
