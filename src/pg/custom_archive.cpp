// ArchiveWalker: the head parsed once it is whole, then a byte-wise state machine over the data
// blocks. ArchiveCompressor and ArchiveInflater: visitors re-writing the framing around ISA-L's
// zlib streams.
#include "src/pg/custom_archive.h"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <utility>

#include "src/error.h"

namespace auditpitr::pg {
namespace {

constexpr int kOldestMinor = 14;  // archive 1.14: pg_dump 12-15
constexpr int kNewestMinor = 16;  // archive 1.16: pg_dump 17
constexpr unsigned char kOffsetNotSet = 1;
constexpr unsigned char kOffsetSet = 2;

struct NeedMore {};
struct Unreadable {
  std::string why;
};

// Reads the head from the bytes received so far.
class Cursor {
 public:
  explicit Cursor(const std::string& bytes) : bytes_(bytes) {}
  std::size_t position() const { return pos_; }
  void set_int_size(std::size_t size) { int_size_ = size; }
  unsigned char byte() {
    need(1);
    return static_cast<unsigned char>(bytes_[pos_++]);
  }
  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }
  int64_t integer() {
    bool negative = byte() != 0;
    need(int_size_);
    uint64_t value = 0;
    for (std::size_t i = 0; i < int_size_; ++i)
      value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += int_size_;
    return negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  }
  std::optional<std::string> string() {
    int64_t length = integer();
    if (length < 0) return std::nullopt;
    need(static_cast<std::size_t>(length));
    std::string out = bytes_.substr(pos_, static_cast<std::size_t>(length));
    pos_ += static_cast<std::size_t>(length);
    return out;
  }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - pos_ < n) throw NeedMore{};
  }
  const std::string& bytes_;
  std::size_t pos_ = 0;
  std::size_t int_size_ = 4;
};

ArchiveHead::Entry parse_entry(Cursor& c, const ArchiveHead& head) {
  ArchiveHead::Entry e;
  e.dump_id = c.integer();
  c.integer();  // hadDumper
  c.string();   // tableoid
  c.string();   // oid
  e.tag = c.string();
  e.desc = c.string();
  c.integer();  // section
  c.string();   // defn
  c.string();   // dropStmt
  e.copy_statement = c.string();
  e.schema = c.string();
  c.string();                         // tablespace
  c.string();                         // tableam
  if (head.minor >= 16) c.integer();  // relkind
  c.string();                         // owner
  c.string();                         // "with oids"
  while (c.string()) {
  }  // dependencies
  e.offset_at = c.position();
  c.skip(1 + head.offset_size);
  return e;
}

// The head, with its size; NeedMore when the bytes end first.
std::pair<ArchiveHead, std::size_t> parse_head(const std::string& bytes) {
  Cursor c(bytes);
  c.skip(5);
  if (bytes.compare(0, 5, "PGDMP") != 0) throw Unreadable{"not a custom-format archive"};
  ArchiveHead head;
  int major = c.byte();
  head.minor = c.byte();
  c.byte();  // revision
  if (major != 1 || head.minor < kOldestMinor || head.minor > kNewestMinor)
    throw Unreadable{"archive version 1." + std::to_string(head.minor) + " is not one this reader knows"};
  head.int_size = c.byte();
  head.offset_size = c.byte();
  if (head.int_size < 1 || head.int_size > 8 || head.offset_size < 1 || head.offset_size > 8)
    throw Unreadable{"unexpected int sizes"};
  c.set_int_size(head.int_size);
  if (c.byte() != 1) throw Unreadable{"not the custom format"};
  head.compression_at = c.position();
  int64_t compression = head.minor >= 15 ? c.byte() : c.integer();
  head.compression = compression == 0                      ? ArchiveCompression::none
                     : head.minor < 15 || compression == 1 ? ArchiveCompression::zlib
                                                           : ArchiveCompression::other;
  for (int i = 0; i < 7; ++i) c.integer();  // creation time
  for (int i = 0; i < 3; ++i) c.string();   // database, server and pg_dump versions
  int64_t entries = c.integer();
  for (int64_t i = 0; i < entries; ++i) head.entries.push_back(parse_entry(c, head));
  return {std::move(head), c.position()};
}

}  // namespace

void append_archive_int(std::string& out, int64_t value, std::size_t int_size) {
  out += static_cast<char>(value < 0 ? 1 : 0);
  uint64_t magnitude = value < 0 ? static_cast<uint64_t>(-value) : static_cast<uint64_t>(value);
  for (std::size_t i = 0; i < int_size; ++i) out += static_cast<char>((magnitude >> (8 * i)) & 0xff);
}

