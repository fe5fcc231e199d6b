// DumpReader: fd -> (observer) -> [age -d] -> GzipReader; PlainArchiveReader: -> ArchiveInflater.
#include "src/ops/dump_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "src/error.h"
#include "src/util/fs.h"

namespace auditpitr::ops {

IdentitySource identity_of(const Config& config) {
  return {config.identity_file, config.identity_origin.empty() ? "[backup] identity_file" : config.identity_origin};
}

int open_backup_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    throw system_error("unable to open backup '" + path + "'", errno,
                       errno == ELOOP ? "it was a plain file when it was listed and is now a link: look at who can "
                                        "write into the backup folder"
                                      : "");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw verification_error("backup '" + path + "' is no longer a plain file",
                             "look at who can write into the folder");
  }
  return fd;
}

DumpReader::DumpReader(int fd, const std::string& path, bool encrypted, const IdentitySource& identity,
                       pg::ProcessRunner& runner)
    : fd_(fd), path_(path), encrypted_(encrypted), identity_(identity), runner_(runner) {
  if (!encrypted) {
    gzip_ = std::make_unique<GzipReader>([this](char* b, std::size_t n) { return read_file(b, n); }, path);
    return;
  }
  gzip_ = std::make_unique<GzipReader>([this](char* b, std::size_t n) { return age_->read(b, n); }, path);
}

DumpReader::~DumpReader() {
  age_.reset();  // stops age, which reads fd_, before it is closed
  if (fd_ >= 0) ::close(fd_);
}

void DumpReader::on_gzip_bytes(Observer observer) { gzip_->on_raw(std::move(observer)); }

std::size_t DumpReader::read(char* buffer, std::size_t capacity) {
  // age starts reading the file at once: only now, with the observers in place.
  if (encrypted_ && !age_)
    age_ = std::make_unique<AgeDecryptor>(
        runner_, identity_, [this](char* b, std::size_t n) { return read_file(b, n); },
        "backup '" + base_name(path_) + "'");
  return gzip_->read(buffer, capacity);
}

PlainArchiveReader::PlainArchiveReader(DumpReader& reader)
    : reader_(reader), inflater_([this](const char* d, std::size_t n) { pending_.append(d, n); }, reader.path()) {}

std::size_t PlainArchiveReader::read(char* buffer, std::size_t capacity) {
  // Small reads bound what one of them can inflate to (deflate's ratio is at most about 1032).
  static thread_local char compressed[1 << 14];
  while (pending_at_ == pending_.size() && !ended_) {
    pending_.clear();
    pending_at_ = 0;
    std::size_t n = reader_.read(compressed, sizeof compressed);
    if (n == 0) {
      inflater_.finish();
      ended_ = true;
    } else {
      inflater_.write(compressed, n);
    }
  }
  std::size_t n = std::min(capacity, pending_.size() - pending_at_);
  std::memcpy(buffer, pending_.data() + pending_at_, n);
  pending_at_ += n;
  return n;
}

std::size_t DumpReader::read_file(char* buffer, std::size_t capacity) {
  for (;;) {
    ssize_t n = ::read(fd_, buffer, capacity);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw system_error("unable to read '" + path_ + "'", errno);
    if (n > 0 && file_observer_) file_observer_(buffer, static_cast<std::size_t>(n));
    file_bytes_ += static_cast<uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
}

}  // namespace auditpitr::ops
