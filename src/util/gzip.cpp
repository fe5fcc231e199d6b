// GzipWriter (parallel members) and GzipReader (CRC-checked, multi-member) over zlib.
#include "src/util/gzip.h"

#include <unistd.h>
#include <zlib.h>

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

std::string compress_member(const std::string& input, int level, const std::string* comment) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw runtime_error("unable to initialise zlib");
  gz_header header{};
  std::string comment_copy;
  if (comment) {
    comment_copy = *comment;
    header.comment = reinterpret_cast<Bytef*>(comment_copy.data());
    header.os = 3;  // Unix
    deflateSetHeader(&zs, &header);
  }
  std::string out;
  out.resize(deflateBound(&zs, input.size()) + 64 + comment_copy.size());
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw runtime_error("zlib compression failed");
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

struct GzipReader::Impl {
  std::string path;
  FILE* file = nullptr;
  z_stream zs{};
  std::vector<char> input = std::vector<char>(1 << 16);
  bool member_open = true;  // inside a member (or expecting the first one)
  bool eof = false;
  bool cut_short = false;

  // The reason alone is the cause, for callers that name the file their own way (gzip_problem).
  [[noreturn]] void damaged(const std::string& why) const {
    throw Error(ErrorKind::verification, "'" + path + "' is damaged: " + why, "gunzip -t gives the same verdict", why);
  }
};

GzipReader::GzipReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->file = std::fopen(path.c_str(), "rb");
  if (!impl_->file) throw system_error("unable to open '" + path + "'", errno);
  if (inflateInit2(&impl_->zs, 15 + 16) != Z_OK) throw runtime_error("unable to initialise zlib");
}

GzipReader::GzipReader(int fd, const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->file = ::fdopen(fd, "rb");
  if (!impl_->file) {
    int saved = errno;
    ::close(fd);
    throw system_error("unable to read '" + path + "'", saved);
  }
  if (inflateInit2(&impl_->zs, 15 + 16) != Z_OK) throw runtime_error("unable to initialise zlib");
}

GzipReader::~GzipReader() {
  inflateEnd(&impl_->zs);
  if (impl_->file) std::fclose(impl_->file);
}

std::size_t GzipReader::read(char* buffer, std::size_t capacity) {
  Impl& s = *impl_;
  s.zs.next_out = reinterpret_cast<Bytef*>(buffer);
  s.zs.avail_out = static_cast<uInt>(capacity);
  while (s.zs.avail_out == capacity) {
    if (s.zs.avail_in == 0 && !s.eof) {
      std::size_t n = std::fread(s.input.data(), 1, s.input.size(), s.file);
      if (n == 0) {
        if (std::ferror(s.file)) throw system_error("unable to read '" + s.path + "'", errno);
        s.eof = true;
      } else {
        compressed_bytes_ += n;
        if (raw_observer_) raw_observer_(s.input.data(), n);
        s.zs.next_in = reinterpret_cast<Bytef*>(s.input.data());
        s.zs.avail_in = static_cast<uInt>(n);
      }
    }
    if (s.zs.avail_in == 0 && s.eof) {
      if (s.member_open && compressed_bytes_ == 0) s.damaged("the file is empty");
      s.cut_short = s.member_open;
      if (s.member_open) s.damaged("the file ends in the middle of the data (truncated)");
      return 0;
    }
    if (!s.member_open) {  // more bytes after a complete member: must be another member
      inflateReset(&s.zs);
      s.member_open = true;
    }
    int rc = inflate(&s.zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      s.member_open = false;
    } else if (rc == Z_DATA_ERROR) {
      s.damaged(s.zs.msg ? std::string(s.zs.msg) : "invalid compressed data");
    } else if (rc == Z_MEM_ERROR) {
      throw runtime_error("out of memory while decompressing '" + s.path + "'");
    } else if (rc == Z_BUF_ERROR && s.zs.avail_in == 0 && s.eof) {
      s.cut_short = true;
      s.damaged("the file ends in the middle of the data (truncated)");
    }
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
