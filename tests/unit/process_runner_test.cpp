// The real process runner: argv passed as is (no shell), streams, exit status, missing programs;
// and the recording fake of tests/support held to the same contract.
#include "src/pg/process_runner.h"

#include <catch2/catch.hpp>

#include "src/error.h"
#include "src/pg/pg_tools.h"
#include "src/util/fs.h"
#include "tests/support/recording_runner.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

TEST_CASE("arguments reach the program unchanged, never through a shell", "[process]") {
  pg::PosixProcessRunner runner;
  pg::Command c;
  c.program = "printf";
  c.args = {"%s|", "$(echo injected)", "a b", "'quoted'; rm -rf /"};
  c.capture_stdout = true;
  auto r = runner.run(c);
  CHECK(r.ok());
  CHECK(r.stdout_text == "$(echo injected)|a b|'quoted'; rm -rf /|");
}

TEST_CASE("stdin is streamed in and stdout streamed out; exit codes and stderr are kept", "[process]") {
  pg::PosixProcessRunner runner;
  pg::Command c;
  c.program = "sh";
  c.args = {"-c", "cat; echo oops >&2; exit 3"};
  std::string input(300000, 'x');
  std::size_t offset = 0;
  c.stdin_source = [&](char* buf, std::size_t cap) {
    std::size_t n = std::min(cap, input.size() - offset);
    std::copy(input.begin() + offset, input.begin() + offset + n, buf);
    offset += n;
    return n;
  };
  std::string out;
  c.stdout_sink = [&](const char* d, std::size_t n) { out.append(d, n); };
  std::vector<std::string> err_lines;
  c.stderr_line = [&](const std::string& l) { err_lines.push_back(l); };
  c.env["AUDITPITR_TEST_VAR"] = "1";
  auto r = runner.run(c);
  CHECK(r.exit_code == 3);
  CHECK(out == input);
  CHECK(err_lines == std::vector<std::string>{"oops"});
  CHECK(r.describe() == "exited with status 3");
}

TEST_CASE("a missing program is a clear error", "[process]") {
  pg::PosixProcessRunner runner;
  pg::Command c;
  c.program = "auditpitr-no-such-program";
  try {
    runner.run(c);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("unable to run 'auditpitr-no-such-program'"));
  }
}

