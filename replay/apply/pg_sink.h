// The ChangeSink that applies to PostgreSQL: one prepared statement per row change
// (row_statement.h), or one set-based statement for a run of inserts or updates of one shape on
// distinct rows (the batch's changes reordered where that changes nothing, so that such runs are
// long: batch_order.h), sent in libpq pipeline mode so that a batch costs a few round trips instead of
// one per change; a batch is one transaction that also records the replay position.
#pragma once

#include <map>
#include <string>

#include "replay/apply/change_sink.h"
#include "replay/apply/pg_session.h"
#include "replay/apply/target_catalog.h"

namespace auditpitr::replay {

class PgSink : public ChangeSink {
 public:
  /// With `dry_run` every batch is a savepoint of one transaction that is rolled back at the end
  /// (finish() or destruction): later batches see earlier ones, nothing stays, no position is
  /// recorded.
  PgSink(PgSession& session, const TargetCatalog& catalog, bool dry_run);
  ~PgSink() override;

  /// Gathers the planner statistics a restored database lacks (analyze_tables_without_statistics).
  void prepare() override;
  void begin_batch() override;
  bool apply_all(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes,
                 std::optional<std::size_t>& refused_change) override;
  std::vector<ChangeOutcome> apply_event(const std::vector<const RowChange*>& changes) override;
  void commit_batch(const ReplayPosition& position, uint64_t events_applied) override;
  void rollback_batch() override;
  void record_refused(const std::vector<std::string>& event_hashes) override;

  /// Ends a dry run (rolls everything back). No-op otherwise.
  void finish();

 private:
  struct Pipeline;
  /// The prepared statement for `change` of `shape` (statement_shape), prepared on first use: its
  /// name, and whether it must be prepared now (pipeline mode sends the preparation ahead of its
  /// first use) with `sql`.
  const std::string& statement_name(const std::string& shape, const RowChange& change, bool& needs_prepare,
                                    std::string& sql);
  /// The same for the set-based statement of changes like `change` (build_group_statement).
  const std::string& group_statement_name(const std::string& shape, const RowChange& change, std::size_t params,
                                          bool& needs_prepare, std::string& sql);
  /// One past the last change of the set-based group that starts at `begin` (begin + 1: alone).
  std::size_t group_end(const std::vector<const RowChange*>& changes, const std::vector<std::string>& shapes,
                        std::size_t begin) const;
  /// apply_all for changes already in batch_order(), with their statement shapes; on a refusal,
  /// the refused statement's changes [first, second).
  bool apply_in_order(const std::vector<const RowChange*>& changes, const std::vector<std::string>& shapes,
                      std::vector<ChangeOutcome>& outcomes,
                      std::optional<std::pair<std::size_t, std::size_t>>& refused);
  ChangeOutcome outcome_of(const RowChange& change, const PGresult* result) const;
  static ChangeOutcome no_row_outcome(const RowChange& change);
  static ChangeOutcome row_outcome(const RowChange& change, const PGresult* result, int row);

  PgSession& session_;
  const TargetCatalog& catalog_;
  bool dry_run_;
  bool outer_open_ = false;  // dry run: the transaction around all batches
  bool analyzed_ = false;
  bool batch_open_ = false;
  std::vector<std::string> refused_;             // of the open batch
  std::map<std::string, std::string> prepared_;  // shape -> statement name
  uint64_t statements_named_ = 0;                // names are never reused, even for a shape forgotten after an abort
};

/// The target's tables with their column types and primary keys (auditpitr's own schema left out),
/// in one catalog query; soft_delete is left for the caller (the mapping decides it).
std::vector<TargetTable> read_target_tables(PgSession& session);

/// Runs ANALYZE on the tables that have no planner statistics (pg_stats shows none): a restored
/// database has none, and the sink's generic plans are made from them. PgSink does it in prepare(),
/// while the first batch is read; recover does it earlier, alongside its capture.
void analyze_tables_without_statistics(PgSession& session);

/// The conflict kind of a refused statement from its SQLSTATE: foreign_key, unique, not_null,
/// check, type, other; "" when the error is not about the data (the run must stop).
std::string conflict_kind_of(const std::string& sqlstate);

}  // namespace auditpitr::replay
