// SpillBuckets: length-prefixed records in per-bucket buffers; full buffers are appended to one
// unlinked temporary file, and each bucket remembers where its chunks went.
#include "src/util/spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "src/error.h"
#include "src/util/format.h"
#include "src/util/fs.h"

namespace auditpitr {
namespace {

constexpr std::size_t kMaxChunk = 64u << 10;
constexpr std::size_t kLengthBytes = sizeof(uint64_t);

}  // namespace

SpillBuckets::SpillBuckets(std::string what, std::string advice, std::size_t memory_budget)
    : what_(std::move(what)),
      advice_(std::move(advice)),
      budget_(std::max<std::size_t>(memory_budget, 1)),
      chunk_bytes_(std::clamp<std::size_t>(memory_budget / 64, 1, kMaxChunk)) {}

SpillBuckets::~SpillBuckets() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t SpillBuckets::add_bucket() {
  buckets_.emplace_back();
  return buckets_.size() - 1;
}

void SpillBuckets::open_file() {
  std::string folder = temporary_folder();
  std::string pattern = folder + "/auditpitr-spill-XXXXXX";
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);  // O_EXCL, mode 0600
  if (fd < 0)
    throw system_error("unable to create a temporary file in '" + folder + "' for " + what_, errno,
                       "set TMPDIR to a folder where auditpitr may write");
  ::unlink(pattern.c_str());  // gone from the folder now; the space is freed when the file is closed
  fd_ = fd;
  path_ = pattern;
}

void SpillBuckets::flush(Bucket& bucket) {
  if (bucket.pending.empty()) return;
  if (fd_ < 0) open_file();
  const char* data = bucket.pending.data();
  std::size_t left = bucket.pending.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw system_error("unable to write the temporary file '" + path_ + "' that holds " + what_ + " (" +
                             human_size(file_size_) + " written)",
                         n < 0 ? errno : ENOSPC,
                         "the file is in $TMPDIR (/tmp when it is not set) and was removed: free space there or "
                         "set TMPDIR to a folder with more room" +
                             (advice_.empty() ? std::string() : ", or " + advice_));
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  bucket.chunks.push_back({file_size_, bucket.pending.size()});
  file_size_ += bucket.pending.size();
  buffered_ -= bucket.pending.size();
  std::string().swap(bucket.pending);  // give the memory back: many buckets must not each keep a chunk's worth
}

void SpillBuckets::append(std::size_t bucket, std::string_view record) {
  Bucket& b = buckets_.at(bucket);
  uint64_t length = record.size();
  char prefix[kLengthBytes];
  std::memcpy(prefix, &length, kLengthBytes);
  b.pending.append(prefix, kLengthBytes).append(record);
  buffered_ += kLengthBytes + record.size();
  // Until the budget is first exceeded everything stays in memory (a small result never touches the
  // disk); from then on a bucket goes out as soon as it holds a chunk.
  if (fd_ >= 0 && b.pending.size() >= chunk_bytes_) flush(b);
  if (buffered_ > budget_)
    for (auto& other : buckets_) flush(other);
}

void SpillBuckets::read(std::size_t bucket, const std::function<void(std::string_view)>& each) const {
  const Bucket& b = buckets_.at(bucket);
  auto split = [&](std::string_view data) {
    while (data.size() >= kLengthBytes) {
      uint64_t length;
      std::memcpy(&length, data.data(), kLengthBytes);
      data.remove_prefix(kLengthBytes);
      if (length > data.size())
        throw runtime_error("the temporary file '" + path_ + "' that holds " + what_ + " was damaged while in use");
      each(data.substr(0, length));
      data.remove_prefix(length);
    }
  };
  std::string chunk;
  for (const Chunk& c : b.chunks) {
    chunk.resize(c.size);
    uint64_t done = 0;
    while (done < c.size) {
      ssize_t n = ::pread(fd_, chunk.data() + done, c.size - done, static_cast<off_t>(c.offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        throw system_error("unable to read back the temporary file '" + path_ + "' that holds " + what_,
                           n < 0 ? errno : EIO);
      done += static_cast<uint64_t>(n);
    }
    split(chunk);
  }
  split(b.pending);
}

}  // namespace auditpitr
