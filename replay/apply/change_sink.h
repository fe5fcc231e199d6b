// The seam between the applier (what to apply, in which batches, what to report) and what applies
// it: PostgreSQL (pg_sink.h), an SQL script (script_sink.h), or an in-memory fake in unit tests.
// The contract below is what the applier relies on; every sink keeps it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "replay/log/event.h"
#include "replay/mapping/mapping.h"

namespace auditpitr::replay {

/// How one row change went (docs/replay.md, "Semantics" and "Conflicts").
enum class ChangeOutcomeKind {
  inserted,
  insert_existing,  ///< the key existed: the carried columns were updated
  updated,
  deleted,
  soft_deleted,
  already_deleted,  ///< soft delete of a row deleted earlier: nothing changed
  missing_row,      ///< update or delete of a row that is not there: nothing changed (a conflict)
  refused,          ///< the database refused the statement (constraint, type): a conflict
  scripted,         ///< written to a script, not applied
};
const char* outcome_kind_name(ChangeOutcomeKind kind);

struct CheckResult {
  bool same = true;
  std::optional<std::string> found;  ///< the database's value as text (first 200 characters)
};

struct ChangeOutcome {
  ChangeOutcomeKind kind = ChangeOutcomeKind::updated;
  uint64_t cascaded = 0;            ///< child rows deleted by the change's cascades
  std::vector<CheckResult> checks;  ///< one per RowChange::expect, in order (empty when not applied)
  std::string conflict_kind;        ///< refused: foreign_key, unique, not_null, check, type, other
  std::string detail;               ///< refused: the database's message
};

/// The last applied event: its time, its ordinal among the events of that time in the merged
/// stream (1-based), and a hash of its JSON line. Survives log rotation (docs/replay.md).
struct ReplayPosition {
  TimePoint time;
  uint64_t ordinal = 0;
  std::string hash;
};

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;

  /// Work the sink can do before its first batch, called once while that batch is being read and
  /// mapped on the reading thread (so the two overlap).
  virtual void prepare() {}

  /// The first changes of the next apply_all, given while the rest of them are still read and
  /// mapped, before the run's first batch opens (when the server has nothing else to do); called
  /// again with more of them. The sink may start on them, reading what they need without writing
  /// anything. apply_all may still be given changes that do not start with them: the sink checks.
  virtual void read_ahead(const std::vector<const RowChange*>& first) { (void)first; }

  /// Opens a batch: nothing applied in it is durable (or visible to others) before commit_batch.
  virtual void begin_batch() = 0;

  /// Applies `changes` in order, each seeing the effects of the ones before. Returns true with one
  /// outcome per change in `outcomes`; or false when the database refused one of them (or the
  /// sink knows it would): then none of `changes` stays applied, what the batch applied before
  /// stays, the batch stays open, and `refused_change` names the refused change's index when the
  /// sink can tell (a hint: the caller applies the changes before it, then its event alone with
  /// apply_event, which has the last word). Never returns `refused` outcomes.
  virtual bool apply_all(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes,
                         std::optional<std::size_t>& refused_change) = 0;

  /// Applies one event's changes in order, inside the open batch. When the database refuses one,
  /// the event's earlier changes are undone too and the refused one's outcome is `refused`
  /// (the ones after it are not attempted; their outcomes are missing). The batch stays open.
  virtual std::vector<ChangeOutcome> apply_event(const std::vector<const RowChange*>& changes) = 0;

  /// Makes the batch durable together with `position` (the last event it consumed) and the count
  /// of events it applied, atomically.
  virtual void commit_batch(const ReplayPosition& position, uint64_t events_applied) = 0;

  /// Undoes the open batch.
  virtual void rollback_batch() = 0;

  /// The changes the next apply_all will be given, once the one under way has applied a part of a
  /// batch whole (a batch is applied in parts: applier.h, kPartsPerBatch), and whether they belong
  /// to the open batch (the same transaction) or to the next one. A sink may start on them while
  /// it writes the part under way; when they are in the open batch, it may even leave writes of
  /// this part to that apply_all, which then makes them first. Such writes are made before anything
  /// else the sink applies or commits (apply_all of other changes, apply_event, commit_batch), and
  /// dropped by rollback_batch.
  struct NextChanges {
    const std::vector<const RowChange*>* changes = nullptr;  ///< none: no next part, or not known yet
    bool same_batch = false;
  };
  /// Returns the next part's changes; it may wait for them to be read.
  using NextBatch = std::function<NextChanges()>;
  virtual void set_next_batch(NextBatch next) { (void)next; }

  /// Outcomes of the apply_all under way known before it ends (a sink that works them out before
  /// writing): called on apply_all's thread, inside apply_all, with what apply_all will answer if it
  /// answers true; called again with nullptr if the sink takes them back (it then applies the
  /// changes another way, and answers with other outcomes). The caller may tally them meanwhile.
  using OutcomesKnown = std::function<void(const std::vector<ChangeOutcome>* outcomes)>;
  virtual void set_outcomes_known(OutcomesKnown known) { (void)known; }

  /// The events of the open batch the database refused (their event_hash), recorded with the batch
  /// when it commits, so that recover's verification leaves them out on a resumed run too.
  virtual void record_refused(const std::vector<std::string>& event_hashes) { (void)event_hashes; }
};

}  // namespace auditpitr::replay
