// pg_restore argv, exactly, and the reading of its messages (expected vs real, objects, conflicts).
#include "src/pg/pg_restore.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>

using namespace auditpitr;
using Args = std::vector<std::string>;

namespace {
pg::ConnInfo server() { return pg::ConnInfo::parse("host=/tmp/sock port=5499 user=app password=secret"); }
}  // namespace

TEST_CASE("a full restore from a decompressed file runs in parallel into the named database", "[pg_restore]") {
  pg::PgRestoreOptions o;
  o.target_dbname = "portfolio_db_restoring_20250123_140530";
  o.input_file = "/b/portfolio_db_20250123_140530.dump.tmp-42";
  o.jobs = 4;
  auto c = pg::pg_restore_command("/usr/lib/postgresql/15/bin/pg_restore", server(), o);
  CHECK(c.program == "/usr/lib/postgresql/15/bin/pg_restore");
  CHECK(c.args == Args{"--no-password", "--dbname=dbname='portfolio_db_restoring_20250123_140530'", "--jobs=4",
                       "/b/portfolio_db_20250123_140530.dump.tmp-42"});
  // The password travels in the environment, never in argv.
  for (const auto& a : c.args) CHECK(a.find("secret") == std::string::npos);
  CHECK(c.env.at("PGPASSWORD") == "secret");
}

TEST_CASE("through an exec prefix the archive is stdin, the SQL stdout, one job, the password not in argv",
          "[pg_restore][exec]") {
  pg::Tool tool("pg_restore", {"podman", "exec", "-i", "-e", "PGPASSWORD", "pg"});
  pg::PgRestoreOptions o;
  o.target_dbname = "x";
  o.input_file = "/b/x.dump.tmp-42";
  o.jobs = 4;
  auto c = pg::pg_restore_command(tool, server(), o);
  CHECK(c.program == "podman");
  CHECK(c.args == Args{"exec", "-i", "-e", "PGPASSWORD", "pg", "pg_restore", "--no-password", "--dbname=dbname='x'"});
  CHECK(c.stdin_file == "/b/x.dump.tmp-42");
  for (const auto& a : c.args) CHECK(a.find("secret") == std::string::npos);
  CHECK(c.env.at("PGPASSWORD") == "secret");

  pg::PgRestoreOptions sql;
  sql.input_file = "/b/x.dump.tmp-42";
  sql.output_file = "/out/x.sql.tmp";
  auto e = pg::pg_restore_command(tool, server(), sql);
  CHECK(e.args.back() == "--file=-");
  CHECK(e.stdout_file == "/out/x.sql.tmp");
}

TEST_CASE("streaming from stdin never asks for jobs; --no-owner adds --no-privileges", "[pg_restore]") {
  pg::PgRestoreOptions o;
  o.target_dbname = "x";
  o.jobs = 4;
  o.no_owner = true;
  auto c = pg::pg_restore_command("pg_restore", server(), o);
  CHECK(c.args == Args{"--no-password", "--dbname=dbname='x'", "--no-owner", "--no-privileges"});
}

TEST_CASE("table data restores are one transaction with one -t per table", "[pg_restore]") {
  pg::PgRestoreOptions o;
  o.target_dbname = "portfolio_db";
  o.data_only = true;
  o.single_transaction = true;
  o.tables = {"portfolios", "categories"};
  o.input_file = "/f";
  o.jobs = 4;  // ignored: --jobs cannot be combined with --single-transaction
  auto c = pg::pg_restore_command("pg_restore", server(), o);
  CHECK(c.args == Args{"--no-password", "--dbname=dbname='portfolio_db'", "--data-only", "--single-transaction",
                       "--table=portfolios", "--table=categories", "/f"});
}

TEST_CASE("export writes a file; odd database names cannot become options or conninfo", "[pg_restore]") {
  pg::PgRestoreOptions o;
  o.output_file = "/out/backup.sql.tmp-7";
  auto c = pg::pg_restore_command("pg_restore", server(), o);
  CHECK(c.args == Args{"--no-password", "--file=/out/backup.sql.tmp-7"});
  CHECK(pg::conninfo_dbname("a b' host=evil\\") == "dbname='a b\\' host=evil\\\\'");
}

TEST_CASE("relative file paths become absolute, so a folder named -f is not an option", "[pg_restore]") {
  char cwd[PATH_MAX];
  REQUIRE(::getcwd(cwd, sizeof cwd));
  pg::PgRestoreOptions o;
  o.target_dbname = "authentik";
  o.input_file = "-f/authentik_20250123_140530.dump.tmp-42-aB3dE9";
  o.jobs = 2;
  auto c = pg::pg_restore_command("pg_restore", server(), o);
  // Before: pg_restore received "-f/authentik_…" and took it for -f (output file) "/authentik_…".
  CHECK(c.args == Args{"--no-password", "--dbname=dbname='authentik'", "--jobs=2",
                       std::string(cwd) + "/-f/authentik_20250123_140530.dump.tmp-42-aB3dE9"});
  pg::PgRestoreOptions e;
  e.output_file = "-n/out.sql";
  CHECK(pg::pg_restore_command("pg_restore", server(), e).args ==
        Args{"--no-password", "--file=" + std::string(cwd) + "/-n/out.sql"});
}

