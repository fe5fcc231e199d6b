// Reading an off-site copy: one listing of the root, one of audit/, and every record in one read.
#include "src/remote/remote_catalog.h"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <regex>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::remote {
namespace {

const std::regex kBackupName(
    R"(^(.+_)?(\d{8}_\d{6})\.(dump\.gz(\.age)?|manifest\.json|tar\.gz(\.age)?|tar\.gz\.manifest\.json)$)");

std::optional<PushRecord> parse_record(std::string_view line) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(line.data(), line.size()).get(e) != simdjson::SUCCESS) return std::nullopt;
  PushRecord r;
  std::string_view text;
  simdjson::dom::array files;
  if (e["stamp"].get(text) != simdjson::SUCCESS || !is_stamp(std::string(text))) return std::nullopt;
  r.stamp = std::string(text);
  if (e["pushed_at"].get(text) == simdjson::SUCCESS) r.pushed_at = std::string(text);
  if (e["verified_by"].get(text) == simdjson::SUCCESS) r.verified_by = std::string(text);
  if (e["files"].get(files) != simdjson::SUCCESS) return std::nullopt;
  for (simdjson::dom::element f : files) {
    PushedFile p;
    uint64_t number = 0;
    int64_t mtime = 0;
    if (f["name"].get(text) != simdjson::SUCCESS) return std::nullopt;
    p.name = std::string(text);
    if (f["kind"].get(text) == simdjson::SUCCESS) p.kind = std::string(text);
    if (f["dbname"].get(text) == simdjson::SUCCESS) p.dbname = std::string(text);
    if (f["archive"].get(text) == simdjson::SUCCESS) p.archive = std::string(text);
    if (f["size"].get(number) != simdjson::SUCCESS) return std::nullopt;
    p.size = number;
    if (f["sha256"].get(text) != simdjson::SUCCESS) return std::nullopt;
    p.sha256 = std::string(text);
    if (f["mtime"].get(mtime) == simdjson::SUCCESS) p.mtime = static_cast<std::time_t>(mtime);
    bool flag = false;
    if (f["written_by_auditpitr"].get(flag) == simdjson::SUCCESS) p.written_by_auditpitr = flag;
    simdjson::dom::array run;
    if (f["run_databases"].get(run) == simdjson::SUCCESS)
      for (simdjson::dom::element db : run)
        if (db.get(text) == simdjson::SUCCESS) p.run_databases.emplace_back(text);
    if (f["run_files"].get(run) == simdjson::SUCCESS)
      for (simdjson::dom::element name : run)
        if (name.get(text) == simdjson::SUCCESS) p.run_files.emplace_back(text);
    // A name is joined to the remote's root: nothing may lead out of it or be read as an option.
    if (p.name.empty() || p.name.find('/') != std::string::npos || p.name[0] == '-' || p.name[0] == '.')
      return std::nullopt;
    r.files.push_back(std::move(p));
  }
  return r;
}

}  // namespace

const PushedFile* PushRecord::file(const std::string& name) const {
  for (const auto& f : files)
    if (f.name == name) return &f;
  return nullptr;
}

std::string record_path(const std::string& stamp) { return std::string(kPushedFolder) + "/" + stamp + ".json"; }

std::string record_json(const PushRecord& record) {
  JsonWriter w(0);
  w.begin_object().field("format", 1).field("stamp", record.stamp).field("pushed_at", record.pushed_at);
  w.field("verified_by", record.verified_by).key("files").begin_array();
  for (const auto& f : record.files) {
    w.begin_object().field("name", f.name).field("kind", f.kind).field_or_null("dbname", f.dbname);
    w.field_or_null("archive", f.archive);
    w.field("size", f.size).field("sha256", f.sha256).field("mtime", static_cast<int64_t>(f.mtime));
    w.field("written_by_auditpitr", f.written_by_auditpitr).key("run_databases").begin_array();
    for (const auto& db : f.run_databases) w.value(db);
    w.end_array().key("run_files").begin_array();
    for (const auto& name : f.run_files) w.value(name);
    w.end_array().end_object();
  }
  w.end_array().end_object();
  std::string line = w.str();
  line.erase(std::remove(line.begin(), line.end(), '\n'), line.end());
  return line + "\n";
}

