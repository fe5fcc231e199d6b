// `auditpitr status` through the binary: healthy after a backup with the logs running on, then
// unhealthy for each reason alone (old backup, failed last backup, too little space, logs not
// covering), exit 0 and 3; --json against docs/status.md; --metrics parsed by a strict Prometheus
// text-format parser (and by promtool when it is installed).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "src/catalog/catalog.h"
#include "src/ops/outcome_record.h"
#include "src/pg/process_runner.h"
#include "tests/integration/replay_support.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;

namespace {

test::LogLine event_at(std::time_t t, int id) {
  return {"UPDATE_PORTFOLIO", test::rfc3339(t),
          "\"portfolioID\":" + std::to_string(id) + ",\"title\":\"T\",\"userID\":\"user-alice\""};
}

/// A workspace with logs from an hour ago, a backup, and an event after it: healthy.
struct StatusWorkspace {
  test::ReplayWorkspace ws;
  std::string stamp;
  StatusWorkspace(const std::string& db, const std::string& status_settings = "")
      : ws(test::portfolio_database(db), {event_at(std::time(nullptr) - 3600, 1)}) {
    if (!status_settings.empty())
      test::write_text(ws.config(), test::read_text(ws.config()) + "[status]\n" + status_settings);
    auto r = ws.cli({"backup"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    ws.append({event_at(std::time(nullptr), 2)});
    for (const auto& e : std::filesystem::directory_iterator(backups()))
      if (e.path().extension() == ".json" && e.path().string().find(".manifest") != std::string::npos)
        stamp = e.path().filename().string().substr(e.path().filename().string().size() - 29, 15);
  }
  std::string backups() const { return ws.path() + "/backups"; }
};

/// Strict Prometheus text format (exposition format 0.0.4) as node_exporter's textfile collector
/// reads it: "" when `text` is valid, else the first problem. Every sample belongs to a family
/// declared by one HELP and one TYPE line before it, names and labels have the allowed shapes,
/// label values are escaped, values are numbers, no series repeats, the text ends with a newline.
std::string prometheus_problem(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+))");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? ([-+]?[0-9.eE+-]+|NaN|[+-]Inf))");
  if (text.empty() || text.back() != '\n') return "does not end with a newline";
  std::set<std::string> helped, typed, series;
  std::string current;
  std::istringstream lines(text);
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    ++n;
    std::smatch m;
    std::string where = "line " + std::to_string(n) + " '" + line + "': ";
    if (std::regex_match(line, m, help)) {
      if (!helped.insert(m[1]).second) return where + "a second HELP";
      current = m[1];
    } else if (std::regex_match(line, m, type)) {
      if (!typed.insert(m[1]).second) return where + "a second TYPE";
      if (m[1] != current) return where + "TYPE without its HELP just before";
    } else if (std::regex_match(line, m, sample)) {
      if (m[1] != current || !typed.count(current)) return where + "a sample outside its family";
      if (!series.insert(m[1].str() + m[2].str()).second) return where + "a repeated series";
      std::string value = m[7];
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (*end != '\0') return where + "not a number";
    } else {
      return where + "neither HELP, TYPE nor a sample";
    }
  }
  return "";
}

/// The sample of `name` (with `labels`, "" for none) in the metrics text; "" when absent.
std::string metric(const std::string& text, const std::string& name, const std::string& labels = "") {
  std::string prefix = name + (labels.empty() ? "" : "{" + labels + "}") + " ";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return "";
}

