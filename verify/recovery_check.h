// Verification of a recovery, independent of the apply (docs/recover.md, "Verification"): what the
// recovered database must hold is worked out from the backup's figures and the logged changes,
// never from reading back what the replay wrote.
//
// Before the replay, capture() copies the rows the window's changes will touch (and the children
// their deletes cascade to) from the restored copy, which restore verified against the backup's
// manifest, into the database's `auditpitr` schema with their keys and the baseline figures, so
// that a recovery resumed after a crash still has them. fold() folds the logged changes onto
// those rows by the semantics of docs/replay.md (its own fold, not the applier's statements), and
// after the replay judge() compares:
//  - rows the logs did not touch: the table's checksums less the touched rows' share must equal the
//    baseline's less the same rows' share before the replay (the checksums are sums of per-row
//    hashes, so a share can be taken out);
//  - touched rows: each column the logs set must hold the logged value as PostgreSQL renders it in
//    the column's type; each column they did not set must hold its value from the backup; a column
//    an insert left to its default cannot be vouched for ("not verifiable").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "replay/apply/pg_session.h"
#include "replay/apply/target_catalog.h"
#include "replay/log/audit_source.h"
#include "replay/mapping/mapping.h"
#include "verify/table_checksum.h"

namespace auditpitr::verify {

struct ColumnCheck {
  enum class State { equal, different, not_verifiable };
  std::string column;
  State state = State::equal;
  uint64_t rows = 0;  ///< rows that differ, or that could not be vouched for
  std::string why;    ///< for different and not_verifiable
};
const char* state_name(ColumnCheck::State state);

struct TableCheck {
  std::string table;  ///< schema.name
  uint64_t expected_rows = 0, actual_rows = 0;
  uint64_t touched_rows = 0;  ///< rows the logged changes (and their cascades) reach
  uint64_t missing_rows = 0;  ///< touched rows the logs say exist, not in the database
  uint64_t extra_rows = 0;    ///< touched rows the logs say are gone, still in the database
  bool untouched_equal = true;
  std::vector<ColumnCheck> columns;
  std::string note;  ///< e.g. why the table could not be checked row by row
  bool ok() const;
};

/// The keys capture() recorded as touched (by the logged changes and their cascades), per table
/// (schema.table), as key_of renders them.
using TouchedKeys = std::map<std::string, std::unordered_set<std::string>>;

/// The recovered database as judge() reads it: every table's checksums, and the rows whose keys
/// were recorded as touched (COPY lines, by schema.table), picked from the same read.
struct RecoveredRead {
  std::vector<TableChecksum> checksums;
  TouchedKeys looked_for;
  std::map<std::string, std::vector<std::string>> touched_rows;
};

/// Reads every table of the recovered database through `tx` (canonical output settings), keeping
/// the rows whose keys are in `keys`.
RecoveredRead read_recovered(pqxx::transaction_base& tx, TouchedKeys keys);

struct RecoveryVerification {
  std::vector<TableCheck> tables;
  bool ok() const;
};

class RecoveryCheck {
 public:
  RecoveryCheck(std::vector<replay::TargetTable> tables, replay::Mapper& mapper);

  /// True when capture() has completed in this database (a resumed recovery does not capture again).
  static bool captured(replay::PgSession& db);
  /// Before the replay: reads and stores the rows the events of (from, source's until] touch, and
  /// the baseline figures (the manifest's, or the restored copy's own for a backup without one).
  void capture(replay::PgSession& db, replay::AuditEventSource& events, replay::TimePoint from,
               const std::vector<TableChecksum>& baseline);
  /// The keys capture() recorded (for read_recovered).
  static TouchedKeys touched_keys(replay::PgSession& db);

  /// The logged changes of (from, source's until] folded onto the captured rows, by the semantics
  /// of docs/replay.md; what judge() compares with the recovered database.
  struct Folded;
  /// Folds the changes through `db` (the captured rows and the renderings of logged values: it
  /// reads nothing the replay writes, so it may run on a session of its own during the replay).
  /// `refused` are the events PostgreSQL refused during the replay (their event_hash, as the
  /// replay records them: replay_state.h): left out, as the replay left them out.
  std::shared_ptr<Folded> fold(replay::PgSession& db, replay::AuditEventSource& events, replay::TimePoint from,
                               const std::set<std::string>& refused = {});
  /// After the replay: the verdict per table and column. `actual` gives the recovered database as
  /// read_recovered reads it after the replay, so that a caller can read it on a connection of its
  /// own meanwhile. Touched rows it did not look for are read by key through `db`.
  RecoveryVerification judge(replay::PgSession& db, Folded& folded, const std::function<RecoveredRead()>& actual);
  /// Removes what capture() stored (once the recovery is verified).
  static void discard(replay::PgSession& db);

 private:
  std::vector<replay::TargetTable> tables_;
  replay::Mapper& mapper_;
};

}  // namespace auditpitr::verify
