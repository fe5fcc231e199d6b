// Writing and checking file archives: the folder walked in name order into a tar stream, through
// gzip and sha256 into a temporary file (the dump's pipeline); checking reads it back whole through
// the same TarReader a restore extracts with, so that what check calls sound is what restores.
#include "src/ops/file_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "src/error.h"
#include "src/ops/backup.h"
#include "src/ops/backup_file.h"
#include "src/ops/dump_reader.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "src/util/interrupt.h"
#include "src/util/json_writer.h"
#include "src/util/pause_point.h"
#include "src/util/sha256.h"

namespace auditpitr::ops {
namespace {

using verify::invalid_manifest;
using verify::manifest_string;
using verify::manifest_uint;

class FolderWalker {
 public:
  FolderWalker(TarWriter& tar, FolderCounts& counts) : tar_(tar), counts_(counts) {}

  // `path` is a folder already lstat'ed; `name` its member name.
  void folder(const std::string& path, const std::string& name, const struct stat& st) {
    throw_if_interrupted();
    tar_.set_owner(st.st_uid, st.st_gid);
    tar_.directory(name, st.st_mode & 07777, st.st_mtime);
    ++counts_.directories;
    DIR* dir = ::opendir(path.c_str());
    if (!dir) throw system_error("unable to read the folder '" + path + "'", errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    int error = errno;
    ::closedir(dir);
    if (error) throw system_error("unable to read the folder '" + path + "'", error);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) entry(join_path(path, n), name + "/" + n);
  }

 private:
  void entry(const std::string& path, const std::string& name) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return;  // deleted since the folder was read: as tar, not archived
      throw system_error("unable to read '" + path + "'", errno);
    }
    tar_.set_owner(st.st_uid, st.st_gid);
    if (S_ISDIR(st.st_mode)) {
      folder(path, name, st);
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      if (n < 0) throw system_error("unable to read the link '" + path + "'", errno);
      target.resize(static_cast<std::size_t>(n));
      tar_.symlink(name, target, st.st_mtime);
      ++counts_.symlinks;
    } else if (S_ISREG(st.st_mode)) {
      file(path, name, st);
    } else {
      counts_.skipped.push_back(path);
    }
  }

  void file(const std::string& path, const std::string& name, const struct stat& st) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT) return;
      throw system_error("unable to read '" + path + "'", errno);
    }
    int read_error = 0;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t given = tar_.file(name, st.st_mode & 07777, st.st_mtime, size, [&](char* buffer, std::size_t capacity) {
      throw_if_interrupted();
      ssize_t n;
      do n = ::read(fd, buffer, capacity);
      while (n < 0 && errno == EINTR);
      if (n < 0) read_error = errno;
      return n > 0 ? static_cast<std::size_t>(n) : std::size_t{0};
    });
    char probe;
    bool grew = given == size && ::read(fd, &probe, 1) == 1;
    ::close(fd);
    if (read_error) throw system_error("unable to read '" + path + "'", read_error);
    if (given != size || grew) counts_.changed.push_back(path);
    ++counts_.files;
    counts_.content_bytes += size;
  }

  TarWriter& tar_;
  FolderCounts& counts_;
};

// Streams the folder through tar and gzip into the backup file (encrypted there when configured).
struct ArchiveWriter {
  BackupFileWriter file;
  GzipWriter gzip;
  ArchiveWriter(const std::string& path, const Config& config, pg::ProcessRunner& runner)
      : file(path, config.encrypt_to, runner),
        gzip([this](const char* d, std::size_t n) { file.write(d, n); }, config.compression_level,
             std::max(1u, std::min(4u, std::thread::hardware_concurrency())), kArchiveMarker) {}
};

// An encrypted archive without the key: its age header, and its size and sha256 against the manifest.
void check_encrypted_file(ArchiveCheck& r, const ArchiveFile& archive, const ArchiveManifest& manifest) {
  r.contents_unverified = true;
  r.not_verified =
      "its contents (gzip CRCs, the tar stream, its file count) were not verified: no identity to decrypt it with "
      "(set [backup] identity_file or pass --identity FILE)";
  AgeHeader header = read_age_header(archive.path);
  uint64_t size = file_size(archive.path);
  std::string digest = sha256_of_file(archive.path);
  r.sha256_ok = r.has_manifest && digest == manifest.file_sha256 && size == manifest.file_size;
  if (!header.problem.empty()) r.problem = header.problem;
  else if (r.has_manifest && size != manifest.file_size)
    r.problem = "size is " + std::to_string(size) + " bytes, the manifest says " + std::to_string(manifest.file_size);
  else if (r.has_manifest && digest != manifest.file_sha256)
    r.problem = "sha256 " + digest + " does not match the manifest's " + manifest.file_sha256;
  else if (r.has_manifest && manifest.encryption.method.empty())
    r.problem = "its name ends in .age but its manifest says it is not encrypted: renamed?";
}

}  // namespace

