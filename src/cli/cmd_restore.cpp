// auditpitr restore: thin wiring over ops::plan_restore / run_restore / undo_restore. The one thing
// decided here is the confirmation: the old script's warning box and a typed 'yes' on a terminal.
#include <memory>

#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/restore.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

struct RestoreOptions {
  ops::RestoreRequest request;
  bool yes = false;
  bool json = false;
  bool undo = false;
  CLI::Option* jobs = nullptr;  ///< to tell --jobs 0 from no --jobs (0 is the request's "automatic")
};

void confirm(const Output& out, const ops::RestorePlan& plan, bool yes) {
  if (yes || !plan.overwrites_live_data()) return;
  std::string names = ops::target_names(plan);
  for (const auto& f : plan.files) names += (names.empty() ? "" : ", ") + f.path;
  std::string doing =
      plan.request.data_only ? "add rows to " + names : "replace " + names + " with the backup " + plan.stamp;
  if (!stdin_is_terminal())
    throw refused_error("refusing to " + doing + " without confirmation: nothing was changed",
                        "run it in a terminal and type 'yes', or pass --yes (scripts, cron)");
  if (!out.confirmed("\n" + ops::warning_box(plan) + "\nAre you sure you want to continue?"))
    throw refused_error("restore cancelled: nothing was changed");
}

std::string to_json(const ops::RestoreResult& r) {
  JsonWriter w;
  w.begin_object().key("databases").begin_array();
  for (const auto& d : r.databases) {
    w.begin_object().field("alias", d.alias).field("dbname", d.dbname).field("stamp", d.stamp);
    w.field_or_null("kept_copy", d.kept_copy).field("verification", d.verification);
    w.field("verification_limited", d.verification_limited).field("data_only", d.data_only);
    w.field("tables", static_cast<uint64_t>(d.tables)).key("rows");
    d.rows_known ? w.value(d.rows) : w.null();
    w.field_or_null("pg_restore_messages", d.pg_restore_summary).field("seconds", d.seconds).key("phases");
    if (d.data_only) {
      w.null();  // one pg_restore into the live tables: no temporary database, verification or swap
    } else {
      const auto& p = d.phases;
      w.begin_object().field("check", p.check).field("inflate", p.inflate);
      w.field("pg_restore", p.pg_restore).field("verification", p.verification).field("swap", p.swap);
      w.field("jobs", p.jobs).field("verified_while_loading", p.verified_while_loading).end_object();
    }
    w.end_object();
  }
  w.end_array().key("files").begin_array();
  for (const auto& f : r.files) {
    w.begin_object().field("name", f.name).field("path", f.path).field("stamp", f.stamp);
    w.field_or_null("kept_copy", f.kept_copy).field("file_count", f.file_count).end_object();
  }
  w.end_array().key("cleaned_leftovers").begin_array();
  for (const auto& name : r.cleaned_leftovers) w.value(name);
  w.end_array().end_object();
  return w.str();
}

// "check 0.1 s, inflate 0.6 s, pg_restore -j2 5.1 s, verification 2.8 s, swap 0.0 s": where the
// time went, so that a slow restore says which part was slow.
std::string phase_line(const ops::RestorePhaseTimes& p) {
  std::string line = "check " + human_duration(p.check);
  if (p.jobs > 1) line += ", inflate " + human_duration(p.inflate) + ", pg_restore -j" + std::to_string(p.jobs);
  else line += ", pg_restore (streamed)";
  return line + " " + human_duration(p.pg_restore) + ", verification " + human_duration(p.verification) + ", swap " +
         human_duration(p.swap);
}

// --data-only: what was added, and no phases or swap that did not happen.
void print_data_only(const Output& out, const ops::DatabaseRestoreResult& d) {
  std::string rows = d.rows_known ? count_text(d.rows, "row") : "the rows (not counted: the backup has no manifest)";
  out.line("  - " + d.dbname + ": " + rows + " of " + count_text(d.tables, "table") + " added in one transaction, " +
           human_duration(d.seconds));
  out.info(d.dbname + ": the tables were not compared with the manifest, as they hold other rows too");
}

