// `auditpitr recover` against a real PostgreSQL, run as a user would: a backup, then a workload the
// test applies to the database itself (as the application would) while writing the audit lines the
// application would log, recording the database's state at chosen moments. Recovering to each moment
// must give that state; verification must catch what the replay did not cause; --in-place needs a
// confirmation; a SIGKILL at any phase, then a re-run, ends verified.
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "tests/integration/replay_support.h"
#include "tests/integration/workload_support.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;
using test::LogLine;
using namespace auditpitr::test::workload;

namespace {

/// "2026-12-02T13:00:00Z" for now + `offset` seconds (whole seconds, UTC).
std::time_t at(std::time_t base, int offset) { return base + offset; }

std::string rfc3339(std::time_t t, int offset_hours = 0) {
  std::time_t shifted = t + offset_hours * 3600;
  std::tm tm{};
  gmtime_r(&shifted, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  if (offset_hours == 0) return std::string(text) + "Z";
  char zone[8];
  std::snprintf(zone, sizeof zone, "%+03d:00", offset_hours);
  return text + std::string(zone);
}

/// A category of a portfolio that does not exist: logged, refused by the database (the application
/// never got it in either), so replay reports a foreign-key conflict and the real state lacks it.
Step refused_category(const std::string& time) {
  Step step = create_category(time, 30, 9999, "Orphan");
  step.sql = "SELECT 1";
  return step;
}

/// A workload after the backup: 3 phases, each ending at a moment the tests recover to.
struct Workload {
  std::time_t base = std::time(nullptr) + 120;  // after the backup's snapshot
  std::vector<std::vector<Step>> phases;
  std::vector<std::time_t> moments;

  Workload() {
    int s = 0;
    auto t = [&] { return at(base, s++); };
    phases.push_back({create_portfolio(rfc3339(t()), 10, "Ten"), create_category(rfc3339(t()), 20, 10, "Twenty"),
                      create_category(rfc3339(t()), 21, 10, "Twenty-one"),
                      update_portfolio(rfc3339(t()), 1, "user-alice", "Design v2"), refused_category(rfc3339(t()))});
    moments.push_back(at(base, s - 1));
    phases.push_back({create_portfolio(rfc3339(t()), 11, "Eleven"),
                      update_portfolio(rfc3339(t()), 10, "user-carol", "Ten v2"), delete_category(rfc3339(t()), 2, 1),
                      update_portfolio(rfc3339(t()), 2, "user-bob", "Photos")});
    moments.push_back(at(base, s - 1));
    phases.push_back({delete_portfolio(rfc3339(t()), 10), create_category(rfc3339(t()), 22, 11, "Twenty-two"),
                      delete_portfolio(rfc3339(t()), 1),
                      update_portfolio(rfc3339(t()), 11, "user-carol", "Eleven v2")});
    moments.push_back(at(base, s - 1));
  }

  std::vector<LogLine> lines() const {
    std::vector<LogLine> out;
    for (const auto& phase : phases)
      for (const auto& step : phase) out.push_back(step.line);
    return out;
  }
};

/// A database with a backup, then the workload applied; the state at each moment recorded.
struct Scenario {
  Workload workload;
  pg::ConnInfo db;
  test::ReplayWorkspace ws;
  std::vector<std::vector<verify::TableChecksum>> states;

  explicit Scenario(const std::string& name) : db(test::portfolio_database(name)), ws(db, workload.lines()) {
    auto backup = cli({"backup"});
    INFO(backup.err);
    REQUIRE(backup.exit_code == 0);
    for (const auto& phase : workload.phases) {
      for (const auto& step : phase) test::execute(db, step.sql);
      states.push_back(test::snapshot(db));
    }
  }

  test::CliResult cli(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) const {
    args.insert(args.begin(), {"-c", ws.config()});
    return test::run_cli(args, env);
  }
  std::vector<std::string> args(std::vector<std::string> more) const {
    more.insert(more.begin(), {"-c", ws.config()});
    return more;
  }
  pg::ConnInfo database(const std::string& name) const { return db.with_dbname(name); }
  bool exists(const std::string& name) const {
    return test::query_value(db, "SELECT count(*) FROM pg_database WHERE datname = '" + name + "'") == "1";
  }
};

std::string stamp_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[20];
  std::strftime(text, sizeof text, "%Y%m%d_%H%M%S", &tm);
  return text;
}

}  // namespace

