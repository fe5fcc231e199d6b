// run_verify: what --db, --against and --backup name, then the comparison from verify/.
#include "src/ops/verify.h"

#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/pg/connection.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

bool looks_like_conninfo(const std::string& text) {
  return text.find('=') != std::string::npos || text.rfind("postgresql://", 0) == 0 ||
         text.rfind("postgres://", 0) == 0;
}

const DatabaseConfig* configured(const Config* config, const std::string& name) {
  if (!config) return nullptr;
  for (const auto& db : config->databases)
    if (db.alias == name) return &db;
  for (const auto& db : config->databases)
    if (db.dbname == name) return &db;
  return nullptr;
}

// A connection string as it is; an alias or configured dbname with its settings; another name on
// `server` (--db's server for --against), else on the first configured database's server.
pg::ConnInfo resolve(const Config* config, const std::string& name, const pg::ConnInfo* server) {
  if (looks_like_conninfo(name)) return pg::ConnInfo::parse(name);
  if (const DatabaseConfig* db = configured(config, name)) return db->connect_info();
  if (server) return server->with_dbname(name);
  if (config && !config->databases.empty()) return config->databases.front().connect_info().with_dbname(name);
  return pg::ConnInfo::parse("", name);
}

std::string quoted(const std::string& dbname) { return "'" + dbname + "'"; }

// The configured database whose backup --backup names.
// (Messages name databases by dbname: --db may be a connection string with a password.)
const DatabaseConfig& backup_owner(const Config& config, const VerifyOptions& o, const std::string& dbname) {
  if (!o.of.empty()) return config.database(o.of);
  if (const DatabaseConfig* db = configured(&config, o.db)) return *db;
  if (config.databases.size() == 1) return config.databases.front();
  throw usage_error("'" + dbname + "' is not a configured database: which database's backup is " + o.backup + "?",
                    "name it with --of ALIAS");
}

verify::Manifest backup_manifest(const Config& config, const VerifyOptions& o, const std::string& dbname,
                                 VerifyReport& report) {
  const DatabaseConfig& owner = backup_owner(config, o, dbname);
  Catalog catalog = Catalog::scan(config.backup_dir);
  const BackupFile& file = catalog.resolve(o.backup, owner.dbname, &report.note);
  report.stamp = file.stamp;
  report.expected = "backup " + file.stamp + " of " + owner.dbname;
  if (!file.has_manifest)
    throw verification_error(
        "backup " + file.stamp + " of " + owner.dbname + " has no manifest (" +
            (file.written_by_auditpitr ? "its manifest file is missing" : "a backup of the old scripts") +
            "): there are no row counts or checksums to compare '" + dbname + "' against",
        "restore it into a new database (auditpitr restore " + file.stamp + " --db " + owner.alias +
            " --into NAME), then compare with: auditpitr verify --db DB --against NAME");
  verify::Manifest manifest = verify::load_manifest(file.manifest_path);
  report.snapshot_time_utc = manifest.snapshot_time_utc;
  return manifest;
}

verify::DatabaseCompareOptions compare_options(const VerifyOptions& o, const Reporter& reporter) {
  verify::DatabaseCompareOptions c;
  c.tables = o.tables;
  c.only_columns = o.columns;
  c.diff = o.diff;
  c.max_keys = o.max_keys;
  c.progress = [&reporter](const std::string& what) { reporter.progress("comparing " + what); };
  return c;
}

}  // namespace

VerifyReport run_verify(const Config* config, const VerifyOptions& o, const Reporter& reporter) {
  if (o.against.empty() == o.backup.empty())
    throw usage_error("name what to compare with: --against DATABASE or --backup STAMP (one of them)");
  if (o.diff && !o.backup.empty())
    throw usage_error("--diff compares rows, and a backup's manifest holds checksums, not rows",
                      "restore the backup into a new database (auditpitr restore STAMP --into NAME), then "
                      "run verify --against NAME --diff");
  if (!o.backup.empty() && !config)
    throw usage_error("--backup needs the configuration (the backup folder)", "name it with -c PATH");
  VerifyReport report;
  report.columns_only = !o.columns.empty();
  report.diff = o.diff;
  report.max_keys = o.max_keys;
  pg::ConnInfo actual_info = resolve(config, o.db, nullptr);
  report.actual_short = quoted(actual_info.dbname());
  verify::DatabaseCompareOptions options = compare_options(o, reporter);
  if (!o.backup.empty()) {
    verify::Manifest manifest = backup_manifest(*config, o, actual_info.dbname(), report);
    report.against_backup = true;
    report.expected_short = "the backup";
    pg::Connection actual(actual_info);
    report.actual = actual.describe();
    report.comparison = verify::compare_with_checksums(manifest.tables, actual, options);
  } else {
    pg::ConnInfo expected_info = resolve(config, o.against, &actual_info);
    report.expected_short = quoted(expected_info.dbname());
    if (report.expected_short == report.actual_short) report.expected_short += " (--against)";
    pg::Connection actual(actual_info);
    pg::Connection expected(expected_info);
    report.actual = actual.describe();
    report.expected = expected.describe();
    report.comparison = verify::compare_databases(expected, actual, options);
  }
  reporter.progress("");
  return report;
}

}  // namespace auditpitr::ops
