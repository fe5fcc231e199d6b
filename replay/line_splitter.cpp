// Buffer discipline: [begin_, end_) holds unread bytes; a line is handed out in place; when no
// newline is left the tail moves to the front and the buffer is refilled; more than max_line_
// bytes without a newline means the line is too long: it is then skipped chunk by chunk.
// Regular plain files are not copied: the unread bytes are a view into a read-only mmap window
// that slides forward (unmapping what was consumed); a line whose padding would run past the
// window is copied into a padded buffer, the rare case (the window is a few MB).
// UTF-8 is validated once for all the complete lines in the buffer (valid as a whole means each
// line is, as a newline cannot sit inside a multi-byte sequence); a chunk that fails leaves each
// of its lines to be checked on its own, so the bad one is still found and named.
#include "replay/line_splitter.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
  std::size_t offset_ = 0;                        // read() position in the head slot
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread thread_;  // last: started once everything else is built
};

}  // namespace

/// One open file: plain through read(2) (or mmap, by the splitter), gzip through GzipReader
/// (zlib, multi-member) on a second thread.
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
  /// The file descriptor of a plain file (-1 for gzip).
  int fd() const { return fd_; }
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
  base_ = buffer_.data();
  // The mmap window: at least a few MB (few remaps), at least one maximal line past a page offset.
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  window_ = std::max<std::size_t>(capacity_, 2u << 20) + page;
  window_ = (window_ + page - 1) / page * page;
}

LineSplitter::~LineSplitter() { unmap(); }

void LineSplitter::unmap() {
  if (map_) ::munmap(map_, map_len_);
  map_ = nullptr;
  map_len_ = 0;
}

bool LineSplitter::open_next_file() {
  if (started_) ++file_index_;
  started_ = true;
  source_.reset();
  unmap();
  base_ = buffer_.data();
  base_off_ = file_size_ = 0;
  begin_ = end_ = utf8_checked_end_ = 0;
  line_number_ = 0;
  eof_ = false;
  if (file_index_ >= files_.size()) return false;
  source_ = std::make_unique<Source>(files_[file_index_]);
  // A regular plain file is read through a sliding mmap window; pipes and special files, and a
  // file that cannot be mapped, through read(2) (file_size_ stays 0).
  struct stat st {};
  if (source_->fd() >= 0 && ::fstat(source_->fd(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    file_size_ = static_cast<uint64_t>(st.st_size);
    if (!fill_mapped()) file_size_ = 0;
    eof_ = false;
  }
  return true;
}

/// Slides the window so that it starts at the first unread byte (rounded down to a page): memory
/// holds one window at most, whatever the file size. False when nothing new came into view.
bool LineSplitter::fill_mapped() {
  uint64_t pos = base_off_ + begin_;
  uint64_t old_end = map_ ? base_off_ + end_ : 0;
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  uint64_t aligned = pos / page * page;
  std::size_t length = static_cast<std::size_t>(std::min<uint64_t>(window_, file_size_ - aligned));
  if (length == 0 || aligned + length <= old_end) {
    eof_ = true;
    return false;
  }
  bool first = map_ == nullptr;
  unmap();  // before mapping the next window: never two windows in memory
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, source_->fd(),
                     static_cast<off_t>(aligned));
  if (map == MAP_FAILED) {
    if (first) return false;  // the caller falls back to read(2)
    throw system_error("unable to map audit log '" + files_[file_index_].path + "'", errno);
  }
  ::madvise(map, length, MADV_SEQUENTIAL);
  map_ = map;
  map_len_ = length;
  base_ = static_cast<const char*>(map) + (pos - aligned);
  base_off_ = pos;
  begin_ = 0;
  end_ = static_cast<std::size_t>(aligned + length - pos);
  utf8_checked_end_ = 0;
  bytes_read_[file_index_] += aligned + length - old_end;
  return true;
}

/// Hands out a line in place when SIMDJSON_PADDING readable bytes follow it in the window, else
/// a padded copy (lines ending near the window's or the file's end).
bool LineSplitter::padded_line(const char* start, std::size_t length, RawLine& out) {
  if (!map_ || start + length + simdjson::SIMDJSON_PADDING <= base_ + end_) {
    out.text = std::string_view(start, length);
    return true;
  }
  if (padded_.size() < length + simdjson::SIMDJSON_PADDING) padded_.resize(length + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded_.data(), start, length);
  std::memset(padded_.data() + length, 0, simdjson::SIMDJSON_PADDING);
  out.text = std::string_view(padded_.data(), length);
  return true;
}

/// Reads more bytes after moving the unread tail to the front; false at the end of the file.
bool LineSplitter::fill() {
  // No newline is left in [begin_, end_), so every checked line has been handed out.
  utf8_checked_end_ = 0;
  if (map_) return fill_mapped();
  if (begin_ > 0) {
    std::memmove(buffer_.data(), base_ + begin_, end_ - begin_);
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
    damage_ = e.cause().empty() ? e.what() : e.cause();
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
  const char* start = base_ + begin_;
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
  return padded_line(start, length, out);
}

/// Validates [begin_, last newline in the buffer): all the complete lines not handed out yet.
void LineSplitter::check_utf8() {
  const char* start = base_ + begin_;
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
  if (length > max_line_)
    out.text = std::string_view(base_ + begin_, length);  // too long: next() drops it, never copied
  else
    padded_line(base_ + begin_, length, out);
  begin_ = end_;
  return true;
}

/// The buffer is full and holds no newline: drop bytes until the line's end, counting them.
bool LineSplitter::skip_long_line(RawLine& out) {
  uint64_t length = end_ - begin_;
  begin_ = end_;  // consumed: the next fill reads (or maps) only what follows
  for (;;) {
    if (!fill()) break;
    const char* newline = static_cast<const char*>(std::memchr(base_ + begin_, '\n', end_ - begin_));
    if (newline) {
      std::size_t skipped = static_cast<std::size_t>(newline - (base_ + begin_));
      begin_ += skipped + 1;
      length += skipped;
      break;
    }
    length += end_ - begin_;
    begin_ = end_;
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
      // No newline among more than max_line_ unread bytes: the line is too long (in the read(2)
      // buffer this happens at the latest when it is full).
      if (end_ - begin_ > max_line_) return skip_long_line(out);
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
