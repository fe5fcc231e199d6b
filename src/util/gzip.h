// gzip streams for .dump.gz files. The writer compresses fixed-size chunks as separate gzip
// members on several threads (one pass, all cores: what beats `pg_dump -Fc | gzip`); gunzip,
// pg_restore pipelines and our reader all accept multi-member files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace auditpitr {

class Error;

class GzipWriter {
 public:
  using Sink = std::function<void(const char* data, std::size_t size)>;
  /// `comment` goes into the first member's header (FCOMMENT): it marks files auditpitr wrote.
  GzipWriter(Sink sink, int level, unsigned threads, std::string comment);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  void write(const char* data, std::size_t size);
  /// Flushes the last chunk and waits for every member to reach the sink.
  void finish();
  uint64_t bytes_in() const { return bytes_in_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t bytes_in_ = 0;
};

/// Reads a (multi-member) gzip file, checking every member's CRC and length.
class GzipReader {
 public:
  /// Opens the file; throws a runtime Error naming it when it cannot be opened.
  explicit GzipReader(const std::string& path);
  /// Reads an already open file (and closes it): `path` only names it in messages.
  GzipReader(int fd, const std::string& path);
  /// Reads the compressed bytes from `source` (returns 0 at their end; its Errors pass through,
  /// as from a decryption): `path` only names the stream in messages.
  using Source = std::function<std::size_t(char* buffer, std::size_t capacity)>;
  GzipReader(Source source, const std::string& path);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  /// Fills `buffer` with decompressed bytes; returns 0 at the clean end of the file. Throws a
  /// verification Error ("'path' is damaged: …", the reason alone as its cause) on a CRC
  /// mismatch, truncation or garbage.
  std::size_t read(char* buffer, std::size_t capacity);
  /// Called with every block of compressed bytes as it is read (for a sha256 in the same pass).
  void on_raw(std::function<void(const char*, std::size_t)> observer) { raw_observer_ = std::move(observer); }
  uint64_t compressed_bytes() const { return compressed_bytes_; }
  /// After read() threw: the file ended inside a member (cut short), as opposed to bytes that are
  /// wrong. Only a cut-short file can be the remains of an interrupted writer.
  bool cut_short() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::function<void(const char*, std::size_t)> raw_observer_;
  uint64_t compressed_bytes_ = 0;
};

/// What went wrong reading a gzip file, for a message that names the file itself ("backup 'x' is
/// damaged: …"): a damage verdict's reason ("the file ends in the middle of the data (truncated)",
/// in zlib's words), or the whole message of any other error (I/O).
std::string gzip_problem(const Error& error);

/// The FCOMMENT of the file's first gzip header; empty when none, "" also for non-gzip files.
std::string gzip_header_comment(const std::string& path);

}  // namespace auditpitr
