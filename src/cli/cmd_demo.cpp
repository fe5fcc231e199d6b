// auditpitr demo: the main job on an embedded default. Starts a throwaway PostgreSQL, loads the
// Portfolio Manager fixture, writes a configuration, then for real: backup, check, an "incident",
// a verified restore with its undo copy, and what the audit logs could and could not bring back.
#include <dirent.h>

#include <cerrno>
#include <memory>

#include "src/catalog/catalog.h"
#include "src/cli/cli_support.h"
#include "src/cli/demo_fixture.h"
#include "src/error.h"
#include "src/ops/analyze.h"
#include "src/ops/backup.h"
#include "src/ops/check.h"
#include "src/ops/restore.h"
#include "src/pg/connection.h"
#include "src/pg/local_cluster.h"
#include "src/util/fs.h"

namespace auditpitr::cli {
namespace {

// The demo writes a configuration, logs and backups and runs retention: only into a folder of its
// own, never over a user's files (it once replaced an auditpitr.toml and pruned real backups).
void require_empty_folder(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    if (errno == ENOENT) return;
    throw system_error("unable to read folder '" + path + "'", errno);
  }
  bool empty = true;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    empty = empty && (name == "." || name == "..");
  }
  ::closedir(dir);
  if (!empty)
    throw refused_error("'" + path +
                            "' is not empty: the demo writes its configuration, logs and backups into a "
                            "folder of its own",
                        "choose a new or empty folder with --dir, e.g. --dir auditpitr-demo-2");
}

class Demo {
 public:
  Demo(const Output& out, std::string folder) : out_(out), folder_(std::move(folder)) {}

  int run() {
    start_server();
    write_configuration();
    std::string stamp = backup();
    bool sound = check(stamp);
    incident_and_restore(stamp);
    analyze();
    out_.line();
    out_.line("Everything stays in " + folder_ + " (configuration, backups, sample audit logs);");
    out_.line("the throwaway server stops now. Next: auditpitr -c " + config_path() + " list");
    return sound ? 0 : 3;
  }

 private:
  std::string config_path() const { return join_path(folder_, "auditpitr.toml"); }

  void command(const std::string& args) {
    out_.line();
    out_.line(out_.bold("$ auditpitr -c " + config_path() + " " + args));
  }

  void start_server() {
    out_.info("Starting a throwaway PostgreSQL server (initdb in a temporary folder)...");
    cluster_ = std::make_unique<pg::LocalCluster>(runner_);
    out_.success("Server running on port " + std::to_string(cluster_->port()) + ", socket in " + cluster_->folder());
    cluster_->create_database("portfolio_db");
    cluster_->create_database("authentik");
    cluster_->execute("portfolio_db", demo::kPortfolioSchema);
    cluster_->execute("portfolio_db", demo::kPortfolioSeed);
    cluster_->execute("authentik",
                      "CREATE TABLE users (id bigserial PRIMARY KEY, username text NOT NULL UNIQUE);"
                      "INSERT INTO users (username) VALUES ('alice'), ('bob')");
    out_.success("Loaded the Portfolio Manager sample data into portfolio_db, and a small authentik");
  }

  void write_configuration() {
    ensure_directory(join_path(folder_, "audit"), 0700);
    for (const auto& log : demo::kAuditLogs)
      write_file_atomically(join_path(folder_, std::string("audit/") + log.name), log.text);
    write_file_atomically(join_path(folder_, "mapping.toml"), demo::kMappingRules);
    std::string conninfo =
        "host=" + cluster_->folder() + " port=" + std::to_string(cluster_->port()) + " user=postgres";
    write_file_atomically(
        config_path(),
        "# written by 'auditpitr demo'\n[backup]\ndir = \"backups\"\nretention_days = 30\n\n"
        "[[databases]]\nalias = \"portfolio\"\ndbname = \"portfolio_db\"\nconninfo = \"" +
            conninfo + "\"\n\n[[databases]]\nalias = \"authentik\"\ndbname = \"authentik\"\nconninfo = \"" + conninfo +
            "\"\n\n[audit]\ndir = \"audit\"\ndatabase = \"portfolio\"\nmapping = \"mapping.toml\"\n");
    out_.info("Configuration written to " + config_path() + " (sample audit logs in " + folder_ + "/audit)");
    config_ = load_config(config_path());
  }