struct ArchiveWalker::Impl {
  enum class State { head, block_type, block_id, object_oid, chunk_length, chunk, passing, failed };
  ArchiveVisitor& visitor;
  State state = State::head;
  std::string head;
  std::size_t next_attempt = 1 << 12;
  std::size_t int_size = 4;
  std::string int_bytes;  // the int being read, byte by byte (sign byte first)
  unsigned char block_type = 0;
  uint64_t chunk_left = 0;

  explicit Impl(ArchiveVisitor& v) : visitor(v) {}

  void fail(const std::string& why) {
    state = State::failed;
    visitor.unreadable(why, nullptr);
  }
  void fail_in_head(const std::string& why) {
    state = State::failed;
    std::string unparsed = std::move(head);
    head.clear();
    visitor.unreadable(why, &unparsed);
  }

  void feed(const char* p, std::size_t n) {
    if (state == State::head) {
      head.append(p, n);
      if (head.size() >= next_attempt) parse();
      return;
    }
    if (state == State::passing) return visitor.passed(p, n);
    if (state != State::failed) feed_blocks(p, p + n);
  }

  void parse() {
    std::pair<ArchiveHead, std::size_t> parsed;
    try {
      parsed = parse_head(head);
    } catch (const NeedMore&) {
      next_attempt = head.size() * 2;  // reparsing from the start stays linear overall
      return;
    } catch (const Unreadable& e) {
      return fail_in_head(e.why);
    }
    int_size = parsed.first.int_size;
    std::string rest = head.substr(parsed.second);
    head.resize(parsed.second);
    bool read_on = visitor.head(parsed.first, head);
    head.clear();
    head.shrink_to_fit();
    state = read_on ? State::block_type : State::passing;
    feed(rest.data(), rest.size());
  }

  // Completes the int being read; false when the bytes ran out first.
  bool read_int(const char*& p, const char* end, int64_t& value) {
    while (int_bytes.size() < 1 + int_size && p < end) int_bytes += *p++;
    if (int_bytes.size() < 1 + int_size) return false;
    uint64_t v = 0;
    for (std::size_t i = 0; i < int_size; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(int_bytes[1 + i])) << (8 * i);
    value = int_bytes[0] != 0 ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    int_bytes.clear();
    return true;
  }

  void feed_blocks(const char* p, const char* end) {
    int64_t value = 0;
    while (p < end && state != State::failed) {
      switch (state) {
        case State::block_type:
          block_type = static_cast<unsigned char>(*p++);
          if (block_type != kArchiveBlockData && block_type != kArchiveBlockLargeObjects)
            return fail(block_type == 0 ? "unexpected bytes after the archive's data (a block of type 0)"
                                        : "unexpected block type " + std::to_string(block_type));
          state = State::block_id;
          break;
        case State::block_id:
          if (!read_int(p, end, value)) return;
          visitor.block(block_type, value);
          state = block_type == kArchiveBlockData ? State::chunk_length : State::object_oid;
          break;
        case State::object_oid:
          if (!read_int(p, end, value)) return;
          visitor.object(value);
          state = value == 0 ? State::block_type : State::chunk_length;
          break;
        case State::chunk_length:
          if (!read_int(p, end, value)) return;
          if (value < 0) return fail("negative chunk length");
          if (value == 0) {
            visitor.data_end();
            state = block_type == kArchiveBlockData ? State::block_type : State::object_oid;
          } else {
            chunk_left = static_cast<uint64_t>(value);
            state = State::chunk;
          }
          break;
        case State::chunk: {
          std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(chunk_left, static_cast<uint64_t>(end - p)));
          visitor.data(p, n);
          p += n;
          chunk_left -= n;
          if (chunk_left == 0) state = State::chunk_length;
          break;
        }
        case State::head:
        case State::passing:
        case State::failed: return;
      }
    }
  }
};

ArchiveWalker::ArchiveWalker(ArchiveVisitor& visitor) : impl_(std::make_unique<Impl>(visitor)) {}
ArchiveWalker::~ArchiveWalker() = default;

void ArchiveWalker::feed(const char* data, std::size_t size) { impl_->feed(data, size); }

