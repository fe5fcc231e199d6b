// Reading a backup file's archive back, whatever it is on disk: a plain .dump.gz, or a .dump.gz.age
// decrypted by `age -d` on the way. One opening of the file; its bytes as on disk can be observed
// (for the sha256 the manifest records of them) as can the gzip stream (the same bytes when plain).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/ops/age_stream.h"
#include "src/pg/custom_archive.h"
#include "src/pg/process_runner.h"
#include "src/util/gzip.h"

namespace auditpitr::ops {

/// The identity the configuration names (identity_file / --identity), for decrypting backups.
IdentitySource identity_of(const Config& config);

class DumpReader {
 public:
  using Observer = std::function<void(const char* data, std::size_t size)>;
  /// Takes `fd` (closes it). `encrypted`: decrypt with `identity` (require_identity first: this
  /// does not look at the file's permissions); `path` names the file in messages.
  DumpReader(int fd, const std::string& path, bool encrypted, const IdentitySource& identity,
             pg::ProcessRunner& runner);
  ~DumpReader();
  DumpReader(const DumpReader&) = delete;
  DumpReader& operator=(const DumpReader&) = delete;

  /// Set before the first read (age starts at the first). The file's bytes may be observed from another thread than the
  /// caller's (age's), until read() has returned 0 or thrown.
  void on_file_bytes(Observer observer) { file_observer_ = std::move(observer); }
  void on_gzip_bytes(Observer observer);

  /// The archive's bytes (inflated); 0 at the clean end, once age (when encrypted) has authenticated
  /// the whole file. GzipReader's Errors for gzip damage; AgeDecryptor's for the decryption.
  std::size_t read(char* buffer, std::size_t capacity);
  uint64_t file_bytes() const { return file_bytes_; }
  const std::string& path() const { return path_; }
  uint64_t gzip_bytes() const { return gzip_->compressed_bytes(); }
  bool cut_short() const { return gzip_->cut_short(); }

 private:
  std::size_t read_file(char* buffer, std::size_t capacity);
  int fd_ = -1;
  std::string path_;
  bool encrypted_;
  IdentitySource identity_;
  pg::ProcessRunner& runner_;
  Observer file_observer_;
  uint64_t file_bytes_ = 0;
  std::unique_ptr<AgeDecryptor> age_;
  std::unique_ptr<GzipReader> gzip_;
};

/// A database dump's archive as pg_restore reads it fastest: DumpReader's bytes with each table's
/// compressed data inflated here (ISA-L), so that pg_restore does not inflate it with zlib. Archives
/// whose data is not zlib-compressed pass unchanged (pg::ArchiveInflater).
class PlainArchiveReader {
 public:
  explicit PlainArchiveReader(DumpReader& reader);
  /// As DumpReader::read, plus ArchiveInflater's verification Error for damaged table data.
  std::size_t read(char* buffer, std::size_t capacity);

 private:
  DumpReader& reader_;
  pg::ArchiveInflater inflater_;
  std::string pending_;  // inflated, not yet read
  std::size_t pending_at_ = 0;
  bool ended_ = false;
};

/// Opens a backup file for DumpReader: read-only, never through a link (a link appearing since the
/// catalog listed it is not ours). Throws a runtime Error naming it.
int open_backup_file(const std::string& path);

}  // namespace auditpitr::ops
