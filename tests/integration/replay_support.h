// Shared by the replay integration tests: audit logs written by the test, a configuration for a
// test database, the built binary run on them, and database snapshots to compare.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "src/pg/conninfo.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"
#include "verify/table_checksum.h"

namespace auditpitr::test {

/// One audit line: the operation decides the file (CREATE_ -> create.log, UPDATE_/BULK_ ->
/// update.log, DELETE_ -> delete.log); `fields` is the JSON object's body after time and level.
struct LogLine {
  std::string operation;
  std::string time;    ///< RFC 3339
  std::string fields;  ///< e.g. "\"portfolioID\":4,\"title\":\"T\",\"userID\":\"u\""
};

/// The log an operation goes to (CREATE_ -> create.log, DELETE_ -> delete.log, else update.log),
/// and the line as the application writes it (newline included).
std::string log_file_for(const std::string& operation);
std::string audit_line(const LogLine& line);

/// A folder with auditpitr.toml (database alias "portfolio" = `info`, the shipped Portfolio
/// Manager rules) and audit/ holding the lines given.
class ReplayWorkspace {
 public:
  ReplayWorkspace(const pg::ConnInfo& info, const std::vector<LogLine>& lines);

  /// Runs `auditpitr -c <config> replay args...`.
  CliResult replay(std::vector<std::string> args) const;
  /// Runs `auditpitr -c <config> args...`.
  CliResult cli(std::vector<std::string> args) const;
  std::string config() const { return dir_.path() + "/auditpitr.toml"; }
  std::string audit_dir() const { return dir_.path() + "/audit"; }
  std::string path() const { return dir_.path(); }
  /// logrotate's way: create.log (etc.) becomes <name>.1, or <name>.1.gz when `gzip`; an empty
  /// new file takes its place.
  void rotate(bool gzip) const;
  /// logrotate's way with dateext and copytruncate (RHEL's default): each log copied to
  /// <name>-<stamp> (gzipped to <name>-<stamp>.gz when `gzip`), then emptied in place.
  void rotate_dateext(const std::string& stamp, bool gzip) const;
  /// Appends `lines` to their logs, as the application does.
  void append(const std::vector<LogLine>& lines) const;

 private:
  TempDir dir_;
};

/// Every user table's count and checksums (auditpitr's schema left out), for comparing databases.
std::vector<verify::TableChecksum> snapshot(const pg::ConnInfo& info);
/// Empty when equal; else which table and column differ.
std::string compare(const std::vector<verify::TableChecksum>& a, const std::vector<verify::TableChecksum>& b);

/// `t` as RFC 3339 in UTC, to the second: "2025-01-15T10:00:01Z".
std::string rfc3339(std::time_t t);

/// Empty when the top-level keys of `json` (but "format", docs/json.md's) are exactly those the
/// `--json` table of docs/`doc` lists (the backticked names of its first column); else the
/// difference, for the test's message.
std::string json_keys_against_docs(const std::string& json, const std::string& doc);

}  // namespace auditpitr::test
