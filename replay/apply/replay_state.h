// auditpitr's own schema in a target database (docs/replay.md, "Exactly once"): which backup the
// database was restored from, and how far a replay into it has come. Remove with
// `DROP SCHEMA auditpitr CASCADE`.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replay/apply/change_sink.h"
#include "replay/apply/pg_session.h"
#include "replay/apply/target_catalog.h"

namespace auditpitr::replay {

/// What `restore` recorded: the backup the database holds.
struct RestoredFrom {
  std::string backup;  ///< stamp
  TimePoint snapshot_time;
};

/// The replay recorded in the database.
struct ReplayRecord {
  TimePoint window_from, window_to;
  std::string backup;  ///< "" when the window did not start from a restored backup
  std::optional<ReplayPosition> position;
  uint64_t events_applied = 0;
  bool finished = false;
};

/// Creates the schema and its tables when missing (idempotent).
void create_replay_schema(PgSession& session);
std::optional<RestoredFrom> load_restored_from(PgSession& session);
std::optional<ReplayRecord> load_replay_record(PgSession& session);

/// Starts or continues the replay record (window, backup), in its own transaction.
void save_replay_window(PgSession& session, const ReplayRecord& record);
/// Inside the caller's transaction: the position of the batch being committed.
void save_replay_position(PgSession& session, const ReplayPosition& position, uint64_t events_applied);
void mark_replay_finished(PgSession& session);

/// Called by restore once the database holds `backup`: records it and clears any replay record
/// (the database no longer holds what that replay applied). Its own connection and transaction.
void record_restored_backup(const pg::ConnInfo& database, const std::string& backup, TimePoint snapshot_time);

/// Inside the caller's transaction: the events of the batch being committed that the database
/// refused (event_hash of each line). Cleared with the replay record by a restore.
void save_refused_events(PgSession& session, const std::vector<std::string>& event_hashes);
/// Every event a replay into this database recorded as refused.
std::set<std::string> load_refused_events(PgSession& session);

/// Moves the key sequence of each table (its primary key's serial or identity sequence) past the
/// highest key, so that the application's next insert does not collide with a replayed row.
void advance_key_sequences(PgSession& session, const std::vector<TargetTable>& tables);

/// The same as SQL statements for a script (replay --sql), one per table that has a key sequence
/// in `session`'s database; the sequences' names are literals.
std::string advance_key_sequences_sql(PgSession& session, const std::vector<TargetTable>& tables);

/// Takes the session's lock that keeps two replays out of one database; runtime Error when taken.
void lock_replay(PgSession& session);

}  // namespace auditpitr::replay