std::string archive_manifest_to_json(const ArchiveManifest& m) {
  JsonWriter w;
  w.begin_object().field("format", m.format).field("kind", "files").field("tool_version", m.tool_version);
  w.field("name", m.name).field("stamp", m.stamp).field("source_path", m.source_path);
  w.field("file_name", m.file_name).field("file_size", m.file_size).field("file_sha256", m.file_sha256);
  w.field("uncompressed_size", m.uncompressed_size).field("file_count", m.file_count);
  w.field("directory_count", m.directory_count).field("symlink_count", m.symlink_count);
  verify::write_encryption(w, m.encryption);
  w.end_object();
  return w.str() + "\n";
}

ArchiveManifest load_archive_manifest(const std::string& path) {
  std::string text = read_small_file(path, 1u << 20);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) invalid_manifest(path, "not JSON");
  ArchiveManifest m;
  m.format = static_cast<int>(manifest_uint(doc, "format", path));
  if (m.format != 1) invalid_manifest(path, "format " + std::to_string(m.format) + " is not known to this version");
  if (manifest_string(doc, "kind", path) != "files") invalid_manifest(path, "not the manifest of a file archive");
  m.tool_version = manifest_string(doc, "tool_version", path);
  m.name = manifest_string(doc, "name", path);
  m.stamp = manifest_string(doc, "stamp", path);
  m.source_path = manifest_string(doc, "source_path", path);
  m.file_name = manifest_string(doc, "file_name", path);
  m.file_size = manifest_uint(doc, "file_size", path);
  m.file_sha256 = manifest_string(doc, "file_sha256", path);
  m.uncompressed_size = manifest_uint(doc, "uncompressed_size", path);
  m.file_count = manifest_uint(doc, "file_count", path);
  m.directory_count = manifest_uint(doc, "directory_count", path);
  m.symlink_count = manifest_uint(doc, "symlink_count", path);
  m.encryption = verify::read_encryption(doc, path);
  return m;
}

FolderCounts write_folder_tar(const std::string& folder, const std::string& top, const TarWriter::Sink& sink) {
  FolderCounts counts;
  TarWriter tar(sink);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) throw system_error("unable to read the folder '" + folder + "'", errno);
  if (!S_ISDIR(st.st_mode)) throw runtime_error("'" + folder + "' is not a folder");
  FolderWalker(tar, counts).folder(folder, top, st);
  tar.finish();
  return counts;
}

void require_archivable(const FilesConfig& files) {
  DIR* dir = ::opendir(files.path.c_str());
  if (dir) {
    ::closedir(dir);
    return;
  }
  throw system_error("the folder '" + files.path + "' of [[files]] '" + files.name + "' cannot be read", errno,
                     "nothing was written; create it, fix its permissions, or remove the [[files]] entry");
}

