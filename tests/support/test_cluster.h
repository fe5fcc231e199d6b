// The PostgreSQL server of a [pg] test binary: started once on first use, stopped at exit.
// Each test asks for its own database so tests never see each other's data.
#pragma once

#include <string>

#include "src/pg/local_cluster.h"
#include "verify/table_checksum.h"

namespace auditpitr::test {

/// The shared throwaway cluster. When the server programs are missing, the binary exits 77
/// (CTest: skipped) — or fails when AUDITPITR_REQUIRE_PG=1.
pg::LocalCluster& cluster();

/// Ends this test binary as skipped: the reason on stderr, exit 77 (SKIP_RETURN_CODE in CTest). A
/// binary that may skip holds only tests sharing the reason, so nothing else goes unrun with them.
[[noreturn]] void skip_binary(const std::string& reason);
/// The same for what a [pg] test needs from the host (server programs, a locale): a failure
/// (exit 1) instead when AUDITPITR_REQUIRE_PG=1 says everything must run (.ci/run sets it).
[[noreturn]] void skip_binary_unless_required(const std::string& reason);
/// Skips (or fails, as above) when the PostgreSQL server programs are missing.
void require_server_programs();

/// The test server's version (server_version_num, 150018 for 15.18): tests take versions from the
/// server under test, never from a literal.
int server_version_num();

/// Drops and re-creates `name`, then runs the SQL files given (paths relative to the source tree).
pg::ConnInfo fresh_database(const std::string& name, const std::vector<std::string>& sql_files = {});

/// The Portfolio Manager schema and seed data from fixtures/portfolio-manager.
pg::ConnInfo portfolio_database(const std::string& name);

/// Runs one SQL statement and returns the first column of the first row as text ("" for NULL).
std::string query_value(const pg::ConnInfo& info, const std::string& sql);
void execute(const pg::ConnInfo& info, const std::string& sql);

/// Counts and checksums of every table, read the way backups and restores read them.
std::vector<verify::TableChecksum> checksums_of(const pg::ConnInfo& info);

/// A backup made the old scripts' way: pg_dump -F c, then gzip, into <dir>/<dbname>_<stamp>.dump.gz
/// (no manifest). Throws when either program fails.
void old_script_backup(const std::string& dbname, const std::string& dir, const std::string& stamp);

/// Absolute path of a file in the source tree.
std::string source_path(const std::string& relative);

}  // namespace auditpitr::test
