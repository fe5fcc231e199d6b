// tar streams for the file archives of a backup set (uploads_<stamp>.tar.gz): a writer of POSIX
// ustar with pax headers for what ustar cannot hold, and a reader of what GNU tar writes too (the
// old scripts' `tar czf`: gnu long names, base-256 sizes). Both stream through callbacks: an
// archive is never held in memory. Only regular files, folders and symbolic links are carried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace auditpitr {

class TarWriter {
 public:
  using Sink = std::function<void(const char* data, std::size_t size)>;
  /// Fills up to `capacity` bytes of a file's content; 0 at its end.
  using Source = std::function<std::size_t(char* buffer, std::size_t capacity)>;
  explicit TarWriter(Sink sink) : sink_(std::move(sink)) {}

  /// The owner recorded in the entries that follow (0:0 until set).
  void set_owner(unsigned uid, unsigned gid) { uid_ = uid, gid_ = gid; }
  void directory(const std::string& name, unsigned mode, std::time_t mtime);
  void symlink(const std::string& name, const std::string& target, std::time_t mtime);
  /// Writes exactly `size` bytes of content: a source that ends early is padded with zeros (the
  /// file shrank while it was read), one that has more is cut at `size`. Returns the bytes the
  /// source gave (less than `size` when it ended early).
  uint64_t file(const std::string& name, unsigned mode, std::time_t mtime, uint64_t size, const Source& source);
  /// The end-of-archive marker (two zero blocks).
  void finish();
  uint64_t bytes_written() const { return bytes_; }

 private:
  void header(const std::string& name, char type, unsigned mode, std::time_t mtime, uint64_t size,
              const std::string& link);
  void put(const char* data, std::size_t size);
  void pad();
  Sink sink_;
  uint64_t bytes_ = 0;
  unsigned uid_ = 0, gid_ = 0;
};

struct TarEntry {
  enum class Type { file, directory, symlink };
  Type type = Type::file;
  /// The safe relative name (no leading "./" or "/", no "." or ".." component, no empty one);
  /// empty for the archive's root itself ("./").
  std::string name;
  std::string link;  ///< a symlink's target, checked to stay inside the archive's root
  uint64_t size = 0;
  unsigned mode = 0644;
  std::time_t mtime = 0;
  unsigned uid = 0, gid = 0;
};

class TarReader {
 public:
  /// Fills up to `capacity` bytes of the archive; 0 at its end. `what` names it in messages.
  using Source = std::function<std::size_t(char* buffer, std::size_t capacity)>;
  TarReader(Source source, std::string what) : source_(std::move(source)), what_(std::move(what)) {}

  /// The next entry (the content of the previous one is skipped). False at the end of the
  /// archive. Throws a verification Error naming the archive for a damaged header, an entry type
  /// it does not carry (hard links, devices) or a name or link that would leave the folder it is
  /// extracted into (absolute, '..').
  bool next(TarEntry& entry);
  /// Up to `capacity` bytes of the current file's content; 0 at its end.
  std::size_t read(char* buffer, std::size_t capacity);

 private:
  void fill(char* buffer, std::size_t size, const char* what);
  void skip(uint64_t size);
  std::string read_text(uint64_t size);
  [[noreturn]] void damaged(const std::string& why) const;
  Source source_;
  std::string what_;
  uint64_t remaining_ = 0;  ///< content bytes of the current entry not read yet
  uint64_t padding_ = 0;    ///< zero bytes after them up to the block boundary
};

/// The components of an archive member's name, or an empty vector with `why` set when the name
/// is not safe to extract (absolute, a '..' component). "./" alone is the root: one "" component
/// is never returned, an empty vector with an empty `why` means the root.
std::vector<std::string> safe_member_name(const std::string& name, std::string& why);

/// Whether a symbolic link named `name` (safe components) pointing at `target` stays inside the
/// archive's root: relative, and its '..' only leading and never above the root.
bool link_stays_inside(const std::vector<std::string>& name, const std::string& target);

}  // namespace auditpitr
