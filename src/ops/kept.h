// `auditpitr kept`: the copies restores leave on the server — <dbname>_before_restore_<STAMP>
// (the database a restore replaced) and <dbname>_undone_<STAMP> (the restore an undo replaced) —
// listed and dropped through the configured connections. Only copies carrying auditpitr's mark
// (src/ops/database_marks.h) are ever dropped.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/ops/database_marks.h"
#include "src/ops/reporter.h"

namespace auditpitr::ops {

struct KeptCopy {
  std::string alias;  ///< the configured database it is a copy of
  std::string dbname;
  std::string name;  ///< the copy's own name
  CopyKind kind = CopyKind::kept;
  std::string stamp;              ///< from the name
  bool marked = false;            ///< carries auditpitr's mark for this name: only then may it be dropped
  std::time_t made{};             ///< when the restore (or undo) made it, from the mark; 0 when unmarked
  std::optional<uint64_t> bytes;  ///< pg_database_size; none without CONNECT on it
  int sessions = 0;               ///< sessions connected to it now
};

/// Every kept and undone copy of the selected configured databases (all when `aliases` is empty),
/// by database, then stamp.
std::vector<KeptCopy> list_kept(const Config& config, const std::vector<std::string>& aliases);

/// What `--drop STAMP` or `--older-than AGE` chooses. STAMP: every copy of that stamp (a usage
/// Error when there is none; a runtime Error naming any without the mark, before anything is
/// dropped). AGE: the marked copies made more than `older_than_seconds` before `now`.
struct KeptChoice {
  std::string stamp;
  std::optional<int64_t> older_than_seconds;
  std::time_t now{};
};
std::vector<KeptCopy> choose_kept(const std::vector<KeptCopy>& copies, const KeptChoice& choice);

/// Drops the chosen copies, each only if it still carries its mark and nobody is connected to it.
/// Returns the names dropped; when some could not be, throws a runtime Error naming them after
/// dropping the others.
std::vector<std::string> drop_kept(const Config& config, const std::vector<KeptCopy>& chosen, const Reporter& reporter);

/// "30d", "12h", "2w", "90m", "45s" in seconds; a usage Error naming `what` otherwise.
int64_t parse_age(const std::string& text, const std::string& what);

}  // namespace auditpitr::ops
