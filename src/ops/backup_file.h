// One backup file being written, whatever it holds (a database's dump, a folder's archive): the
// compressed stream goes to a temporary file (0600, fsync, rename on commit), through `age` first
// when the configuration names recipients ([backup] encrypt_to), with the sha256s the manifest records.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/ops/age_stream.h"
#include "src/pg/process_runner.h"
#include "src/util/fs.h"
#include "src/util/sha256.h"
#include "verify/manifest.h"

namespace auditpitr::ops {

class BackupFileWriter {
 public:
  /// Creates the temporary file for `final_path` now (a file that cannot be created fails before any
  /// work); `recipients` empty: written as it comes, otherwise encrypted to them with age.
  BackupFileWriter(const std::string& final_path, const std::vector<std::string>& recipients,
                   pg::ProcessRunner& runner);
  BackupFileWriter(const BackupFileWriter&) = delete;
  BackupFileWriter& operator=(const BackupFileWriter&) = delete;

  /// The compressed (gzip) bytes, in order.
  void write(const char* data, std::size_t size);
  /// After the last write: waits for age to write its last byte (throws its Error), then fsyncs the
  /// file and renames it into place. Not called: the temporary file is removed.
  void commit();

  /// The file as on disk, and what it says in a manifest (name, size, sha256, encryption).
  const std::string& final_path() const { return file_.final_path(); }
  uint64_t file_size() const { return file_.bytes_written(); }
  /// After commit(): the sha256 of the file as on disk, and what the manifest records of it.
  const std::string& file_sha256() const { return file_digest_; }
  void describe(verify::Manifest& manifest) const;
  /// The encryption as manifests record it (method empty when plain), after commit().
  verify::Manifest::Encryption encryption() const;

 private:
  AtomicFile file_;
  Sha256 file_sha_;
  Sha256 gzip_sha_;
  uint64_t gzip_size_ = 0;
  std::vector<std::string> recipients_;
  std::unique_ptr<AgeEncryptor> age_;
  std::string file_digest_, gzip_digest_;
};

}  // namespace auditpitr::ops
