// `auditpitr check`: is a backup sound? Full gzip CRC pass, sha256 and size against the
// manifest, and pg_restore able to read the dump's table of contents — in one read of the file.
// Before a restore the CRC pass can be left to the restore itself (see CheckDepth).
#pragma once

#include <string>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/ops/verified_dump.h"
#include "src/pg/pg_tools.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

enum class CheckDepth {
  /// Every gzip member inflated for its CRC, sha256 and size against the manifest, the TOC.
  full,
  /// With a manifest: sha256 and size of the file against it, and the TOC; the gzip CRCs are
  /// checked as the restore inflates the file (the bytes are those the backup wrote, so a CRC
  /// failure there means a bad writer, not damage, and still fails before any swap). Without a
  /// manifest nothing else vouches for the file: as `full`.
  before_restore,
};

struct CheckResult {
  std::string dbname;
  std::string stamp;
  std::string path;
  bool has_manifest = false;  ///< a valid manifest vouched for the file
  /// Why a dump of auditpitr's had no valid manifest ("the manifest '…' is missing", "… is damaged:
  /// …"): it was then judged by its content alone, like an old-script backup. Empty otherwise.
  std::string manifest_problem;
  bool gzip_ok = false;       ///< no gzip error in what was inflated (everything unless crc_deferred)
  bool crc_deferred = false;  ///< CheckDepth::before_restore with a manifest: only the TOC was inflated
  bool sha256_ok = false;     ///< meaningful only with a manifest
  bool toc_ok = false;
  int toc_entries = 0;
  bool encrypted = false;  ///< a .dump.gz.age
  /// Encrypted and no identity to decrypt it with: its age header and its sha256 and size against the
  /// manifest were checked, not its contents (gzip CRCs, pg_restore's table of contents).
  bool contents_unverified = false;
  std::string not_verified;  ///< what was not verified and why ("" when everything was)
  uint64_t uncompressed_size = 0;
  /// When sound: the file as checked (size, sha256, the most it inflates to), for VerifiedDump.
  DumpExpectation verified;
  std::string problem;  ///< empty when sound
  bool sound() const { return problem.empty(); }
};

/// Checks one backup file; never throws for a damaged backup (the problem is in the result). A
/// missing or damaged manifest is no damage of the dump: the dump is then judged by its content.
/// An encrypted file is decrypted with the configuration's identity; without one, CheckDepth::full
/// checks what it can (contents_unverified says so) and before_restore throws a usage Error naming
/// the setting. A wrong identity is a usage Error, one others may read a refused Error.
CheckResult check_backup(const Config& config, const BackupFile& backup, pg::ProcessRunner& runner,
                         CheckDepth depth = CheckDepth::full);

/// pg_restore for a server of `server_version_num` (0: unknown, the one in PATH, or through
/// [tools] exec); `server` names that server in the error when no pg_restore of its major version is found.
pg::Tool pg_restore_for(const Config& config, int server_version_num, pg::ProcessRunner& runner,
                        const std::string& server = "of the backup");

}  // namespace auditpitr::ops
