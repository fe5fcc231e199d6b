// TarWriter and TarReader: 512-byte headers, content padded to the block. The writer puts a pax
// extended header ('x') before an entry whose name, link or size does not fit ustar's fields; the
// reader also takes GNU's long names ('L', 'K') and base-256 numbers, as GNU tar writes them.
#include "src/util/tar.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "src/error.h"

namespace auditpitr {
namespace {

constexpr std::size_t kBlock = 512;
constexpr uint64_t kMaxOctal11 = 077777777777ull;  // what 11 octal digits hold (8 GiB - 1)

void put_octal(char* field, std::size_t width, uint64_t value) {
  // width - 1 digits and a NUL, as GNU and POSIX tar write them.
  std::memset(field, '0', width - 1);
  field[width - 1] = '\0';
  for (std::size_t i = width - 1; i-- > 0 && value > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
}

void put_text(char* field, std::size_t width, const std::string& text) {
  std::memcpy(field, text.data(), std::min(width, text.size()));
}

// One pax record: "<length> <key>=<value>\n", the length counting itself.
std::string pax_record(const std::string& key, const std::string& value) {
  std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t length = body + 1;
  while (std::to_string(length).size() + body != length) length = std::to_string(length).size() + body;
  return std::to_string(length) + " " + key + "=" + value + "\n";
}

bool all_zero(const char* block) {
  for (std::size_t i = 0; i < kBlock; ++i)
    if (block[i] != 0) return false;
  return true;
}

// An octal field (spaces or NULs around it), or GNU's base-256 (high bit of the first byte set).
bool parse_number(const char* field, std::size_t width, uint64_t& value) {
  value = 0;
  if (static_cast<unsigned char>(field[0]) & 0x80) {
    if (static_cast<unsigned char>(field[0]) & 0x40) return false;  // negative
    value = static_cast<unsigned char>(field[0]) & 0x3f;
    for (std::size_t i = 1; i < width; ++i) {
      if (value >> 55) return false;
      value = (value << 8) | static_cast<unsigned char>(field[i]);
    }
    return true;
  }
  std::size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  bool digits = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i, digits = true) {
    if (value >> 60) return false;
    value = (value << 3) | static_cast<uint64_t>(field[i] - '0');
  }
  for (; i < width; ++i)
    if (field[i] != ' ' && field[i] != '\0') return false;
  return digits || field[0] == '\0';
}

std::string field_text(const char* field, std::size_t width) { return std::string(field, strnlen(field, width)); }

bool checksum_ok(const char* block) {
  uint64_t recorded = 0;
  if (!parse_number(block + 148, 8, recorded)) return false;
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= 148 && i < 156;
    unsigned_sum += in_field ? ' ' : static_cast<unsigned char>(block[i]);
    signed_sum += in_field ? ' ' : static_cast<signed char>(block[i]);
  }
  return recorded == unsigned_sum || static_cast<int64_t>(recorded) == signed_sum;
}

}  // namespace

