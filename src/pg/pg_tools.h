// Finding pg_dump / pg_restore of the server's major version, and the argv they are run with.
// Connection settings reach them through PG* variables: nothing secret is ever in argv.
#pragma once

#include <string>

#include "src/pg/conninfo.h"
#include "src/pg/process_runner.h"

namespace auditpitr::pg {

class PgTools {
 public:
  /// `bin_dir`: the configured [tools] bin_dir, empty for automatic.
  PgTools(ProcessRunner& runner, std::string bin_dir);

  /// Path of `tool` whose major version is the server's. Looks in bin_dir, then
  /// /usr/lib/postgresql/<major>/bin, then PATH. Throws a runtime Error saying which versions
  /// were found and how to fix it; `server` names the server in that message.
  std::string find(const std::string& tool, int server_version_num, const std::string& server);

  /// "pg_dump (PostgreSQL) 15.18" -> 15; 0 when unknown.
  static int major_of_version_text(const std::string& text);
  /// Runs `tool --version`; empty when it cannot run.
  std::string version_text(const std::string& path);

 private:
  ProcessRunner& runner_;
  std::string bin_dir_;
};

/// pg_dump in custom format, uncompressed inside (auditpitr compresses once, outside), from
/// the exported snapshot, to stdout, its session's TimeZone UTC and, with `force_hex_bytea` (the
/// session default of bytea_output is not hex), its bytea_output hex: as checksum sessions have them.
Command pg_dump_command(const std::string& pg_dump, const ConnInfo& info, const std::string& snapshot,
                        bool force_hex_bytea);

/// Server major version from server_version_num: 150018 -> 15.
int server_major(int server_version_num);

}  // namespace auditpitr::pg
