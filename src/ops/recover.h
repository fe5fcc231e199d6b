// auditpitr recover: point-in-time recovery (docs/recover.md). The newest backup at or before TIME
// is restored into a work database, the audit events after its snapshot are replayed up to TIME,
// and the result is verified against the backup's figures and the logged changes
// (verify/recovery_check.h). With --in-place the verified result then takes the configured
// database's name through restore's swap. No CLI11 here: src/cli/cmd_recover.cpp parses and prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "replay/apply/applier.h"
#include "replay/mapping/coverage.h"
#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/replay.h"
#include "src/ops/reporter.h"
#include "src/ops/restore.h"
#include "src/pg/process_runner.h"
#include "verify/recovery_check.h"

namespace auditpitr::ops {

struct RecoverOptions {
  replay::TimePoint to;
  std::string alias;  ///< empty: the [audit] database
  std::string into;   ///< empty: <dbname>_pitr_<STAMP of TIME>
  bool in_place = false;
  std::string audit_dir;  ///< overrides [audit] dir when not empty
  replay::ConflictPolicy on_conflict = replay::ConflictPolicy::skip;
  bool progress_total = false;  ///< count the window's events first (terminals)
  std::string backup_stamp;     ///< start from this backup instead of the newest before TIME (drill)
  bool keep_marked = false;     ///< leave the verified work database marked as recover's (drill drops it)
};

/// What recover will do, decided before anything is written (the CLI confirms --in-place after it).
struct RecoverPlan {
  RecoverOptions options;
  const DatabaseConfig* database = nullptr;
  BackupFile backup;
  replay::TimePoint snapshot;
  /// The backup has no manifest: the snapshot is the stamp (when the old script started), a weaker
  /// bound, and restore's verification is limited.
  bool snapshot_from_stamp = false;
  std::string recovery_stamp;  ///< TIME as a stamp (local time): names the work database and kept copy
  std::string work_dbname;     ///< where the recovery is built (--into's name, or <dbname>_pitr_<STAMP>)
  std::string kept_dbname;     ///< --in-place: the name the replaced database gets
};

RecoverPlan plan_recover(const Config& config, const RecoverOptions& options);

struct RecoverPhases {
  double restore = 0, capture = 0, replay = 0, verify = 0, swap = 0;
};

struct RecoverReport {
  RecoverPlan plan;
  bool resumed = false;  ///< the work database was there from an interrupted run
  std::string dbname;    ///< where the recovered data is now
  std::string restore_verification;
  replay::TimePoint window_from;
  ReplayReport replay;
  verify::RecoveryVerification verification;
  std::vector<verify::TableChecksum> checksums;  ///< the recovered database's, after the replay
  std::vector<replay::TableCoverage> coverage;   ///< what the logs of the window carry (analyze's classes)
  RecoverPhases seconds;
  double total_seconds = 0;
  bool swapped = false;
  bool ok() const { return verification.ok(); }
};

/// Restores (or resumes), replays, verifies and, for --in-place when verified, swaps. A failed
/// verification is in the report (the CLI exits 3); the work database then stays for inspection.
RecoverReport run_recover(const Config& config, const RecoverPlan& plan, pg::ProcessRunner& runner,
                          const Reporter& reporter);

std::string recover_json(const RecoverReport& report);
std::vector<ReportLine> recover_text(const RecoverReport& report);

}  // namespace auditpitr::ops
