// push_backups and prune_remote: copies under temporary names, verified, then renamed; a set's
// record written last; retention on the remote's records.
#include "src/ops/push.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>

#include "src/error.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/interrupt.h"
#include "src/util/sha256.h"

namespace auditpitr::ops {
namespace {

// The configured databases and [[files]] names: push and the remote's prune touch only their files.
PruneFacts configured_facts(const Config& config) {
  PruneFacts facts;
  for (const auto& db : config.databases) facts.databases.push_back(db.dbname);
  for (const auto& f : config.files) facts.files.push_back(f.name);
  return facts;
}

bool configured(const std::vector<std::string>& dbs, const std::string& dbname) {
  return std::find(dbs.begin(), dbs.end(), dbname) != dbs.end();
}

std::time_t mtime_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw system_error("unable to read '" + path + "'", errno);
  return st.st_mtime;
}

std::string utc_now(std::time_t now) {
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The best hash the store computes itself; else each copy is read back and sha256'd.
std::string verification_method(remote::RemoteStore& store) {
  std::vector<std::string> types = store.hash_types();
  for (const char* t : {"sha256", "sha1", "md5"})
    if (std::find(types.begin(), types.end(), t) != types.end()) return t;
  return "download";
}

std::string sha256_of_remote(remote::RemoteStore& store, const std::string& path, uint64_t& size) {
  Sha256 sha;
  size = 0;
  store.read(path, [&](const char* d, std::size_t n) {
    sha.update(d, n);
    size += n;
  });
  return sha.hex_digest();
}

// Size, then the checksum: the remote's own hash when it has one, else the copy read back.
void verify_copy(remote::RemoteStore& store, const std::string& method, const std::string& local,
                 const std::string& remote_path, const CopiedFile& file) {
  std::string where = "the copy of '" + file.name + "' on remote " + store.describe();
  auto object = store.stat(remote_path, method == "download" ? "" : method);
  if (!object) throw verification_error(where + " is not there after its upload");
  if (object->size != file.size)
    throw verification_error(where + " is " + std::to_string(object->size) + " bytes, not " +
                             std::to_string(file.size));
  if (method != "download" && !object->hash.empty()) {
    std::string expected = method == "sha256" ? file.sha256 : file_digest(local, method);
    if (object->hash != expected)
      throw verification_error(where + " does not match: its " + method + " is " + object->hash + ", the file's " +
                               expected);
    return;
  }
  uint64_t read = 0;
  std::string sha = sha256_of_remote(store, remote_path, read);
  if (read != file.size || sha != file.sha256)
    throw verification_error(where + " does not match: read back, its sha256 is " + sha + ", the file's " +
                             file.sha256);
}

// Upload under a temporary name, verify, rename: the final name only ever holds a verified copy.
CopiedFile copy_file(remote::RemoteStore& store, const std::string& method, const std::string& local,
                     const std::string& remote_path, const Reporter& reporter) {
  throw_if_interrupted();
  CopiedFile file;
  file.name = base_name(remote_path);
  file.size = file_size(local);
  file.sha256 = sha256_of_file(local);
  reporter.info("uploading " + remote_path + " (" + human_size(file.size) + ")");
  std::string temporary = temporary_name_for(remote_path);
  try {
    store.upload(local, temporary);
    verify_copy(store, method, local, temporary, file);
  } catch (...) {
    try {
      store.remove(temporary);
    } catch (const Error&) {  // the first failure is the one to report; list --remote shows the leftover
    }
    throw;
  }
  store.move(temporary, remote_path);
  return file;
}

PushedSet push_set(const BackupSet& set, const PruneFacts& facts, remote::RemoteStore& store, const std::string& method,
                   std::time_t now, const Reporter& reporter) {
  PushedSet pushed;
  pushed.stamp = set.stamp;
  remote::PushRecord record;
  record.stamp = set.stamp;
  record.verified_by = method;
  auto add = [&](const std::string& path, remote::PushedFile f) {
    CopiedFile c = copy_file(store, method, path, base_name(path), reporter);
    f.name = c.name;
    f.size = c.size;
    f.sha256 = c.sha256;
    if (f.mtime == 0) f.mtime = mtime_of(path);
    record.files.push_back(f);
    pushed.bytes += c.size;
    pushed.files.push_back(std::move(c));
  };
  const std::vector<std::string>& dbs = facts.databases;
  for (const auto& d : set.dumps) {
    if (!configured(dbs, d.dbname)) continue;
    remote::PushedFile f;
    f.kind = "dump";
    f.dbname = d.dbname;
    f.mtime = d.mtime;
    f.written_by_auditpitr = d.written_by_auditpitr;
    f.run_databases = d.run_databases;
    f.run_files = d.run_files;
    add(d.path, f);
  }
  for (const auto& a : set.archives) {
    if (!archive_is_ours(a.name, facts)) continue;
    remote::PushedFile f;
    f.kind = "archive";
    f.archive = a.name;
    f.mtime = a.mtime;
    f.written_by_auditpitr = a.written_by_auditpitr;
    add(a.path, f);
  }
  // Last: a dump or archive without its manifest is never taken for a whole backup.
  for (const auto& d : set.dumps) {
    if (!configured(dbs, d.dbname) || !d.has_manifest) continue;
    remote::PushedFile f;
    f.kind = "manifest";
    f.dbname = d.dbname;
    add(d.manifest_path, f);
  }
  for (const auto& a : set.archives) {
    if (!archive_is_ours(a.name, facts) || !a.has_manifest) continue;
    remote::PushedFile f;
    f.kind = "archive_manifest";
    f.archive = a.name;
    add(a.manifest_path, f);
  }
  record.pushed_at = utc_now(now);
  std::string final_path = remote::record_path(set.stamp);
  std::string temporary = temporary_name_for(final_path);
  std::string text = remote::record_json(record);
  store.write(temporary, text);
  auto object = store.stat(temporary, "");
  if (!object || object->size != text.size())
    throw verification_error("the record of backup " + set.stamp + " on remote " + store.describe() +
                             " was not written whole");
  store.move(temporary, final_path);
  reporter.success("pushed backup " + set.stamp + " to " + store.describe() + " (" + human_size(pushed.bytes) +
                   ", verified by " + (method == "download" ? "reading each copy back" : method) + ")");
  return pushed;
}

// The first `size` bytes of a log file, as they are now: the application keeps appending to it.
class Snapshot {
 public:
  Snapshot(const std::string& path, uint64_t size) {
    std::string pattern = temporary_folder() + "/auditpitr-push-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw system_error("unable to create a temporary file in '" + parent_path(pattern) + "'", errno);
    path_ = pattern;
    std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!in) {
      ::close(fd);
      throw system_error("unable to open '" + path + "'", errno);
    }
    static thread_local char buffer[1 << 16];
    uint64_t left = size;
    while (left > 0) {
      std::size_t n = std::fread(buffer, 1, std::min<uint64_t>(left, sizeof buffer), in.get());
      if (n == 0) break;
      if (::write(fd, buffer, n) != static_cast<ssize_t>(n)) {
        int saved = errno;
        ::close(fd);
        throw system_error("unable to write '" + path_ + "'", saved);
      }
      left -= n;
    }
    ::close(fd);
  }
  ~Snapshot() { ::unlink(path_.c_str()); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<std::string> log_files(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw system_error("unable to read the audit folder '" + dir + "'", errno);
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    struct stat st {};
    if (name.empty() || name[0] == '.' || !temporary_file_target(name).empty()) continue;
    if (::stat(join_path(dir, name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

LogsPush push_logs(const Config& config, const remote::RemoteListing& listing, remote::RemoteStore& store,
                   const std::string& method, const Reporter& reporter) {
  if (config.audit_dir.empty())
    throw usage_error("--logs: the configuration has no [audit] section naming the audit folder",
                      "add [audit] dir = \"audit\" (docs/configuration.md)");
  std::map<std::string, uint64_t> there;
  for (const auto& o : listing.logs) there[base_name(o.path)] = o.size;
  LogsPush logs;
  for (const auto& name : log_files(config.audit_dir)) {
    std::string path = join_path(config.audit_dir, name);
    uint64_t size = file_size(path);
    auto it = there.find(name);
    if (it != there.end() && it->second == size) {
      ++logs.unchanged;
      continue;
    }
    Snapshot snapshot(path, size);
    CopiedFile c = copy_file(store, method, snapshot.path(), std::string(remote::kAuditFolder) + "/" + name, reporter);
    c.name = name;
    logs.bytes += c.size;
    logs.uploaded.push_back(std::move(c));
  }
  reporter.success("audit logs on " + store.describe() + ": " + std::to_string(logs.uploaded.size()) +
                   " file(s) uploaded, " + std::to_string(logs.unchanged) + " unchanged");
  return logs;
}

bool keeps_forever(const RetentionPolicy& p) { return p.retention_days == 0 && !p.uses_generations(); }

}  // namespace

PushResult push_backups(const Config& config, const RemoteConfig& remote, remote::RemoteStore& store, bool logs,
                        std::time_t now, const Reporter& reporter) {
  PushResult result;
  result.remote = remote.name;
  result.rclone = remote.rclone;
  PruneFacts facts = configured_facts(config);
  const std::vector<std::string>& dbs = facts.databases;
  Catalog local = Catalog::scan(config.backup_dir);
  remote::RemoteListing listing = remote::read_remote(store, logs);
  result.verified_by = verification_method(store);

  std::vector<const BackupSet*> candidates;
  std::vector<BackupSet> planned;  // the remote as it would be: for its retention
  Catalog on_remote = listing.catalog();
  for (const auto& set : on_remote.sets()) planned.push_back(set);
  for (const auto& set : local.sets()) {
    bool held = false;
    for (const auto& d : set.dumps) held = held || configured(dbs, d.dbname);
    if (!held) continue;
    if (!set.not_latest_reason().empty()) {
      result.not_pushed.emplace_back(set.stamp, "not complete here: " + set.not_latest_reason());
      continue;
    }
    const remote::RemoteSet* there = listing.find(set.stamp);
    if (there && there->complete()) {
      result.already_there.push_back(set.stamp);
      continue;
    }
    candidates.push_back(&set);
    planned.push_back(set);
  }
  if (!keeps_forever(remote.retention)) {
    Catalog future = Catalog::of_sets(store.describe(), planned);
    PrunePlan plan = plan_prune(future, remote.retention, now, facts);
    std::vector<const BackupSet*> kept;
    for (const BackupSet* set : candidates) {
      bool expired = false;
      for (const BackupSet* e : plan.expired) expired = expired || e->stamp == set->stamp;
      if (expired)
        result.not_pushed.emplace_back(
            set->stamp, "the remote's retention (" + describe_policy(remote.retention) + ") would delete it at once");
      else kept.push_back(set);
    }
    candidates = kept;
  }
  for (const BackupSet* set : candidates) {
    const remote::RemoteSet* there = listing.find(set->stamp);
    if (there) reporter.info("backup " + set->stamp + " is on the remote " + there->state() + ": pushing it whole");
    PushedSet pushed = push_set(*set, facts, store, result.verified_by, now, reporter);
    pushed.repaired = there != nullptr;
    result.bytes += pushed.bytes;
    result.pushed.push_back(std::move(pushed));
  }
  if (logs) {
    result.logs = push_logs(config, listing, store, result.verified_by, reporter);
    result.bytes += result.logs->bytes;
  }
  if (!keeps_forever(remote.retention)) result.prune = prune_remote(config, remote, store, false, now, reporter);
  return result;
}

RemotePrune prune_remote(const Config& config, const RemoteConfig& remote, remote::RemoteStore& store, bool dry_run,
                         std::time_t now, const Reporter& reporter) {
  RemotePrune result;
  result.dry_run = dry_run;
  result.policy = describe_policy(remote.retention);
  remote::RemoteListing listing = remote::read_remote(store, false);
  Catalog catalog = listing.catalog();
  PruneFacts facts = configured_facts(config);
  PrunePlan plan = plan_prune(catalog, remote.retention, now, facts);
  for (const auto& [stamp, why] : plan.kept) result.kept.emplace_back(stamp, why);
  const std::string verb = dry_run ? "would delete" : "deleting";
  for (const BackupSet* set : plan.expired) {
    result.deleted_stamps.push_back(set->stamp);
    std::vector<std::string> files = files_to_delete(*set, facts);
    files.push_back(remote::record_path(set->stamp));  // last: a set half deleted shows as damaged, not gone
    for (const auto& file : files) {
      throw_if_interrupted();
      reporter.info(verb + " " + file + " on " + store.describe() + " (backup " + set->stamp +
                    " is not kept by the remote's retention: " + result.policy + ")");
      if (!dry_run) store.remove(file);
      result.deleted_files.push_back(file);
    }
  }
  return result;
}

}  // namespace auditpitr::ops
