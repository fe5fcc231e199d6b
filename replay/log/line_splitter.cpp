// Buffer discipline: [begin_, end_) holds unread bytes; a line is handed out in place; when no
// newline is left the tail moves to the front and the buffer is refilled; a buffer full of one
// line without a newline means the line is too long: it is then skipped chunk by chunk.
// .gz files are inflated on a second thread, so inflating and parsing overlap.
// UTF-8 is validated once for all the complete lines in the buffer (valid as a whole means each
// line is, as a newline cannot sit inside a multi-byte sequence); a chunk that fails leaves each
// of its lines to be checked on its own, so the bad one is still found and named.
#include "replay/log/line_splitter.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "src/error.h"
#include "src/util/gzip.h"

namespace auditpitr::replay {

namespace {

/// Inflates a .gz file on a second thread into a small ring of buffers (bounded memory), so that
/// inflating and parsing overlap. read() hands out the bytes in order, then GzipReader's error
/// (damage) once all the bytes inflated before it have been handed out, then 0 at the end.
class Inflater {
 public:
  explicit Inflater(const std::string& path) : gzip_(path) {
    for (auto& slot : slots_) slot.resize(kSlotBytes);
    thread_ = std::thread([this] { run(); });
  }
  ~Inflater() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  std::size_t read(char* data, std::size_t capacity) {
    std::size_t index = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return count_ > 0 || done_; });
      if (count_ == 0) {
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
        return 0;
      }
      index = head_;
    }
    // The head slot is not written by the inflating thread while it is counted as full.
    std::size_t n = std::min(capacity, sizes_[index] - offset_);
    std::memcpy(data, slots_[index].data() + offset_, n);
    offset_ += n;
    if (offset_ == sizes_[index]) {
      offset_ = 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        head_ = (head_ + 1) % kSlots;
        --count_;
      }
      changed_.notify_all();
    }
    return n;
  }

 private:
  static constexpr std::size_t kSlots = 4;
  static constexpr std::size_t kSlotBytes = 256u << 10;

  void run() {
    for (;;) {
      std::size_t index = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return count_ < kSlots || stop_; });
        if (stop_) return;
        index = tail_;
      }
      std::size_t n = 0;
      std::exception_ptr error;
      try {
        n = gzip_.read(slots_[index].data(), kSlotBytes);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (n > 0) {
          sizes_[index] = n;
          tail_ = (tail_ + 1) % kSlots;
          ++count_;
        } else {
          error_ = error;
          done_ = true;
        }
      }
      changed_.notify_all();
      if (n == 0) return;
    }
  }

  GzipReader gzip_;
  std::vector<char> slots_[kSlots];
  std::size_t sizes_[kSlots] = {};
  std::size_t head_ = 0, tail_ = 0, count_ = 0;  // full slots: count_ from head_
  std::size_t offset_ = 0;                       // read() position in the head slot
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread thread_;  // last: started once everything else is built
};

}  // namespace

