// BackupSetup implementation.
#include "tests/integration/backup_support.h"

#include "src/catalog/catalog.h"

namespace auditpitr::test {

BackupSetup::BackupSetup(const std::vector<std::string>& databases, const std::string& extra) {
  config = dir / "auditpitr.toml";
  auto& c = cluster();
  std::string conninfo = "host=" + c.folder() + " port=" + std::to_string(c.port()) + " user=postgres";
  std::string text = "[backup]\ndir = \"backups\"\nretention_days = 30\n" + extra + "\n";
  for (const auto& spec : databases) {
    auto eq = spec.find('=');
    std::string alias = eq == std::string::npos ? spec : spec.substr(0, eq);
    std::string dbname = eq == std::string::npos ? spec : spec.substr(eq + 1);
    text += "[[databases]]\nalias = \"" + alias + "\"\ndbname = \"" + dbname + "\"\nconninfo = \"" + conninfo + "\"\n";
  }
  write_text(config, text);
}

CliResult BackupSetup::cli(std::vector<std::string> args, const std::map<std::string, std::string>& env) const {
  args.insert(args.begin(), {"-c", config});
  return run_cli(args, env);
}

std::string newest_stamp(const std::string& backups_dir) {
  Catalog c = Catalog::scan(backups_dir);
  return c.sets().empty() ? "" : c.sets().front().stamp;
}

}  // namespace auditpitr::test
