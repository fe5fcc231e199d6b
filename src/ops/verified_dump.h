// The dump pg_restore reads is the dump that was checked: one opening of the .dump.gz, hashed as it
// is inflated into a private temporary copy, compared with the check's result before any use.
#pragma once

#include <cstdint>
#include <string>

#include "src/ops/age_stream.h"
#include "src/pg/process_runner.h"
#include "src/util/fs.h"

namespace auditpitr::ops {

/// What a sound backup file is, as its check found it (check.h): what the restore must find again.
struct DumpExpectation {
  uint64_t file_size = 0;          ///< compressed bytes
  std::string file_sha256;         ///< of the compressed bytes
  uint64_t uncompressed_size = 0;  ///< the manifest's (or, without one, what the check inflated): the most inflated
  bool encrypted = false;          ///< a .dump.gz.age: decrypted with `identity` on the way
  IdentitySource identity;
};

/// The dump (decrypted when encrypted, through `runner`) inflated beside itself under a temporary name (0600,
/// unguessable, created exclusively; prune recognises it and the destructor removes it). The file is opened once,
/// without following links; its compressed bytes are hashed as they are inflated, inflating stops as soon as it goes
/// past `expected.uncompressed_size`, and the free space is checked before anything is written.
/// Throws a verification Error when the bytes are not those that were checked (size, sha256, too
/// long, gzip damage), a runtime Error when the copy cannot be written.
class VerifiedDump {
 public:
  /// How the tables' data is in the copy (docs/backup.md, "Compression"): inflated here (ISA-L), for
  /// one pg_restore process; or compressed as archived, for pg_restore --jobs, whose workers then
  /// inflate it in parallel with their loading (measured faster on two cores than inflating here first).
  enum class Data { inflated, as_archived };
  VerifiedDump(const std::string& dump_path, const DumpExpectation& expected, pg::ProcessRunner& runner,
               Data data = Data::inflated);
  VerifiedDump(const VerifiedDump&) = delete;
  VerifiedDump& operator=(const VerifiedDump&) = delete;

  /// The inflated copy (a custom-format archive pg_restore can seek in).
  const std::string& path() const { return copy_.temp_path(); }

 private:
  AtomicFile copy_;  // never committed
};

/// Throws a runtime Error naming `folder`, the space needed and free, when it has less than
/// `bytes` (plus a small margin) free; `hint` says what to do (a default when empty).
void require_free_space(const std::string& folder, uint64_t bytes, const std::string& what,
                        const std::string& hint = "");

/// The free space of the file system holding `folder` (statvfs: what an unprivileged writer may
/// use); throws a runtime Error naming the folder when it cannot be read.
uint64_t free_space(const std::string& folder);

/// The arithmetic of every free-space check: `bytes` plus a small margin fit in `free_bytes`.
bool room_for(uint64_t free_bytes, uint64_t bytes);
/// The margin room_for keeps free beyond the bytes asked for.
uint64_t free_space_margin();

/// The check itself, with the free space given: the seam tests use, since a disk is hard to fill.
void require_room(const std::string& folder, uint64_t free_bytes, uint64_t bytes, const std::string& what,
                  const std::string& hint = "");

}  // namespace auditpitr::ops
