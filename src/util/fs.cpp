// File-system helpers: atomic writes, folder creation, locks.
#include "src/util/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "src/error.h"

namespace auditpitr {
namespace {

constexpr const char* kTemporaryInfix = ".tmp-";
constexpr std::size_t kRandomLength = 6;
constexpr const char kRandomAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr int kCreateAttempts = 100;  // a clash of 62^6 names is rare; a hundred means an attack or a bug

std::string random_letters() {
  unsigned char bytes[kRandomLength];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw system_error("unable to get random bytes for a temporary name", errno);
    got += static_cast<std::size_t>(n);
  }
  std::string text;
  for (unsigned char b : bytes) text += kRandomAlphabet[b % (sizeof kRandomAlphabet - 1)];
  return text;
}

}  // namespace

std::string temporary_folder() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

std::string temporary_name_for(const std::string& final_path) {
  return final_path + kTemporaryInfix + random_letters();
}

int create_exclusive(const std::string& path, int mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return -1;
    throw system_error("unable to create '" + path + "'", errno);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {  // the umask must not widen or narrow what we promise
    int saved = errno;
    ::close(fd);
    ::unlink(path.c_str());
    throw system_error("unable to set the permissions of '" + path + "'", saved);
  }
  return fd;
}

AtomicFile::AtomicFile(std::string final_path, int mode) : final_path_(std::move(final_path)) {
  for (int attempt = 0; attempt < kCreateAttempts && fd_ < 0; ++attempt) {
    temp_path_ = temporary_name_for(final_path_);
    fd_ = create_exclusive(temp_path_, mode);
  }
  // Held until commit or abandon: tells prune the file is being written (file_being_written).
  if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int saved = errno;
    abandon();
    throw system_error("unable to lock '" + temp_path_ + "'", saved);
  }
  if (fd_ < 0)
    throw runtime_error("unable to create a temporary file beside '" + final_path_ +
                            "': " + std::to_string(kCreateAttempts) + " fresh names were all taken",
                        "something is creating files in that folder; look at who can write into it");
}

AtomicFile::~AtomicFile() {
  if (!committed_) abandon();
}

void AtomicFile::write(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      throw system_error("unable to write '" + temp_path_ + "'", saved,
                         saved == ENOSPC ? "free some space in the backup folder and try again" : "");
    }
    p += n;
    size -= static_cast<std::size_t>(n);
    bytes_written_ += static_cast<std::size_t>(n);
  }
}

namespace {

// rename() that never replaces: renameat2(RENAME_NOREPLACE), or link()+unlink() on file systems
// without it. Returns false (errno EEXIST) when the target exists.
bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS) return false;
  if (::link(from.c_str(), to.c_str()) != 0) return false;
  ::unlink(from.c_str());
  return true;
}

}  // namespace

void AtomicFile::commit(Replace replace) {
  if (::fsync(fd_) != 0) throw system_error("unable to fsync '" + temp_path_ + "'", errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw system_error("unable to close '" + temp_path_ + "'", errno);
  }
  fd_ = -1;
  bool renamed = replace == Replace::allowed ? ::rename(temp_path_.c_str(), final_path_.c_str()) == 0
                                             : rename_no_replace(temp_path_, final_path_);
  if (!renamed && errno == EEXIST && replace == Replace::never)
    throw refused_error("'" + final_path_ + "' appeared while it was being written: it is kept, nothing replaced it",
                        "choose another name, or replace it on purpose");
  if (!renamed) throw system_error("unable to rename '" + temp_path_ + "' to '" + final_path_ + "'", errno);
  committed_ = true;
  fsync_directory(parent_path(final_path_));
}

void AtomicFile::abandon() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!committed_) ::unlink(temp_path_.c_str());
}

std::string temporary_file_target(const std::string& path) {
  static const std::string infix = kTemporaryInfix;
  auto at = path.rfind(infix);
  if (at == std::string::npos || at == 0) return "";
  std::string suffix = path.substr(at + infix.size());
  auto all_of = [&](int (*is)(int)) {
    for (char c : suffix)
      if (!is(static_cast<unsigned char>(c))) return false;
    return true;
  };
  // temporary_name_for's six letters and digits, or a process id (what auditpitr before them wrote).
  bool pid = !suffix.empty() && suffix.size() <= 10 && all_of(::isdigit);
  bool random = suffix.size() == kRandomLength && all_of(::isalnum);
  return pid || random ? path.substr(0, at) : "";
}

