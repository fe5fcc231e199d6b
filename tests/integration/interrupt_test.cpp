// Ctrl-C (SIGINT) and SIGTERM stop every long command within about a second, exit 130 and 143,
// and leave nothing half-done. The binary stops itself at a named phase (AUDITPITR_TEST_PAUSE_AT)
// so that the signal lands mid-way: in a big log, or while a COPY or pg_dump waits for a lock
// another session holds (libpq blocks there: only a cancel on the server ends it).
#include "src/util/interrupt.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "src/error.h"
#include "tests/integration/restore_fixture.h"
#include "verify/table_diff.h"

using namespace auditpitr;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kPatience = std::chrono::seconds(2);  // "about a second", on a busy machine

/// A session holding an ACCESS EXCLUSIVE lock on `table` until it is destroyed.
class TableLock {
 public:
  TableLock(const pg::ConnInfo& info, const std::string& table) : conn_(info.to_libpq_string()), tx_(conn_) {
    tx_.exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
  }

 private:
  pqxx::connection conn_;
  pqxx::work tx_;
};

/// Waits until a session of `dbname` waits for a lock (the command reached the locked table).
bool someone_waits_in(const std::string& dbname) {
  auto admin = test::cluster().connect_info("postgres");
  for (int i = 0; i < 500; ++i) {
    if (test::query_value(admin, "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + dbname +
                                     "' AND wait_event_type = 'Lock'") != "0")
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

struct Stopped {
  std::optional<int> exit_code;  ///< nullopt: still running after kPatience (then killed)
  double seconds = 0;
};

/// Sends `signal` to a running (resumed) process and waits for it to end, at most kPatience.
Stopped stop(int pid, int signal) {
  auto start = Clock::now();
  ::kill(pid, signal);
  Stopped s;
  s.exit_code = test::wait_for_exit(pid, kPatience);
  s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!s.exit_code) test::kill_and_reap(pid);
  return s;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

bool has_backup_files(const std::string& dir) {
  for (const auto& name : files_in(dir))
    if (name.find(".dump.gz") != std::string::npos || name.find(".manifest.json") != std::string::npos) return true;
  return false;
}

/// create.log with `lines` portfolio creations, one a second from January `year`.
void write_big_log(const std::string& path, int lines, int year = 2025) {
  std::ofstream out(path);
  for (int i = 1; i <= lines; ++i) {
    int s = i % 60, m = (i / 60) % 60, h = (i / 3600) % 24, day = 1 + i / 86400;
    char time[40];
    std::snprintf(time, sizeof time, "%04d-01-%02dT%02d:%02d:%02dZ", year, day, h, m, s);
    out << R"({"level":"info","msg":"Portfolio created","operation":"CREATE_PORTFOLIO","portfolioID":)" << i + 100
        << R"(,"time":")" << time << R"(","title":"t","userID":"u"})"
        << "\n";
  }
}

}  // namespace

TEST_CASE("SIGINT mid-way through a big log stops analyze within a second, exit 130", "[pg][interrupt][analyze]") {
  int signal = GENERATE(SIGINT, SIGTERM);
  INFO("signal " << signal);
  auto db = test::portfolio_database("intr_analyze");
  test::TempDir dir;
  ::mkdir((dir / "audit").c_str(), 0700);
  write_big_log(dir / "audit/create.log", 1000000);  // 24 days of events; reading all takes seconds
  test::write_text(dir / "auditpitr.toml",
                   "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"portfolio\"\n"
                   "dbname = \"intr_analyze\"\nconninfo = \"" +
                       db.to_libpq_string() + "\"\n[audit]\ndir = \"audit\"\ndatabase = \"portfolio\"\n");
  int pid = test::run_cli_until_paused({"-c", dir / "auditpitr.toml", "analyze"}, "analyze-reading");
  REQUIRE(pid > 0);
  ::kill(pid, SIGCONT);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // reading: all of it takes 0.4 s on a fast machine
  Stopped s = stop(pid, signal);
  CHECK(s.exit_code == (signal == SIGINT ? 130 : 143));
  CHECK(s.seconds < 1.5);
}

TEST_CASE("SIGINT mid-way through lost's logs stops it within a second, exit 130", "[pg][interrupt][lost]") {
  // Events after the backup are folded on one thread while another reads them (without the
  // folding thread's checks this takes seconds); events before it are only read, by the reading
  // thread, which checks too (though reading these takes well under a second anyway).
  int year = GENERATE(2025, 2999);
  INFO("events of " << year << ", the backup being of today");
  auto db = test::portfolio_database("intr_lost");
  test::TempDir dir;
  ::mkdir((dir / "audit").c_str(), 0700);
  write_big_log(dir / "audit/create.log", 1000000, year);
  test::write_text(dir / "auditpitr.toml",
                   "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"portfolio\"\n"
                   "dbname = \"intr_lost\"\nconninfo = \"" +
                       db.to_libpq_string() + "\"\n[audit]\ndir = \"audit\"\ndatabase = \"portfolio\"\n");
  REQUIRE(test::run_cli({"-c", dir / "auditpitr.toml", "backup"}).exit_code == 0);
  auto backups_before = files_in(dir / "backups");
  int pid = test::run_cli_until_paused({"-c", dir / "auditpitr.toml", "lost"}, "lost-reading");
  REQUIRE(pid > 0);
  ::kill(pid, SIGCONT);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Stopped s = stop(pid, SIGINT);
  CHECK(s.exit_code == 130);
  CHECK(s.seconds < 1.5);
  // the dump's inflated copy, made beside the reading in the backup folder, went with it
  auto backups_after = files_in(dir / "backups");
  std::sort(backups_before.begin(), backups_before.end());
  std::sort(backups_after.begin(), backups_after.end());
  CHECK(backups_after == backups_before);
}

TEST_CASE("SIGINT while the restore's verification COPY waits for a lock cancels it on the server",
          "[pg][interrupt][restore]") {
  test::RestoreFixture f({"intr_restore"});
  auto db = f.db("intr_restore");
  std::string stamp = f.backup();
  test::execute(db, "UPDATE portfolios SET title = 'live data' WHERE id = 1");
  std::string temporary = "intr_restore_restoring_" + stamp;
  auto files_before = files_in(f.backups());

  // Paused with the rows restored: post-data and the verification start once it goes on.
  int pid = test::run_cli_until_paused({"-c", f.config(), "restore", stamp, "--yes"}, "data-restored");
  REQUIRE(pid > 0);
  Stopped s;
  {
    // The restored copy's table, locked: the checksum's COPY waits in libpq, polling nothing.
    TableLock lock(test::cluster().connect_info(temporary), "portfolios");
    ::kill(pid, SIGCONT);
    REQUIRE(someone_waits_in(temporary));
    s = stop(pid, SIGINT);
  }
  INFO("stopped after " << s.seconds << " s");
  CHECK(s.exit_code == 130);
  CHECK(s.seconds < 2);
  // Nothing half-done: the original serves unchanged, the temporary copy is gone, nothing kept.
  CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 1") == "live data");
  CHECK(f.databases_like("intr_restore_restoring_").empty());
  CHECK(f.databases_like("intr_restore_before_restore_").empty());
  auto files_after = files_in(f.backups());  // the inflated copy of the dump is gone too
  std::sort(files_before.begin(), files_before.end());
  std::sort(files_after.begin(), files_after.end());
  CHECK(files_after == files_before);
}

TEST_CASE("SIGTERM while backup's pg_dump and checksums wait for a lock: exit 143, no file of the run left",
          "[pg][interrupt][backup]") {
  test::RestoreFixture f({"intr_backup"});
  int pid = test::run_cli_until_paused({"-c", f.config(), "backup"}, "backup-snapshot");
  REQUIRE(pid > 0);
  Stopped s;
  {
    TableLock lock(f.db("intr_backup"), "portfolios");
    ::kill(pid, SIGCONT);
    REQUIRE(someone_waits_in("intr_backup"));
    s = stop(pid, SIGTERM);
  }
  INFO("stopped after " << s.seconds << " s");
  CHECK(s.exit_code == 143);
  CHECK(s.seconds < 2);
  CHECK_FALSE(has_backup_files(f.backups()));
  auto list = f.cli({"list", "--json"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("intr_backup_") == std::string::npos);
}

// Item: a dump file that cannot be created was reported only once the whole database's checksums
// were done (here: never, a table being locked).
TEST_CASE("a backup whose dump cannot be created fails at once, without waiting for the checksums",
          "[pg][interrupt][backup]") {
  test::RestoreFixture f({"intr_writer"});
  int pid = test::run_cli_until_paused({"-c", f.config(), "backup"}, "backup-snapshot");
  REQUIRE(pid > 0);
  std::optional<int> exit_code;
  {
    TableLock lock(f.db("intr_writer"), "portfolios");
    for (const auto& name : files_in(f.backups())) ::unlink((f.backups() + "/" + name).c_str());
    REQUIRE(::rmdir(f.backups().c_str()) == 0);  // the dump's temporary file cannot be created
    ::kill(pid, SIGCONT);
    exit_code = test::wait_for_exit(pid, std::chrono::seconds(3));
    if (!exit_code) test::kill_and_reap(pid);
  }
  CHECK(exit_code == 1);
}

// Within one command's transaction a table already read cannot be locked against it, so the diff's
// wait is made here, in a child process with its own interrupt flag: diff_table on transactions that
// find the table locked, and SIGINT sent to itself.
TEST_CASE("SIGINT while diff_table's sorted COPY waits for a lock cancels both sides on the server",
          "[pg][interrupt][verify]") {
  auto a = test::portfolio_database("intr_diff_a"), b = test::portfolio_database("intr_diff_b");
  test::execute(b, "UPDATE portfolios SET title = 'changed' WHERE id = 1");
  TableLock lock(b, "portfolios");
  auto start = Clock::now();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    install_interrupt_handlers();
    int code = 1;  // 1: diff_table returned; 0: stopped; 2: another error
    try {
      pqxx::connection ca(a.to_libpq_string()), cb(b.to_libpq_string());
      pqxx::read_transaction ta(ca), tb(cb);
      std::thread([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ::kill(::getpid(), SIGINT);
      }).detach();
      verify::diff_table(ta, tb, {"public", "portfolios", {"id", "title"}, {"id"}, 10});
    } catch (const Error& e) {
      code = e.kind() == ErrorKind::interrupted ? 0 : 2;
    } catch (...) {
      code = 2;
    }
    ::_exit(code);  // not exit(): the test cluster belongs to the parent
  }
  std::optional<int> code = test::wait_for_exit(pid, std::chrono::seconds(3));
  if (!code) test::kill_and_reap(pid);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  INFO("stopped after " << seconds << " s");
  CHECK(code == 0);
  CHECK(seconds < 2);
}