void print_human(const GlobalOptions& global, const Output& out, const ops::RestoreResult& r) {
  std::string stamp;
  for (const auto& d : r.databases) {
    stamp = d.stamp;
    if (d.data_only) {
      print_data_only(out, d);
      continue;
    }
    out.line("  - " + d.dbname + ": " + count_text(d.tables, "table") + ", " + count_text(d.rows, "row") + ", " +
             human_duration(d.seconds));
    out.line("    " + phase_line(d.phases));
    if (d.verification_limited) out.warning("verification of " + d.dbname + " was " + d.verification);
  }
  for (const auto& f : r.files) {
    out.line("  - " + f.path + ": " + count_text(f.file_count, "file"));
    stamp = f.stamp;
  }
  out.success("Restore completed successfully!");
  bool kept = false, kept_files = false;
  for (const auto& d : r.databases) kept = kept || !d.kept_copy.empty();
  for (const auto& f : r.files) kept_files = kept_files || !f.kept_copy.empty();
  if (kept_files) {
    out.line();
    out.line("The replaced folder(s) are kept:");
    for (const auto& f : r.files)
      if (!f.kept_copy.empty()) out.line("  " + f.path + " -> " + f.kept_copy);
  }
  if (!kept && !kept_files) return;
  if (kept) {
    out.line();
    out.line("The replaced database(s) are kept:");
  }
  for (const auto& d : r.databases)
    if (!d.kept_copy.empty()) out.line("  " + d.dbname + " -> " + d.kept_copy);
  out.info("To undo this restore, run: " +
           command_hint(global, "restore --undo " + stamp + (kept_files ? " --files" : "")));
  for (const auto& f : r.files)
    if (!f.kept_copy.empty()) out.info("When satisfied, remove the kept folder: rm -r " + shell_word(f.kept_copy));
  for (const auto& d : r.databases)
    if (!d.kept_copy.empty())
      out.info("When satisfied, drop the kept copy: " +
               command_hint(global, "kept --drop " + d.stamp + " --db " + shell_word(d.alias)));
}

std::string undo_json(const std::vector<ops::UndoResult>& undone, const std::vector<ops::UndoResult>& already,
                      const std::vector<ops::FilesUndoResult>& files) {
  JsonWriter w;
  w.begin_object().key("files").begin_array();
  for (const auto& f : files)
    w.begin_object().field("name", f.name).field("path", f.path).field("restored_copy", f.restored_copy).end_object();
  w.end_array();
  for (const auto* list : {&undone, &already}) {
    w.key(list == &undone ? "undone" : "already_undone").begin_array();
    for (const auto& u : *list)
      w.begin_object()
          .field("alias", u.alias)
          .field("dbname", u.dbname)
          .field("restored_copy", u.restored_copy)
          .end_object();
    w.end_array();
  }
  return w.end_object().str();
}

int run_undo(const GlobalOptions& global, const RestoreOptions& opts) {
  Config config = load(global);
  Output out(opts.json);
  // --files: the folders kept by that restore go back too; a restore may have kept folders only.
  std::vector<const FilesConfig*> folders;
  if (opts.request.files || opts.request.files_only) {
    for (const auto& f : config.files) {  // a restore of them stopped half-way is finished first
      std::string left = ops::recover_files_leftover(ops::files_folder(f.path));
      if (!left.empty()) out.info(left);
    }
    folders = ops::files_to_undo(config, opts.request.stamp);
  }
  ops::UndoPlan plan;
  plan.stamp = opts.request.stamp;
  try {
    plan = ops::plan_undo(config, opts.request.stamp, opts.request.aliases);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::usage || folders.empty()) throw;
  }
  for (const auto& u : plan.already_undone)  // a second --undo: said, nothing to ask or do
    out.info("the restore " + plan.stamp + " of " + u.dbname + " was already undone: " + u.dbname +
             " is as it was before it; the restored data is kept as '" + u.restored_copy + "'");
  std::string names;
  for (const auto* db : plan.to_undo) names += (names.empty() ? "" : ", ") + db->dbname;
  for (const auto* f : folders) names += (names.empty() ? "" : ", ") + f->path;
  bool something = !plan.to_undo.empty() || !folders.empty();
  if (something && !opts.yes && !stdin_is_terminal())
    throw refused_error(
        "refusing to undo the restore " + plan.stamp + " of " + names + " without confirmation: nothing was changed",
        "pass --yes");
  if (something && !opts.yes &&
      !out.confirmed("This puts back " + names + " as before the restore " + plan.stamp + "."))
    throw refused_error("undo cancelled: nothing was changed");
  pg::PosixProcessRunner runner;
  std::vector<ops::UndoResult> undone;
  if (!plan.to_undo.empty()) undone = ops::undo_restore(config, plan, runner, reporter_for(out));
  std::vector<ops::FilesUndoResult> files;
  if (!folders.empty()) files = ops::undo_files(config, plan.stamp, reporter_for(out));
  out.json(undo_json(undone, plan.already_undone, files));
  for (const auto& u : undone)
    out.info("When satisfied, drop the undone restore: " +
             command_hint(global, "kept --drop " + opts.request.stamp + " --db " + shell_word(u.alias)));
  return 0;
}

