// auditpitr replay: the audit events of a window applied to the target database, exactly once
// (docs/replay.md). No CLI11 here: src/cli/cmd_replay.cpp parses options and prints.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replay/apply/applier.h"
#include "replay/apply/target_catalog.h"
#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/reporter.h"

namespace auditpitr::ops {

/// Events per batch: the fold (fold_sink.h) writes each row a batch changes once, so the larger
/// the batch the fewer writes; memory grows with it (docs/replay.md, "The fold"). Read and folded
/// in two parts of 100,000 (replay::kPartsPerBatch), the size the benchmark found fastest.
constexpr std::size_t kDefaultBatchEvents = 200000;

struct ReplayOptions {
  replay::TimePoint to;
  std::optional<replay::TimePoint> from;  ///< unset: from the restored backup (docs/replay.md)
  std::string into;                       ///< another database on the [audit] database's server
  std::string audit_dir;                  ///< overrides [audit] dir when not empty
  std::set<std::string> tables, users;
  bool dry_run = false;
  std::string sql_file;  ///< write a script instead of applying
  replay::ConflictPolicy on_conflict = replay::ConflictPolicy::skip;
  std::size_t batch_events = kDefaultBatchEvents;
  bool fold = true;          ///< false: every change through its own statement (replay --no-fold)
  bool count_first = false;  ///< count the window's events first, for progress with a total (terminals)
};

struct ReplayReport {
  std::string database;  ///< "database 'x' at host:port"
  replay::TimePoint from, to;
  std::string from_source;  ///< "option", "restored_backup", "recorded_replay"
  std::string backup;       ///< the restored backup's stamp, "" when unknown
  int skew_margin_seconds = 0;
  std::optional<replay::TimePoint> margin_end;
  bool dry_run = false;
  std::string sql_file;
  bool already_applied = false;  ///< nothing was left to apply
  std::optional<replay::ReplayPosition> resumed_after;
  replay::ApplySummary summary;
  LogsLeftOut left_out;  ///< unread log-like files; live files' lines still being written
  uint64_t batches_folded = 0, batches_not_folded = 0;
  std::string not_folded_because;  ///< the first batch's reason
  double elapsed_seconds = 0;
};

/// The Mapper of `config`'s rules over a target database's tables (as replay reads them).
replay::Mapper mapper_for(const Config& config, const std::vector<replay::TargetTable>& tables);

/// Runs the replay. Usage Error for a missing --from (and no restored backup recorded), a --from
/// that contradicts the recorded replay, an unknown --table; see docs/replay.md for the rest.
ReplayReport run_replay(const Config& config, const ReplayOptions& options, const Reporter& reporter);

std::string replay_json(const ReplayReport& report);
std::vector<ReportLine> replay_text(const ReplayReport& report);

}  // namespace auditpitr::ops