FilesBackup archive_folder(const Config& config, const FilesConfig& files, const std::string& stamp,
                           pg::ProcessRunner& runner, const Reporter& reporter) {
  auto start = std::chrono::steady_clock::now();
  FilesBackup result;
  result.name = files.name;
  result.source_path = files.path;
  result.path = join_path(config.backup_dir, archive_file_name(files.name, stamp, !config.encrypt_to.empty()));
  result.manifest_path = join_path(config.backup_dir, archive_manifest_file_name(files.name, stamp));
  ArchiveWriter writer(result.path, config, runner);
  FolderCounts counts = write_folder_tar(files.path, base_name(files.path),
                                         [&](const char* d, std::size_t n) { writer.gzip.write(d, n); });
  writer.gzip.finish();
  for (const auto& p : counts.skipped) reporter.warning("not archived (not a file, folder or link): " + p);
  for (const auto& p : counts.changed) reporter.warning("changed while it was archived: " + p);
  pause_point("files-before-rename");
  writer.file.commit();  // age's last bytes, fsync, rename
  ArchiveManifest m;
  m.tool_version = kToolVersion;
  m.name = files.name;
  m.stamp = stamp;
  m.source_path = files.path;
  m.file_name = base_name(result.path);
  m.file_size = writer.file.file_size();
  m.file_sha256 = writer.file.file_sha256();
  m.encryption = writer.file.encryption();
  m.uncompressed_size = writer.gzip.bytes_in();
  m.file_count = counts.files;
  m.directory_count = counts.directories;
  m.symlink_count = counts.symlinks;
  write_file_atomically(result.manifest_path, archive_manifest_to_json(m));
  result.size = m.file_size;
  result.file_count = m.file_count;
  result.content_bytes = counts.content_bytes;
  result.sha256 = m.file_sha256;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

ArchiveCheck check_archive(const ArchiveFile& archive, const IdentitySource& identity, pg::ProcessRunner& runner,
                           bool need_contents) {
  ArchiveCheck r;
  r.name = archive.name;
  r.stamp = archive.stamp;
  r.path = archive.path;
  ArchiveManifest manifest;
  r.has_manifest = archive.has_manifest;
  if (archive.has_manifest) {
    try {
      manifest = load_archive_manifest(archive.manifest_path);
    } catch (const Error& e) {
      r.has_manifest = false;
      r.manifest_problem = e.what();
    }
  } else if (archive.written_by_auditpitr) {
    r.manifest_problem = "its manifest '" + base_name(archive.manifest_path) + "' is missing";
  }
  r.encrypted = archive.encrypted;
  if (archive.encrypted) {
    if (identity.path.empty() && !need_contents) {
      check_encrypted_file(r, archive, manifest);
      return r;
    }
    require_identity(identity, "reading archive '" + base_name(archive.path) + "'");
  }
  Sha256 sha;
  uint64_t compressed = 0;
  std::string top;
  bool single_top = true;
  try {
    DumpReader gzip(open_backup_file(archive.path), archive.path, archive.encrypted, identity, runner);
    gzip.on_file_bytes([&](const char* d, std::size_t n) { sha.update(d, n); });
    auto source = [&](char* buffer, std::size_t capacity) {
      throw_if_interrupted();
      std::size_t n = gzip.read(buffer, capacity);
      r.uncompressed_size += n;
      if (r.has_manifest && r.uncompressed_size > manifest.uncompressed_size)
        throw verification_error("it inflates to more than the " + std::to_string(manifest.uncompressed_size) +
                                 " bytes its manifest records");
      return n;
    };
    TarReader tar(source, base_name(archive.path));
    TarEntry entry;
    static thread_local char buffer[1 << 16];
    bool any = false;
    while (tar.next(entry)) {
      if (entry.type == TarEntry::Type::file) {
        ++r.file_count;
        while (tar.read(buffer, sizeof buffer) > 0) {
        }
      }
      std::string first = entry.name.substr(0, entry.name.find('/'));
      bool under = entry.name.find('/') != std::string::npos || entry.type == TarEntry::Type::directory;
      if (entry.name.empty()) continue;  // "./" itself
      single_top = single_top && under && (!any || first == top);
      top = first;
      any = true;
    }
    while (source(buffer, sizeof buffer) > 0) {  // the rest (tar's padding) for the gzip CRC
    }
    compressed = gzip.file_bytes();
    r.top = single_top && any ? top : "";
  } catch (const Error& e) {
    // A stop, or an identity that does not fit: for the caller, not a verdict on the archive.
    if (e.kind() == ErrorKind::interrupted || e.kind() == ErrorKind::terminated || e.kind() == ErrorKind::usage ||
        e.kind() == ErrorKind::refused)
      throw;
    std::string what = e.what();
    std::string prefix = "'" + base_name(archive.path) + "' ";
    r.problem = what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : gzip_problem(e);
    if (r.problem.rfind("is damaged: ", 0) == 0) r.problem = r.problem.substr(12);
    return r;
  }
  std::string digest = sha.hex_digest();
  r.sha256_ok = r.has_manifest && digest == manifest.file_sha256 && compressed == manifest.file_size;
  if (r.has_manifest && compressed != manifest.file_size)
    r.problem =
        "size is " + std::to_string(compressed) + " bytes, the manifest says " + std::to_string(manifest.file_size);
  else if (r.has_manifest && digest != manifest.file_sha256)
    r.problem = "sha256 " + digest + " does not match the manifest's " + manifest.file_sha256;
  else if (r.has_manifest && r.file_count != manifest.file_count)
    r.problem =
        "it holds " + count_text(r.file_count, "file") + ", the manifest says " + std::to_string(manifest.file_count);
  return r;
}

}  // namespace auditpitr::ops