int run(const GlobalOptions& global, const RestoreOptions& opts) {
  if (opts.jobs->count() > 0 && opts.request.jobs < 1)
    throw usage_error("--jobs must be 1 or more, not " + std::to_string(opts.request.jobs),
                      "leave it out for the automatic choice (the cores, at most 4)");
  if (opts.undo) return run_undo(global, opts);
  Config config = load(global);
  Output out(opts.json);
  pg::PosixProcessRunner runner;
  ops::Reporter reporter = reporter_for(out);
  ops::RestorePlan plan = ops::plan_restore(config, opts.request, runner, reporter);
  confirm(out, plan, opts.yes);
  out.info("Starting database restore from " + plan.stamp + "...");
  ops::RestoreResult result = ops::run_restore(config, plan, runner, reporter);
  out.json(to_json(result));
  print_human(global, out, result);
  return 0;
}

}  // namespace

void add_restore_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<RestoreOptions>();
  CLI::App* cmd = app.add_subcommand("restore", "Restore a backup safely (like 'make db-restore BACKUP=...')");
  set_details(cmd,
              "Restore a backup into a temporary database, verify it against its manifest, then swap it in\n"
              "with two renames in one transaction; the replaced database is kept as\n"
              "<dbname>_before_restore_<STAMP>. Asks for a typed 'yes' (or --yes). See docs/restore.md.\n"
              "Examples: auditpitr restore latest\n"
              "          auditpitr restore 20250123_140530 --db portfolio --into portfolio_inspect\n"
              "          auditpitr restore 20250123_140530 --db portfolio --table portfolios --data-only\n"
              "          auditpitr restore latest --files      (the uploads folder too)\n"
              "          auditpitr restore --undo 20250123_140530");
  cmd->add_option("STAMP", opts->request.stamp,
                  "backup stamp (YYYYMMDD_HHMMSS), a backup's file name, or 'latest'; with --undo the restored stamp")
      ->required();
  cmd->add_option("--db", opts->request.aliases, "database alias (repeatable; default: all)");
  cmd->add_flag("-y,--yes", opts->yes, "do not ask for confirmation");
  cmd->add_option("--into", opts->request.into, "restore into this new database; the configured one is untouched");
  cmd->add_option("--table", opts->request.tables, "with --data-only: restore this table's rows (repeatable)");
  cmd->add_flag("--data-only", opts->request.data_only,
                "restore rows only, into the live database, in one transaction");
  cmd->add_flag("--no-owner", opts->request.no_owner, "skip ownership and privileges (roles of the dump missing here)");
  opts->jobs = cmd->add_option("-j,--jobs", opts->request.jobs,
                               "parallel pg_restore jobs (default: cores, at most 4; never more than the cores, nor "
                               "than leaves [restore] free_connections_percent of the server's connections free)");
  cmd->add_flag("--files", opts->request.files,
                "also put the set's [[files]] archives back into their folders (the current contents kept beside "
                "them as <path>_before_restore_<STAMP>); with --undo, put those folders back");
  cmd->add_flag("--files-only", opts->request.files_only,
                "put the set's [[files]] archives back as --files does, and touch no database");
  cmd->add_flag("--undo", opts->undo, "put back the databases kept by the restore STAMP");
  cmd->add_flag("--json", opts->json, "print one JSON object instead of the report");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run(global, *opts); }; });
}

}  // namespace auditpitr::cli
