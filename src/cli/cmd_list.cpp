// auditpitr list: the backup folder, newest first, in the layout of the old list script.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include "src/catalog/catalog.h"
#include "src/catalog/stamp.h"
#include "src/cli/cli_support.h"
#include "src/remote/rclone_store.h"
#include "src/remote/remote_catalog.h"
#include "src/util/format.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

std::string size_cell(const BackupSet& set, const std::string& dbname) {
  const BackupFile* f = set.dump_of(dbname);
  if (f) return human_size(f->size) + (f->encrypted ? " (age)" : "");
  auto missing = set.missing_databases();
  return std::find(missing.begin(), missing.end(), dbname) != missing.end() ? "missing" : "-";
}

std::string archive_cell(const BackupSet& set, const std::string& name) {
  if (const ArchiveFile* a = set.archive_of(name)) return human_size(a->size);
  auto missing = set.missing_archives();
  return std::find(missing.begin(), missing.end(), name) != missing.end() ? "missing" : "-";
}

std::string manifest_cell(const BackupSet& set) {
  std::size_t with = 0, lost = 0;
  for (const auto& d : set.dumps) {
    with += d.has_manifest ? 1 : 0;
    lost += d.manifest_missing() ? 1 : 0;
  }
  for (const auto& a : set.archives) {
    with += a.has_manifest ? 1 : 0;
    lost += a.manifest_missing() ? 1 : 0;
  }
  if (lost > 0) return "missing";
  if (with == set.dumps.size() + set.archives.size()) return "yes";
  return with == 0 ? "no" : "partly";
}

std::vector<std::string> configured_dbnames(const Config& config) {
  std::vector<std::string> names;
  for (const auto& db : config.databases) names.push_back(db.dbname);
  return names;
}

bool holds_configured(const BackupSet& set, const Config& config) {
  for (const auto& db : config.databases)
    if (set.dump_of(db.dbname)) return true;
  return false;
}

// The archive columns: the configured [[files]], then any other archive name the listed sets hold
// (the old scripts' uploads before a [[files]] entry names it).
std::vector<std::string> archive_names(const Catalog& catalog, const Config& config) {
  std::vector<std::string> names;
  for (const auto& f : config.files) names.push_back(f.name);
  for (const auto& set : catalog.sets()) {
    if (!holds_configured(set, config)) continue;
    for (const auto& a : set.archives)
      if (std::find(names.begin(), names.end(), a.name) == names.end()) names.push_back(a.name);
  }
  return names;
}