std::vector<std::string> safe_member_name(const std::string& name, std::string& why) {
  why.clear();
  if (name.empty()) {
    why = "an empty name";
    return {};
  }
  if (name[0] == '/') {
    why = "the absolute name '" + name + "'";
    return {};
  }
  std::vector<std::string> parts;
  for (std::size_t start = 0; start <= name.size();) {
    std::size_t end = std::min(name.find('/', start), name.size());
    std::string part = name.substr(start, end - start);
    if (part == "..") {
      why = "the name '" + name + "', which climbs out of the folder with '..'";
      return {};
    }
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

bool link_stays_inside(const std::vector<std::string>& name, const std::string& target) {
  if (target.empty() || target[0] == '/') return false;
  std::string why;
  std::size_t depth = name.empty() ? 0 : name.size() - 1;  // the folder the link is in
  std::size_t up = 0;
  bool below = false;  // a normal component seen: '..' after it could climb through another link
  for (std::size_t start = 0; start <= target.size();) {
    std::size_t end = std::min(target.find('/', start), target.size());
    std::string part = target.substr(start, end - start);
    if (part == "..") {
      if (below || ++up > depth) return false;
    } else if (!part.empty() && part != ".") {
      below = true;
    }
    start = end + 1;
  }
  return true;
}

void TarWriter::put(const char* data, std::size_t size) {
  sink_(data, size);
  bytes_ += size;
}

void TarWriter::pad() {
  static const char zeros[kBlock] = {};
  if (bytes_ % kBlock) put(zeros, kBlock - bytes_ % kBlock);
}

void TarWriter::header(const std::string& name, char type, unsigned mode, std::time_t mtime, uint64_t size,
                       const std::string& link) {
  std::string pax;
  if (name.size() > 100) pax += pax_record("path", name);
  if (link.size() > 100) pax += pax_record("linkpath", link);
  if (size > kMaxOctal11) pax += pax_record("size", std::to_string(size));
  if (!pax.empty()) {
    header("PaxHeader/" + name.substr(0, 80), 'x', 0644, mtime, pax.size(), "");
    put(pax.data(), pax.size());
    pad();
  }
  char block[kBlock] = {};
  put_text(block, 100, name);
  put_octal(block + 100, 8, mode & 07777);
  put_octal(block + 108, 8, type == 'x' ? 0 : uid_ & 07777777);
  put_octal(block + 116, 8, type == 'x' ? 0 : gid_ & 07777777);
  put_octal(block + 124, 12, size > kMaxOctal11 ? 0 : size);
  put_octal(block + 136, 12, mtime > 0 ? static_cast<uint64_t>(mtime) & kMaxOctal11 : 0);
  block[156] = type;
  put_text(block + 157, 100, link);
  std::memcpy(block + 257,
              "ustar\0"
              "00",
              8);
  std::memset(block + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : block) sum += static_cast<unsigned char>(c);
  put_octal(block + 148, 7, sum);  // six digits, NUL, then the space already there
  put(block, kBlock);
}

void TarWriter::directory(const std::string& name, unsigned mode, std::time_t mtime) {
  header(name.empty() || name.back() == '/' ? name : name + "/", '5', mode, mtime, 0, "");
}

void TarWriter::symlink(const std::string& name, const std::string& target, std::time_t mtime) {
  header(name, '2', 0777, mtime, 0, target);
}

uint64_t TarWriter::file(const std::string& name, unsigned mode, std::time_t mtime, uint64_t size,
                         const Source& source) {
  header(name, '0', mode, mtime, size, "");
  static thread_local char buffer[1 << 17];
  uint64_t given = 0;
  bool ended = false;
  while (given < size && !ended) {
    std::size_t want = static_cast<std::size_t>(std::min<uint64_t>(sizeof buffer, size - given));
    std::size_t n = source(buffer, want);
    if (n == 0) ended = true;
    put(buffer, n);
    given += n;
  }
  for (uint64_t left = size - given; left > 0;) {  // shrank while read: zeros keep the archive whole
    std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(sizeof buffer, left));
    std::memset(buffer, 0, n);
    put(buffer, n);
    left -= n;
  }
  pad();
  return given;
}

void TarWriter::finish() {
  static const char zeros[2 * kBlock] = {};
  put(zeros, sizeof zeros);
}

void TarReader::damaged(const std::string& why) const {
  throw verification_error("'" + what_ + "' is damaged: " + why,
                           "use another backup (auditpitr list); 'auditpitr check' tells which are sound");
}

void TarReader::fill(char* buffer, std::size_t size, const char* what) {
  for (std::size_t got = 0; got < size;) {
    std::size_t n = source_(buffer + got, size - got);
    if (n == 0) damaged(std::string("the tar stream ends in the middle of ") + what + " (truncated)");
    got += n;
  }
}

void TarReader::skip(uint64_t size) {
  static thread_local char buffer[1 << 16];
  while (size > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(size, sizeof buffer));
    fill(buffer, n, "a file's content");
    size -= n;
  }
}

std::string TarReader::read_text(uint64_t size) {
  if (size > (1u << 20)) damaged("an extended header of " + std::to_string(size) + " bytes");
  std::string text(static_cast<std::size_t>(size), '\0');
  fill(text.data(), text.size(), "an extended header");
  skip((kBlock - size % kBlock) % kBlock);
  return text;
}

std::size_t TarReader::read(char* buffer, std::size_t capacity) {
  if (remaining_ == 0) return 0;
  std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(capacity, remaining_));
  fill(buffer, n, "a file's content");
  remaining_ -= n;
  return n;
}

