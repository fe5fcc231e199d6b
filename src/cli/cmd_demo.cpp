// auditpitr demo: the main job on an embedded default. Starts a throwaway PostgreSQL, loads the
// Portfolio Manager fixture, writes a configuration, then for real: backup, check, more activity
// (changes made as the application makes them, logged as it logs them), a simulated disaster,
// recover to the moment before it (verified, swapped in, undoable), and what the audit logs could
// and could not bring back.
#include <dirent.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "src/catalog/catalog.h"
#include "src/cli/cli_support.h"
#include "src/cli/demo_fixture.h"
#include "src/error.h"
#include "src/ops/analyze.h"
#include "src/ops/backup.h"
#include "src/ops/check.h"
#include "src/ops/history.h"
#include "src/ops/lost.h"
#include "src/ops/recover.h"
#include "src/pg/connection.h"
#include "src/pg/local_cluster.h"
#include "src/util/format.h"
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
    replay::TimePoint moment = activity();
    disaster();
    bool recovered = recover(moment);
    bool brought_back = investigate();
    analyze();
    status();
    closing();
    return sound && recovered && brought_back ? 0 : 3;
  }

 private:
  std::string config_path() const { return join_path(folder_, "auditpitr.toml"); }

  // The server stops with the demo: point only at what works without it, then at the user's own.
  void closing() {
    std::string with = "auditpitr -c " + shell_word(config_path());
    out_.line();
    out_.line("Everything stays in " + folder_ + " (configuration, backups, sample audit logs), but the");
    out_.line("throwaway server stops now. Without it, these still work: " + with + " list, " + with +
              " check latest, " + with + " status, " + with + " analyze --backup latest");
    out_.line("Next: your own database. Write an auditpitr.toml with its conninfo (README, docs/configuration.md),");
    out_.line("then run: auditpitr backup");
  }

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
    out_.success("Backups written:");  // after retention's "Cleaning up…": these are the new files
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

  std::string query(const std::string& sql) {
    pg::Connection conn(cluster_->connect_info("portfolio_db"));
    pqxx::nontransaction tx(conn.raw());
    return tx.exec(sql)[0][0].as<std::string>();
  }

  static replay::TimePoint now() {
    return std::chrono::time_point_cast<replay::TimePoint::duration>(std::chrono::system_clock::now());
  }

  static bool ends_with_newline(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in || in.tellg() == 0) return true;
    in.seekg(-1, std::ios::end);
    return in.get() == '\n';
  }

  /// One change made as the application makes it (gorm: event time in the automatic timestamps),
  /// and logged as it logs it, at the current time.
  void change(const std::string& operation, const std::string& fields, const std::string& sql_with_time) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct event times
    std::string time = replay::format_rfc3339(now());
    std::string sql = sql_with_time;
    for (std::size_t at; (at = sql.find("$TIME")) != std::string::npos;) sql.replace(at, 5, "'" + time + "'");
    cluster_->execute("portfolio_db", sql);
    std::string file = operation.rfind("CREATE_", 0) == 0   ? "create.log"
                       : operation.rfind("DELETE_", 0) == 0 ? "delete.log"
                                                            : "update.log";
    std::string path = join_path(folder_, "audit/" + file);
    std::ofstream log(path, std::ios::app);
    if (!ends_with_newline(path)) log << "\n";  // the sample's last line was cut mid-write
    log << "{\"level\":\"info\",\"operation\":\"" << operation << "\",\"time\":\"" << time << "\"," << fields << "}\n";
    out_.line("  " + time + "  " + operation + " " + fields);
  }

  replay::TimePoint activity() {
    out_.line();
    out_.info("The application at work after the backup (each change also written to audit/*.log):");
    change("CREATE_PORTFOLIO", R"("portfolioID":10,"title":"Travel","userID":"user-carol")",
           "INSERT INTO portfolios (id, title, owner_id, created_at, updated_at) "
           "VALUES (10, 'Travel', 'user-carol', $TIME, $TIME)");
    change("CREATE_CATEGORY", R"("categoryID":10,"portfolioID":10,"title":"Iceland","userID":"user-carol")",
           "INSERT INTO categories (id, title, owner_id, portfolio_id, created_at, updated_at) "
           "VALUES (10, 'Iceland', 'user-carol', 10, $TIME, $TIME)");
    change("UPDATE_PORTFOLIO", R"("portfolioID":1,"title":"Design Portfolio 2026","userID":"user-alice")",
           "UPDATE portfolios SET title = 'Design Portfolio 2026', updated_at = $TIME WHERE id = 1");
    change("DELETE_CATEGORY", R"("categoryID":2,"portfolioID":1,"userID":"user-alice")",
           "UPDATE categories SET deleted_at = $TIME WHERE id = 2 AND deleted_at IS NULL; "
           "UPDATE projects SET deleted_at = $TIME WHERE category_id = 2 AND deleted_at IS NULL");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    replay::TimePoint moment = now();
    out_.success("The moment to go back to: " + replay::format_rfc3339(moment));
    return moment;
  }

  void disaster() {
    out_.line();
    out_.warning("Simulating a disaster: a bad deploy runs DELETE FROM projects (" +
                 query("SELECT count(*) FROM projects") + " rows) and blanks every portfolio title");
    cluster_->execute("portfolio_db", "DELETE FROM projects; UPDATE portfolios SET title = ''");
  }

  bool recover(replay::TimePoint moment) {
    std::string to = replay::format_rfc3339(moment);
    command("recover --to " + to + " --in-place --yes");
    ops::RecoverOptions options;
    options.to = moment;
    options.in_place = true;
    ops::RecoverPlan plan = ops::plan_recover(config_, options);
    ops::RecoverReport report = ops::run_recover(config_, plan, runner_, reporter_for(out_));
    print_report(out_, ops::recover_text(report));
    out_.success("projects after the recovery: " + query("SELECT count(*) FROM projects") + " rows; portfolio 10: '" +
                 query("SELECT title FROM portfolios WHERE id = 10") + "'; portfolio 1: '" +
                 query("SELECT title FROM portfolios WHERE id = 1") + "'");
    return report.ok();
  }

  /// A row deleted by hand, behind the logs' back: lost finds it, brings exactly it back, and
  /// history tells its story.
  bool investigate() {
    out_.line();
    out_.warning(
        "A week later, a support ticket: user-carol's category 'Iceland' is gone (someone ran a DELETE by hand)");
    cluster_->execute("portfolio_db", "DELETE FROM categories WHERE id = 10");
    command("lost");
    ops::LostReport report = ops::find_lost(config_, {}, runner_, reporter_for(out_));
    print_report(out_, ops::lost_text(report));
    command("lost --restore --yes");
    ops::restore_lost(config_, report);
    out_.success("category 10 after lost --restore: '" + query("SELECT title FROM categories WHERE id = 10") +
                 "', every other row left as it was");
    command("history categories 10");
    ops::HistoryOptions history;
    history.table = "categories";
    history.key = "10";
    print_report(out_, ops::history_text(ops::history(config_, history)));
    return report.rows.size() == 1 && report.restored;
  }

  void analyze() {
    command("analyze");
    print_report(out_, ops::analyze_text(ops::analyze_audit(config_, {}, reporter_for(out_))));
  }

  // What a monitoring cron job would see now: the backup, the free space, the logs since it.
  void status() {
    command("status");
    print_status(out_, ops::collect_status(config_, std::time(nullptr)));
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
              "more activity (logged as the application logs it), a simulated disaster (DELETE FROM\n"
              "projects, titles blanked), recover --in-place to the moment before it (verified against the\n"
              "backup and the logs, the replaced database kept for undo), a row deleted by hand found by\n"
              "lost and brought back alone (lost --restore), its history, analyze, and status.\n"
              "The server is removed at the end; the configuration, backups and logs stay in FOLDER,\n"
              "which must be new or empty.\n"
              "Examples: auditpitr demo\n"
              "          auditpitr demo --dir /tmp/auditpitr-demo-2");
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
