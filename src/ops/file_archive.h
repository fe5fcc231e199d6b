// The file archives of a backup set ([[files]]): a folder written as <name>_<stamp>.tar.gz beside
// the dumps, with a manifest (<name>_<stamp>.tar.gz.manifest.json: size, file count, sha256);
// checked by reading it whole; restored into its folder by an atomic exchange, the replaced
// contents kept beside it as <folder>_before_restore_<STAMP>. Old-script uploads_<stamp>.tar.gz
// (GNU `tar czf`, no manifest) are read as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/ops/age_stream.h"
#include "src/ops/reporter.h"
#include "src/pg/process_runner.h"
#include "src/util/tar.h"
#include "verify/manifest.h"

namespace auditpitr::ops {

/// What a file archive holds, recorded beside it.
struct ArchiveManifest {
  int format = 1;
  std::string tool_version;
  std::string name;  ///< the [[files]] name
  std::string stamp;
  std::string source_path;  ///< the folder archived
  std::string file_name;    ///< <name>_<stamp>.tar.gz
  uint64_t file_size = 0;
  std::string file_sha256;
  uint64_t uncompressed_size = 0;  ///< bytes of the tar stream
  uint64_t file_count = 0;         ///< regular files
  uint64_t directory_count = 0;    ///< folders, the top one included
  uint64_t symlink_count = 0;
  verify::Manifest::Encryption encryption;  ///< method empty: a plain .tar.gz
};

std::string archive_manifest_to_json(const ArchiveManifest& manifest);
/// A verification Error naming `path` when it is not a valid archive manifest.
ArchiveManifest load_archive_manifest(const std::string& path);

/// What walking a folder into a tar stream found.
struct FolderCounts {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t content_bytes = 0;
  std::vector<std::string> skipped;  ///< sockets, pipes, devices: named, not archived
  std::vector<std::string> changed;  ///< files whose size changed while they were read
};

/// Writes `folder` as a tar stream into `sink`, every member under `top`/ (the folder's own name,
/// as `tar czf X uploads` run beside it writes them): regular files, folders and symbolic links
/// (as links, never followed), in name order. The one writer of archives: the caller decides what
/// the stream goes through (gzip, hashing, a file), so that another layer (encryption) can wrap it.
FolderCounts write_folder_tar(const std::string& folder, const std::string& top, const TarWriter::Sink& sink);

struct FilesBackup {
  std::string name;
  std::string source_path;
  std::string path;  ///< the archive
  std::string manifest_path;
  uint64_t size = 0;
  uint64_t file_count = 0;
  uint64_t content_bytes = 0;
  std::string sha256;
  double seconds = 0;
};

/// Archives one [[files]] folder for the set `stamp`: temporary name, 0600, fsync, rename, then
/// its manifest. With [backup] encrypt_to, encrypted with age (<name>_<stamp>.tar.gz.age). `header_comment` is
/// kArchiveMarker-led. Throws a runtime Error naming the folder when it cannot be read (the temporary file is removed).
FilesBackup archive_folder(const Config& config, const FilesConfig& files, const std::string& stamp,
                           pg::ProcessRunner& runner, const Reporter& reporter);

/// Throws a runtime Error naming the folder and its [[files]] entry when it is not a readable folder.
void require_archivable(const FilesConfig& files);

struct ArchiveCheck {
  std::string name;
  std::string stamp;
  std::string path;
  bool has_manifest = false;     ///< a valid manifest vouched for the archive
  std::string manifest_problem;  ///< an archive of auditpitr's whose manifest is missing or damaged
  bool sha256_ok = false;        ///< meaningful only with a manifest
  uint64_t file_count = 0;       ///< regular files read from the archive
  uint64_t uncompressed_size = 0;
  std::string top;      ///< the single folder every member is under ("uploads"), "" when they are not
  std::string problem;  ///< empty when sound
  bool encrypted = false;
  /// Encrypted and no identity: its age header, size and sha256 were checked, not its contents.
  bool contents_unverified = false;
  std::string not_verified;  ///< what was not verified and why ("" when everything was)
  bool sound() const { return problem.empty(); }
};

/// Reads the whole archive: gzip CRCs, a tar stream whose every member is safe to extract, and
/// with a manifest its size, sha256 and file count. Never throws for a damaged archive. An encrypted
/// one is decrypted with `identity`; without one only its age header, size and sha256 are checked
/// (contents_unverified), unless `need_contents` (a restore), which then throws require_identity's
/// usage Error. A wrong identity is a usage Error too.
ArchiveCheck check_archive(const ArchiveFile& archive, const IdentitySource& identity, pg::ProcessRunner& runner,
                           bool need_contents = false);

/// Where an archive's contents go back: the [[files]] path, and the names around it.
struct FilesTarget {
  const FilesConfig* files = nullptr;
  /// The folder put back: the configured path, or the folder it links to (a link stays a link).
  std::string path;
  ArchiveFile archive;
  ArchiveCheck checked;
  IdentitySource identity;  ///< decrypts an encrypted archive
  std::string kept;         ///< <path>_before_restore_<STAMP>, beside it
};

/// The folder a [[files]] path stands for: itself, or the folder a symbolic link there points to.
std::string files_folder(const std::string& path);

/// <path>_before_restore_<stamp> and <path>_undone_<stamp>, beside the folder.
std::string kept_folder_name(const std::string& path, const std::string& stamp);
std::string undone_folder_name(const std::string& path, const std::string& stamp);

/// A folder put back from an archive, ready to be swapped in (extracted beside its target, in
/// <parent>/.<base>.auditpitr-restore/incoming).
struct StagedFiles {
  FilesTarget target;
  std::string work;      ///< the work folder
  std::string incoming;  ///< the extracted contents
  uint64_t file_count = 0;
};

/// Finishes or removes what a killed restore or undo of this folder left (its work folder), so that
/// the folder holds exactly its old or its new contents and a kept copy is where it belongs.
/// Returns what was done ("" when nothing was left).
std::string recover_files_leftover(const std::string& path);

/// Extracts the archive into the work folder beside its target. Throws (and removes the work folder)
/// when it cannot; the target is untouched.
StagedFiles stage_files(const FilesTarget& target, pg::ProcessRunner& runner, const Reporter& reporter);
/// Removes a staged folder that will not be swapped in.
void discard_staged(const StagedFiles& staged) noexcept;

struct FilesRestoreResult {
  std::string name;
  std::string path;
  std::string stamp;
  std::string kept_copy;  ///< the replaced contents; empty when the folder did not exist
  uint64_t file_count = 0;
};

/// Puts the staged contents at the target path with one atomic exchange (renameat2), then moves the
/// replaced contents to the kept name. At every instant the path holds the old or the new contents.
FilesRestoreResult swap_in_files(const StagedFiles& staged, const Reporter& reporter);

/// `restore --undo STAMP --files`: puts <path>_before_restore_<STAMP> back at the path, the restored
/// contents kept as <path>_undone_<STAMP>. Returns the names, or nothing when there is no kept copy.
struct FilesUndoResult {
  std::string name;
  std::string path;
  std::string restored_copy;  ///< where the undone restore's contents now are
};
std::vector<FilesUndoResult> undo_files(const Config& config, const std::string& stamp, const Reporter& reporter);
/// The [[files]] whose kept copy of the restore `stamp` is there.
std::vector<const FilesConfig*> files_to_undo(const Config& config, const std::string& stamp);

}  // namespace auditpitr::ops
