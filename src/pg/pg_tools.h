// Finding pg_dump / pg_restore of the server's major version, and the argv they are run with.
// Connection settings reach them through PG* variables: nothing secret is ever in argv.
#pragma once

#include <string>
#include <vector>

#include "src/pg/conninfo.h"
#include "src/pg/process_runner.h"

namespace auditpitr::pg {

/// pg_dump or pg_restore as it is run: a path, and with [tools] exec the prefix it runs through
/// (`podman exec -i NAME`), the path then being inside the container. Through a prefix the tool sees
/// no host file: archives go through stdin and stdout, and the prefix must forward the PG*
/// variables the command's environment carries (docs/configuration.md).
struct Tool {
  Tool() = default;
  Tool(std::string tool_path, std::vector<std::string> exec_prefix = {})  // NOLINT: a plain path converts
      : path(std::move(tool_path)), exec(std::move(exec_prefix)) {}
  Tool(const char* tool_path) : path(tool_path) {}  // NOLINT: so does a literal
  std::string path;
  std::vector<std::string> exec;

  bool through_exec() const { return !exec.empty(); }
  /// The command running the tool with `args`: argv = exec + [path] + args.
  Command command(const std::vector<std::string>& args) const;
};

class PgTools {
 public:
  /// `bin_dir`: the configured [tools] bin_dir, empty for automatic; `exec`: [tools] exec, empty
  /// to run the tools on this host.
  PgTools(ProcessRunner& runner, std::string bin_dir, std::vector<std::string> exec = {});

  /// `tool` whose major version is the server's. Looks in bin_dir, then
  /// /usr/lib/postgresql/<major>/bin, then PATH (inside the container with an exec prefix). Throws a runtime Error
  /// saying which versions were found and how to fix it; `server` names the server in that message.
  Tool find(const std::string& tool, int server_version_num, const std::string& server);

  /// "pg_dump (PostgreSQL) 15.18" -> 15; 0 when unknown.
  static int major_of_version_text(const std::string& text);
  /// Runs `tool --version`; empty when it cannot run.
  static std::string version_text(const Tool& tool, ProcessRunner& runner);
  std::string version_text(const Tool& tool) { return version_text(tool, runner_); }

 private:
  ProcessRunner& runner_;
  std::string bin_dir_;
  std::vector<std::string> exec_;
};

/// pg_dump in custom format, uncompressed inside (auditpitr compresses once, outside), from
/// the exported snapshot, to stdout, its session's TimeZone UTC and, with `force_hex_bytea` (the
/// session default of bytea_output is not hex), its bytea_output hex: as checksum sessions have them.
Command pg_dump_command(const Tool& pg_dump, const ConnInfo& info, const std::string& snapshot, bool force_hex_bytea);

/// Server major version from server_version_num: 150018 -> 15.
int server_major(int server_version_num);

}  // namespace auditpitr::pg
