// auditpitr verify: a database against another database or a backup's manifest; exit 3 when they differ.
#include <memory>
#include <optional>

#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/verify.h"
#include "src/util/fs.h"

namespace auditpitr::cli {
namespace {

struct VerifyArgs {
  ops::VerifyOptions options;
  std::vector<std::string> columns;
  bool json = false;
};

// verify works without a configuration file when every name is a connection string or a database
// on libpq's default server; a file named with -c (or $AUDITPITR_CONFIG) must exist.
std::optional<Config> optional_config(const GlobalOptions& global) {
  if (global.config_path == GlobalOptions{}.config_path && !path_exists(global.config_path)) return std::nullopt;
  return load(global);
}

int run_verify(const GlobalOptions& global, VerifyArgs& args) {
  std::optional<Config> config = optional_config(global);
  args.options.columns.insert(args.columns.begin(), args.columns.end());
  Output out(args.json);
  ops::VerifyReport report = ops::run_verify(config ? &*config : nullptr, args.options, reporter_for(out));
  if (args.json) out.json(ops::verify_json(report));
  else print_report(out, ops::verify_text(report));
  if (!report.comparison.equal())
    throw verification_error(ops::verify_summary(report),
                             args.options.diff || report.against_backup ? "" : "--diff names the rows");
  return 0;
}

}  // namespace

void add_verify_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand("verify", "Compare a database with another database or a backup's manifest");
  set_details(cmd,
              "Compare every table of --db, row counts and order-independent checksums of whole rows and of\n"
              "each column, with the database --against names or with the manifest of backup --backup.\n"
              "Exit 0 when they match, 3 when they do not (each difference is listed per table and column).\n"
              "Databases: an alias or dbname of the configuration, a connection string or URI, or another\n"
              "database name (--against: on --db's server). Each side is read in one snapshot, both at once.\n"
              "--diff (two databases) then compares the rows of each differing table one by one, by primary\n"
              "key, and names the keys missing from --db, extra in it and changed (with the columns that\n"
              "differ). A backup without a manifest (the old scripts') has nothing to compare against: exit 3.\n"
              "docs/verify.md has the details. Examples:\n"
              "  auditpitr verify --db portfolio --against portfolio_db_pitr_20250123_140500\n"
              "  auditpitr verify --db portfolio --against 'host=standby dbname=portfolio_db' --diff\n"
              "  auditpitr verify --db portfolio_restored --backup latest --of portfolio\n"
              "  auditpitr verify --db portfolio --backup 20250123_140530 --table projects --columns title,client\n"
              "  auditpitr verify --db portfolio --against portfolio_copy --diff --json > diff.json");
  cmd->add_option("--db", args->options.db, "the database checked: alias, dbname or connection string")->required();
  auto* against = cmd->add_option("--against", args->options.against, "the database it should equal");
  auto* backup = cmd->add_option("--backup", args->options.backup, "or the backup it should equal: STAMP or 'latest'");
  against->excludes(backup);
  cmd->add_option("--of", args->options.of, "with --backup: whose backup (alias; default: --db's)");
  cmd->add_option("--table", args->options.tables, "compare only table T ('name' or 'schema.name'; repeatable)");
  cmd->add_option("--columns", args->columns, "compare only these columns (c1,c2; 'table.column' for one table)")
      ->delimiter(',');
  cmd->add_flag("--diff", args->options.diff, "name the missing, extra and changed rows (two databases)");
  cmd->add_option("--max-keys", args->options.max_keys, "keys listed per table and kind in --json")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_verify(global, *args); }; });
}

}  // namespace auditpitr::cli
