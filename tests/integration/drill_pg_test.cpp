// `auditpitr drill` against a real PostgreSQL: two backups with real activity between them (the
// test makes each change itself and logs it as the application would), then the drill from the
// first to the second. Logs that carry every change reproduce every column; the fixture
// application's lossy logs, with changes they never logged, are named column by column.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "replay/log/time_parse.h"
#include "src/ops/outcome_record.h"
#include "tests/integration/replay_support.h"
#include "tests/integration/workload_support.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;
using namespace auditpitr::test::workload;

namespace {

/// Now, with milliseconds: events between two backups taken a few seconds apart.
std::string now_text() {
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::string text = replay::format_rfc3339(now);  // microseconds, Z
  return text;
}

/// Takes a backup and returns its stamp (a second later than any before it).
std::string backup(const test::ReplayWorkspace& ws, const std::string& dbname) {
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // stamps have whole seconds
  auto r = test::run_cli({"-c", ws.config(), "backup"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(ws.path() + "/backups")) {
    std::string name = e.path().filename().string();
    std::string prefix = dbname + "_", suffix = ".dump.gz";
    if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size() + suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string stamp = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
      if (stamp.size() == 15 && stamp[8] == '_') newest = std::max(newest, stamp);  // not the `latest` link
    }
  }
  return newest;
}

/// Applies each step to the database at the time it carries, and logs it.
void run_steps(const pg::ConnInfo& db, const test::ReplayWorkspace& ws, const std::vector<Step>& steps) {
  for (const auto& step : steps) test::execute(db, step.sql);
  append_lines(ws.audit_dir(), steps);
}

}  // namespace

TEST_CASE("drill: logs that carry every change reproduce every column", "[pg][drill]") {
  auto db = test::portfolio_database("drl_full");
  test::ReplayWorkspace ws(db, {});
  std::string first = backup(ws, "drl_full");
  // One backup: nothing to start a drill from (without --from, the backup before the latest).
  auto alone = test::run_cli({"-c", ws.config(), "drill"});
  CHECK(alone.exit_code == 2);
  CHECK_THAT(alone.err, Catch::StartsWith("auditpitr: no complete backup of drl_full older than " + first));
  CHECK_FALSE(ops::read_outcome(ws.path() + "/backups", "drill"));  // a usage error is no drill result
  run_steps(db, ws,
            {create_portfolio(now_text(), 10, "Ten"), create_category(now_text(), 20, 10, "Twenty"),
             update_portfolio(now_text(), 1, "user-alice", "Design v2"), delete_category(now_text(), 2, 1),
             create_category(now_text(), 21, 10, "Twenty-one"), delete_portfolio(now_text(), 10)});
  std::string second = backup(ws, "drl_full");

  auto r = test::run_cli({"-c", ws.config(), "drill", "--from", first, "--to", second, "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("ok": true)"));
  CHECK_THAT(r.out, Catch::Contains(R"("failures": [])"));
  CHECK_THAT(r.out, Catch::Matches(R"([\s\S]*"columns": (\d+),\s*"columns_reproduced": \1,[\s\S]*)"));
  CHECK(test::query_value(db, "SELECT count(*) FROM pg_database WHERE datname LIKE 'drl_full_drill_%'") == "0");
  auto record = ops::read_outcome(ws.path() + "/backups", "drill");  // what auditpitr status shows
  REQUIRE(record);
  CHECK(record->ok);
  CHECK(record->stamp == second);
  CHECK_THAT(record->detail, Catch::StartsWith("from " + first + " to " + second + ": "));
  // A mistyped stamp is a usage error, not a drill result: the record stays.
  CHECK(test::run_cli({"-c", ws.config(), "drill", "--from", first, "--to", "20990101_000000"}).exit_code == 2);
  CHECK(ops::read_outcome(ws.path() + "/backups", "drill")->ok);

  // Without --from and --to: the last two backups, as a scheduled drill runs it.
  auto defaults = test::run_cli({"-c", ws.config(), "drill", "--json"});
  INFO(defaults.err);
  CHECK(defaults.exit_code == 0);
  CHECK_THAT(defaults.out,
             Catch::Contains("\"from\": \"" + first + "\",\n") && Catch::Contains("\"to\": \"" + second + "\",\n"));

  auto text = test::run_cli({"-c", ws.config(), "drill", "--from", first, "--to", second, "--keep"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("everything the logs claim to carry was reproduced"));
  CHECK(test::query_value(db, "SELECT count(*) FROM pg_database WHERE datname = 'drl_full_drill_" + second + "'") ==
        "1");
}

TEST_CASE("drill names what the fixture application's logs do not reproduce", "[pg][drill]") {
  auto db = test::portfolio_database("drl_fixture");
  test::ReplayWorkspace ws(db, {});
  std::string fixture = test::source_path("fixtures/portfolio-manager/audit");
  test::old_script_backup("drl_fixture", ws.path() + "/backups", "20250114_120000");
  // What the application did: everything its logs say, and what they never say (two projects
  // created, a client renamed: project creation and those columns are not logged).
  auto replayed = test::run_cli({"-c", ws.config(), "replay", "--from", "2025-01-14T12:00:00Z", "--to",
                                 "2025-01-16T00:00:00Z", "--audit-dir", fixture},
                                {{"TZ", "UTC"}});
  REQUIRE(replayed.exit_code == 0);
  test::execute(db,
                "INSERT INTO projects (title, owner_id, category_id) VALUES ('a', 'user-bob', 3), "
                "('b', 'user-bob', 3); UPDATE projects SET client = 'Lumière SA' WHERE id = 1");
  std::string second = backup(ws, "drl_fixture");

  auto r =
      test::run_cli({"-c", ws.config(), "drill", "--from", "20250114_120000", "--to", second, "--audit-dir", fixture},
                    {{"TZ", "UTC"}});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("rows created without a log line: public.projects 2"));
  CHECK_THAT(r.out, Catch::Contains("public.projects:"));
  CHECK_THAT(r.out, Catch::Contains("client ("));
  CHECK_THAT(r.out, Catch::Contains("columns reproduced exactly"));

  // A change the logs claim to carry, made behind their back, fails the drill.
  test::execute(db, "UPDATE portfolios SET title = 'renamed without a log line' WHERE id = 4");
  std::string third = backup(ws, "drl_fixture");
  auto failed =
      test::run_cli({"-c", ws.config(), "drill", "--from", "20250114_120000", "--to", third, "--audit-dir", fixture},
                    {{"TZ", "UTC"}});
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code == 3);
  CHECK_THAT(failed.out, Catch::Contains("public.portfolios.title differs, though the logs carry it"));
  auto record = ops::read_outcome(ws.path() + "/backups", "drill");
  REQUIRE(record);
  CHECK_FALSE(record->ok);
  CHECK_THAT(record->detail, Catch::Contains("public.portfolios.title differs"));
}