// "2025-01-23T14:05:30+01:00": the stamp's local time with its offset (RFC 3339).
std::string rfc3339(const std::string& stamp) {
  std::optional<std::time_t> t = stamp_to_time(stamp);
  std::tm local{};
  char text[40];
  if (!t || !localtime_r(&*t, &local) || !std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", &local)) return stamp;
  std::string out = text;
  return out.insert(out.size() - 2, ":");
}

std::string to_json(const Catalog& catalog, const Config& config) {
  JsonWriter w;
  std::string latest = catalog.latest_stamp(configured_dbnames(config));
  w.begin_object().field("dir", catalog.dir());
  w.field_or_null("latest", latest);
  w.key("backups").begin_array();
  for (const auto& set : catalog.sets()) {
    if (!holds_configured(set, config)) continue;
    w.begin_object().field("stamp", set.stamp).field("created", rfc3339(set.stamp));
    w.field("complete", !set.partial()).field("latest", set.stamp == latest);
    w.field_or_null("not_latest_reason", set.not_latest_reason());
    w.key("missing_databases").begin_array();
    for (const auto& db : set.missing_databases()) w.value(db);
    w.end_array().key("missing_archives").begin_array();
    for (const auto& name : set.missing_archives()) w.value(name);
    w.end_array().key("files").begin_array();
    for (const auto& d : set.dumps) {
      w.begin_object();
      w.field_or_null("alias", config.alias_of(d.dbname));
      w.field("dbname", d.dbname).field("path", d.path).field("size", d.size);
      w.field("manifest", d.has_manifest).field("manifest_missing", d.manifest_missing());
      w.field("encrypted", d.encrypted).end_object();
    }
    w.end_array().key("archives").begin_array();
    for (const auto& a : set.archives) {
      w.begin_object().field("name", a.name).field("configured", config.files_named(a.name) != nullptr);
      w.field("path", a.path).field("size", a.size).field("manifest", a.has_manifest);
      w.field("manifest_missing", a.manifest_missing()).field("written_by_auditpitr", a.written_by_auditpitr);
      w.field("encrypted", a.encrypted);
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return w.str();
}

void print_human(const Output& out, const GlobalOptions& global, const Catalog& catalog, const Config& config) {
  out.line(out.bold("Available Database Backups") + " in " + catalog.dir());
  out.line("===============================================");
  out.line();
  std::size_t total = 0;
  for (const auto& s : catalog.sets()) total += holds_configured(s, config) ? 1 : 0;
  if (total == 0) {
    out.line("No backups yet. Create one with: auditpitr backup");
    return;
  }
  std::string latest = catalog.latest_stamp(configured_dbnames(config));
  if (const BackupSet* set = catalog.find(latest)) {
    out.line("Latest Backup:");
    out.line("  Timestamp: " + latest);
    out.line("  Created:   " + stamp_display(latest));
    for (const auto& db : config.databases) out.line("  " + pad(db.alias + ":", 11) + size_cell(*set, db.dbname));
    for (const auto& name : archive_names(catalog, config))
      if (set->archive_of(name)) out.line("  " + pad(name + ":", 11) + archive_cell(*set, name));
    out.line();
  }
  out.line("All Available Backups:");
  std::string header = pad("Timestamp", 17) + pad("Created", 21);
  for (const auto& db : config.databases) header += pad(db.alias, 12);
  const std::vector<std::string> archives = archive_names(catalog, config);
  for (const auto& name : archives) header += pad(name, 12);
  header += "Manifest";
  out.line(header);
  out.line(std::string(header.size() + 4, '-'));
  for (const auto& set : catalog.sets()) {
    if (!holds_configured(set, config)) continue;
    std::string row = pad(set.stamp, 17) + pad(stamp_display(set.stamp), 21);
    for (const auto& db : config.databases) row += pad(size_cell(set, db.dbname), 12);
    for (const auto& name : archives) row += pad(archive_cell(set, name), 12);
    row += manifest_cell(set);
    if (set.stamp == latest) row += "  <- latest";
    if (set.partial()) row += "  partial: " + set.partial_reason();
    out.line(row);
  }
  out.line();
  out.line("Total backups: " + std::to_string(total));
  out.line();
  if (latest.empty()) {  // no stamp to show in examples, and 'latest' would fail
    out.line("No backup holds all configured databases whole yet: make one with '" + command_hint(global, "backup") +
             "', or name a stamp above with --db for one database.");
    return;
  }
  out.line("Usage Examples:");
  out.line("  auditpitr restore " + latest + "   # Restore from specific backup");
  out.line("  auditpitr restore latest            # Restore from latest backup");
  out.line("  auditpitr check " + latest + "     # Verify a backup without restoring it");
}

uint64_t total_size(const std::vector<remote::RemoteObject>& objects) {
  uint64_t total = 0;
  for (const auto& o : objects) total += o.size;
  return total;
}

std::string remote_json(const remote::RemoteListing& listing, const RemoteConfig& rm, const Config& config) {
  JsonWriter w;
  w.begin_object().field("remote", rm.name).field("rclone", rm.rclone);
  w.field_or_null("latest", listing.latest(configured_dbnames(config)));
  w.key("backups").begin_array();
  for (const auto& set : listing.sets) {
    w.begin_object().field("stamp", set.stamp).field("created", rfc3339(set.stamp));
    w.field("complete", set.complete()).field("state", set.state());
    w.field_or_null("pushed_at", set.record ? set.record->pushed_at : "");
    w.field_or_null("verified_by", set.record ? set.record->verified_by : "");
    w.key("problems").begin_array();
    for (const auto& p : set.problems) w.value(p);
    w.end_array().key("files").begin_array();
    for (const auto& f : set.files) {
      const remote::PushedFile* recorded = set.record ? set.record->file(f.path) : nullptr;
      w.begin_object().field("name", f.path).field("size", f.size);
      w.field_or_null("sha256", recorded ? recorded->sha256 : "").end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().key("logs").begin_object();
  w.field("files", static_cast<uint64_t>(listing.logs.size())).field("bytes", total_size(listing.logs)).end_object();
  w.key("temporary").begin_array();
  for (const auto& t : listing.temporary) w.value(t.path);
  w.end_array().key("other").begin_array();
  for (const auto& o : listing.other) w.value(o.path);
  w.end_array().end_object();
  return w.str();
}

void print_remote(const Output& out, const remote::RemoteListing& listing, const Config& config) {
  out.line(out.bold("Backups on remote ") + listing.where);
  out.line("===============================================");
  std::string header = pad("Timestamp", 17) + pad("Created", 21);
  for (const auto& db : config.databases) header += pad(db.alias, 12);
  out.line(header + "State");
  out.line(std::string(header.size() + 10, '-'));
  std::string latest = listing.latest(configured_dbnames(config));
  for (const auto& set : listing.sets) {
    std::string row = pad(set.stamp, 17) + pad(stamp_display(set.stamp), 21);
    for (const auto& db : config.databases) {
      const remote::RemoteObject* dump = nullptr;
      for (const auto& f : set.files)
        for (bool encrypted : {false, true})
          dump = f.path == dump_file_name(db.dbname, set.stamp, encrypted) ? &f : dump;
      row += pad(dump ? human_size(dump->size) : "-", 12);
    }
    row += set.state();
    if (set.complete() && set.record) row += " (verified by " + set.record->verified_by + ")";
    if (set.stamp == latest) row += "  <- latest";
    out.line(row);
  }
  out.line();
  out.line("Total backups: " + std::to_string(listing.sets.size()) + "; audit logs: " +
           std::to_string(listing.logs.size()) + " file(s), " + human_size(total_size(listing.logs)));
  for (const auto& t : listing.temporary)
    out.line("Temporary file of a push that stopped part-way: " + t.path +
             " (the next push leaves it; delete it "
             "with rclone when no push runs)");
  for (const auto& o : listing.other) out.line("Not a file of auditpitr's: " + o.path);
  if (!latest.empty()) out.line("Bring one back with: auditpitr pull " + latest);
}

}  // namespace

void add_list_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto json = std::make_shared<bool>(false);
  auto remote_name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("list", "List the backups, newest first (like 'make db-list-backups')");
  set_details(cmd,
              "List the backups in the backup folder, newest first: one row per stamp with the size of\n"
              "each database's dump and file archive ([[files]], the old scripts' uploads) and whether\n"
              "they have a manifest. Backups made by the old scripts\n"
              "(no manifest) are listed too. A run that stopped part-way is marked 'partial' ('missing'\n"
              "in the column of a database it did not reach) and is never the latest; a dump of auditpitr's\n"
              "whose manifest is gone shows 'missing' in the Manifest column.\n"
              "With --remote NAME: what a [[remotes]] entry holds (docs/push.md), each set complete,\n"
              "incomplete (its push did not finish) or damaged (a file missing or of another size).\n"
              "Examples: auditpitr list\n"
              "          auditpitr list --remote offsite\n"
              "          auditpitr list --json -c /etc/auditpitr.toml");
  cmd->add_flag("--json", *json, "print one JSON object instead of the table");
  cmd->add_option("--remote", *remote_name, "list what this [[remotes]] entry holds instead of the backup folder");
  cmd->callback([&global, &action, json, remote_name] {
    action = [&global, json, remote_name] {
      Config config = load(global);
      Output out(*json);
      if (!remote_name->empty()) {
        const RemoteConfig& rm = config.remote(*remote_name);
        remote::require_rclone();
        pg::PosixProcessRunner runner;
        remote::RcloneStore store(rm, runner);
        remote::RemoteListing listing = remote::read_remote(store);
        if (*json) {
          out.json(remote_json(listing, rm, config));
        } else {
          print_remote(out, listing, config);
        }
        return 0;
      }
      Catalog catalog = Catalog::scan(config.backup_dir);
      if (*json) {
        out.json(to_json(catalog, config));
      } else {
        print_human(out, global, catalog, config);
      }
      return 0;
    };
  });
}

}  // namespace auditpitr::cli
