// File-system helpers that keep the "nothing is lost" promise: temporary name, fsync, rename.
#pragma once

#include <cstddef>
#include <string>

namespace auditpitr {

/// A file written under a temporary name in its final folder. commit() fsyncs it, renames it
/// into place and fsyncs the folder; if commit() is never reached the temporary file is removed,
/// so a failed or killed writer never leaves something that looks finished.
class AtomicFile {
 public:
  /// Creates `<final_path>.tmp-<pid>` with the given mode (0600 for backups).
  explicit AtomicFile(std::string final_path, int mode = 0600);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t size);
  void write(const std::string& text) { write(text.data(), text.size()); }
  void commit();
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

/// Reads a whole small file; throws a runtime Error naming the path.
std::string read_small_file(const std::string& path);

/// Creates the folder (and parents) when missing and sets `mode` on the last component;
/// throws a runtime Error when it cannot be created or written into.
void ensure_directory(const std::string& path, int mode = 0700);

/// fsyncs a folder so that a rename or unlink inside it is durable.
void fsync_directory(const std::string& path);

/// Replaces `link_path` with a symlink to `target` (relative), atomically.
void replace_symlink(const std::string& target, const std::string& link_path);

/// The folder part and the last component of a path.
std::string parent_path(const std::string& path);
std::string base_name(const std::string& path);
std::string join_path(const std::string& folder, const std::string& name);
bool path_exists(const std::string& path);

/// An exclusive advisory lock on `<folder>/.auditpitr.lock`, held for the object's lifetime.
/// Throws a runtime Error naming the folder when another process holds it.
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