  std::string backup() {
    command("backup");
    ops::BackupResult result = ops::run_backup(config_, {}, runner_, reporter_for(out_));
    for (const auto& d : result.databases) out_.line("  - " + d.path + " (" + human_size(d.size) + ")");
    return result.stamp;
  }

  bool check(const std::string& stamp) {
    command("check " + stamp);
    Catalog catalog = Catalog::scan(config_.backup_dir);
    bool sound = true;
    for (const auto& db : config_.databases) {
      ops::CheckResult r = ops::check_backup(config_, catalog.resolve(stamp, db.dbname), runner_);
      sound = sound && r.sound();
      if (r.sound()) {
        out_.success(base_name(r.path) + ": sound (gzip CRC, sha256, " + std::to_string(r.toc_entries) +
                     " TOC entries)");
      } else {
        out_.warning(base_name(r.path) + ": " + r.problem);
      }
    }
    return sound;
  }

  std::string count_projects() {
    pg::Connection conn(cluster_->connect_info("portfolio_db"));
    pqxx::nontransaction tx(conn.raw());
    return tx.exec("SELECT count(*) FROM projects")[0][0].as<std::string>();
  }

  void incident_and_restore(const std::string& stamp) {
    out_.line();
    out_.warning("Simulating an incident: someone runs DELETE FROM projects (" + count_projects() + " rows)");
    cluster_->execute("portfolio_db", "DELETE FROM projects");
    command("restore " + stamp + " --db portfolio --yes");
    ops::RestoreRequest request;
    request.stamp = stamp;
    request.aliases = {"portfolio"};
    ops::RestorePlan plan = ops::plan_restore(config_, request, runner_, reporter_for(out_));
    ops::RestoreResult result = ops::run_restore(config_, plan, runner_, reporter_for(out_));
    for (const auto& d : result.databases)
      out_.line("  the replaced database is kept as " + d.kept_copy + " (undo: auditpitr restore --undo " + d.stamp +
                ")");
    out_.success("projects after the restore: " + count_projects() + " rows");
  }

  void analyze() {
    command("analyze");
    print_report(out_, ops::analyze_text(ops::analyze_audit(config_, {}, reporter_for(out_))));
  }

  const Output& out_;
  std::string folder_;
  pg::PosixProcessRunner runner_;
  std::unique_ptr<pg::LocalCluster> cluster_;
  Config config_;
};

}  // namespace

void add_demo_command(CLI::App& app, const GlobalOptions&, Action& action) {
  auto folder = std::make_shared<std::string>("auditpitr-demo");
  CLI::App* cmd = app.add_subcommand("demo", "Try auditpitr on a throwaway PostgreSQL with sample data");
  set_details(cmd,
              "Start a throwaway PostgreSQL (no existing server needed), load the Portfolio Manager sample\n"
              "data and audit logs, write a configuration into FOLDER, then run for real: backup, check,\n"
              "a simulated incident (DELETE FROM projects), a verified restore that keeps the replaced\n"
              "database for undo, and analyze (what the audit logs could and could not bring back).\n"
              "The server is removed at the end; the configuration, backups and logs stay in FOLDER,\n"
              "which must be new or empty.");
  cmd->add_option("--dir", *folder, "folder for the demo's configuration, backups and logs")->capture_default_str();
  cmd->callback([&action, folder] {
    action = [folder] {
      Output out;
      std::string path = absolute_path(*folder);
      require_empty_folder(path);
      ensure_directory(path, 0700);
      return Demo(out, path).run();
    };
  });
}

}  // namespace auditpitr::cli
