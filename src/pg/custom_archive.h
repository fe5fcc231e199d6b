// pg_dump's custom-format archive, read as it streams past (one place for the format; the backup's
// checksums, its compression of the data and the restore's inflating of it all walk it here).
//
// What is read of the format, as pg_dump's pg_backup_archiver.c and pg_backup_custom.c write it:
//   header: "PGDMP", version bytes (major, minor, revision), int size, offset size, format (1 =
//     custom); before 1.15 an int compression level (0: none, else zlib), from 1.15 (PostgreSQL
//     16) a compression algorithm byte (0 none, 1 gzip, 2 lz4, 3 zstd); 7 ints of creation time;
//     strings: database name, server version, pg_dump version.
//   table of contents: an int count, then per entry dumpId, hadDumper, tableoid, oid, tag, desc,
//     section, defn, dropStmt, copyStmt, namespace, tablespace, tableam (1.14), relkind (an int,
//     1.16 = PostgreSQL 17), owner, "with oids", the dependency strings up to a null one, and
//     the custom format's data offset (a flag byte and offset-size bytes).
//   data: per entry with data a block type byte (1 = data, 3 = large objects) and the dumpId,
//     then chunks (an int length and that many bytes) up to a zero length; a large-object block
//     holds (oid, chunks) pairs up to oid 0. Compressed data is one zlib stream per table (per
//     large object), cut into chunks anywhere.
// Ints are a sign byte and int-size little-endian bytes; strings an int length (-1: null) and the
// bytes. Versions 1.14 (PostgreSQL 13-15, tested), 1.15 (16) and 1.16 (17) are read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace auditpitr::pg {

constexpr unsigned char kArchiveBlockData = 1;
constexpr unsigned char kArchiveBlockLargeObjects = 3;

enum class ArchiveCompression { none, zlib, other };

struct ArchiveHead {
  int minor = 0;
  std::size_t int_size = 4;
  std::size_t offset_size = 8;
  ArchiveCompression compression = ArchiveCompression::none;
  std::size_t compression_at = 0;  ///< where the compression field starts in the head's bytes
  struct Entry {
    int64_t dump_id = 0;
    std::optional<std::string> tag, desc, copy_statement, schema;
    std::size_t offset_at = 0;  ///< where its data offset's flag byte is in the head's bytes
  };
  std::vector<Entry> entries;
};

/// What an ArchiveWalker finds, in the archive's order.
class ArchiveVisitor {
 public:
  virtual ~ArchiveVisitor() = default;
  /// The header and table of contents, whole; `bytes` are exactly theirs. Returning false stops
  /// the reading there: every later byte goes to passed(), as it comes.
  virtual bool head(const ArchiveHead& head, const std::string& bytes) = 0;
  virtual void passed(const char*, std::size_t) {}
  /// A data block starts: its type and the dumpId of its entry.
  virtual void block(unsigned char type, int64_t dump_id) = 0;
  /// In a large-object block: the next object's oid, 0 ending the block.
  virtual void object(int64_t oid) = 0;
  /// The data of the current table (or object) as stored, in pieces (chunk boundaries are not kept).
  virtual void data(const char* p, std::size_t n) = 0;
  /// Its zero-length chunk: the current table's (or object's) data is whole.
  virtual void data_end() = 0;
  /// The archive stopped being read, `why`. When that happened in the head, `unparsed` holds every
  /// byte fed so far; null in the data. Nothing else is reported after it.
  virtual void unreadable(const std::string& why, const std::string* unparsed) = 0;
};

/// Parses the archive fed to it byte-wise, however the bytes are cut.
class ArchiveWalker {
 public:
  explicit ArchiveWalker(ArchiveVisitor& visitor);
  ~ArchiveWalker();
  ArchiveWalker(const ArchiveWalker&) = delete;
  ArchiveWalker& operator=(const ArchiveWalker&) = delete;

  void feed(const char* data, std::size_t size);
  /// After the last byte: an archive ending inside its head or a block is reported unreadable.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// An int as the archive writes it (sign byte, `int_size` little-endian bytes), appended to `out`.
void append_archive_int(std::string& out, int64_t value, std::size_t int_size);

/// A stream rewriting an archive's data as it passes; output goes to the sink.
using ArchiveSink = std::function<void(const char* data, std::size_t size)>;

/// pg_dump -Z0's archive in, the same archive out with each table's (large object's) data as one
/// zlib stream (ISA-L, fast level), the header saying so, as `pg_dump -Z` would write it and every
/// pg_restore reads it. An archive already compressed, or one this reader does not know, passes
/// unchanged. Throws a runtime Error when the archive breaks off inside its data.
class ArchiveCompressor {
 public:
  explicit ArchiveCompressor(ArchiveSink sink);
  ~ArchiveCompressor();
  ArchiveCompressor(const ArchiveCompressor&) = delete;
  ArchiveCompressor& operator=(const ArchiveCompressor&) = delete;
  void write(const char* data, std::size_t size);
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The reverse: an archive with zlib-compressed data in, the plain archive (compression 0) out, so
/// that pg_restore reads it without inflating. An uncompressed archive, one compressed otherwise
/// (lz4, zstd) or one this reader does not know passes unchanged. Throws a verification Error (the
/// reason alone as its cause, as GzipReader's) when compressed data is damaged; `name` names the archive.
class ArchiveInflater {
 public:
  ArchiveInflater(ArchiveSink sink, std::string name);
  ~ArchiveInflater();
  ArchiveInflater(const ArchiveInflater&) = delete;
  ArchiveInflater& operator=(const ArchiveInflater&) = delete;
  void write(const char* data, std::size_t size);
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auditpitr::pg
