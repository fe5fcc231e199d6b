// Each subcommand registers itself on the CLI11 app; the work lives in src/ops.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace auditpitr::cli {

/// Options every command shares.
struct GlobalOptions {
  std::string config_path = "auditpitr.toml";
  bool verbose = false;
  bool json = false;          ///< --json before the command's name, passed on to the command's own --json
  std::string identity_path;  ///< --identity FILE: the age identity file, instead of [backup] identity_file
};

/// A registered command's action, run after parsing; returns the exit code.
using Action = std::function<int()>;

void add_backup_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_list_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_check_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_prune_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_demo_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_restore_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_kept_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_export_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_analyze_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_replay_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_verify_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_recover_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_drill_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_history_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_changes_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_state_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_lost_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_schedule_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_push_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_pull_command(CLI::App& app, const GlobalOptions& global, Action& action);
void add_status_command(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace auditpitr::cli
