// File-system helpers that keep the "nothing is lost" promise: temporary name, fsync, rename.
#pragma once

#include <cstddef>
#include <string>

namespace auditpitr {

/// A fresh temporary name for `final_path`, in its folder: `<final>.tmp-<6 random letters or
/// digits>` (mkstemp's shape). Unguessable, so nobody can plant a file or link under it beforehand;
/// temporary_file_target below recognises it.
std::string temporary_name_for(const std::string& final_path);

/// Where scratch files that are not backups go: $TMPDIR, or /tmp when it is unset or empty.
std::string temporary_folder();

/// Creates `path`, which must not exist: never follows or reuses a planted file or link
/// (O_CREAT|O_EXCL|O_NOFOLLOW), and sets exactly `mode` whatever the umask. Returns the open
/// descriptor (write-only, close-on-exec), or -1 with errno EEXIST when something has that name;
/// throws a runtime Error naming the path for any other failure.
int create_exclusive(const std::string& path, int mode);

/// A file written under a temporary name in its final folder. commit() fsyncs it, renames it
/// into place and fsyncs the folder; if commit() is never reached the temporary file is removed,
/// so a failed or killed writer never leaves something that looks finished.
class AtomicFile {
 public:
  /// Creates a temporary_name_for(final_path) exclusively, with exactly the given mode (0600 for
  /// backups), and holds an flock on it until commit or abandon (file_being_written).
  explicit AtomicFile(std::string final_path, int mode = 0600);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t size);
  void write(const std::string& text) { write(text.data(), text.size()); }
  enum class Replace { allowed, never };
  /// With Replace::never, a file that appeared under the final name meanwhile is kept and a
  /// refused Error names it (the temporary file is removed).
  void commit(Replace replace = Replace::allowed);
  /// Removes the temporary file (also done by the destructor when not committed).
  void abandon() noexcept;

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  std::size_t bytes_written() const { return bytes_written_; }

 private:
  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  std::size_t bytes_written_ = 0;
  bool committed_ = false;
};

/// The path whose temporary file `path` is, when `path` has the shape of the temporary names
/// AtomicFile and replace_symlink give (`<final>.tmp-<suffix>`); "" otherwise. The one place that
/// knows that shape: prune recognises the leftovers of killed writers with it, so it changes
/// together with the naming above.
std::string temporary_file_target(const std::string& path);

/// True when a running process is writing `path` through an AtomicFile (which holds an flock on
/// its temporary file until it is committed or abandoned); false for a file nobody holds.
bool file_being_written(const std::string& path);

/// Writes a whole small file atomically (manifests, configs).
void write_file_atomically(const std::string& path, const std::string& content, int mode = 0600);

/// Reads a whole small file; throws a runtime Error naming the path when it cannot be read or holds
/// more than `max_bytes` (read no further: a planted or damaged file cannot exhaust the memory).
std::string read_small_file(const std::string& path, std::size_t max_bytes = 16u << 20);

/// The size of a file (following links); throws a runtime Error naming it when it cannot be read.
std::size_t file_size(const std::string& path);

/// Creates the folder (and parents) when missing and sets `mode` on the last component;
/// throws a runtime Error when it cannot be created or written into.
void ensure_directory(const std::string& path, int mode = 0700);

/// The backup folder holds every row of every database and auditpitr restores what it finds there:
/// throws a refused Error naming the folder when users other than its owner can write into it (a
/// planted dump or a repointed link would be restored). Returns a warning when other users can
/// read it (empty when they cannot): an existing folder keeps its permissions.
std::string require_private_folder(const std::string& path);

/// fsyncs a folder so that a rename or unlink inside it is durable.
void fsync_directory(const std::string& path);

/// Replaces `link_path` with a symlink to `target` (relative), atomically.
void replace_symlink(const std::string& target, const std::string& link_path);

/// The folder part and the last component of a path.
std::string parent_path(const std::string& path);
std::string base_name(const std::string& path);
std::string join_path(const std::string& folder, const std::string& name);
bool path_exists(const std::string& path);
/// `path` from the root: relative paths are joined to the current folder. Paths handed to child
/// programs are made absolute so that none can be read as an option (a folder named "-f").
std::string absolute_path(const std::string& path);

/// An exclusive advisory lock on `<folder>/.auditpitr.lock`, held for the object's lifetime.
/// Throws a runtime Error naming the folder when another process holds it, and naming the file
/// when it is a link or not a plain file (it is never followed).
class DirectoryLock {
 public:
  DirectoryLock(const std::string& folder, const std::string& what);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace auditpitr