TEST_CASE("expected messages are counted by kind, real errors keep their object", "[pg_restore]") {
  pg::PgRestoreMessages m;
  for (const char* line : {
           "pg_restore: while PROCESSING TOC:",
           "pg_restore: from TOC entry 215; 1259 16386 TABLE portfolios postgres",
           "pg_restore: error: could not execute query: ERROR:  role \"postgres\" does not exist",
           "Command was: ALTER TABLE public.portfolios OWNER TO postgres;",
           "pg_restore: from TOC entry 5; 2615 2200 SCHEMA public pg_database_owner",
           "pg_restore: error: could not execute query: ERROR:  schema \"public\" already exists",
           "pg_restore: from TOC entry 3340; 0 16386 TABLE DATA public projects postgres",
           "pg_restore: error: could not execute query: ERROR:  invalid input syntax for type bigint: \"x\"",
           "CONTEXT:  COPY projects, line 3",
           "pg_restore: warning: errors ignored on restore: 3",
       })
    m.add_line(line);
  CHECK(m.expected.size() == 2);
  CHECK(m.summary() == "2 expected pg_restore messages ignored: 1 x already exists, 1 x role does not exist");
  REQUIRE(m.errors.size() == 1);
  CHECK(m.has_real_errors());
  CHECK(m.errors[0].describe() ==
        "TABLE DATA public projects: invalid input syntax for type bigint: \"x\" (COPY projects, line 3)");
}

TEST_CASE("--verbose's lines say which table's data is loaded, and are no errors", "[pg_restore]") {
  pg::PgRestoreMessages m;
  std::vector<std::string> loaded;
  for (const char* line : {
           "pg_restore: connecting to database for restore",
           "pg_restore: creating TABLE \"public.projects\"",
           "pg_restore: entering main parallel loop",
           "pg_restore: launching item 3372 TABLE DATA projects",
           "pg_restore: processing data for table \"public.projects\"",
           "pg_restore: finished item 3372 TABLE DATA projects",
           "pg_restore: finished item 3373 TABLE DATA my table",
           "pg_restore: finished item 3380 SEQUENCE SET projects_id_seq",
           "pg_restore: finished item TABLE DATA nothing",
           "pg_restore: finished main parallel loop",
       }) {
    m.add_line(line);
    if (!pg::loaded_table_data(line).empty()) loaded.push_back(pg::loaded_table_data(line));
  }
  CHECK(loaded == std::vector<std::string>{"projects", "my table"});
  CHECK_FALSE(m.has_real_errors());
  CHECK(m.summary().empty());
  pg::PgRestoreOptions options;
  options.target_dbname = "x";
  options.input_file = "/b/x.dump";
  options.jobs = 2;
  options.verbose = true;
  auto args = pg::pg_restore_command("/usr/bin/pg_restore", server(), options).args;
  CHECK(std::find(args.begin(), args.end(), "--verbose") != args.end());
}

TEST_CASE("a COPY conflict says which key conflicted", "[pg_restore]") {
  pg::PgRestoreMessages m;
  m.add_line(
      "pg_restore: error: COPY failed for table \"categories\": ERROR:  duplicate key value violates unique constraint "
      "\"categories_pkey\"");
  m.add_line("DETAIL:  Key (id)=(1) already exists.");
  m.add_line("CONTEXT:  COPY categories, line 1");
  REQUIRE(m.errors.size() == 1);
  CHECK(m.errors[0].describe() ==
        "TABLE DATA \"categories\": duplicate key value violates unique constraint \"categories_pkey\" "
        "(Key (id)=(1) already exists; COPY categories, line 1)");
  CHECK(m.summary().empty());
}

TEST_CASE("pg_restore speaks English, and asks the server to when the role may", "[pg_restore]") {
  pg::PgRestoreOptions o;
  o.target_dbname = "db";
  o.input_file = "/b/x.dump";
  auto plain = pg::pg_restore_command("pg_restore", server(), o);
  CHECK(plain.env.at("LC_ALL") == "C");  // its own lines, which PgRestoreMessages reads
  CHECK(plain.env.count("PGOPTIONS") == 0);
  o.english_server_messages = true;
  CHECK(pg::pg_restore_command("pg_restore", server(), o).env.at("PGOPTIONS") == "-c lc_messages=C");
  auto with_options = pg::ConnInfo::parse("host=/tmp/sock options='-c work_mem=64MB'");
  CHECK(pg::pg_restore_command("pg_restore", with_options, o).env.at("PGOPTIONS") ==
        "-c work_mem=64MB -c lc_messages=C");
}

TEST_CASE("a server error in another language is still an error of its object", "[pg_restore]") {
  pg::PgRestoreMessages m;
  m.add_line("pg_restore: from TOC entry 215; 1259 16386 TABLE portfolios postgres");
  m.add_line("pg_restore: error: could not execute query: FEHLER:  Rolle »app« existiert nicht");
  REQUIRE(m.errors.size() == 1);
  CHECK(m.errors[0].object == "TABLE portfolios");
  CHECK(m.errors[0].message == "Rolle »app« existiert nicht");
  CHECK(m.other.empty());
}
