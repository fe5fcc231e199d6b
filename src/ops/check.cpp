// check_backup: the file is read once; the compressed bytes feed sha256, the inflated bytes feed
// `pg_restore --list` on stdin, and whatever pg_restore does not need is still inflated for the CRC
// (CheckDepth::full). Before a restore with a manifest, the sha256 is taken from a plain read and
// only the table of contents is inflated: inflating is ~5x the cost of hashing, and the restore
// inflates (and CRC-checks) the whole file anyway.
#include "src/ops/check.h"

#include <cerrno>
#include <cstdio>
#include <exception>

#include "src/error.h"
#include "src/ops/dump_reader.h"
#include "src/pg/pg_tools.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "src/util/interrupt.h"
#include "src/util/sha256.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

int count_toc_entries(const std::string& listing) {
  int entries = 0;
  std::size_t start = 0;
  while (start < listing.size()) {
    std::size_t end = listing.find('\n', start);
    if (end == std::string::npos) end = listing.size();
    if (end > start && listing[start] != ';') ++entries;
    start = end + 1;
  }
  return entries;
}

// sha256 and size of the file as it is on disk.
std::string hash_file(const std::string& path, uint64_t& size) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw system_error("unable to open '" + path + "'", errno);
  Sha256 sha;
  static thread_local char buffer[1 << 17];
  size = 0;
  for (std::size_t n; !interrupt_requested() && (n = std::fread(buffer, 1, sizeof buffer, file)) > 0; size += n)
    sha.update(buffer, n);
  bool failed = std::ferror(file) != 0;
  int error = errno;
  std::fclose(file);
  throw_if_interrupted();
  if (failed) throw system_error("unable to read '" + path + "'", error);
  return sha.hex_digest();
}

}  // namespace

pg::Tool pg_restore_for(const Config& config, int server_version_num, pg::ProcessRunner& runner,
                        const std::string& server) {
  if (server_version_num > 0) {
    pg::PgTools tools(runner, config.pg_bin_dir, config.pg_exec);
    return tools.find("pg_restore", server_version_num, server);
  }
  std::string in_folder = config.pg_bin_dir.empty() ? "" : join_path(config.pg_bin_dir, "pg_restore");
  if (!config.pg_exec.empty()) return pg::Tool(in_folder.empty() ? "pg_restore" : in_folder, config.pg_exec);
  if (!in_folder.empty()) return in_folder;
  std::string path = pg::find_program("pg_restore");
  if (path.empty()) throw runtime_error("pg_restore not found", "install postgresql-client or set [tools] bin_dir");
  return path;
}

namespace {

// What the file's name and its manifest say about its encryption, when they disagree ("" otherwise).
std::string encryption_mismatch(const BackupFile& backup, const verify::Manifest& manifest) {
  if (manifest.encrypted() == backup.encrypted) return "";
  return manifest.encrypted() ? "its manifest says it is encrypted (" + manifest.encryption.method +
                                    ") but its name does not end in .age: renamed?"
                              : "its name ends in .age but its manifest says it is not encrypted: renamed?";
}

// The file's size and sha256 against its manifest's, the size first: "" when both agree.
std::string file_mismatch(uint64_t file_size, const std::string& digest, const verify::Manifest& manifest) {
  if (file_size != manifest.file_size)
    return "size is " + std::to_string(file_size) + " bytes, the manifest says " + std::to_string(manifest.file_size);
  if (digest != manifest.file_sha256)
    return "sha256 " + digest + " does not match the manifest's " + manifest.file_sha256;
  return "";
}

// An encrypted file without the key: its age header, and its size and sha256 against the manifest.
CheckResult check_without_identity(CheckResult r, const BackupFile& backup, const verify::Manifest& manifest) {
  r.contents_unverified = true;
  r.not_verified =
      "its contents (gzip CRCs, pg_restore reading its table of contents) were not verified: no identity to "
      "decrypt it with (set [backup] identity_file or pass --identity FILE)";
  AgeHeader header = read_age_header(backup.path);
  uint64_t file_size = 0;
  std::string digest = hash_file(backup.path, file_size);
  r.sha256_ok = r.has_manifest && digest == manifest.file_sha256 && file_size == manifest.file_size;
  std::size_t recipients = manifest.encryption.recipients.size();
  std::string mismatch = r.has_manifest ? file_mismatch(file_size, digest, manifest) : "";
  if (!header.problem.empty()) {
    r.problem = header.problem;
  } else if (!mismatch.empty()) {
    r.problem = mismatch;
  } else if (r.has_manifest && !encryption_mismatch(backup, manifest).empty()) {
    r.problem = encryption_mismatch(backup, manifest);
  } else if (r.has_manifest && header.stanza_types.size() != recipients) {
    r.problem = "its age header names " + std::to_string(header.stanza_types.size()) + " recipients, the manifest " +
                std::to_string(recipients);
  }
  r.verified = {file_size, digest, manifest.uncompressed_size, true, {}};
  return r;
}

}  // namespace