void ArchiveWalker::finish() {
  Impl& s = *impl_;
  if (s.state == Impl::State::head) {
    s.next_attempt = 0;
    s.parse();
    if (s.state == Impl::State::head) s.fail_in_head("the archive ends inside its table of contents");
  }
  if (s.state != Impl::State::block_type && s.state != Impl::State::failed)
    s.fail("the archive ends inside a data block");
}

namespace {

// The head with its compression field set to `compressed` and every data offset forgotten (data
// whose size changes moves: pg_restore then finds each block by reading through, as it does in
// an archive pg_dump wrote to a pipe).
std::string rewritten_head(const ArchiveHead& head, std::string bytes, bool compressed) {
  if (head.minor >= 15) {
    bytes[head.compression_at] = static_cast<char>(compressed ? 1 : 0);  // gzip, none
  } else {
    std::string level;
    append_archive_int(level, compressed ? 1 : 0, head.int_size);
    bytes.replace(head.compression_at, level.size(), level);
  }
  for (const auto& e : head.entries) {
    if (static_cast<unsigned char>(bytes[e.offset_at]) != kOffsetSet) continue;
    bytes[e.offset_at] = static_cast<char>(kOffsetNotSet);
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(e.offset_at + 1),
              bytes.begin() + static_cast<std::ptrdiff_t>(e.offset_at + 1 + head.offset_size), '\0');
  }
  return bytes;
}

constexpr std::size_t kChunkBytes = 1 << 18;

// What both re-writers share: the framing written again around data they transform, or every
// byte passed on unchanged when the archive is not theirs to change.
class ArchiveRewriter : public ArchiveVisitor {
 public:
  explicit ArchiveRewriter(ArchiveSink sink) : sink_(std::move(sink)), walker_(*this) {}

  void write(const char* data, std::size_t size) {
    if (passing_) return sink_(data, size);
    walker_.feed(data, size);
  }
  void finish() {
    if (!passing_) walker_.finish();
  }

 protected:
  /// Whether this archive's data is to be transformed (otherwise it passes unchanged).
  virtual bool takes(const ArchiveHead& head) const = 0;
  virtual bool compresses() const = 0;
  virtual void start_data() = 0;
  virtual void transform(const char* p, std::size_t n) = 0;
  virtual void end_data() = 0;
  /// A block breaking off: the output would not be an archive.
  [[noreturn]] virtual void broken(const std::string& why) = 0;

  /// Points an ISA-L stream's output at the empty chunk buffer.
  template <typename Stream>
  void aim(Stream& zs) {
    zs.next_out = reinterpret_cast<uint8_t*>(out_.data());
    zs.avail_out = static_cast<uint32_t>(out_.size());
  }
  /// After a step of the stream: a full buffer goes out as one chunk.
  template <typename Stream>
  void pass_full(Stream& zs) {
    if (zs.avail_out > 0) return;
    chunk(out_.data(), out_.size());
    aim(zs);
  }
  /// At the data's end: what the buffer holds.
  template <typename Stream>
  void pass_rest(const Stream& zs) {
    chunk(out_.data(), out_.size() - zs.avail_out);
  }

 private:
  /// One chunk of transformed data (never empty: a zero length ends the data).
  void chunk(const char* p, std::size_t n) {
    if (n == 0) return;
    put_int(static_cast<int64_t>(n));
    sink_(p, n);
  }

  bool head(const ArchiveHead& head, const std::string& bytes) override {
    if (!takes(head)) {
      passing_ = true;
      sink_(bytes.data(), bytes.size());
      return false;
    }
    int_size_ = head.int_size;
    std::string out = rewritten_head(head, bytes, compresses());
    sink_(out.data(), out.size());
    return true;
  }
  void passed(const char* p, std::size_t n) override { sink_(p, n); }
  void block(unsigned char type, int64_t dump_id) override {
    char type_byte = static_cast<char>(type);
    sink_(&type_byte, 1);
    put_int(dump_id);
    if (type == kArchiveBlockData) start_data();
  }
  void object(int64_t oid) override {
    put_int(oid);
    if (oid != 0) start_data();
  }
  void data(const char* p, std::size_t n) override { transform(p, n); }
  void data_end() override {
    end_data();
    put_int(0);
  }
  void unreadable(const std::string& why, const std::string* unparsed) override {
    if (!unparsed) broken(why);
    passing_ = true;  // a head this reader does not know: the archive is pg_restore's alone
    sink_(unparsed->data(), unparsed->size());
  }
  void put_int(int64_t value) {
    framing_.clear();
    append_archive_int(framing_, value, int_size_);
    sink_(framing_.data(), framing_.size());
  }

