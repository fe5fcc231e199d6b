// pull_backup: download beside the final names, compare with push's record, check each dump as
// 'auditpitr check' does, and only then rename into place (manifests last, as a backup writes them).
#include <algorithm>
#include <cctype>
#include <memory>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/ops/check.h"
#include "src/ops/dump_reader.h"
#include "src/ops/file_archive.h"
#include "src/ops/push.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/interrupt.h"
#include "src/util/sha256.h"

namespace auditpitr::ops {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string list_hint(const RemoteConfig& remote) {
  return "'auditpitr list --remote " + remote.name + "' shows what the remote holds";
}

const remote::RemoteSet& find_set(const Config& config, const RemoteConfig& remote,
                                  const remote::RemoteListing& listing, const std::string& typed) {
  std::string stamp = typed;
  if (lower(typed) == "latest") {
    std::vector<std::string> dbs;
    for (const auto& db : config.databases) dbs.push_back(db.dbname);
    stamp = listing.latest(dbs);
    if (stamp.empty())
      throw usage_error("remote " + listing.where + " holds no complete backup of every configured database",
                        list_hint(remote));
  } else if (!is_stamp(stamp)) {
    throw usage_error("'" + typed + "' is not a backup stamp", "stamps look like 20250123_140530, or use 'latest'");
  }
  const remote::RemoteSet* set = listing.find(stamp);
  if (!set) throw usage_error("remote " + listing.where + " holds no backup " + stamp, list_hint(remote));
  if (!set->record)
    throw verification_error("backup " + stamp + " on remote " + listing.where +
                                 " is incomplete: its push did not finish (no record of it there)",
                             "push it again from the machine that made it, or pull another; " + list_hint(remote));
  if (!set->problems.empty())
    throw verification_error("backup " + stamp + " on remote " + listing.where + " is " + set->state(),
                             "push it again from the machine that made it, or pull another; " + list_hint(remote));
  return *set;
}

struct Download {
  const remote::PushedFile* file;
  std::unique_ptr<AtomicFile> temporary;
};

}  // namespace

PullResult pull_backup(const Config& config, const RemoteConfig& remote, remote::RemoteStore& store,
                       const std::string& stamp_or_latest, pg::ProcessRunner& runner, const Reporter& reporter) {
  remote::RemoteListing listing = remote::read_remote(store, false);
  const remote::RemoteSet& set = find_set(config, remote, listing, stamp_or_latest);
  const remote::PushRecord& record = *set.record;
  PullResult result;
  result.remote = remote.name;
  result.stamp = set.stamp;
  ensure_directory(config.backup_dir, 0700);
  require_private_folder(config.backup_dir);

  std::vector<Download> downloads;
  for (const auto& f : record.files) {
    std::string final_path = join_path(config.backup_dir, f.name);
    if (path_exists(final_path)) {
      if (sha256_of_file(final_path) != f.sha256)
        throw refused_error("'" + final_path + "' exists and differs from its copy on remote " + listing.where,
                            "pull replaces nothing: move that file away first if the remote's copy is wanted");
      result.already_here.push_back(f.name);
      continue;
    }
    throw_if_interrupted();
    reporter.info("downloading " + f.name + " (" + human_size(f.size) + ")");
    Download d{&f, std::make_unique<AtomicFile>(final_path, 0600)};
    Sha256 sha;
    uint64_t size = 0;
    store.read(f.name, [&](const char* data, std::size_t n) {
      d.temporary->write(data, n);
      sha.update(data, n);
      size += n;
    });
    std::string digest = sha.hex_digest();
    if (size != f.size || digest != f.sha256)
      throw verification_error(
          "the copy of '" + f.name + "' on remote " + listing.where + " is damaged: " +
              (size != f.size ? std::to_string(size) + " bytes, push recorded " + std::to_string(f.size)
                              : "its sha256 is " + digest + ", push recorded " + f.sha256),
          "nothing was written to the backup folder; pull another backup (" + list_hint(remote) +
              "), or push this one again from the machine that made it");
    result.bytes += size;
    result.downloaded.push_back({f.name, size, digest});
    downloads.push_back(std::move(d));
  }
  auto temporary_of = [&](const std::string& name) {
    for (const auto& d : downloads)
      if (d.file->name == name) return d.temporary->temp_path();
    return join_path(config.backup_dir, name);
  };
  for (const auto& f : record.files) {
    if (f.kind == "archive") {
      ArchiveFile a;
      a.name = f.archive;
      a.stamp = record.stamp;
      a.path = temporary_of(f.name);
      std::string manifest = archive_manifest_file_name(f.archive, record.stamp);
      a.has_manifest = record.file(manifest) != nullptr;
      a.manifest_path = temporary_of(manifest);
      a.written_by_auditpitr = f.written_by_auditpitr;
      a.encrypted = encrypted_name(f.name);
      a.size = f.size;
      reporter.info("checking " + f.name + "...");
      ArchiveCheck check = check_archive(a, identity_of(config), runner);
      if (!check.sound())
        throw verification_error(
            "the copy of '" + f.name + "' on remote " + listing.where + " is damaged: " + check.problem,
            "nothing was written to the backup folder; pull another backup (" + list_hint(remote) + ")");
      ++result.checked_archives;
      continue;
    }
    if (f.kind != "dump") continue;
    BackupFile b;
    b.dbname = f.dbname;
    b.stamp = record.stamp;
    b.path = temporary_of(f.name);
    std::string manifest = manifest_file_name(f.dbname, record.stamp);
    b.has_manifest = record.file(manifest) != nullptr;
    b.manifest_path = temporary_of(manifest);
    b.written_by_auditpitr = f.written_by_auditpitr;
    b.encrypted = encrypted_name(f.name);
    b.run_databases = f.run_databases;
    b.run_files = f.run_files;
    b.size = f.size;
    reporter.info("checking " + f.name + "...");
    CheckResult check = check_backup(config, b, runner, CheckDepth::full);
    if (!check.sound())
      throw verification_error(
          "the copy of '" + f.name + "' on remote " + listing.where + " is damaged: " + check.problem,
          "nothing was written to the backup folder; pull another backup (" + list_hint(remote) + ")");
    ++result.checked_dumps;
  }
  // Dumps and uploads first, manifests last: as a backup commits them.
  std::stable_partition(downloads.begin(), downloads.end(),
                        [](const Download& d) { return d.file->kind == "dump" || d.file->kind == "archive"; });
  for (auto& d : downloads) d.temporary->commit(AtomicFile::Replace::never);
  reporter.success("pulled backup " + record.stamp + " from " + listing.where + " into " + config.backup_dir +
                   " and checked it (" + std::to_string(result.checked_dumps) + " dump(s) sound)");
  return result;
}

}  // namespace auditpitr::ops