CheckResult check_backup(const Config& config, const BackupFile& backup, pg::ProcessRunner& runner, CheckDepth depth) {
  CheckResult r;
  r.dbname = backup.dbname;
  r.stamp = backup.stamp;
  r.path = backup.path;
  verify::Manifest manifest;
  r.has_manifest = backup.has_manifest;
  if (backup.has_manifest) {
    try {
      manifest = verify::load_manifest(backup.manifest_path);
    } catch (const Error& e) {
      r.has_manifest = false;
      r.manifest_problem = e.what();
    }
  } else if (backup.written_by_auditpitr) {
    r.manifest_problem = "its manifest '" + base_name(backup.manifest_path) + "' is missing";
  }
  r.encrypted = backup.encrypted;
  IdentitySource identity = identity_of(config);
  if (backup.encrypted) {
    if (identity.path.empty() && depth == CheckDepth::full) return check_without_identity(r, backup, manifest);
    require_identity(identity, "reading backup '" + base_name(backup.path) + "'");
  }
  pg::Tool pg_restore = pg_restore_for(config, r.has_manifest ? manifest.server_version_num : 0, runner);

  r.crc_deferred = depth == CheckDepth::before_restore && r.has_manifest;
  DumpReader reader(open_backup_file(backup.path), backup.path, backup.encrypted, identity, runner);
  PlainArchiveReader archive(reader);
  Sha256 sha, gzip_sha;
  if (!r.crc_deferred) reader.on_file_bytes([&](const char* d, std::size_t n) { sha.update(d, n); });
  if (!r.crc_deferred && backup.encrypted)
    reader.on_gzip_bytes([&](const char* d, std::size_t n) { gzip_sha.update(d, n); });
  std::string gzip_error;
  std::exception_ptr not_damage;  // the identity does not fit, a stop: for the caller, not a verdict on the file
  auto read_some = [&](char* buffer, std::size_t capacity) -> std::size_t {
    throw_if_interrupted();  // outside the try: a stop is not damage
    if (!gzip_error.empty() || not_damage) return 0;
    try {
      std::size_t n = archive.read(buffer, capacity);
      r.uncompressed_size += n;
      // No more than the manifest promises: a dump grown with compressed zeros stops here.
      if (r.has_manifest && r.uncompressed_size > manifest.uncompressed_size) {
        gzip_error = "it inflates to more than the " + std::to_string(manifest.uncompressed_size) +
                     " bytes its manifest records";
        return 0;
      }
      return n;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::usage || e.kind() == ErrorKind::refused || e.kind() == ErrorKind::interrupted ||
          e.kind() == ErrorKind::terminated)
        not_damage = std::current_exception();
      else gzip_error = gzip_problem(e);
      return 0;
    }
  };
  pg::Command list = pg_restore.command({"--list"});
  list.capture_stdout = true;
  list.stdin_source = read_some;
  pg::ProcessResult listed = runner.run(list);
  if (not_damage) std::rethrow_exception(not_damage);
  uint64_t file_size = 0;
  std::string digest;
  if (r.crc_deferred) {
    digest = hash_file(backup.path, file_size);
  } else {
    static thread_local char rest[1 << 16];
    while (read_some(rest, sizeof rest) > 0) {
    }
    if (not_damage) std::rethrow_exception(not_damage);
    digest = sha.hex_digest();
    file_size = reader.file_bytes();
  }
  std::string gzip_digest = backup.encrypted && !r.crc_deferred ? gzip_sha.hex_digest() : "";
  r.gzip_ok = gzip_error.empty();
  r.toc_ok = listed.ok();
  r.toc_entries = count_toc_entries(listed.stdout_text);
  r.sha256_ok = r.has_manifest && digest == manifest.file_sha256 && file_size == manifest.file_size;

  std::string mismatch = r.has_manifest ? file_mismatch(file_size, digest, manifest) : "";
  // A size or sha256 mismatch is the better diagnosis than the gzip error it may also cause.
  if (r.crc_deferred && !mismatch.empty()) {
    r.problem = mismatch;
  } else if (!r.gzip_ok) {
    r.problem = gzip_error;
  } else if (!mismatch.empty()) {
    r.problem = mismatch;
  } else if (r.has_manifest && !encryption_mismatch(backup, manifest).empty()) {
    r.problem = encryption_mismatch(backup, manifest);
  } else if (r.has_manifest && !gzip_digest.empty() && gzip_digest != manifest.encryption.gzip_sha256) {
    r.problem = "decrypted, its gzip stream's sha256 " + gzip_digest + " does not match the manifest's " +
                manifest.encryption.gzip_sha256;
  } else if (!r.toc_ok) {
    r.problem = "pg_restore cannot read the dump's table of contents: " + listed.last_stderr_line();
  }
  r.verified = {file_size, digest, r.has_manifest ? manifest.uncompressed_size : r.uncompressed_size, backup.encrypted,
                identity};
  return r;
}

}  // namespace auditpitr::ops