/// One open file: plain through read(2), gzip through GzipReader (zlib, multi-member) on a second
/// thread.
class LineSplitter::Source {
 public:
  explicit Source(const LogFile& file) : path_(file.path) {
    if (file.gzip) {
      gzip_ = std::make_unique<Inflater>(file.path);
      return;
    }
    fd_ = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw system_error("unable to open audit log '" + file.path + "'", errno);
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~Source() {
    if (fd_ >= 0) ::close(fd_);
  }
  /// Bytes read into `data`; 0 at the end. GzipReader's damage verdict propagates as an Error.
  std::size_t read(char* data, std::size_t capacity) {
    if (gzip_) return gzip_->read(data, capacity);
    for (;;) {
      ssize_t n = ::read(fd_, data, capacity);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) throw system_error("unable to read audit log '" + path_ + "'", errno);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<Inflater> gzip_;
};

LineSplitter::LineSplitter(std::vector<LogFile> files, std::size_t buffer_bytes, std::size_t max_line_bytes)
    : files_(std::move(files)),
      bytes_read_(files_.size(), 0),
      max_line_(std::max<std::size_t>(max_line_bytes, 1)),
      capacity_(std::max(buffer_bytes, max_line_ + 1)) {
  // Zero-filled once so the padding after any line is initialised memory.
  buffer_.assign(capacity_ + simdjson::SIMDJSON_PADDING, '\0');
}

LineSplitter::~LineSplitter() = default;

bool LineSplitter::open_next_file() {
  if (started_) ++file_index_;
  started_ = true;
  source_.reset();
  begin_ = end_ = utf8_checked_end_ = 0;
  line_number_ = 0;
  eof_ = false;
  if (file_index_ >= files_.size()) return false;
  source_ = std::make_unique<Source>(files_[file_index_]);
  return true;
}

/// Reads more bytes after moving the unread tail to the front; false at the end of the file.
bool LineSplitter::fill() {
  // No newline is left in [begin_, end_), so every checked line has been handed out.
  utf8_checked_end_ = 0;
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) return true;  // full: the caller sees a line without newline
  std::size_t n = 0;
  try {
    n = source_->read(buffer_.data() + end_, capacity_ - end_);
  } catch (const Error& e) {
    if (!files_[file_index_].gzip || e.kind() != ErrorKind::verification) throw;
    // A .gz cut by a crash or a full disk: report it, keep what was inflated, move on.
    damage_ = gzip_problem(e);
    n = 0;
    eof_ = true;
    end_ = begin_;  // the partial last line cannot be trusted
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  bytes_read_[file_index_] += n;
  return true;
}

bool LineSplitter::take_line(RawLine& out) {
  const char* start = buffer_.data() + begin_;
  const char* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
  if (!newline) return false;
  std::size_t length = static_cast<std::size_t>(newline - start);
  if (begin_ + length >= utf8_checked_end_) check_utf8();
  begin_ += length + 1;
  ++line_number_;
  out = RawLine{};
  out.file_index = file_index_;
  out.line_number = line_number_;
  out.utf8_checked = utf8_valid_;
  if (length > max_line_) {
    out.kind = RawLine::Kind::too_long;
    out.length = length;
    return true;
  }
  if (length > 0 && start[length - 1] == '\r') --length;
  out.text = std::string_view(start, length);
  return true;
}

/// Validates [begin_, last newline in the buffer): all the complete lines not handed out yet.
void LineSplitter::check_utf8() {
  const char* start = buffer_.data() + begin_;
  const char* last = static_cast<const char*>(::memrchr(start, '\n', end_ - begin_));
  std::size_t length = static_cast<std::size_t>(last - start);
  utf8_valid_ = simdjson::validate_utf8(start, length);
  utf8_checked_end_ = begin_ + length + 1;
}

/// The bytes after the last newline of a file: a line without its newline (often cut short).
bool LineSplitter::take_last_line(RawLine& out) {
  if (begin_ == end_) return false;
  std::size_t length = end_ - begin_;
  out = RawLine{};
  out.file_index = file_index_;
  out.line_number = ++line_number_;
  out.text = std::string_view(buffer_.data() + begin_, length);
  out.unterminated = true;
  begin_ = end_;
  return true;
}

/// The buffer is full and holds no newline: drop bytes until the line's end, counting them.
bool LineSplitter::skip_long_line(RawLine& out) {
  uint64_t length = end_ - begin_;
  begin_ = end_ = 0;
  for (;;) {
    if (!fill()) break;
    const char* newline = static_cast<const char*>(std::memchr(buffer_.data(), '\n', end_));
    if (newline) {
      begin_ = static_cast<std::size_t>(newline - buffer_.data()) + 1;
      length += begin_ - 1;
      break;
    }
    length += end_;
    end_ = 0;
  }
  out = RawLine{};
  out.kind = RawLine::Kind::too_long;
  out.file_index = file_index_;
  out.line_number = ++line_number_;
  out.length = length;
  return true;
}

bool LineSplitter::next(RawLine& out) {
  if (!started_ && !open_next_file()) return false;
  for (;;) {
    if (!damage_.empty()) {
      out = RawLine{};
      out.kind = RawLine::Kind::damaged;
      out.file_index = file_index_;
      out.line_number = line_number_ + 1;
      detail_ = std::move(damage_);
      damage_.clear();
      out.detail = detail_;
      return true;
    }
    if (take_line(out)) return true;
    if (!eof_) {
      if (end_ - begin_ == capacity_) return skip_long_line(out);
      if (fill() || !damage_.empty()) continue;
    }
    if (!damage_.empty()) continue;
    if (take_last_line(out)) {
      if (out.text.size() > max_line_) {
        out.kind = RawLine::Kind::too_long;
        out.length = out.text.size();
        out.text = {};
      }
      return true;
    }
    if (!open_next_file()) return false;
  }
}

}  // namespace auditpitr::replay