std::string RemoteSet::state() const {
  if (!record) return "incomplete: the push did not finish (no record)";
  if (!problems.empty()) {
    std::string text = "damaged: ";
    for (std::size_t i = 0; i < problems.size(); ++i) text += (i ? "; " : "") + problems[i];
    return text;
  }
  return "complete";
}

const RemoteSet* RemoteListing::find(const std::string& stamp) const {
  for (const auto& s : sets)
    if (s.stamp == stamp) return &s;
  return nullptr;
}

std::string RemoteListing::latest(const std::vector<std::string>& dbnames) const {
  for (const auto& s : sets) {
    if (!s.complete()) continue;
    bool all = !dbnames.empty();
    for (const auto& db : dbnames) {
      bool held = false;
      for (const auto& f : s.record->files) held = held || (f.kind == "dump" && f.dbname == db);
      all = all && held;
    }
    if (all) return s.stamp;
  }
  return "";
}

BackupSet backup_set_of(const PushRecord& record) {
  BackupSet set;
  set.stamp = record.stamp;
  for (const auto& f : record.files) {
    if (f.kind == "archive") {
      ArchiveFile a;
      a.name = f.archive;
      a.stamp = record.stamp;
      a.path = f.name;
      a.manifest_path = archive_manifest_file_name(f.archive, record.stamp);
      a.has_manifest = record.file(a.manifest_path) != nullptr;
      a.written_by_auditpitr = f.written_by_auditpitr;
      a.size = f.size;
      a.mtime = f.mtime;
      a.encrypted = encrypted_name(f.name);
      set.archives.push_back(std::move(a));
    }
    if (f.kind != "dump") continue;
    BackupFile d;
    d.dbname = f.dbname;
    d.stamp = record.stamp;
    d.path = f.name;
    d.manifest_path = manifest_file_name(f.dbname, record.stamp);
    d.has_manifest = record.file(d.manifest_path) != nullptr;
    d.written_by_auditpitr = f.written_by_auditpitr;
    d.encrypted = encrypted_name(f.name);
    d.run_databases = f.run_databases;
    d.run_files = f.run_files;
    d.size = f.size;
    d.mtime = f.mtime;
    set.dumps.push_back(std::move(d));
  }
  return set;
}

Catalog RemoteListing::catalog() const {
  std::vector<BackupSet> complete;
  for (const auto& s : sets)
    if (s.complete()) complete.push_back(backup_set_of(*s.record));
  return Catalog::of_sets(where, std::move(complete));
}

RemoteListing read_remote(RemoteStore& store, bool details) {
  RemoteListing listing;
  listing.where = store.describe();
  std::map<std::string, RemoteSet, std::greater<std::string>> by_stamp;
  for (auto& o : store.list("")) {
    std::smatch m;
    if (!temporary_file_target(o.path).empty()) {
      listing.temporary.push_back(o);
    } else if (std::regex_match(o.path, m, kBackupName) && is_stamp(m[2])) {
      by_stamp[m[2]].stamp = m[2];
      by_stamp[m[2]].files.push_back(o);
    } else {
      listing.other.push_back(o);
    }
  }
  if (details) {
    for (auto& o : store.list(kPushedFolder))
      if (!temporary_file_target(o.path).empty()) listing.temporary.push_back(o);
    listing.logs = store.list(kAuditFolder);
  }
  std::string text;
  store.read(
      kPushedFolder, [&](const char* d, std::size_t n) { text.append(d, n); }, "*.json");
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line(text.data() + start, end - start);
    if (!line.empty()) {
      std::optional<PushRecord> record = parse_record(line);
      if (!record) {
        listing.unreadable_records.push_back(std::string(line.substr(0, 80)));
      } else {
        by_stamp[record->stamp].stamp = record->stamp;
        by_stamp[record->stamp].record = std::move(record);
      }
    }
    start = end + 1;
  }
  for (auto& [stamp, set] : by_stamp) {
    if (set.record)
      for (const auto& f : set.record->files) {
        auto o = std::find_if(set.files.begin(), set.files.end(), [&](auto& x) { return x.path == f.name; });
        if (o == set.files.end()) set.problems.push_back("'" + f.name + "' is missing");
        else if (o->size != f.size)
          set.problems.push_back("'" + f.name + "' is " + std::to_string(o->size) + " bytes, push recorded " +
                                 std::to_string(f.size));
      }
    listing.sets.push_back(std::move(set));
  }
  return listing;
}

}  // namespace auditpitr::remote
