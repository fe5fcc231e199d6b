// GzipWriter (parallel members, libdeflate) and GzipReader (CRC-checked, multi-member, ISA-L).
#include "src/util/gzip.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "src/error.h"

namespace auditpitr {
namespace {

constexpr std::size_t kChunkBytes = 4u << 20;

void put_le32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// One gzip member: header (with FCOMMENT for the first), libdeflate's raw deflate, CRC32 and size.
// libdeflate compresses a whole buffer about twice as fast as zlib at the same level, to a file of
// the same size or smaller (README, Performance); its levels 1-9 follow zlib's meaning.
std::string compress_member(const std::string& input, int level, const std::string* comment) {
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> compressor(
      libdeflate_alloc_compressor(level), &libdeflate_free_compressor);
  if (!compressor) throw runtime_error("unable to initialise libdeflate");
  std::string out;
  out += "\x1f\x8b\x08";
  out += static_cast<char>(comment ? 0x10 : 0);  // FCOMMENT
  put_le32(out, 0);                              // no modification time, as zlib's headers had
  out += static_cast<char>(level >= 9 ? 2 : level == 1 ? 4 : 0);
  out += static_cast<char>(3);  // Unix
  if (comment) out.append(comment->c_str(), comment->size() + 1);
  std::size_t header = out.size();
  out.resize(header + libdeflate_deflate_compress_bound(compressor.get(), input.size()));
  std::size_t n = libdeflate_deflate_compress(compressor.get(), input.data(), input.size(), out.data() + header,
                                              out.size() - header);
  if (n == 0) throw runtime_error("libdeflate compression failed");
  out.resize(header + n);
  put_le32(out, libdeflate_crc32(0, input.data(), input.size()));
  put_le32(out, static_cast<uint32_t>(input.size()));
  return out;
}

}  // namespace

struct GzipWriter::Impl {
  Sink sink;
  int level;
  unsigned threads;
  std::string comment;
  bool first = true;
  std::string chunk;
  std::deque<std::future<std::string>> in_flight;

  void submit() {
    const std::string* header_comment = first ? &comment : nullptr;
    first = false;
    std::string input;
    input.swap(chunk);
    chunk.reserve(kChunkBytes);
    if (threads <= 1) {
      std::string member = compress_member(input, level, header_comment);
      sink(member.data(), member.size());
      return;
    }
    std::string comment_for_task = header_comment ? *header_comment : std::string();
    bool with_comment = header_comment != nullptr;
    int lvl = level;
    in_flight.push_back(std::async(std::launch::async, [input = std::move(input), comment_for_task, with_comment, lvl] {
      return compress_member(input, lvl, with_comment ? &comment_for_task : nullptr);
    }));
    while (in_flight.size() >= threads + 1) drain_one();
  }

  void drain_one() {
    std::string member = in_flight.front().get();
    in_flight.pop_front();
    sink(member.data(), member.size());
  }
};

GzipWriter::GzipWriter(Sink sink, int level, unsigned threads, std::string comment) : impl_(std::make_unique<Impl>()) {
  impl_->sink = std::move(sink);
  impl_->level = level;
  impl_->threads = threads == 0 ? 1 : threads;
  impl_->comment = std::move(comment);
  impl_->chunk.reserve(kChunkBytes);
}

GzipWriter::~GzipWriter() {
  for (auto& f : impl_->in_flight) {
    try {
      f.wait();
    } catch (...) {
    }
  }
}

void GzipWriter::write(const char* data, std::size_t size) {
  bytes_in_ += size;
  while (size > 0) {
    std::size_t room = kChunkBytes - impl_->chunk.size();
    std::size_t n = size < room ? size : room;
    impl_->chunk.append(data, n);
    data += n;
    size -= n;
    if (impl_->chunk.size() == kChunkBytes) impl_->submit();
  }
}

void GzipWriter::finish() {
  if (!impl_->chunk.empty() || impl_->first) impl_->submit();
  while (!impl_->in_flight.empty()) impl_->drain_one();
}

// Reading inflates with ISA-L's igzip: streaming like zlib (members of any size, the old scripts'
// single member and rotated logs included), about three times as fast on this machine's AVX2.
struct GzipReader::Impl {
  std::string path;
  FILE* file = nullptr;
  GzipReader::Source source;  // when set, instead of `file`
  inflate_state zs{};
  std::vector<char> input = std::vector<char>(1 << 16);
  bool member_open = true;  // inside a member (or expecting the first one)
  bool eof = false;
  bool cut_short = false;

