// auditpitr's mark on the databases it creates or renames on a server: a database comment
// (COMMENT ON DATABASE) naming the copy's kind, the backup stamp and when it was made. Only a
// database whose name and mark agree is ever dropped (docs/safety.md). pg_restore without --create
// never writes a database comment, and the swap hands the replaced database's own comment to the
// database taking its name, so a mark never stays on a database that serves the application.
#pragma once

#include <ctime>
#include <optional>
#include <string>

namespace auditpitr::ops {

enum class CopyKind {
  restoring,   ///< <dbname>_restoring_<STAMP>: the temporary database of a running restore
  kept,        ///< <dbname>_before_restore_<STAMP>: the database a restore replaced
  undone,      ///< <dbname>_undone_<STAMP>: the restored database an undo replaced
  recovering,  ///< <dbname>_pitr_<STAMP> (or recover --into's name): a recovery not yet verified;
               ///< STAMP is the recovery's target time
};

struct DatabaseMark {
  CopyKind kind = CopyKind::restoring;
  std::string stamp;   ///< the backup's stamp, as in the name
  std::time_t made{};  ///< when auditpitr created or renamed it (UTC seconds)
};

/// "auditpitr kept 20250123_140530 2026-12-02T09:45:00Z": one line, stable across versions.
std::string mark_text(const DatabaseMark& mark);
/// The mark a database comment holds; nullopt when it holds none (no comment, or someone else's).
std::optional<DatabaseMark> parse_mark(const std::string& comment);

/// "<dbname>_before_restore_": what the names of `kind` copies of `dbname` start with.
std::string copy_prefix(CopyKind kind, const std::string& dbname);
/// The name of a copy of `dbname`; a usage Error when it would exceed PostgreSQL's 63 bytes.
std::string copy_name(CopyKind kind, const std::string& dbname, const std::string& stamp);
/// "restoring", "kept", "undone" (the mark's word, and --json's).
const char* kind_word(CopyKind kind);

}  // namespace auditpitr::ops