TEST_CASE("recover reaches each moment of a workload, in each time form, and verifies it", "[pg][recover]") {
  Scenario s("rcv_moments");
  const auto& m = s.workload.moments;

  // RFC 3339 in UTC, with an offset other than UTC, local time and a stamp (both in TZ=JST-9).
  std::tm tm{};
  std::time_t local = m[2] + 9 * 3600;
  gmtime_r(&local, &tm);
  char local_text[24];
  std::strftime(local_text, sizeof local_text, "%Y-%m-%d %H:%M:%S", &tm);
  struct Case {
    std::string to, into;
    std::size_t state;
  };
  std::vector<Case> cases = {{rfc3339(m[0]), "recover_m0", 0},
                             {rfc3339(m[1], -3), "recover_m1", 1},
                             {local_text, "recover_m2", 2},
                             {stamp_utc(m[1] + 9 * 3600), "recover_m1_stamp", 1}};
  for (const auto& c : cases) {
    auto r = s.cli({"recover", "--to", c.to, "--into", c.into, "--json"}, {{"TZ", "JST-9"}});
    INFO(c.to << "\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains(R"("ok": true)"));
    CHECK_THAT(r.out, Catch::Contains(R"("foreign_key": 1)"));  // reported, left out, not a failure
    CHECK(test::compare(s.states[c.state], test::snapshot(s.database(c.into))) == "");
    // the result is the user's: no mark, no working tables
    CHECK(test::query_value(s.db,
                            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
                            "WHERE datname = '" +
                                c.into + "'") == "");
    CHECK(test::query_value(s.database(c.into),
                            "SELECT count(*) FROM pg_tables WHERE schemaname = 'auditpitr' "
                            "AND tablename LIKE 'recover%'") == "0");
  }
  // the configured database was never touched
  CHECK(test::compare(s.states[2], test::snapshot(s.db)) == "");

  // the default name, and a second run refusing to write into it
  auto first = s.cli({"recover", "--to", rfc3339(m[0])}, {{"TZ", "UTC"}});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.out,
             Catch::Contains("recovered and verified into the database 'rcv_moments_pitr_" + stamp_utc(m[0]) + "'"));
  CHECK_THAT(first.out, Catch::Contains("What the logs could not bring back"));
  auto again = s.cli({"recover", "--to", rfc3339(m[0])}, {{"TZ", "UTC"}});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("already exists"));

  // no backup before the moment
  auto early = s.cli({"recover", "--to", "2001-01-01T00:00:00Z"});
  CHECK(early.exit_code == 2);
  CHECK_THAT(early.err, Catch::Contains("no backup of 'rcv_moments' was taken at or before"));
}

TEST_CASE("verification catches what the replay did not cause", "[pg][recover]") {
  std::string change, expect, name;
  SECTION("a changed value in a row the logs did not touch") {
    name = "rcv_untouched";
    change = "UPDATE categories SET title = 'tampered' WHERE id = 3";
    expect = "rows the logs did not touch differ from the backup";
  }
  SECTION("a changed value in a row the logs changed") {
    name = "rcv_touched";
    change = "UPDATE portfolios SET title = 'tampered' WHERE id = 11";
    expect = "1 row(s) the logs changed hold another value";
  }
  SECTION("a missing row") {
    name = "rcv_missing";
    change = "DELETE FROM categories WHERE id = 22";
    expect = "1 row(s) the logs create are missing";
  }
  SECTION("an extra row") {
    name = "rcv_extra";
    change = "INSERT INTO portfolios (id, title, owner_id) VALUES (99, 'extra', 'x')";
    expect = "rows the logs did not touch differ from the backup";
  }
  Scenario s(name);
  std::string into = name + "_out";
  auto pid = test::run_cli_until_paused(s.args({"recover", "--to", rfc3339(s.workload.moments[2]), "--into", into}),
                                        "recover-replayed");
  REQUIRE(pid > 0);
  test::execute(s.database(into), change);
  int status = test::resume_and_wait(pid);
  CHECK(status == 3);
  auto report = s.cli({"recover", "--to", rfc3339(s.workload.moments[2]), "--into", into});
  INFO(report.out << report.err);
  CHECK(report.exit_code == 3);  // run again: resumes, verifies again, fails again
  CHECK_THAT(report.out, Catch::Contains(expect));
  CHECK_THAT(report.out, Catch::Contains("verification failed"));
}

