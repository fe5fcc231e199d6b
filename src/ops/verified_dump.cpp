// VerifiedDump: open without following links, inflate into an AtomicFile while hashing, compare.
#include "src/ops/verified_dump.h"

#include <sys/statvfs.h>

#include <cerrno>

#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/ops/dump_reader.h"
#include "src/util/format.h"
#include "src/util/gzip.h"
#include "src/util/interrupt.h"
#include "src/util/sha256.h"

namespace auditpitr::ops {
namespace {

constexpr uint64_t kFreeSpaceMargin = 64u << 20;  // what the file system and the server's own writes may need meanwhile

std::string without_suffix(const std::string& path, const std::string& suffix) {
  bool has = path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  return has ? path.substr(0, path.size() - suffix.size()) : path;
}

// Where the copy goes (beside the dump, as "<dbname>_<stamp>.dump"), once there is room for it.
std::string copy_name(const std::string& dump_path, uint64_t uncompressed_size) {
  require_free_space(parent_path(dump_path), uncompressed_size, "the inflated copy of '" + base_name(dump_path) + "'");
  return without_suffix(without_suffix(dump_path, kEncryptedSuffix), ".gz");
}

[[noreturn]] void changed(const std::string& dump, const std::string& what) {
  throw verification_error(
      "backup '" + base_name(dump) + "' is not the file that was checked: " + what + "; nothing was restored from it",
      "something replaced or changed it since the check; look at who can write into the backup "
      "folder, then run 'auditpitr check' on it");
}

}  // namespace

uint64_t free_space_margin() { return kFreeSpaceMargin; }

bool room_for(uint64_t free_bytes, uint64_t bytes) { return free_bytes >= bytes + kFreeSpaceMargin; }

uint64_t free_space(const std::string& folder) {
  struct statvfs fs {};
  if (::statvfs(folder.c_str(), &fs) != 0)
    throw system_error("unable to read the free space of '" + folder + "'", errno);
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

void require_room(const std::string& folder, uint64_t free_bytes, uint64_t bytes, const std::string& what,
                  const std::string& hint) {
  if (!room_for(free_bytes, bytes))
    throw runtime_error("not enough free space in '" + folder + "' for " + what + ": it needs " + human_size(bytes) +
                            " (and a margin of " + human_size(kFreeSpaceMargin) + "), " + human_size(free_bytes) +
                            " are free",
                        hint.empty() ? "free some space there, then run this again" : hint);
}

void require_free_space(const std::string& folder, uint64_t bytes, const std::string& what, const std::string& hint) {
  require_room(folder, free_space(folder), bytes, what, hint);
}

VerifiedDump::VerifiedDump(const std::string& dump_path, const DumpExpectation& expected, pg::ProcessRunner& runner,
                           Data data)
    : copy_(copy_name(dump_path, expected.uncompressed_size), 0600) {
  if (expected.encrypted) require_identity(expected.identity, "reading backup '" + base_name(dump_path) + "'");
  DumpReader reader(open_backup_file(dump_path), dump_path, expected.encrypted, expected.identity, runner);
  PlainArchiveReader archive(reader);
  Sha256 sha;
  reader.on_file_bytes([&](const char* data, std::size_t size) { sha.update(data, size); });
  static thread_local char buffer[1 << 17];
  uint64_t inflated = 0;
  try {
    auto read = [&] {
      return data == Data::inflated ? archive.read(buffer, sizeof buffer) : reader.read(buffer, sizeof buffer);
    };
    for (std::size_t n; (n = read()) > 0;) {
      inflated += n;
      // Stops a file grown with compressed zeros before it fills the disk.
      if (inflated > expected.uncompressed_size)
        changed(dump_path, "it inflates to more than the " + std::to_string(expected.uncompressed_size) +
                               " bytes that were checked");
      copy_.write(buffer, n);
      throw_if_interrupted();  // the copy's temporary file goes with it
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::verification || e.cause().empty()) throw;  // not the reader's damage verdict
    throw verification_error("backup '" + base_name(dump_path) + "' is damaged: " + gzip_problem(e),
                             expected.encrypted ? "use another backup (auditpitr list shows them)"
                                                : "use another backup (auditpitr list shows them); gunzip -t gives the "
                                                  "same verdict");
  }
  if (reader.file_bytes() != expected.file_size)
    changed(dump_path, "its size is " + std::to_string(reader.file_bytes()) + " bytes, the check found " +
                           std::to_string(expected.file_size));
  std::string digest = sha.hex_digest();
  if (digest != expected.file_sha256)
    changed(dump_path, "its sha256 is " + digest + ", the check found " + expected.file_sha256);
}

}  // namespace auditpitr::ops