  void open(const std::string& name) {
    path = name;
    isal_inflate_init(&zs);
    zs.crc_flag = ISAL_GZIP;  // header, CRC32 and length of every member checked
  }

  // The reason alone is the cause, for callers that name the file their own way (gzip_problem).
  [[noreturn]] void damaged(const std::string& why) const {
    throw Error(ErrorKind::verification, "'" + path + "' is damaged: " + why, "gunzip -t gives the same verdict", why);
  }
};

namespace {

// zlib's words for the same faults, as gunzip -t says them.
std::string isal_problem(int rc) {
  switch (rc) {
    case ISAL_INVALID_WRAPPER: return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_SYMBOL: return "invalid code in the compressed data";
    default: return "invalid compressed data";
  }
}

}  // namespace

GzipReader::GzipReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->file = std::fopen(path.c_str(), "rb");
  if (!impl_->file) throw system_error("unable to open '" + path + "'", errno);
  impl_->open(path);
}

GzipReader::GzipReader(int fd, const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->file = ::fdopen(fd, "rb");
  if (!impl_->file) {
    int saved = errno;
    ::close(fd);
    throw system_error("unable to read '" + path + "'", saved);
  }
  impl_->open(path);
}

GzipReader::GzipReader(Source source, const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  impl_->open(path);
}

GzipReader::~GzipReader() {
  if (impl_->file) std::fclose(impl_->file);
}

std::size_t GzipReader::read(char* buffer, std::size_t capacity) {
  Impl& s = *impl_;
  s.zs.next_out = reinterpret_cast<uint8_t*>(buffer);
  s.zs.avail_out = static_cast<uint32_t>(capacity);
  while (s.zs.avail_out == capacity) {
    if (s.zs.avail_in == 0 && !s.eof) {
      std::size_t n =
          s.source ? s.source(s.input.data(), s.input.size()) : std::fread(s.input.data(), 1, s.input.size(), s.file);
      if (n == 0) {
        if (!s.source && std::ferror(s.file)) throw system_error("unable to read '" + s.path + "'", errno);
        s.eof = true;
      } else {
        compressed_bytes_ += n;
        if (raw_observer_) raw_observer_(s.input.data(), n);
        s.zs.next_in = reinterpret_cast<uint8_t*>(s.input.data());
        s.zs.avail_in = static_cast<uint32_t>(n);
      }
    }
    if (s.zs.avail_in == 0 && s.eof) {
      if (s.member_open && compressed_bytes_ == 0) s.damaged("the file is empty");
      s.cut_short = s.member_open;
      if (s.member_open) s.damaged("the file ends in the middle of the data (truncated)");
      return 0;
    }
    if (!s.member_open) {  // more bytes after a complete member: must be another member
      isal_inflate_reset(&s.zs);
      s.zs.crc_flag = ISAL_GZIP;
      s.member_open = true;
    }
    int rc = isal_inflate(&s.zs);
    if (rc < 0) s.damaged(isal_problem(rc));
    if (s.zs.block_state == ISAL_BLOCK_FINISH) s.member_open = false;
  }
  return capacity - s.zs.avail_out;
}

bool GzipReader::cut_short() const { return impl_->cut_short; }

std::string gzip_problem(const Error& error) {
  return error.kind() == ErrorKind::verification && !error.cause().empty() ? error.cause() : error.what();
}

std::string gzip_header_comment(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "";
  unsigned char head[10];
  std::string comment;
  if (std::fread(head, 1, 10, f) == 10 && head[0] == 0x1f && head[1] == 0x8b && (head[3] & 0x10)) {
    int flags = head[3];
    auto skip_zero_terminated = [&] {
      int c;
      while ((c = std::fgetc(f)) != EOF && c != 0) {
      }
    };
    if (flags & 0x04) {
      int lo = std::fgetc(f), hi = std::fgetc(f);
      std::fseek(f, lo + 256 * hi, SEEK_CUR);
    }
    if (flags & 0x08) skip_zero_terminated();
    int c;
    while ((c = std::fgetc(f)) != EOF && c != 0 && comment.size() < 65536) comment += static_cast<char>(c);
  }
  std::fclose(f);
  return comment;
}

}  // namespace auditpitr