TEST_CASE("touched rows the whole-database read did not look for are read by key", "[pg][recover]") {
  // The verification picks the touched rows out of its read of every table, by the keys capture
  // recorded; a row it did not look for must still be compared, not counted as missing.
  Scenario s("rcv_unrecorded");
  std::string into = "rcv_unrecorded_out";
  auto args = s.args({"recover", "--to", rfc3339(s.workload.moments[2]), "--into", into});
  auto pid = test::run_cli_until_paused(args, "recover-captured");
  REQUIRE(pid > 0);
  CHECK(test::query_value(s.database(into), "SELECT count(*) > 2 FROM auditpitr.recover_keys") == "t");
  test::execute(s.database(into), "DELETE FROM auditpitr.recover_keys WHERE key::bigint % 2 = 0");
  CHECK(test::resume_and_wait(pid) == 0);
  CHECK(test::compare(s.states[2], test::snapshot(s.database(into))) == "");
}

TEST_CASE("recover --in-place asks, refuses without an answer, and swaps once verified", "[pg][recover]") {
  Scenario s("rcv_inplace");
  std::string to = rfc3339(s.workload.moments[1]);
  auto refused = s.cli({"recover", "--to", to, "--in-place"}, {{"TZ", "UTC"}});
  CHECK(refused.exit_code == 4);
  CHECK_FALSE(s.exists("rcv_inplace_pitr_" + stamp_utc(s.workload.moments[1])));
  CHECK(test::compare(s.states[2], test::snapshot(s.db)) == "");

  auto done = s.cli({"recover", "--to", to, "--in-place", "--yes"}, {{"TZ", "UTC"}});
  INFO(done.out << done.err);
  REQUIRE(done.exit_code == 0);
  CHECK(test::compare(s.states[1], test::snapshot(s.db)) == "");
  std::string kept = "rcv_inplace_before_restore_" + stamp_utc(s.workload.moments[1]);
  CHECK(s.exists(kept));
  CHECK(test::compare(s.states[2], test::snapshot(s.database(kept))) == "");
  CHECK_FALSE(s.exists("rcv_inplace_pitr_" + stamp_utc(s.workload.moments[1])));
}

TEST_CASE("a SIGKILL at any phase of recover, then a re-run, ends verified", "[pg][recover]") {
  for (const char* phase : {"swapped", "recover-restored", "recover-captured", "recover-replayed"}) {
    Scenario s(std::string("rcv_k_") + (phase[0] == 's' ? "swap" : phase + 8));
    auto args = s.args({"recover", "--to", rfc3339(s.workload.moments[2]), "--in-place", "--yes"});
    int pid = test::run_cli_until_paused(args, phase, {{"TZ", "UTC"}});
    INFO(phase);
    REQUIRE(pid > 0);
    test::kill_and_reap(pid);
    // the configured database is as it was
    CHECK(test::compare(s.states[2], test::snapshot(s.db)) == "");
    auto rerun = test::run_cli(args, {{"TZ", "UTC"}});
    INFO(rerun.out << rerun.err);
    REQUIRE(rerun.exit_code == 0);
    CHECK(test::compare(s.states[2], test::snapshot(s.db)) == "");  // the state at that moment: all of it
  }
}

TEST_CASE("recover from an old-script backup with the fixture application's lossy logs names what it cannot bring back",
          "[pg][recover]") {
  auto db = test::portfolio_database("rcv_fixture");
  test::ReplayWorkspace ws(db, {});
  test::old_script_backup("rcv_fixture", ws.path() + "/backups", "20250114_120000");
  auto r = test::run_cli({"-c", ws.config(), "recover", "--to", "2025-01-16T00:00:00Z", "--audit-dir",
                          test::source_path("fixtures/portfolio-manager/audit"), "--into", "recover_fixture_out"},
                         {{"TZ", "UTC"}});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("the backup has no manifest"));
  CHECK_THAT(r.out, Catch::Contains("What the logs could not bring back"));
  CHECK_THAT(r.out, Catch::Contains("creations are not logged"));
  auto json =
      test::run_cli({"-c", ws.config(), "recover", "--to", "2025-01-16T00:00:00Z", "--audit-dir",
                     test::source_path("fixtures/portfolio-manager/audit"), "--into", "recover_fixture_json", "--json"},
                    {{"TZ", "UTC"}});
  CHECK_THAT(json.out, Catch::Contains(R"("no_create_events": true)"));
  CHECK_THAT(json.out, Catch::Contains(R"("snapshot_from_stamp": true)"));
}
