// The shared test cluster and per-test databases.
#include "tests/support/test_cluster.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/fs.h"
#include "verify/database_checksum.h"

namespace auditpitr::test {
namespace {

pg::PosixProcessRunner runner;
std::unique_ptr<pg::LocalCluster> shared;

void stop_shared() { shared.reset(); }

}  // namespace

void skip_binary(const std::string& reason) {
  std::cerr << "SKIPPED: " << reason << "\n";
  std::exit(77);
}

void skip_binary_unless_required(const std::string& reason) {
  const char* require = std::getenv("AUDITPITR_REQUIRE_PG");
  if (!require || std::string(require) != "1") skip_binary(reason);
  std::cerr << "FAILED: " << reason << " (AUDITPITR_REQUIRE_PG=1 requires every [pg] test to run)\n";
  std::exit(1);
}

void require_server_programs() {
  if (pg::server_bin_dir().empty())
    skip_binary_unless_required(
        "PostgreSQL server programs (initdb, pg_ctl) not found: the [pg] tests of this "
        "binary did not run");
}

pg::LocalCluster& cluster() {
  if (shared) return *shared;
  require_server_programs();
  try {
    shared = std::make_unique<pg::LocalCluster>(runner);
  } catch (const Error& e) {
    std::cerr << "cannot start the test server: " << e.what() << "\n" << e.cause() << "\n";
    std::exit(1);
  }
  std::atexit(stop_shared);
  return *shared;
}

int server_version_num() { return std::stoi(query_value(cluster().connect_info(), "SHOW server_version_num")); }

std::string source_path(const std::string& relative) { return std::string(AUDITPITR_SOURCE_DIR) + "/" + relative; }

pg::ConnInfo fresh_database(const std::string& name, const std::vector<std::string>& sql_files) {
  auto& c = cluster();
  {
    pg::Connection admin(c.connect_info());
    pqxx::nontransaction tx(admin.raw());
    tx.exec("DROP DATABASE IF EXISTS " + pg::quote_ident(name) + " WITH (FORCE)");
    tx.exec("CREATE DATABASE " + pg::quote_ident(name));
  }
  for (const auto& file : sql_files) c.execute(name, read_small_file(source_path(file)));
  return c.connect_info(name);
}

pg::ConnInfo portfolio_database(const std::string& name) {
  return fresh_database(name, {"fixtures/portfolio-manager/schema.sql", "fixtures/portfolio-manager/seed.sql"});
}

std::string query_value(const pg::ConnInfo& info, const std::string& sql) {
  pg::Connection conn(info);
  pqxx::nontransaction tx(conn.raw());
  auto result = tx.exec(sql);
  if (result.empty() || result[0][0].is_null()) return "";
  return result[0][0].as<std::string>();
}

std::vector<verify::TableChecksum> checksums_of(const pg::ConnInfo& info) {
  pg::Connection conn(info);
  conn.set_canonical_output();
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn.raw());
  return verify::checksum_tables(tx, verify::list_tables(tx));
}

void old_script_backup(const std::string& dbname, const std::string& dir, const std::string& stamp) {
  ensure_directory(dir);
  std::string dump = dir + "/" + dbname + "_" + stamp + ".dump";
  pg::PosixProcessRunner runner;
  pg::Command pg_dump;
  pg_dump.program = pg::server_bin_dir() + "/pg_dump";
  pg_dump.args = {"-F", "c", dbname};
  pg_dump.env = cluster().connect_info(dbname).child_environment();
  pg_dump.stdout_file = dump;
  if (!runner.run(pg_dump).ok()) throw std::runtime_error("pg_dump of " + dbname + " failed");
  pg::Command gzip;
  gzip.program = "gzip";
  gzip.args = {dump};
  if (!runner.run(gzip).ok()) throw std::runtime_error("gzip of " + dump + " failed");
}

void execute(const pg::ConnInfo& info, const std::string& sql) {
  pg::Connection conn(info);
  pqxx::nontransaction tx(conn.raw());
  tx.exec(sql);
}

}  // namespace auditpitr::test
