// A restore SIGKILLed at each phase leaves the original database serving under its own name, and
// a re-run cleans the leftovers and succeeds. The binary stops itself at a named phase
// (AUDITPITR_TEST_PAUSE_AT, test-only), so the kill lands at a known moment, not by timing luck.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/integration/restore_fixture.h"
#include "verify/compare.h"

using namespace auditpitr;

namespace {

// Starts `auditpitr args` with the pause variable, waits until it stops itself, kills it.
// Returns false when it ended without reaching the phase.
bool kill_at_phase(const std::vector<std::string>& args, const std::string& phase) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("AUDITPITR_TEST_PAUSE_AT", phase.c_str(), 1);
    ::setenv("NO_COLOR", "1", 1);
    std::vector<char*> argv{const_cast<char*>(AUDITPITR_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(AUDITPITR_BINARY, argv.data());
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, WUNTRACED) == pid);
  bool stopped = WIFSTOPPED(status);
  if (stopped) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  return stopped;
}

}  // namespace

TEST_CASE("a restore killed at any phase leaves the original serving; a re-run cleans up", "[pg][restore][crash]") {
  std::string phase = GENERATE(as<std::string>{}, "temp-created", "inflated", "data-restored", "restored", "verified",
                               "swap-begun", "swapped");
  test::RestoreFixture f({"rs_crash"});
  auto db = f.db("rs_crash");
  std::string stamp = f.backup();
  test::execute(db, "UPDATE portfolios SET title = 'live data' WHERE id = 1");
  std::string manifest = f.backups() + "/rs_crash_" + stamp + ".manifest.json";

  INFO("phase " << phase);
  // Two jobs: pg_restore -j2 from an inflated copy (the inflated point comes before it starts).
  REQUIRE(kill_at_phase({"-c", f.config(), "restore", stamp, "--yes", "--jobs", "2"}, phase));

  // The database answers under its own name at once: the original before the swap's commit,
  // the verified copy after it.
  std::string expected = phase == "swapped" ? "Design Portfolio" : "live data";
  CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 1") == expected);

  if (phase == "swapped") {
    CHECK(f.databases_like("rs_crash_restoring_").empty());
    CHECK(f.databases_like("rs_crash_before_restore_").size() == 1);
    return;
  }
  CHECK(f.databases_like("rs_crash_before_restore_").empty());
  auto rerun = f.cli({"restore", stamp, "--yes"});
  INFO(rerun.out << rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK(rerun.out.find("left by an interrupted restore") != std::string::npos);
  CHECK(f.databases_like("rs_crash_restoring_").empty());
  CHECK(verify::compare_checksums(test::manifest_checksums(manifest), test::checksums_of(db)).empty());
  CHECK(test::query_value(test::cluster().connect_info("rs_crash_before_restore_" + stamp),
                          "SELECT title FROM portfolios WHERE id = 1") == "live data");
}
