// auditpitr export: a backup as plain SQL, the old guide's "Export Backup to SQL".
#include <memory>

#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/export.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {

void add_export_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<ops::ExportRequest>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("export", "Write a backup as plain SQL (pg_restore -f)");
  set_details(cmd,
              "Write one database of a backup as a plain SQL script, atomically (temporary file, fsync,\n"
              "rename; mode 0600). An existing file is replaced only with --force, and never one in the\n"
              "backup folder; --sql - writes the script to the standard output (messages go to stderr).\n"
              "Example: auditpitr export 20250123_140530 --db portfolio --sql backup.sql");
  cmd->add_option("STAMP", opts->stamp, "backup stamp (YYYYMMDD_HHMMSS), a backup's file name, or 'latest'")
      ->required();
  cmd->add_option("--db", opts->alias, "database alias (needed when several are configured)");
  cmd->add_option("--sql", opts->sql_file, "the SQL file to write ('-': the standard output)")->required();
  cmd->add_flag("--force", opts->force, "replace the file when it exists");
  cmd->add_flag("--no-owner", opts->no_owner, "leave out ownership and privileges");
  cmd->add_flag("--json", *json, "print one JSON object");
  cmd->callback([&global, &action, opts, json] {
    action = [&global, opts, json] {
      bool to_stdout = opts->sql_file == "-";
      if (to_stdout && *json)
        throw usage_error("--json cannot be combined with --sql -", "the standard output carries the SQL");
      Config config = load(global);
      Output out(*json, to_stdout);
      pg::PosixProcessRunner runner;
      ops::ExportResult r = ops::export_sql(config, *opts, runner, reporter_for(out));
      JsonWriter w;
      w.begin_object()
          .field_or_null("alias", config.alias_of(r.dbname))
          .field("dbname", r.dbname)
          .field("stamp", r.stamp)
          .field("file", r.sql_file)
          .field("size", r.size)
          .end_object();
      out.json(w.str());
      out.success("Exported " + r.dbname + " " + r.stamp + " to " + (to_stdout ? "the standard output" : r.sql_file) +
                  " (" + human_size(r.size) + ")");
      return 0;
    };
  });
}

}  // namespace auditpitr::cli