TEST_CASE("pg_dump runs with the snapshot, custom format, no compression and no secrets in argv", "[process]") {
  auto info = pg::ConnInfo::parse("host=db.example port=6543 user=app password=s3cret sslmode=require", "portfolio_db");
  pg::Command c = pg::pg_dump_command("/usr/lib/postgresql/15/bin/pg_dump", info, "00000003-0000001B-1", false);
  CHECK(c.args ==
        std::vector<std::string>{"--format=custom", "--compress=0", "--no-password", "--snapshot=00000003-0000001B-1"});
  for (const auto& a : c.args) CHECK(a.find("s3cret") == std::string::npos);
  CHECK(c.env.at("PGPASSWORD") == "s3cret");
  CHECK(c.env.at("PGHOST") == "db.example");
  CHECK(c.env.at("PGPORT") == "6543");
  CHECK(c.env.at("PGDATABASE") == "portfolio_db");
  CHECK(c.env.at("PGSSLMODE") == "require");
  // Rendered as checksum sessions render values: the manifest's checksums come from these rows.
  // No startup options (a pooler may refuse them) unless bytea_output's default is not hex.
  CHECK(c.env.at("PGTZ") == "UTC");
  CHECK(c.env.count("PGOPTIONS") == 0);
  auto escaped = pg::pg_dump_command("pg_dump", pg::ConnInfo::parse("options='-c work_mem=64MB'", "db"), "1", true);
  CHECK(escaped.env.at("PGOPTIONS") == "-c work_mem=64MB -c bytea_output=hex");
  CHECK(pg::PgTools::major_of_version_text("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == 15);
  CHECK(pg::PgTools::major_of_version_text("pg_dump (PostgreSQL) 9.6.24") == 9);
}

TEST_CASE("the last stderr line is the program's final word", "[process]") {
  pg::ProcessResult r;
  r.stderr_tail = "pg_dump: warning: x\npg_dump: error: connection failed\n\n";
  CHECK(r.last_stderr_line() == "pg_dump: error: connection failed");
  r.stderr_tail = "only line";
  CHECK(r.last_stderr_line() == "only line");
  r.stderr_tail = "";
  CHECK(r.last_stderr_line().empty());
}

namespace {

// One program, run through `runner`: reads its stdin, writes "out 1\nout 2" and two lines of
// stderr (the last unterminated), exits 3. Whatever the runner, the Command's streams and the
// result must look the same.
void check_contract(pg::ProcessRunner& runner, const std::string& program, const std::vector<std::string>& args) {
  pg::Command c;
  c.program = program;
  c.args = args;
  std::string input(100000, 'i');
  std::size_t offset = 0;
  c.stdin_source = [&](char* buf, std::size_t cap) {
    std::size_t n = std::min(cap, input.size() - offset);
    std::copy(input.begin() + offset, input.begin() + offset + n, buf);
    offset += n;
    return n;
  };
  std::string streamed;
  c.stdout_sink = [&](const char* d, std::size_t n) { streamed.append(d, n); };
  c.capture_stdout = true;
  std::vector<std::string> err_lines;
  c.stderr_line = [&](const std::string& l) { err_lines.push_back(l); };
  pg::ProcessResult r = runner.run(c);
  CHECK(offset == input.size());
  CHECK(streamed == "out 1\nout 2");
  CHECK(r.stdout_text == streamed);
  CHECK(err_lines == std::vector<std::string>{"warning: w", "error: e"});
  CHECK(r.stderr_tail == "warning: w\nerror: e\n");
  CHECK(r.last_stderr_line() == "error: e");
  CHECK(r.exit_code == 3);
  CHECK(r.term_signal == 0);
  CHECK_FALSE(r.ok());
  CHECK(r.describe() == "exited with status 3");

  // Without a sink or capture, stdout goes to the named file.
  test::TempDir dir;
  pg::Command to_file;
  to_file.program = program;
  to_file.args = args;
  to_file.stdout_file = dir / "out.txt";
  CHECK(runner.run(to_file).exit_code == 3);
  CHECK(read_small_file(dir / "out.txt") == "out 1\nout 2");

  pg::Command missing;
  missing.program = "auditpitr-no-such-program";
  CHECK_THROWS_WITH(runner.run(missing), Catch::Contains("unable to run 'auditpitr-no-such-program'"));
}

}  // namespace

TEST_CASE("the real runner and the recording fake keep one contract", "[process]") {
  SECTION("real") {
    pg::PosixProcessRunner runner;
    check_contract(runner, "sh",
                   {"-c", "cat >/dev/null; printf 'out 1\\nout 2'; printf 'warning: w\\nerror: e' >&2; exit 3"});
  }
  SECTION("fake") {
    test::RecordingProcessRunner runner;
    runner.script("sh", {3, "out 1\nout 2", "warning: w\nerror: e"});
    check_contract(runner, "sh", {"-c", "scripted"});
    REQUIRE(runner.commands().size() == 3);
    CHECK(runner.commands()[0].args == std::vector<std::string>{"-c", "scripted"});
    CHECK(runner.inputs()[0] == std::string(100000, 'i'));
  }
}

// What the fake is for: PostgreSQL majors this machine does not have.
TEST_CASE("a pg_dump of another major version is refused, naming what was found", "[process]") {
  test::TempDir dir;
  test::write_text(dir / "pg_dump", "");
  test::RecordingProcessRunner runner;
  runner.script(dir / "pg_dump", {0, "pg_dump (PostgreSQL) 14.11\n", ""});
  pg::PgTools tools(runner, dir.path());
  CHECK_THROWS_WITH(tools.find("pg_dump", 160002, "db:5432"),
                    Catch::Contains("pg_dump of major version 16 is needed for server db:5432") &&
                        Catch::Contains("is 'pg_dump (PostgreSQL) 14.11'"));
  CHECK(runner.commands().back().args == std::vector<std::string>{"--version"});
  runner.script(dir / "pg_dump", {0, "pg_dump (PostgreSQL) 16.2\n", ""});
  CHECK(tools.find("pg_dump", 160002, "db:5432").path == dir / "pg_dump");
}