std::size_t lines_of(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

std::string attention_of(const test::CliResult& r) {
  std::string out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("ATTENTION", 0) == 0) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("status is healthy after a backup with the logs running on; --json and --metrics", "[pg][status]") {
  StatusWorkspace s("st_ok");
  std::string prom = s.ws.path() + "/metrics/auditpitr.prom";
  std::filesystem::create_directories(s.ws.path() + "/metrics");
  auto started = std::chrono::steady_clock::now();
  auto r = s.ws.cli({"status", "--metrics", prom});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(seconds < 5);
  CHECK(attention_of(r) == "");
  CHECK_THAT(r.out, Catch::Contains("OK        backup st_ok: " + s.stamp));
  CHECK_THAT(r.out, Catch::Contains("OK        last backup: succeeded"));
  CHECK_THAT(r.out, Catch::Contains("-         last push: never"));
  CHECK_THAT(r.out, Catch::Contains("OK        free space: "));
  CHECK_THAT(r.out, Catch::Contains("OK        audit logs: 1 event since backup " + s.stamp));
  CHECK_THAT(r.out, Catch::Contains("Healthy."));
  CHECK_THAT(r.out, !Catch::Contains("\033["));  // not a terminal: no colour

  std::string text = test::read_text(prom);
  CHECK(prometheus_problem(text) == "");
  struct stat st {};
  REQUIRE(::stat(prom.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK(std::filesystem::directory_iterator(s.ws.path() + "/metrics")->path() == prom);  // no temporary left
  std::string labels = R"(database="st_ok",alias="portfolio")";
  CHECK(metric(text, "auditpitr_status_healthy") == "1");
  CHECK(metric(text, "auditpitr_backup_ok", labels) == "1");
  CHECK(metric(text, "auditpitr_last_backup_success") == "1");
  CHECK(metric(text, "auditpitr_audit_logs_covered", labels) == "1");
  CHECK(metric(text, "auditpitr_audit_logs_events_since_backup", labels) == "1");
  CHECK(std::stoull(metric(text, "auditpitr_backup_last_size_bytes", labels)) ==
        Catalog::scan(s.backups()).find(s.stamp)->dumps.front().size);
  CHECK(metric(text, "auditpitr_last_drill_success") == "");  // never ran: absent, HELP and TYPE too
  CHECK_THAT(text, !Catch::Contains("auditpitr_last_drill_"));
  pg::Command promtool;  // Debian's prometheus package has it; only used when installed
  promtool.program = "promtool";
  promtool.args = {"check", "metrics"};
  promtool.stdin_file = prom;
  pg::PosixProcessRunner runner;
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) CHECK(runner.run(promtool).ok());

  // On a terminal, with NO_COLOR (which the test runner sets): the same lines, no escape codes.
  auto terminal = test::run_cli_on_terminal({"-c", s.ws.config(), "status"});
  CHECK(terminal.exit_code == 0);
  CHECK_THAT(terminal.out, Catch::Contains("OK        backup st_ok: ") && !Catch::Contains("\033["));

  auto json = s.ws.cli({"status", "--json"});
  CHECK(json.exit_code == 0);
  CHECK(test::json_keys_against_docs(json.out, "status.md") == "");
  CHECK_THAT(json.out, Catch::Contains(R"("healthy": true)") && Catch::Contains(R"("attention": [])") &&
                           Catch::Contains(R"("last_push": null)") && Catch::Contains(R"("reaches_back": true)"));
}

TEST_CASE("status: a backup older than max_backup_age needs attention", "[pg][status]") {
  StatusWorkspace s("st_old", "max_backup_age = \"1s\"\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto r = s.ws.cli({"status", "--metrics", s.ws.path() + "/m.prom"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(attention_of(r),
             Catch::StartsWith("ATTENTION backup st_old: " + s.stamp + ", ") && Catch::Contains("(limit 1 s)"));
  CHECK(lines_of(attention_of(r)) == 1);
  CHECK_THAT(r.out, Catch::Contains("1 thing needs attention (exit 3)."));
  std::string text = test::read_text(s.ws.path() + "/m.prom");
  CHECK(prometheus_problem(text) == "");
  CHECK(metric(text, "auditpitr_status_healthy") == "0");
  CHECK(metric(text, "auditpitr_backup_ok", R"(database="st_old",alias="portfolio")") == "0");
  auto json = s.ws.cli({"status", "--json"});
  CHECK(json.exit_code == 3);
  CHECK_THAT(json.out, Catch::Contains("more than the 1 s allowed") && Catch::Contains(R"("healthy": false)"));
}

TEST_CASE("status: a failed last backup needs attention until one succeeds", "[pg][status]") {
  StatusWorkspace s("st_failed");
  // Another backup holds the folder's lock: this one fails, and is recorded as failed.
  int fd = ::open((s.backups() + "/.auditpitr.lock").c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  auto failed = s.ws.cli({"backup"});
  ::close(fd);
  REQUIRE(failed.exit_code == 1);
  auto r = s.ws.cli({"status"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(attention_of(r),
             Catch::StartsWith("ATTENTION last backup: FAILED ") && Catch::Contains("another auditpitr process"));
  CHECK(lines_of(attention_of(r)) == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  REQUIRE(s.ws.cli({"backup"}).exit_code == 0);
  CHECK(s.ws.cli({"status"}).exit_code == 0);
}

TEST_CASE("status: too little free space for the next backup needs attention", "[pg][status]") {
  StatusWorkspace s("st_space");
  // The last dump made (sparsely) larger than the free space: the next one is expected as large.
  struct statvfs fs {};
  REQUIRE(::statvfs(s.backups().c_str(), &fs) == 0);
  uint64_t absurd = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize + (uint64_t{1} << 30);
  std::string dump = s.backups() + "/" + dump_file_name("st_space", s.stamp);
  if (::truncate(dump.c_str(), static_cast<off_t>(absurd)) != 0) {
    WARN("cannot make a sparse file of " << absurd << " bytes here; skipped");
    return;
  }
  auto r = s.ws.cli({"status", "--metrics", s.ws.path() + "/m.prom"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(attention_of(r), Catch::StartsWith("ATTENTION free space: not enough free space in '" + s.backups() +
                                                "' for the next backup") &&
                                  Catch::Contains("as large as the last: st_space's of " + s.stamp));
  CHECK(lines_of(attention_of(r)) == 1);
  std::string text = test::read_text(s.ws.path() + "/m.prom");
  CHECK(prometheus_problem(text) == "");
  CHECK(metric(text, "auditpitr_backup_space_ok") == "0");
  CHECK(std::stoull(metric(text, "auditpitr_backup_next_needed_bytes")) == absurd);
}

TEST_CASE("status: audit logs that do not cover the time since the backup need attention", "[pg][status]") {
  SECTION("silent for longer than max_log_lag") {
    StatusWorkspace s("st_silent", "max_log_lag = \"2s\"\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(3100));
    auto r = s.ws.cli({"status"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK_THAT(attention_of(r), Catch::StartsWith("ATTENTION audit logs: no audit event for ") &&
                                    Catch::Contains("is the application still writing its logs into"));
    CHECK(lines_of(attention_of(r)) == 1);
  }
  SECTION("beginning after the backup's snapshot") {
    StatusWorkspace s("st_late");
    for (const char* name : {"create.log", "update.log", "delete.log"})
      test::write_text(s.ws.audit_dir() + "/" + name, "");  // the logs before the backup are gone
    s.ws.append({event_at(std::time(nullptr), 3)});
    auto r = s.ws.cli({"status", "--json"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.out, Catch::Contains("the audit logs begin at ") && Catch::Contains(R"("reaches_back": false)") &&
                          Catch::Contains("the changes in between cannot be replayed"));
  }
  SECTION("a file that looks like a log, written since the backup, is not read") {
    StatusWorkspace s("st_unread");
    test::write_text(s.ws.audit_dir() + "/update.log.2.xz", "not read");
    auto r = s.ws.cli({"status"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK_THAT(attention_of(r), Catch::Contains("update.log.2.xz' looks like an audit log written since the backup"));
  }
}

TEST_CASE("status reads only the log files written since the backup", "[pg][status]") {
  StatusWorkspace s("st_files");
  // A rotated file last written long before the backup: not read, and proof the logs reach back.
  std::string old = s.ws.audit_dir() + "/update.log.1";
  test::write_text(old, "not even JSON: a file status would count as malformed if it read it\n");
  struct timespec times[2] = {{std::time(nullptr) - 86400, 0}, {std::time(nullptr) - 86400, 0}};
  REQUIRE(::utimensat(AT_FDCWD, old.c_str(), times, 0) == 0);
  auto r = s.ws.cli({"status", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("files_skipped": 1)") && Catch::Contains(R"("malformed_lines": 0)"));
}

TEST_CASE("status shows the last drill and push from their records; a failed push needs attention", "[pg][status]") {
  StatusWorkspace s("st_push");
  std::time_t now = std::time(nullptr);
  ops::record_outcome(s.backups(), {"drill", true, now - 300, now - 240, s.stamp, "from A to B: 5 of 5 columns", 0});
  ops::record_outcome(s.backups(), {"push", false, now - 60, now - 50, s.stamp, "rclone exited with 1", 0});
  std::time_t started = std::time(nullptr);
  auto r = s.ws.cli({"status", "--metrics", s.ws.path() + "/m.prom"});
  std::time_t ended = std::time(nullptr);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("OK        last drill: succeeded 4 min ago (60 s): from A to B: 5 of 5 columns"));
  // The push ended 50 s before `now`; status reads the clock somewhere between `started` and
  // `ended`, so on a busy machine the age it prints may be a second or two more.
  std::set<std::string> expected;
  for (std::time_t at = started; at <= ended; ++at)
    expected.insert("ATTENTION last push: FAILED " + std::to_string(at - (now - 50)) +
                    " s ago (10 s): rclone exited with 1\n");
  CHECK(expected.count(attention_of(r)) == 1);
  std::string text = test::read_text(s.ws.path() + "/m.prom");
  CHECK(prometheus_problem(text) == "");
  CHECK(metric(text, "auditpitr_last_drill_success") == "1");
  CHECK(metric(text, "auditpitr_last_push_success") == "0");
  CHECK(metric(text, "auditpitr_last_push_duration_seconds") == "10");

  test::write_text(s.backups() + "/.auditpitr/last-push.json", "{");  // a damaged record is named, not fatal
  auto damaged = s.ws.cli({"status"});
  CHECK(damaged.exit_code == 3);
  CHECK_THAT(attention_of(damaged), Catch::Contains("last-push.json' is not a JSON object"));
}
