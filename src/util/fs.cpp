// File-system helpers: atomic writes, folder creation, locks.
#include "src/util/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>

#include "src/error.h"

namespace auditpitr {

AtomicFile::AtomicFile(std::string final_path, int mode)
    : final_path_(std::move(final_path)), temp_path_(final_path_ + ".tmp-" + std::to_string(::getpid())) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd_ < 0) throw system_error("unable to create '" + temp_path_ + "'", errno);
  ::flock(fd_, LOCK_EX | LOCK_NB);  // tells prune the file is being written (file_being_written)
  ::fchmod(fd_, mode);              // the umask must not widen or narrow what we promise
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

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) throw system_error("unable to fsync '" + temp_path_ + "'", errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw system_error("unable to close '" + temp_path_ + "'", errno);
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    throw system_error("unable to rename '" + temp_path_ + "' to '" + final_path_ + "'", errno);
  committed_ = true;
  fsync_directory(parent_path(final_path_));
}

void AtomicFile::abandon() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!committed_) ::unlink(temp_path_.c_str());
}

std::string temporary_file_target(const std::string& path) {
  static const std::string infix = ".tmp-";
  auto at = path.rfind(infix);
  if (at == std::string::npos || at == 0) return "";
  std::string suffix = path.substr(at + infix.size());
  auto all_of = [&](int (*is)(int)) {
    for (char c : suffix)
      if (!is(static_cast<unsigned char>(c))) return false;
    return true;
  };
  // A process id (what the names carry today) or mkstemp's six letters and digits.
  bool pid = !suffix.empty() && suffix.size() <= 10 && all_of(::isdigit);
  bool random = suffix.size() == 6 && all_of(::isalnum);
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

std::string read_small_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw system_error("unable to open '" + path + "'", errno);
  std::string text;
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) throw runtime_error("unable to read '" + path + "'");
  return text;
}

void ensure_directory(const std::string& path, int mode) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw runtime_error("'" + path + "' exists but is not a folder");
  } else {
    std::string parent = parent_path(path);
    if (!parent.empty() && parent != path) ensure_directory(parent, 0755);
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
      throw system_error("unable to create folder '" + path + "'", errno);
    ::chmod(path.c_str(), mode);
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0)
    throw system_error("folder '" + path + "' is not writable", errno,
                       "check its owner and permissions, or choose another folder in the configuration");
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
  std::string temp = link_path + ".tmp-" + std::to_string(::getpid());
  ::unlink(temp.c_str());
  if (::symlink(target.c_str(), temp.c_str()) != 0) throw system_error("unable to create link '" + temp + "'", errno);
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

DirectoryLock::DirectoryLock(const std::string& folder, const std::string& what) {
  std::string path = join_path(folder, ".auditpitr.lock");
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw system_error("unable to open lock file '" + path + "'", errno);
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
