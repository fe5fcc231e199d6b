// auditpitr demo: the main job on an embedded default. Starts a throwaway PostgreSQL, loads the
// Portfolio Manager fixture, writes a configuration, then runs backup, list and check for real.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "src/catalog/catalog.h"
#include "src/cli/cli_support.h"
#include "src/cli/demo_fixture.h"
#include "src/ops/backup.h"
#include "src/ops/check.h"
#include "src/pg/local_cluster.h"
#include "src/util/fs.h"

namespace auditpitr::cli {
namespace {

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  return std::string(::getcwd(cwd, sizeof cwd) ? cwd : ".") + "/" + path;
}

std::string demo_config(const pg::LocalCluster& cluster) {
  std::string conninfo = "host=" + cluster.folder() + " port=" + std::to_string(cluster.port()) + " user=postgres";
  return "# written by 'auditpitr demo'\n[backup]\ndir = \"backups\"\nretention_days = 30\n\n"
         "[[databases]]\nalias = \"portfolio\"\ndbname = \"portfolio_db\"\nconninfo = \"" + conninfo + "\"\n\n"
         "[[databases]]\nalias = \"authentik\"\ndbname = \"authentik\"\nconninfo = \"" + conninfo + "\"\n";
}

int run_demo(const std::string& folder_arg) {
  Output out;
  std::string folder = absolute(folder_arg);
  ensure_directory(folder, 0700);
  pg::PosixProcessRunner runner;
  out.info("Starting a throwaway PostgreSQL server (initdb in a temporary folder)...");
  pg::LocalCluster cluster(runner);
  out.success("Server running on port " + std::to_string(cluster.port()) + ", socket in " + cluster.folder());
  cluster.create_database("portfolio_db");
  cluster.create_database("authentik");
  cluster.execute("portfolio_db", demo::kPortfolioSchema);
  cluster.execute("portfolio_db", demo::kPortfolioSeed);
  cluster.execute("authentik", "CREATE TABLE users (id bigserial PRIMARY KEY, username text NOT NULL UNIQUE);"
                               "INSERT INTO users (username) VALUES ('alice'), ('bob')");
  out.success("Loaded the Portfolio Manager fixture into portfolio_db, and a small authentik");
  std::string config_path = join_path(folder, "auditpitr.toml");
  write_file_atomically(config_path, demo_config(cluster), 0600);
  out.info("Configuration written to " + config_path);
  Config config = load_config(config_path);

  out.line();
  out.line(out.bold("$ auditpitr -c " + config_path + " backup"));
  ops::BackupResult backup = ops::run_backup(config, {}, runner, reporter_for(out));
  for (const auto& d : backup.databases) out.line("  - " + d.path + " (" + human_size(d.size) + ")");

  out.line();
  out.line(out.bold("$ auditpitr -c " + config_path + " check " + backup.stamp));
  Catalog catalog = Catalog::scan(config.backup_dir);
  bool sound = true;
  for (const auto& db : config.databases) {
    ops::CheckResult r = ops::check_backup(config, catalog.resolve(backup.stamp, db.dbname), runner);
    sound = sound && r.sound();
    if (r.sound()) {
      out.success(base_name(r.path) + ": sound (gzip CRC, sha256, " + std::to_string(r.toc_entries) + " TOC entries)");
    } else {
      out.warning(base_name(r.path) + ": " + r.problem);
    }
  }
  out.line();
  out.line("The backups stay in " + config.backup_dir + "; the throwaway server stops now.");
  out.line("Try: auditpitr -c " + config_path + " list   (the server is gone, the catalog is not)");
  return sound ? 0 : 3;
}

}  // namespace

void add_demo_command(CLI::App& app, const GlobalOptions&, Action& action) {
  auto folder = std::make_shared<std::string>("auditpitr-demo");
  CLI::App* cmd = app.add_subcommand("demo", "Try auditpitr on a throwaway PostgreSQL with sample data");
  set_details(cmd, 
      "Start a throwaway PostgreSQL (no existing server needed), load the Portfolio Manager sample\n"
      "data, write a configuration into FOLDER, and run what auditpitr does: backup and check.\n"
      "The server is removed at the end; the configuration and backups stay in FOLDER.");
  cmd->add_option("--dir", *folder, "folder for the demo's configuration and backups")->capture_default_str();
  cmd->callback([&action, folder] { action = [folder] { return run_demo(*folder); }; });
}

}  // namespace auditpitr::cli
