// pg_restore: the one place its argv is built, and where its stderr is read back into expected
// messages (summarised) and real errors (shown with the object they concern).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "src/pg/conninfo.h"
#include "src/pg/pg_tools.h"
#include "src/pg/process_runner.h"

namespace auditpitr::pg {

struct PgRestoreOptions {
  std::string target_dbname;  ///< restore into this database; empty with output_file
  std::string output_file;    ///< write a plain SQL script here instead (export); "-": stdout
  std::string input_file;     ///< a seekable dump file; empty: the dump arrives on stdin
  int jobs = 1;               ///< --jobs, only with input_file on this host (pg_restore needs to seek)
  bool no_owner = false;      ///< --no-owner --no-privileges: for servers without the dump's roles
  bool data_only = false;
  bool single_transaction = false;    ///< all or nothing (implies --exit-on-error)
  std::vector<std::string> tables;    ///< -t, repeatable
  std::vector<std::string> sections;  ///< --section (pre-data, data, post-data), repeatable; empty: all
  /// --verbose: with --jobs, a line says when each table's data is loaded (loaded_table_data).
  bool verbose = false;
  /// The role may set lc_messages (Connection::may_set_lc_messages): the server then answers pg_restore in English,
  /// the only language PgRestoreMessages can tell expected errors in. Otherwise its messages are
  /// in the server's lc_messages language and any error counts as a real one.
  bool english_server_messages = false;
};

/// The pg_restore command for `options`. Connection settings travel in PG* variables from `info`;
/// the target database goes in a quoted conninfo and files as absolute paths, so that no name can
/// be taken for options. pg_restore runs with LC_ALL=C: its own lines, read back by
/// PgRestoreMessages, are in English whatever the user's locale. Through an exec prefix the files
/// stay on this host: input_file becomes stdin, output_file stdout, and --jobs one job.
Command pg_restore_command(const Tool& pg_restore, const ConnInfo& info, const PgRestoreOptions& options);

/// The table whose data a parallel pg_restore --verbose reports loaded and committed ("pg_restore:
/// finished item 3372 TABLE DATA projects": the name without its schema); empty for other lines.
std::string loaded_table_data(const std::string& line);

/// `dbname='...'` with libpq quoting, for -d.
std::string conninfo_dbname(const std::string& dbname);

/// A failed statement reported by pg_restore.
struct PgRestoreError {
  std::string object;   ///< "TABLE DATA public portfolios" (from the TOC entry), may be empty
  std::string message;  ///< "duplicate key value violates unique constraint "portfolios_pkey""
  std::string detail;   ///< "Key (id)=(1) already exists."
  std::string context;  ///< "COPY portfolios, line 1"
  std::string command;  ///< "Command was: ..." (first line)
  std::string kind;     ///< for expected errors: what the summary counts ("role does not exist")
  /// "TABLE DATA public portfolios: duplicate key ... (Key (id)=(1) already exists; COPY ...)"
  std::string describe() const;
};

/// pg_restore's stderr, sorted.
struct PgRestoreMessages {
  std::vector<PgRestoreError> expected;  ///< what the old guide calls normal: missing roles, "already exists"
  std::vector<PgRestoreError> errors;    ///< everything else
  std::vector<std::string> warnings;     ///< "pg_restore: warning: ..." lines other than the final tally
  std::vector<std::string> other;        ///< lines that match no known shape (pg_restore: error: ... without query)

  /// Feeds one line of stderr.
  void add_line(const std::string& line);
  /// "3 expected messages ignored: 2 x role does not exist, 1 x already exists"; empty when none.
  std::string summary() const;
  bool has_real_errors() const { return !errors.empty() || !other.empty(); }

 private:
  std::string current_object_;
  PgRestoreError* last_ = nullptr;
};

}  // namespace auditpitr::pg
