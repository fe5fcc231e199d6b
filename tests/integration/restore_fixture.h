// A backup folder and configuration pointing at the test cluster, for restore tests: databases
// loaded with the Portfolio Manager fixture, backups made by the real binary (or the old script's way).
#pragma once

#include <string>
#include <vector>

#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"
#include "verify/table_checksum.h"

namespace auditpitr::test {

class RestoreFixture {
 public:
  /// Fresh Portfolio Manager databases named `dbnames` (aliases equal the names) and a config file.
  explicit RestoreFixture(const std::vector<std::string>& dbnames, const std::string& extra_toml = {});
  ~RestoreFixture();

  std::string config() const { return dir_ / "auditpitr.toml"; }
  std::string backups() const { return dir_ / "backups"; }
  const TempDir& dir() const { return dir_; }
  pg::ConnInfo db(const std::string& dbname) const { return cluster().connect_info(dbname); }

  /// `auditpitr -c config args...` (stdin not a terminal).
  CliResult cli(std::vector<std::string> args) const;
  /// Runs `auditpitr backup` and returns the stamp.
  std::string backup() const;
  /// The old script's way: pg_dump -F c | gzip > backups/<dbname>_<stamp>.dump.gz; no manifest.
  void old_script_backup(const std::string& dbname, const std::string& stamp) const;

  std::vector<std::string> databases_like(const std::string& prefix) const;

 private:
  TempDir dir_;
  std::vector<std::string> dbnames_;
};

/// Checksums of every table of a database, as the manifest records them.
/// Those recorded in a manifest.
std::vector<verify::TableChecksum> manifest_checksums(const std::string& manifest_path);

}  // namespace auditpitr::test
