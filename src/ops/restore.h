// `auditpitr restore`: a backup goes into a temporary database, is verified against its manifest,
// and only then takes the target's name in one transaction (two renames), the replaced database
// being kept as <dbname>_before_restore_<STAMP> so that every restore can be undone.
// Phases live in sibling files: restore_plan (resolve + check), restore_database (temporary
// database, pg_restore, verification), restore_swap (leftovers, swap, undo), restore_hooks,
// restore_tables (--table --data-only). The CLI confirms between plan_restore and run_restore.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/ops/database_marks.h"
#include "src/ops/file_archive.h"
#include "src/ops/reporter.h"
#include "src/ops/verified_dump.h"
#include "src/pg/pg_restore.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

struct RestoreRequest {
  std::string stamp;                 ///< YYYYMMDD_HHMMSS or "latest"
  std::vector<std::string> aliases;  ///< empty or "all": every configured database
  std::string into;                  ///< --into NEWDB: a new database, the configured one untouched
  /// With `into`: the mark the new database carries from the moment it has its name (recover's
  /// work database, so that a re-run knows it as its own).
  std::optional<DatabaseMark> into_mark;
  std::vector<std::string> tables;  ///< --table (needs data_only): into the live database, one transaction
  bool data_only = false;
  bool no_owner = false;
  int jobs = 0;  ///< pg_restore --jobs; 0: automatic (cores, at most 4, within the
                 ///< server's free connections)
  /// --files: the set's archives of the configured [[files]] go back into their folders too, the
  /// replaced contents kept beside them as <path>_before_restore_<STAMP>.
  bool files = false;
  bool files_only = false;  ///< --files-only: the archives alone, no database touched (implies files)
};

/// One database of the plan: which backup goes where.
struct RestoreTarget {
  const DatabaseConfig* database = nullptr;
  BackupFile backup;
  std::string target_dbname;  ///< the configured dbname, or --into
  std::string note;           ///< why a newer backup was passed over for latest, e.g. a partial set
  double check_seconds = 0;   ///< how long plan_restore's check of this backup took
  DumpExpectation checked;    ///< the file as plan_restore's check found it: what is restored must match
};

struct RestorePlan {
  RestoreRequest request;
  std::vector<RestoreTarget> targets;
  std::string stamp;               ///< the resolved stamp, one for every target
  std::vector<FilesTarget> files;  ///< --files: the archives to put back, each checked
  /// True when configured databases will be overwritten: the CLI must have a confirmation.
  bool overwrites_live_data() const { return request.into.empty(); }
};

/// Resolves the backups and checks each one (gzip CRC, sha256 against the manifest, readable table
/// of contents) before anything is touched. Throws usage Errors (unknown stamp, bad options) and a
/// verification Error for a damaged backup.
RestorePlan plan_restore(const Config& config, const RestoreRequest& request, pg::ProcessRunner& runner,
                         const Reporter& reporter);

/// The text of the old script's warning box for the plan (what is replaced, or for --data-only
/// what is added to, from which backup).
std::string warning_box(const RestorePlan& plan);
/// The plan's target databases, "a, b".
std::string target_names(const RestorePlan& plan);

/// Wall-clock seconds of each phase of one database's restore, in the order they run.
struct RestorePhaseTimes {
  double check = 0;         ///< sha256 and size against the manifest, table of contents (plan_restore)
  double inflate = 0;       ///< with jobs: inflating the dump to a seekable copy; 0 when streamed
  double pg_restore = 0;    ///< pg_restore into the temporary database
  double verification = 0;  ///< reading the restored copy's checksums (during pg_restore: the seconds spent reading)
  double swap = 0;          ///< ending sessions and the two renames
  int jobs = 1;             ///< pg_restore --jobs (1: streamed into its stdin)
  int verified_while_loading = 0;  ///< tables checksummed while pg_restore was loading others
};

struct DatabaseRestoreResult {
  std::string alias;
  std::string dbname;  ///< where the data now is (the target or --into)
  std::string stamp;
  std::string kept_copy;     ///< <dbname>_before_restore_<STAMP>; empty for --into / --table
  std::string verification;  ///< "checksums of 5 tables (42 rows) match the manifest" / "limited: ..."
  bool verification_limited = false;
  uint64_t rows = 0;
  bool rows_known = true;  ///< false: --data-only from a backup without manifest (its rows are not counted)
  std::size_t tables = 0;
  bool data_only = false;          ///< --table --data-only: rows added to the live tables, no phases, no swap
  std::string pg_restore_summary;  ///< the one-line summary of expected messages, empty when none
  double seconds = 0;              ///< restore into the temporary database and verification
  RestorePhaseTimes phases;
};

struct RestoreResult {
  std::vector<DatabaseRestoreResult> databases;
  std::vector<FilesRestoreResult> files;       ///< --files: the folders put back
  std::vector<std::string> cleaned_leftovers;  ///< what a previous, killed restore had left and was fixed
};

/// Runs the pre_restore hook, restores every target (all into temporary databases and verified
/// before any swap), swaps, and runs the post_restore hook even when something failed.
RestoreResult run_restore(const Config& config, const RestorePlan& plan, pg::ProcessRunner& runner,
                          const Reporter& reporter);

/// `restore --undo STAMP`: puts <dbname>_before_restore_<STAMP> back under its name; the database it
/// replaces is kept as <dbname>_undone_<STAMP> (so the undo itself can be undone). Hooks run around it.
struct UndoResult {
  std::string dbname;
  std::string restored_copy;  ///< the name the undone restore now has
  std::string alias;
};
/// What an undo would do, found before asking: the databases whose kept copy is there, and those
/// whose restore STAMP was already undone (their <dbname>_undone_<STAMP> there, no kept copy).
/// Throws a usage Error naming the copies looked for when there is neither.
struct UndoPlan {
  std::string stamp;
  std::vector<const DatabaseConfig*> to_undo;
  std::vector<UndoResult> already_undone;
};
UndoPlan plan_undo(const Config& config, const std::string& stamp, const std::vector<std::string>& aliases);
std::vector<UndoResult> undo_restore(const Config& config, const UndoPlan& plan, pg::ProcessRunner& runner,
                                     const Reporter& reporter);

/// Names derived from the target and the stamp (PostgreSQL truncates names over 63 bytes, so
/// longer ones are refused with a usage Error instead).
std::string restoring_name(const std::string& dbname, const std::string& stamp);
std::string before_restore_name(const std::string& dbname, const std::string& stamp);
std::string undone_name(const std::string& dbname, const std::string& stamp);

}  // namespace auditpitr::ops
