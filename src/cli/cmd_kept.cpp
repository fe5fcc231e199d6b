// auditpitr kept: lists the copies restores keep on the server and drops them on request (a typed
// 'yes' or --yes), through ops::list_kept / choose_kept / drop_kept.
#include <ctime>
#include <memory>

#include "replay/log/time_parse.h"
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/kept.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

struct KeptOptions {
  std::vector<std::string> aliases;
  std::string drop_stamp;
  std::string older_than;
  bool yes = false;
  bool json = false;
};

std::string made_text(const ops::KeptCopy& c) {
  return replay::format_rfc3339(
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::from_time_t(c.made)));
}

std::string note_of(const ops::KeptCopy& c) {
  std::string note = c.marked ? "" : "not marked by auditpitr: never dropped by it";
  if (c.sessions > 0)
    note += (note.empty() ? "" : "; ") + std::string("in use by ") + count_text(c.sessions, "session");
  return note;
}

void print_copies(const Output& out, const std::vector<ops::KeptCopy>& copies) {
  if (copies.empty()) {
    out.info("No kept copies: restores keep the database they replace as <dbname>_before_restore_<STAMP>");
    return;
  }
  std::vector<std::vector<std::string>> rows{{"COPY", "OF", "KIND", "MADE", "SIZE", ""}};
  for (const auto& c : copies)
    rows.push_back({printable(c.name), c.alias, ops::kind_word(c.kind), c.marked ? made_text(c) : "-",
                    c.bytes ? human_size(*c.bytes) : "-", note_of(c)});
  for (const auto& line : align_columns(rows)) out.line(line);
}

std::string to_json(const std::vector<ops::KeptCopy>& copies, const std::vector<std::string>& dropped) {
  JsonWriter w;
  w.begin_object().key("copies").begin_array();
  for (const auto& c : copies) {
    w.begin_object().field("alias", c.alias).field("dbname", c.dbname).field("name", c.name);
    w.field("kind", ops::kind_word(c.kind)).field("stamp", c.stamp).field("marked", c.marked);
    w.key("made");
    c.marked ? w.value(made_text(c)) : w.null();
    w.key("bytes");
    c.bytes ? w.value(*c.bytes) : w.null();
    w.field("sessions", c.sessions).end_object();
  }
  w.end_array().key("dropped").begin_array();
  for (const auto& name : dropped) w.value(name);
  w.end_array().end_object();
  return w.str();
}

// The confirmation: a typed 'yes' on a terminal, or --yes; the question on stderr under --json.
void confirm_drop(const Output& out, const std::vector<ops::KeptCopy>& chosen, bool yes) {
  if (yes) return;
  std::string names;
  for (const auto& c : chosen) names += (names.empty() ? "'" : "', '") + c.name;
  names += "'";
  if (!stdin_is_terminal())
    throw refused_error("refusing to drop " + names + " without confirmation: nothing was dropped",
                        "run it in a terminal and type 'yes', or pass --yes (scripts, cron)");
  if (!out.confirmed("This drops " + names + " for good.")) throw refused_error("nothing was dropped");
}

int run_kept(const GlobalOptions& global, const KeptOptions& opts) {
  if (!opts.drop_stamp.empty() && !opts.older_than.empty())
    throw usage_error("--drop and --older-than cannot be combined", "use one, then the other");
  ops::KeptChoice choice;
  choice.stamp = opts.drop_stamp;
  choice.now = std::time(nullptr);
  if (!opts.older_than.empty()) choice.older_than_seconds = ops::parse_age(opts.older_than, "--older-than");
  Config config = load(global);
  Output out(opts.json);
  auto copies = ops::list_kept(config, opts.aliases);
  std::vector<std::string> dropped;
  if (opts.drop_stamp.empty() && opts.older_than.empty()) {
    print_copies(out, copies);
    if (!copies.empty()) out.info("To drop the copies of one restore: " + command_hint(global, "kept --drop STAMP"));
  } else {
    auto chosen = ops::choose_kept(copies, choice);
    if (chosen.empty()) {
      out.info("No marked copy is older than " + opts.older_than + ": nothing to drop");
    } else {
      print_copies(out, chosen);
      confirm_drop(out, chosen, opts.yes);
      dropped = ops::drop_kept(config, chosen, reporter_for(out));
    }
  }
  out.json(to_json(copies, dropped));
  return 0;
}

}  // namespace

void add_kept_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<KeptOptions>();
  CLI::App* cmd = app.add_subcommand("kept", "List or drop the databases restores kept (<dbname>_before_restore_...)");
  set_details(cmd,
              "Each restore keeps the database it replaced as <dbname>_before_restore_<STAMP> (and an undo\n"
              "the restore it replaced as <dbname>_undone_<STAMP>), full copies on the server. This lists\n"
              "them through the configured connections, and drops them on request after a typed 'yes'\n"
              "(or --yes): only copies carrying auditpitr's mark, and only when nobody is connected.\n"
              "See docs/restore.md and docs/safety.md.\n"
              "Examples: auditpitr kept\n"
              "          auditpitr kept --drop 20250123_140530\n"
              "          auditpitr kept --older-than 30d --yes");
  cmd->add_option("--db", opts->aliases, "database alias (repeatable; default: all)");
  cmd->add_option("--drop", opts->drop_stamp, "drop the copies of the restore of this STAMP");
  cmd->add_option("--older-than", opts->older_than, "drop the copies made longer ago than AGE (30d, 12h, 2w)");
  cmd->add_flag("-y,--yes", opts->yes, "do not ask for confirmation");
  cmd->add_flag("--json", opts->json, "print one JSON object: copies[] and dropped[]");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run_kept(global, *opts); }; });
}

}  // namespace auditpitr::cli
