// The applier loop: events of the window, in stream order, mapped, filtered, applied in batches
// through a ChangeSink, each batch durable together with its position (docs/replay.md). The
// semantics of each change live in the sink's statements; what the applier decides is what to
// apply, in which batch, what a conflict does to its event, and what is reported.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replay/apply/change_sink.h"
#include "replay/log/audit_source.h"
#include "replay/mapping/mapping.h"
#include "src/error.h"

namespace auditpitr::replay {

enum class ConflictPolicy { skip, fail };

/// The run's first part is handed to the sink every this many events as it is mapped, or in
/// quarters when it is smaller (ChangeSink::read_ahead), so that the sink starts on it while the
/// rest is mapped.
constexpr std::size_t kReadAheadEvents = 25000;

struct ApplyOptions {
  TimePoint from, to;                   ///< the window (from, to]
  std::optional<TimePoint> margin_end;  ///< events up to this time are in the skew margin
  std::set<std::string> tables;         ///< empty: every table
  std::set<std::string> users;          ///< empty: every user
  std::string user_field = "userID";    ///< the log field naming the acting user
  ConflictPolicy on_conflict = ConflictPolicy::skip;
  std::size_t batch_events = 5000;  ///< events consumed per batch (transaction), read in kPartsPerBatch parts
  std::size_t read_ahead_events = kReadAheadEvents;  ///< 0: the first part is handed over whole
  std::optional<ReplayPosition> resume_after;
  /// Called after each committed batch with the window's events done so far (an earlier run's
  /// included; those before `from` are not) and the last one's time.
  std::function<void(uint64_t events, TimePoint at)> progress;
  /// Called when a batch failed in a way worth retrying and is applied again (attempt 2, 3...).
  std::function<void(const Error& failure, int next_attempt, int attempts)> retrying;
};

struct ConflictRecord {
  std::string kind;  ///< missing_row, foreign_key, unique, not_null, check, type, other
  std::string file;
  uint64_t line = 0;
  std::string operation, table, key, detail;
};

struct DriftRecord {
  bool in_margin = false;
  std::string file;
  uint64_t line = 0;
  std::string operation, table, key, column, field;
  std::optional<std::string> logged, found;
};

struct TableTally {
  uint64_t inserted = 0, insert_existing = 0, updated = 0, deleted = 0, soft_deleted = 0, already_deleted = 0,
           cascaded = 0, scripted = 0, conflicts = 0, drift = 0;
};

struct ApplySummary {
  uint64_t read = 0;             ///< events read from the logs, up to `to`
  uint64_t in_window = 0;        ///< of those, after `from` (and after the resume position)
  uint64_t before_position = 0;  ///< in the window but applied by an earlier run
  uint64_t applied = 0;          ///< events with at least one change applied
  uint64_t skipped_filter = 0;   ///< left out by --table / --user
  uint64_t skipped_conflict = 0;
  uint64_t unmapped = 0;  ///< no rule and no convention, unknown table, or ignored by a rule
  uint64_t invalid = 0;   ///< the line lacks what its mapping needs
  std::map<std::string, TableTally> tables;
  std::map<std::string, uint64_t> conflicts_by_kind;
  uint64_t drift = 0, drift_in_margin = 0;
  std::vector<ConflictRecord> conflicts;   ///< the first kMaxRecords
  std::vector<DriftRecord> drift_records;  ///< the first kMaxRecords
  std::optional<ReplayPosition> position;  ///< the last event consumed (committed)
  bool resumed = false;
  uint64_t batches_retried = 0;  ///< batches applied again after a deadlock, lock timeout...
};

/// Attempts of one batch (the first included).
constexpr int kBatchAttempts = 5;

/// A batch's ranges of at most this many events go event by event once refused in one go.
constexpr std::size_t kEventByEvent = 32;

/// Once a batch's attempts undone by refusals sum to this many times its events, the rest of it
/// goes event by event (refusals everywhere: more attempts would cost more than they save).
constexpr std::size_t kRefusedBudget = 3;

/// A batch is read, mapped and handed to the sink in this many parts, each one apply_all while
/// nothing is refused: the sink may fold the next part while it writes one, and leave the rows the
/// next part changes again to that part's writes (the same transaction), so a row is written once
/// per batch.
constexpr std::size_t kPartsPerBatch = 2;

/// Conflicts and drift kept in full; beyond, they are counted only (memory stays bounded).
constexpr std::size_t kMaxRecords = 100000;

/// Runs the loop. A batch that fails in a way pg::classify calls retryable without losing the
/// session (a deadlock or lock timeout with the live application) is rolled back and applied again,
/// up to kBatchAttempts times. Throws: interrupted Error (between batches; the batch in flight is not applied),
/// verification Error for a conflict under ConflictPolicy::fail (its batch rolled back) or when the
/// logs no longer hold the resume position's event.
ApplySummary apply_events(AuditEventSource& events, Mapper& mapper, ChangeSink& sink, const ApplyOptions& options);

/// The hash stored in a position: XXH3-64 of the event's JSON line, 16 hex digits.
std::string event_hash(std::string_view json);

}  // namespace auditpitr::replay
