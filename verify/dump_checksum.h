// Checksums of the tables in a pg_dump custom-format archive, taken from its bytes as they stream
// past (the backup reads the database once: the dump's rows are the manifest's rows).
//
// The archive must be uncompressed (pg_dump -F c -Z0); its format is read by pg::ArchiveWalker
// (src/pg/custom_archive.h). The rows of a TABLE DATA entry are the COPY text of
// `COPY table (columns) TO stdout`, each ending with a newline, then "\.\n\n\n" (pg_dump.c's
// dumpTableData_copy). Anything the reader does not expect makes it stop reading (never a wrong
// checksum): those tables are then read separately, as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "verify/table_checksum.h"

namespace auditpitr::verify {

class DumpChecksummer {
 public:
  /// `tables`: what the manifest lists (list_tables in the dump's snapshot).
  explicit DumpChecksummer(std::vector<TableShape> tables);
  ~DumpChecksummer();
  DumpChecksummer(const DumpChecksummer&) = delete;
  DumpChecksummer& operator=(const DumpChecksummer&) = delete;

  /// The next bytes of the archive, in order.
  void feed(const char* data, std::size_t size);

  struct Result {
    std::vector<TableChecksum> found;  ///< tables whose data was read whole from the archive
    std::vector<TableShape> missing;   ///< the others (no data in the archive, other columns, unread)
    std::string unreadable;            ///< why the archive stopped being read; empty when it was read to its end
  };
  /// After the last byte. `missing` and `found` keep the order of `tables`.
  Result finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The COPY statement pg_dump records for a table's data ("COPY schema.name (a, \"B\") FROM
/// stdin;\n"), parsed: false when it is not of that form.
bool parse_copy_statement(const std::string& statement, std::string& schema, std::string& name,
                          std::vector<std::string>& columns);

}  // namespace auditpitr::verify