bool file_being_written(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

void write_file_atomically(const std::string& path, const std::string& content, int mode) {
  AtomicFile file(path, mode);
  file.write(content);
  file.commit();
}

std::string read_small_file(const std::string& path, std::size_t max_bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw system_error("unable to open '" + path + "'", errno);
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    throw runtime_error("'" + path + "' is a folder, not a file", "name the file in it");
  }
  std::string text;
  char buffer[65536];
  std::size_t n;
  while (text.size() <= max_bytes && (n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw runtime_error("unable to read '" + path + "'");
  if (text.size() > max_bytes)
    throw runtime_error("'" + path + "' is larger than " + std::to_string(max_bytes) +
                        " bytes, more than such a file holds");
  return text;
}

std::size_t file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw system_error("unable to read '" + path + "'", errno);
  return static_cast<std::size_t>(st.st_size);
}

void ensure_directory(const std::string& path, int mode) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw runtime_error("'" + path + "' exists but is not a folder");
  } else {
    std::string parent = parent_path(path);
    if (!parent.empty() && parent != path) ensure_directory(parent, 0755);
    if (::mkdir(path.c_str(), mode) != 0) {
      if (errno != EEXIST) throw system_error("unable to create folder '" + path + "'", errno);
    } else if (::chmod(path.c_str(), mode) != 0) {  // only a folder we just created: never someone else's
      throw system_error("unable to set the permissions of folder '" + path + "'", errno);
    }
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0)
    throw system_error("folder '" + path + "' is not writable", errno,
                       "check its owner and permissions, or choose another folder in the configuration");
}

std::string require_private_folder(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return "";  // created 0700 when first written
    throw system_error("unable to read folder '" + path + "'", errno);
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (st.st_mode & S_IWOTH)
    throw refused_error("backup folder '" + path + "' can be written by other users (mode " + mode +
                            "): a file or link planted there could be restored into your databases",
                        "chmod o-w '" + path + "' (and check what is in it), then run this again");
  if (st.st_mode & (S_IROTH | S_IXOTH))
    return "backup folder '" + path + "' can be read by other users (mode " + mode +
           ") and holds every row of every database: chmod o-rwx '" + path + "'";
  return "";
}

void fsync_directory(const std::string& path) {
  int fd = ::open(path.empty() ? "." : path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw system_error("unable to open folder '" + path + "'", errno);
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) throw system_error("unable to fsync folder '" + path + "'", saved);
}

void replace_symlink(const std::string& target, const std::string& link_path) {
  std::string temp;
  int rc = -1;
  for (int attempt = 0; attempt < kCreateAttempts && rc != 0; ++attempt) {
    temp = temporary_name_for(link_path);
    rc = ::symlink(target.c_str(), temp.c_str());  // never replaces anything: fails on EEXIST
    if (rc != 0 && errno != EEXIST) throw system_error("unable to create link '" + temp + "'", errno);
  }
  if (rc != 0) throw runtime_error("unable to create a link beside '" + link_path + "': every fresh name was taken");
  if (::rename(temp.c_str(), link_path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    throw system_error("unable to replace link '" + link_path + "'", saved);
  }
  fsync_directory(parent_path(link_path));
}

std::string parent_path(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string join_path(const std::string& folder, const std::string& name) {
  if (folder.empty() || folder == ".") return name;
  if (!name.empty() && name[0] == '/') return name;
  return folder.back() == '/' ? folder + name : folder + "/" + name;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) throw system_error("unable to read the current folder", errno);
  return join_path(cwd, path);
}

DirectoryLock::DirectoryLock(const std::string& folder, const std::string& what) {
  std::string path = join_path(folder, ".auditpitr.lock");
  // Never followed: a link planted under this name would make us create or lock another file.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd_ < 0 && errno == ELOOP)
    throw runtime_error("lock file '" + path + "' is a link, which auditpitr does not follow",
                        "remove it (auditpitr creates a plain file) and look at who can write into '" + folder + "'");
  if (fd_ < 0) throw system_error("unable to open lock file '" + path + "'", errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw runtime_error("lock file '" + path + "' is not a plain file", "remove it; auditpitr creates a plain file");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int saved = errno;
    ::close(fd_);
    fd_ = -1;
    if (saved == EWOULDBLOCK)
      throw runtime_error("another auditpitr process is already working in '" + folder + "'",
                          "wait for it to finish (" + what + " cannot run at the same time), then try again");
    throw system_error("unable to lock '" + path + "'", saved);
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace auditpitr