  ArchiveSink sink_;
  std::vector<char> out_ = std::vector<char>(kChunkBytes);
  ArchiveWalker walker_;
  bool passing_ = false;
  std::size_t int_size_ = 4;
  std::string framing_;
};

}  // namespace

// ISA-L level 2 with a zlib wrapper: on issue 14's compressible data about 0.4 s per 300 MB on one
// core; the gzip around the archive then finds the repetitions one deflate window cannot reach
// (docs/backup.md, "Compression").
struct ArchiveCompressor::Impl : ArchiveRewriter {
  isal_zstream zs{};
  std::vector<uint8_t> level_buffer = std::vector<uint8_t>(ISAL_DEF_LVL2_DEFAULT);

  explicit Impl(ArchiveSink sink) : ArchiveRewriter(std::move(sink)) {}

  bool takes(const ArchiveHead& head) const override { return head.compression == ArchiveCompression::none; }
  bool compresses() const override { return true; }
  void start_data() override {
    isal_deflate_init(&zs);
    zs.level = 2;
    zs.level_buf = level_buffer.data();
    zs.level_buf_size = static_cast<uint32_t>(level_buffer.size());
    zs.gzip_flag = IGZIP_ZLIB;
    aim(zs);
  }
  void transform(const char* p, std::size_t n) override {
    zs.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(p));
    zs.avail_in = static_cast<uint32_t>(n);
    while (zs.avail_in > 0) deflate_once();
  }
  void end_data() override {
    zs.end_of_stream = 1;
    zs.avail_in = 0;
    while (zs.internal_state.state != ZSTATE_END) deflate_once();
    pass_rest(zs);
  }
  [[noreturn]] void broken(const std::string& why) override {
    throw runtime_error("pg_dump's output could not be read as an archive (" + why + ")",
                        "no backup was written; run it again, and report it if it repeats");
  }
  void deflate_once() {
    if (isal_deflate(&zs) != COMP_OK) throw runtime_error("ISA-L could not compress the dump's data");
    pass_full(zs);
  }
};

ArchiveCompressor::ArchiveCompressor(ArchiveSink sink) : impl_(std::make_unique<Impl>(std::move(sink))) {}
ArchiveCompressor::~ArchiveCompressor() = default;
void ArchiveCompressor::write(const char* data, std::size_t size) { impl_->write(data, size); }
void ArchiveCompressor::finish() { impl_->finish(); }

struct ArchiveInflater::Impl : ArchiveRewriter {
  std::string name;
  inflate_state zs{};

  Impl(ArchiveSink sink, std::string n) : ArchiveRewriter(std::move(sink)), name(std::move(n)) {}

  bool takes(const ArchiveHead& head) const override { return head.compression == ArchiveCompression::zlib; }
  bool compresses() const override { return false; }
  void start_data() override {
    isal_inflate_init(&zs);
    zs.crc_flag = ISAL_ZLIB;  // the zlib header and Adler-32 checked
    aim(zs);
  }
  void transform(const char* p, std::size_t n) override {
    zs.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(p));
    zs.avail_in = static_cast<uint32_t>(n);
    while (zs.avail_in > 0) {
      if (zs.block_state == ISAL_BLOCK_FINISH) damaged("bytes after the end of a table's compressed data");
      inflate_once();
    }
  }
  void end_data() override {
    while (zs.block_state != ISAL_BLOCK_FINISH) {  // its last bytes may still hold output
      uint32_t room = zs.avail_out;
      inflate_once();
      if (zs.avail_out == room && zs.block_state != ISAL_BLOCK_FINISH) damaged("a table's compressed data ends early");
    }
    pass_rest(zs);
  }
  void inflate_once() {
    if (isal_inflate(&zs) < 0) damaged("a table's compressed data is invalid");
    pass_full(zs);
  }
  [[noreturn]] void broken(const std::string& why) override { damaged(why); }
  [[noreturn]] void damaged(const std::string& why) const {
    throw Error(ErrorKind::verification, "'" + name + "' is damaged: " + why,
                "pg_restore cannot read it either; restore another backup", why);
  }
};

ArchiveInflater::ArchiveInflater(ArchiveSink sink, std::string name)
    : impl_(std::make_unique<Impl>(std::move(sink), std::move(name))) {}
ArchiveInflater::~ArchiveInflater() = default;
void ArchiveInflater::write(const char* data, std::size_t size) { impl_->write(data, size); }
void ArchiveInflater::finish() { impl_->finish(); }

}  // namespace auditpitr::pg
