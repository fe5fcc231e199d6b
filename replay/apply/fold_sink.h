// The ChangeSink replay uses: it folds a batch's changes in memory into each row's net change and
// writes only those, one write per row however often the batch changed it, by COPY (new rows) and
// set-based UPDATE/INSERT from COPY staging tables. The rows the batch touches are read first (with
// the children its cascades can reach and the parents its foreign keys name); each change's outcome
// is worked out against the folded rows in stream order, and its checks are compared by PostgreSQL
// in the column's type, so the outcomes and the database are what PgSink applying change after
// change gives. While a batch is written, the next one is folded on a session of its own, and the
// caller is told the batch's outcomes (ChangeSink::set_outcomes_known).
//
// A batch the fold cannot follow exactly goes to PgSink unchanged (docs/replay.md, "The fold"):
// real deletes, a table with a CHECK constraint, another unique key, a trigger or a key that is not
// one integer column, a check against a column default. A change the database would refuse (a
// foreign key to a row that is not there, a NULL in a NOT NULL column, a value its column's type
// rejects) goes to neither: apply_all answers false and names it. The net writes' outcomes are
// checked too: anything unexpected undoes the batch and hands it to PgSink.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replay/apply/change_sink.h"
#include "replay/apply/pg_session.h"
#include "replay/apply/pg_sink.h"
#include "replay/apply/target_catalog.h"
#include "src/util/free_beside.h"

namespace auditpitr::replay {

class FoldSink : public ChangeSink {
 public:
  /// `statements` applies the net changes, and every batch the fold declines; it is the session's.
  /// With `ahead_session` (a session of its own on the same database), the next batch is folded
  /// there while this one is written.
  FoldSink(PgSession& session, const TargetCatalog& catalog, PgSink& statements, PgSession* ahead_session = nullptr);
  ~FoldSink() override;

  void set_next_batch(NextBatch next) override { next_batch_ = std::move(next); }
  void set_outcomes_known(OutcomesKnown known) override { outcomes_known_ = std::move(known); }
  void prepare() override { statements_.prepare(); }
  /// Reads the rows the first changes name on the session, while no transaction is open.
  void read_ahead(const std::vector<const RowChange*>& first) override;
  void begin_batch() override;
  bool apply_all(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes,
                 std::optional<std::size_t>& refused_change) override;
  std::vector<ChangeOutcome> apply_event(const std::vector<const RowChange*>& changes) override;
  void commit_batch(const ReplayPosition& position, uint64_t events_applied) override;
  void rollback_batch() override;
  void record_refused(const std::vector<std::string>& event_hashes) override {
    statements_.record_refused(event_hashes);
  }

  /// Batches committed whose changes were all folded (but for events refused, applied alone), and
  /// batches with changes handed to PgSink, with the first reason why.
  uint64_t folded_batches() const { return folded_; }
  uint64_t declined_batches() const { return declined_; }
  const std::string& first_decline_reason() const { return first_reason_; }
  /// Batches whose fold was made while the batch before was written (on `ahead_session`).
  uint64_t folded_ahead() const { return folded_ahead_; }
  /// Batches whose fold began from the rows read ahead (read_ahead).
  uint64_t batches_read_ahead() const { return read_ahead_used_; }

 private:
  struct Folded;  ///< a batch's fold (fold_sink.cpp)
  void write_looking_ahead(Folded& batch, bool& announced);
  void write_held();
  std::unique_ptr<Folded> new_fold();
  void end_batch();
  std::unique_ptr<Folded> fold_ahead(const std::vector<const RowChange*>& changes, const Folded& being_written);

  PgSession& session_;
  const TargetCatalog& catalog_;
  PgSink& statements_;
  std::map<const TargetColumn*, std::optional<Value>> defaults_;  ///< constant column defaults
  uint64_t folded_ = 0, declined_ = 0, folded_ahead_ = 0, read_ahead_used_ = 0;
  bool batch_folded_ = false, batch_declined_ = false;  ///< of the open batch
  uint64_t stage_names_ = 0;  ///< staging tables are named apart within a transaction (a dry run's)
  std::string first_reason_;
  FreeBeside spent_;  ///< a batch's folded rows, freed while the next batch goes on
  PgSession* ahead_session_;
  NextBatch next_batch_;
  OutcomesKnown outcomes_known_;   ///< told a batch's outcomes while it is written
  std::unique_ptr<Folded> ahead_;  ///< the next part, folded while the last one was written
  std::unique_ptr<Folded> early_;  ///< the first changes of the run's first part, read ahead
  /// The open batch's parts written by their folds, in order; the last one may hold rows for the
  /// next part's writes (Folded::holds).
  std::vector<std::unique_ptr<Folded>> written_;
  std::vector<std::unique_ptr<Folded>> finished_;  ///< the last batch's, freed when the next begins
  bool uncovered_ = false;  ///< the open batch has writes no fold made (PgSink's): nothing is folded ahead
  bool hold_rows_ = true;   ///< false once held rows failed to be written: a batch's retry writes each part whole
};

}  // namespace auditpitr::replay
