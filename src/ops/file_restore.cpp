// Restoring a file archive into its folder. The archive is extracted beside the folder, in
// <parent>/.<base>.auditpitr-restore/incoming, member by member through descriptors opened with
// O_NOFOLLOW (nothing is written through a link). A journal there records what the swap is about
// to do; renameat2(RENAME_EXCHANGE) then swaps the two folders in one step, and the old contents
// are renamed to the kept name. A run killed anywhere leaves the folder with its old or its new
// contents; recover_files_leftover tells which from the journal and the folder's inode, and finishes.
#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "src/error.h"
#include "src/ops/dump_reader.h"
#include "src/ops/file_archive.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "src/util/interrupt.h"
#include "src/util/json_writer.h"
#include "src/util/pause_point.h"

namespace auditpitr::ops {
namespace {

std::string work_folder(const std::string& path) {
  return join_path(parent_path(path), "." + base_name(path) + ".auditpitr-restore");
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Removes a tree without following any link (unlinkat on links, descent only into real folders).
void remove_tree_at(int parent, const std::string& name) {
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    if ((errno == ENOTDIR || errno == ELOOP) && ::unlinkat(parent, name.c_str(), 0) == 0) return;
    throw system_error("unable to remove '" + name + "'", errno);
  }
  // Owner write and search first: a folder extracted without them could not be emptied.
  ::fchmod(fd, 0700);
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    throw system_error("unable to read '" + name + "'", errno);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  for (const auto& n : names) remove_tree_at(::dirfd(dir), n);
  ::closedir(dir);
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    throw system_error("unable to remove '" + name + "'", errno);
}

void remove_tree(const std::string& path) { remove_tree_at(AT_FDCWD, path); }

bool is_folder(const std::string& path, struct stat* out = nullptr) {
  struct stat st {};
  bool yes = ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (out) *out = st;
  return yes;
}

void rename_or_throw(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0)
    throw system_error("unable to rename '" + from + "' to '" + to + "'", errno);
}

// The journal: what the swap in `work` puts where. `origin`: where the incoming folder came from
// (an undo's kept copy, put back if the swap never happened); empty for an extracted archive.
struct Journal {
  std::string target;
  std::string kept;
  std::string origin;
  uint64_t incoming_inode = 0;
};

void write_journal(const std::string& work, const Journal& j) {
  JsonWriter w;
  w.begin_object().field("target", j.target).field("kept", j.kept).field("origin", j.origin);
  w.field("incoming_inode", j.incoming_inode).end_object();
  write_file_atomically(join_path(work, "journal.json"), w.str());
}

bool read_journal(const std::string& work, Journal& j) {
  std::string path = join_path(work, "journal.json");
  if (!path_exists(path)) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string text = read_small_file(path, 1u << 16);
  std::string_view target, kept, origin;
  if (parser.parse(text).get(doc) || doc["target"].get_string().get(target) || doc["kept"].get_string().get(kept) ||
      doc["origin"].get_string().get(origin) || doc["incoming_inode"].get_uint64().get(j.incoming_inode))
    throw runtime_error("the restore journal '" + path + "' is not readable",
                        "look at the folders beside it and move them by hand, then remove '" + work + "'");
  j.target = target, j.kept = kept, j.origin = origin;
  return true;
}

// The swap itself, once the incoming folder is complete at <work>/incoming.
void exchange_into_place(const std::string& work, const Journal& journal) {
  std::string incoming = join_path(work, "incoming");
  write_journal(work, journal);
  fsync_directory(work);
  pause_point("files-before-swap");
  if (path_exists(journal.target) || is_folder(journal.target)) {
    if (::renameat2(AT_FDCWD, incoming.c_str(), AT_FDCWD, journal.target.c_str(), RENAME_EXCHANGE) != 0)
      throw system_error("unable to swap '" + incoming + "' with '" + journal.target + "'", errno,
                         "the folder is unchanged (the file system must support renameat2's RENAME_EXCHANGE)");
    fsync_directory(parent_path(journal.target));
    pause_point("files-swapped");
    rename_or_throw(incoming, journal.kept);  // now the old contents
  } else {
    rename_or_throw(incoming, journal.target);  // nothing was there: nothing to keep
  }
  fsync_directory(parent_path(journal.target));
  remove_tree(work);
}

// Extraction into a folder, by descriptors: every component opened with O_NOFOLLOW.
class Extractor {
 public:
  Extractor(const std::string& root, bool restore_owner) : root_path_(root), restore_owner_(restore_owner) {
    root_ = Fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root_.get() < 0) throw system_error("unable to open '" + root + "'", errno);
  }

