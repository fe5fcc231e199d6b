// Records kept in numbered buckets through a temporary file, so that a command can gather more than
// fits in memory and read it back bucket by bucket ("stream; never load a whole log into memory").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace auditpitr {

/// Records appended to buckets, read back bucket by bucket in the order they were appended. At most
/// about `memory_budget` bytes of records are held in memory; the rest go, in chunks of up to 64 KB
/// per bucket, to one temporary file in $TMPDIR (or /tmp), created only when the budget is first
/// exceeded. The file is created exclusively with mode 0600 and unlinked at once: nothing is left
/// behind, whatever way the process ends. Memory beyond the budget: 16 bytes per chunk written.
class SpillBuckets {
 public:
  /// `what` names the contents in error messages ("changes' rows"); `advice` ends the hint of a
  /// failed write ("narrow the window").
  explicit SpillBuckets(std::string what, std::string advice = {}, std::size_t memory_budget = 4u << 20);
  ~SpillBuckets();
  SpillBuckets(const SpillBuckets&) = delete;
  SpillBuckets& operator=(const SpillBuckets&) = delete;

  /// A new, empty bucket's number (0, 1, ...).
  std::size_t add_bucket();
  /// Appends a record to `bucket`. Throws a runtime Error naming the temporary file when it cannot
  /// be created or written (a full disk: the hint says where and what to do).
  void append(std::size_t bucket, std::string_view record);
  /// Calls `each` with every record of `bucket`, in the order appended (the view lives until the
  /// next call). Throws a runtime Error naming the file when it cannot be read back.
  void read(std::size_t bucket, const std::function<void(std::string_view)>& each) const;

  /// Bytes of records held in memory now (at most about the budget).
  std::size_t buffered_bytes() const { return buffered_; }
  /// Bytes written to the temporary file so far (0: it was never created).
  uint64_t spilled_bytes() const { return file_size_; }
  /// The temporary file's name (already unlinked; empty until it is created), for messages.
  const std::string& path() const { return path_; }

 private:
  struct Chunk {
    uint64_t offset, size;
  };
  struct Bucket {
    std::string pending;  // length-prefixed records not yet written
    std::vector<Chunk> chunks;
  };
  void flush(Bucket& bucket);
  void open_file();
  std::string what_, advice_;
  std::size_t budget_, chunk_bytes_;
  std::vector<Bucket> buckets_;
  std::size_t buffered_ = 0;
  std::string path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
};

}  // namespace auditpitr
