// Lines out of a logical log's files, oldest file first, through one fixed-size buffer: memory is
// bounded by the buffer whatever the file or line sizes. Plain and gzip files alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "replay/log/log_files.h"

namespace auditpitr::replay {

/// One line (without its newline or a trailing CR), or a problem the splitter met instead.
struct RawLine {
  enum class Kind { line, too_long, damaged };
  Kind kind = Kind::line;
  std::string_view text;       ///< line: the bytes, followed by SIMDJSON_PADDING readable bytes
  std::size_t file_index = 0;  ///< index into the files given to the splitter
  uint64_t line_number = 0;    ///< 1-based within that file (damaged: the line where it broke)
  uint64_t length = 0;         ///< too_long: how many bytes the skipped line had
  std::string_view detail;     ///< damaged: what went wrong (zlib's verdict)
  /// line: its bytes are known to be valid UTF-8 (checked with the other complete lines of the
  /// buffer in one call). False says nothing: the line is to be checked on its own.
  bool utf8_checked = false;
  /// line: the file's last bytes, not followed by a newline (cut short, or still being written).
  bool unterminated = false;
};

class LineSplitter {
 public:
  /// `buffer_bytes` is the read chunk; lines longer than `max_line_bytes` are skipped while being
  /// read (never held whole) and come back as Kind::too_long. The buffer holds at least one line
  /// of the maximum length. Files are opened one at a time, when reached.
  LineSplitter(std::vector<LogFile> files, std::size_t buffer_bytes, std::size_t max_line_bytes);
  ~LineSplitter();
  LineSplitter(const LineSplitter&) = delete;
  LineSplitter& operator=(const LineSplitter&) = delete;

  /// The next line; false after the last file. A file that cannot be opened or read throws a
  /// runtime Error naming it; a damaged .gz file yields Kind::damaged and reading moves on to
  /// the next file. The previous line's text is invalid after this call.
  bool next(RawLine& out);

  const std::vector<LogFile>& files() const { return files_; }
  /// Uncompressed bytes read so far from file `index`.
  uint64_t bytes_read(std::size_t index) const { return bytes_read_[index]; }

 private:
  class Source;
  bool open_next_file();
  bool fill();
  bool take_line(RawLine& out);
  void check_utf8();
  bool take_last_line(RawLine& out);
  bool skip_long_line(RawLine& out);

  std::vector<LogFile> files_;
  std::vector<uint64_t> bytes_read_;
  std::size_t max_line_;
  std::vector<char> buffer_;  // capacity_ bytes of data + SIMDJSON_PADDING
  std::size_t capacity_;
  std::size_t begin_ = 0, end_ = 0;
  // Lines ending before this offset have had their UTF-8 checked, with result utf8_valid_.
  std::size_t utf8_checked_end_ = 0;
  bool utf8_valid_ = false;
  std::unique_ptr<Source> source_;
  std::size_t file_index_ = 0;
  bool started_ = false;
  bool eof_ = false;
  uint64_t line_number_ = 0;
  std::string damage_;  // set by fill() when a .gz file breaks; handed out once
  std::string detail_;
};

}  // namespace auditpitr::replay