  void add(const TarEntry& entry, std::vector<std::string> parts, TarReader& tar) {
    if (parts.empty()) {  // the root: its mode and time, at the end
      folders_.push_back({{}, entry});
      return;
    }
    const std::vector<std::string> full = parts;  // where it goes (an archive's top folder taken off)
    std::string last = parts.back();
    parts.pop_back();
    Fd parent = open_folder(parts, entry.name);
    if (entry.type == TarEntry::Type::directory) {
      if (::mkdirat(parent.get(), last.c_str(), 0700) != 0 && errno != EEXIST)
        throw system_error("unable to create '" + join_path(root_path_, entry.name) + "'", errno);
      Fd check(::openat(parent.get(), last.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (check.get() < 0) fail(entry.name, "it is both a folder and something else in the archive");
      folders_.push_back({full, entry});
    } else if (entry.type == TarEntry::Type::symlink) {
      replace_file(parent.get(), last, entry.name);
      if (::symlinkat(entry.link.c_str(), parent.get(), last.c_str()) != 0)
        throw system_error("unable to create the link '" + join_path(root_path_, entry.name) + "'", errno);
      own(parent.get(), last, entry, true);
    } else {
      replace_file(parent.get(), last, entry.name);
      Fd out(::openat(parent.get(), last.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (out.get() < 0) throw system_error("unable to create '" + join_path(root_path_, entry.name) + "'", errno);
      static thread_local char buffer[1 << 17];
      for (std::size_t n; (n = tar.read(buffer, sizeof buffer)) > 0;) {
        for (std::size_t done = 0; done < n;) {
          ssize_t w = ::write(out.get(), buffer + done, n - done);
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) throw system_error("unable to write '" + join_path(root_path_, entry.name) + "'", errno);
          done += static_cast<std::size_t>(w);
        }
      }
      ::fchmod(out.get(), entry.mode & 0777);
      struct timespec times[2] = {{entry.mtime, 0}, {entry.mtime, 0}};
      ::futimens(out.get(), times);
      own(parent.get(), last, entry, false);
      ++files_;
    }
  }

  // Folders' modes and times last (deepest first): writing into them changed their times.
  void finish(mode_t root_mode) {
    bool root_given = false;
    for (auto it = folders_.rbegin(); it != folders_.rend(); ++it) {
      Fd fd = open_folder(it->first, it->second.name);
      ::fchmod(fd.get(), it->second.mode & 0777);
      struct timespec times[2] = {{it->second.mtime, 0}, {it->second.mtime, 0}};
      ::futimens(fd.get(), times);
      if (restore_owner_) (void)::fchown(fd.get(), it->second.uid, it->second.gid);
      root_given = root_given || it->first.empty();
    }
    if (!root_given) ::fchmod(root_.get(), root_mode);
    // Everything on disk before the swap: one syncfs for the whole tree (a fsync per file made a
    // restore of 1,500 images four times slower than tar xzf).
    if (::syncfs(root_.get()) != 0) throw system_error("unable to write the files into '" + root_path_ + "'", errno);
  }

  uint64_t files() const { return files_; }

 private:
  [[noreturn]] void fail(const std::string& name, const std::string& why) const {
    throw verification_error("unable to extract '" + name + "' into '" + root_path_ + "': " + why,
                             "the folder is unchanged; extract the archive by hand, with care");
  }

  Fd open_folder(const std::vector<std::string>& parts, const std::string& name) const {
    Fd current(::dup(root_.get()));
    for (const auto& part : parts) {
      Fd next(::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (next.get() < 0 && errno == ENOENT) {
        if (::mkdirat(current.get(), part.c_str(), 0700) != 0 && errno != EEXIST)
          throw system_error("unable to create a folder for '" + name + "'", errno);
        next = Fd(::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      }
      if (next.get() < 0) fail(name, "a folder on its way is a link or a file in the archive");
      current = std::move(next);
    }
    return current;
  }

  // A later member of the same name replaces an earlier file or link (tar's rule); never a folder.
  void replace_file(int parent, const std::string& last, const std::string& name) const {
    struct stat st {};
    if (::fstatat(parent, last.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode)) fail(name, "it is both a folder and a file in the archive");
    if (::unlinkat(parent, last.c_str(), 0) != 0) throw system_error("unable to replace '" + name + "'", errno);
  }

  void own(int parent, const std::string& last, const TarEntry& entry, bool link) const {
    if (restore_owner_) (void)::fchownat(parent, last.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW);
    if (link) {
      struct timespec times[2] = {{entry.mtime, 0}, {entry.mtime, 0}};
      ::utimensat(parent, last.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
  }

  std::string root_path_;
  bool restore_owner_;
  Fd root_;
  std::vector<std::pair<std::vector<std::string>, TarEntry>> folders_;
  uint64_t files_ = 0;
};

}  // namespace

std::string files_folder(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return path;  // a dangling link: replaced by the folder, the link kept aside
  std::string folder = resolved;
  std::free(resolved);
  return is_folder(folder) ? folder : path;
}

std::string kept_folder_name(const std::string& path, const std::string& stamp) {
  return path + "_before_restore_" + stamp;
}
std::string undone_folder_name(const std::string& path, const std::string& stamp) { return path + "_undone_" + stamp; }

std::string recover_files_leftover(const std::string& path) {
  std::string work = work_folder(path);
  if (!is_folder(work)) return "";
  Journal j;
  std::string incoming = join_path(work, "incoming");
  if (!read_journal(work, j)) {  // stopped while extracting: the folder was never touched
    remove_tree(work);
    return "removed '" + work + "', the partial extraction of a restore that was stopped";
  }
  struct stat st {};
  bool swapped = is_folder(path, &st) && static_cast<uint64_t>(st.st_ino) == j.incoming_inode;
  std::string done;
  if (swapped && is_folder(incoming)) {
    rename_or_throw(incoming, j.kept);
    done = "finished the swap of '" + path + "' that was stopped: the contents it replaced are in '" + j.kept + "'";
  } else if (swapped || (!path_exists(path) && !is_folder(incoming))) {
    done = "finished the swap of '" + path + "' that was stopped";
  } else if (!j.origin.empty() && is_folder(incoming)) {
    rename_or_throw(incoming, j.origin);
    done = "put back '" + j.origin + "': the undo that moved it was stopped before it changed '" + path + "'";
  } else {
    done = "removed '" + work + "', a restore stopped before it changed '" + path + "'";
  }
  fsync_directory(parent_path(path));
  remove_tree(work);
  return done;
}

StagedFiles stage_files(const FilesTarget& target, pg::ProcessRunner& runner, const Reporter& reporter) {
  StagedFiles staged;
  staged.target = target;
  const std::string& path = target.path;
  staged.work = work_folder(path);
  staged.incoming = join_path(staged.work, "incoming");
  ensure_directory(parent_path(path), 0755);
  if (::mkdir(staged.work.c_str(), 0700) != 0)
    throw system_error("unable to create '" + staged.work + "'", errno,
                       errno == EEXIST ? "another restore of this folder is running, or one was stopped: run the "
                                         "restore again once it is not running"
                                       : "");
  try {
    if (::mkdir(staged.incoming.c_str(), 0700) != 0)
      throw system_error("unable to create '" + staged.incoming + "'", errno);
    struct stat old {};
    mode_t root_mode = is_folder(path, &old) ? (old.st_mode & 0777) : 0755;
    Extractor extractor(staged.incoming, ::geteuid() == 0);
    reporter.info("Extracting " + base_name(target.archive.path) + " beside " + path + "...");
    DumpReader gzip(open_backup_file(target.archive.path), target.archive.path, target.archive.encrypted,
                    target.identity, runner);
    TarReader tar([&](char* b, std::size_t n) { return gzip.read(b, n); }, base_name(target.archive.path));
    // The single folder every member is under (ours: the folder's name; the old scripts': uploads)
    // is the folder itself; an archive of its contents alone is taken as it is.
    const std::string& top = target.checked.top;
    bool strip = !top.empty() && (top == base_name(path) || top == target.archive.name);
    TarEntry entry;
    while (tar.next(entry)) {
      throw_if_interrupted();
      std::string why;
      std::vector<std::string> parts = safe_member_name(entry.name.empty() ? "." : entry.name, why);
      if (strip && !parts.empty()) parts.erase(parts.begin());
      extractor.add(entry, parts, tar);
    }
    extractor.finish(root_mode);
    staged.file_count = extractor.files();
    pause_point("files-extracted");
  } catch (...) {
    discard_staged(staged);
    throw;
  }
  return staged;
}

void discard_staged(const StagedFiles& staged) noexcept {
  try {
    remove_tree(staged.work);
  } catch (const std::exception&) {
    // The next restore of this folder removes it (recover_files_leftover).
  }
}

FilesRestoreResult swap_in_files(const StagedFiles& staged, const Reporter& reporter) {
  const std::string& path = staged.target.path;
  FilesRestoreResult r;
  r.name = staged.target.files->name;
  r.path = path;
  r.stamp = staged.target.archive.stamp;
  r.file_count = staged.file_count;
  struct stat st {};
  if (::stat(staged.incoming.c_str(), &st) != 0) throw system_error("unable to read '" + staged.incoming + "'", errno);
  bool replaces = path_exists(path) || is_folder(path);
  Journal j{path, staged.target.kept, "", static_cast<uint64_t>(st.st_ino)};
  exchange_into_place(staged.work, j);
  r.kept_copy = replaces ? staged.target.kept : "";
  reporter.success(path + " restored from " + base_name(staged.target.archive.path) + " (" +
                   std::to_string(r.file_count) + " files)");
  return r;
}

std::vector<const FilesConfig*> files_to_undo(const Config& config, const std::string& stamp) {
  std::vector<const FilesConfig*> found;
  for (const auto& f : config.files)
    if (is_folder(kept_folder_name(files_folder(f.path), stamp))) found.push_back(&f);
  return found;
}

std::vector<FilesUndoResult> undo_files(const Config& config, const std::string& stamp, const Reporter& reporter) {
  std::vector<FilesUndoResult> done;
  for (const FilesConfig* f : files_to_undo(config, stamp)) {
    const std::string path = files_folder(f->path);
    std::string left = recover_files_leftover(path);
    if (!left.empty()) reporter.info(left);
    std::string kept = kept_folder_name(path, stamp);
    std::string undone = undone_folder_name(path, stamp);
    if (path_exists(undone) || is_folder(undone))
      throw runtime_error("'" + undone + "' already exists: the restore " + stamp + " of it was undone before",
                          "move it away, then run this again");
    std::string work = work_folder(path);
    if (::mkdir(work.c_str(), 0700) != 0) throw system_error("unable to create '" + work + "'", errno);
    struct stat st {};
    if (::stat(kept.c_str(), &st) != 0) throw system_error("unable to read '" + kept + "'", errno);
    Journal j{path, undone, kept, static_cast<uint64_t>(st.st_ino)};
    write_journal(work, j);  // before the kept copy moves: a stop now puts it back
    rename_or_throw(kept, join_path(work, "incoming"));
    exchange_into_place(work, j);
    reporter.success(path + " is back as before the restore " + stamp + "; the restored contents are in '" + undone +
                     "'");
    done.push_back({f->name, path, undone});
  }
  return done;
}

}  // namespace auditpitr::ops
