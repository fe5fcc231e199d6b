// Shared setup for the backup-side integration tests: a config file pointing at the test server.
#pragma once

#include <string>
#include <vector>

#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"

namespace auditpitr::test {

/// A TempDir with `auditpitr.toml`: backups in <dir>/backups, one [[databases]] per dbname
/// (alias = dbname unless "alias=dbname" is given), on the test cluster.
struct BackupSetup {
  TempDir dir;
  std::string config;
  explicit BackupSetup(const std::vector<std::string>& databases, const std::string& extra = "");
  std::string backups() const { return dir / "backups"; }
  CliResult cli(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) const;
};

/// The one stamp of the backups folder's newest backup ("" when none).
std::string newest_stamp(const std::string& backups_dir);

}  // namespace auditpitr::test