bool TarReader::next(TarEntry& entry) {
  skip(remaining_ + padding_);
  remaining_ = padding_ = 0;
  std::string long_name, long_link, pax_size;
  bool have_long_name = false, have_long_link = false;
  char block[kBlock];
  for (;;) {
    std::size_t got = 0;
    while (got < kBlock) {
      std::size_t n = source_(block + got, kBlock - got);
      if (n == 0) break;
      got += n;
    }
    if (got == 0) {  // no end marker: tolerated (some writers omit it) unless inside an entry's headers
      if (have_long_name || have_long_link || !pax_size.empty())
        damaged("the tar stream ends after an extended header");
      return false;
    }
    if (got < kBlock) damaged("the tar stream ends in the middle of a header (truncated)");
    if (all_zero(block)) return false;  // end of archive; what follows (padding) is not read
    if (!checksum_ok(block)) damaged("a tar header's checksum does not match (not a tar archive, or damaged)");
    char type = block[156];
    uint64_t size = 0;
    if (!parse_number(block + 124, 12, size)) damaged("a tar header's size is not a number");
    if (type == 'L' || type == 'K') {  // GNU: the next entry's long name or link target
      std::string text = read_text(size);
      (type == 'L' ? long_name : long_link) = text.substr(0, strnlen(text.c_str(), text.size()));
      (type == 'L' ? have_long_name : have_long_link) = true;
      continue;
    }
    if (type == 'x' || type == 'g') {  // pax: per-entry or global records
      std::string text = read_text(size);
      for (std::size_t at = 0; at < text.size();) {
        std::size_t space = text.find(' ', at);
        std::string digits = space == std::string::npos ? "" : text.substr(at, space - at);
        bool decimal = !digits.empty() && digits.size() < 10 &&
                       std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
        uint64_t length = decimal ? std::strtoull(digits.c_str(), nullptr, 10) : 0;
        if (!decimal || length <= digits.size() + 2 || at + length > text.size() || text[at + length - 1] != '\n')
          damaged("a pax extended header is malformed");
        std::string record = text.substr(space + 1, at + length - space - 2);
        std::size_t eq = record.find('=');
        if (eq != std::string::npos && type == 'x') {
          std::string key = record.substr(0, eq), value = record.substr(eq + 1);
          if (key == "path") long_name = value, have_long_name = true;
          if (key == "linkpath") long_link = value, have_long_link = true;
          if (key == "size") pax_size = value;
        }
        at += length;
      }
      continue;
    }
    bool posix = std::memcmp(block + 257, "ustar\0", 6) == 0;
    std::string name = field_text(block, 100);
    if (posix && block[345] != '\0') name = field_text(block + 345, 155) + "/" + name;
    if (have_long_name) name = long_name;
    std::string link = have_long_link ? long_link : field_text(block + 157, 100);
    if (!pax_size.empty()) {
      char* end = nullptr;
      size = std::strtoull(pax_size.c_str(), &end, 10);
      if (!end || *end != '\0') damaged("a pax size is not a number");
    }
    std::string why;
    std::vector<std::string> parts = safe_member_name(name, why);
    if (!why.empty())
      throw verification_error("'" + what_ + "' holds " + why + ": it is not extracted",
                               "an archive auditpitr restores must stay inside its folder; extract it by hand, "
                               "with care, if it is yours");
    entry = TarEntry{};
    for (const auto& p : parts) entry.name += (entry.name.empty() ? "" : "/") + p;
    uint64_t mode = 0, mtime = 0, uid = 0, gid = 0;
    parse_number(block + 100, 8, mode);
    parse_number(block + 136, 12, mtime);
    parse_number(block + 108, 8, uid);
    parse_number(block + 116, 8, gid);
    entry.uid = static_cast<unsigned>(uid);
    entry.gid = static_cast<unsigned>(gid);
    entry.mode = static_cast<unsigned>(mode & 0777);
    entry.mtime = static_cast<std::time_t>(mtime);
    if (type == '0' || type == '\0' || type == '7') {
      entry.type = TarEntry::Type::file;
      entry.size = size;
      if (parts.empty()) damaged("a file entry has no name");
      if (name.back() == '/' && type == '\0') entry.type = TarEntry::Type::directory;  // old tar: a folder
    } else if (type == '5') {
      entry.type = TarEntry::Type::directory;
    } else if (type == '2') {
      entry.type = TarEntry::Type::symlink;
      entry.link = link;
      if (parts.empty() || !link_stays_inside(parts, link))
        throw verification_error("'" + what_ + "' holds a symbolic link '" + name + "' -> '" + link +
                                     "' that points outside its folder: it is not extracted",
                                 "an archive auditpitr restores must stay inside its folder; extract it by hand, "
                                 "with care, if it is yours");
    } else if (type == '1') {
      throw verification_error(
          "'" + what_ + "' holds a hard link '" + name + "' -> '" + link + "', which auditpitr does not extract",
          "extract it by hand with tar, or archive the folder again without hard links");
    } else {
      throw verification_error(
          "'" + what_ + "' holds '" + name + "' of tar type '" + std::string(1, type) +
              "' (a device, a pipe or a sparse file), which auditpitr does not extract",
          "only regular files, folders and symbolic links are carried; extract it by hand with tar");
    }
    if (entry.type == TarEntry::Type::file) {
      remaining_ = size;
      padding_ = (kBlock - size % kBlock) % kBlock;
    } else {
      padding_ = 0;
      remaining_ = 0;
      skip((size + kBlock - 1) / kBlock * kBlock);  // a folder or link carries no content: skipped
    }
    return true;
  }
}

}  // namespace auditpitr
