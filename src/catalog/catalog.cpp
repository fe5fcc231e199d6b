// Catalog: one readdir, file names matched against the old scripts' scheme, and each dump's gzip
// header read for auditpitr's marker and the run's databases.
#include "src/catalog/catalog.h"

#include <dirent.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <regex>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"

namespace auditpitr {
namespace {

const std::regex kDumpName(R"(^(.+)_(\d{8}_\d{6})\.dump\.gz(\.age)?$)");
const std::regex kManifestName(R"(^(.+)_(\d{8}_\d{6})\.manifest\.json$)");
const std::regex kArchiveName(R"(^(.+)_(\d{8}_\d{6})\.tar\.gz(\.age)?$)");
const std::regex kArchiveManifestName(R"(^(.+)_(\d{8}_\d{6})\.tar\.gz\.manifest\.json$)");
const std::regex kLatestLinkName(R"(^.+_latest\.dump\.gz(\.age)?$)");
const std::string kRunDatabases = "; databases=";
const std::string kRunFiles = "; files=";

// Database names may hold any byte but NUL: percent-encoded, they fit a gzip comment and a list.
std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::strtol(text.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Fills the marker and the run's databases from a dump's header comment.
void read_dump_comment(const std::string& comment, BackupFile& file) {
  const std::string marker = kDumpMarker;
  file.written_by_auditpitr = comment.compare(0, marker.size(), marker) == 0 &&
                              (comment.size() == marker.size() || comment.compare(marker.size(), 2, "; ") == 0);
  if (!file.written_by_auditpitr || comment.compare(marker.size(), kRunDatabases.size(), kRunDatabases) != 0) return;
  std::string list = comment.substr(marker.size() + kRunDatabases.size());
  std::string files;  // percent-encoding leaves no ';' or ' ' in a name: the separator is unambiguous
  if (std::size_t at = list.find(kRunFiles); at != std::string::npos) {
    files = list.substr(at + kRunFiles.size());
    list.resize(at);
  }
  for (auto [text, out] : {std::make_pair(&list, &file.run_databases), std::make_pair(&files, &file.run_files)})
    for (std::size_t start = 0; start <= text->size();) {
      std::size_t end = std::min(text->find(',', start), text->size());
      if (end > start) out->push_back(percent_decode(text->substr(start, end - start)));
      start = end + 1;
    }
}

BackupFile read_dump(const std::string& dir, const std::string& path, const std::smatch& name, const struct stat& st) {
  BackupFile f;
  f.dbname = name[1];
  f.stamp = name[2];
  f.path = path;
  f.manifest_path = join_path(dir, manifest_file_name(f.dbname, f.stamp));
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime = st.st_mtime;
  f.encrypted = name[3].matched;
  // Only auditpitr writes .age backups; their gzip header is inside the encryption: the run's
  // databases are read from the manifest (read_run_databases).
  if (f.encrypted) f.written_by_auditpitr = true;
  else read_dump_comment(gzip_header_comment(path), f);
  return f;
}

// The run's databases and archives as an encrypted dump's manifest records them (its gzip comment
// is inside the encryption); none when it cannot be read (check says why: here it only means the
// set's completeness is not known from this dump).
void read_run_from_manifest(BackupFile& file) {
  auto strings = [](simdjson::dom::element list, std::vector<std::string>& out) {
    simdjson::dom::array items;
    if (list.get_array().get(items)) return;
    for (auto item : items) {
      std::string_view name;
      if (!item.get_string().get(name)) out.emplace_back(name);
    }
  };
  try {
    simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(read_small_file(file.manifest_path)).get_object().get(root)) return;
    simdjson::dom::element list;
    if (!root["run_databases"].get(list)) strings(list, file.run_databases);
    if (!root["run_files"].get(list)) strings(list, file.run_files);
  } catch (const Error&) {
  }
}

}  // namespace

std::string dump_comment(const std::vector<std::string>& run_databases, const std::vector<std::string>& run_files) {
  std::string comment = std::string(kDumpMarker) + kRunDatabases;
  for (std::size_t i = 0; i < run_databases.size(); ++i) comment += (i ? "," : "") + percent_encode(run_databases[i]);
  if (!run_files.empty()) comment += kRunFiles;
  for (std::size_t i = 0; i < run_files.size(); ++i) comment += (i ? "," : "") + percent_encode(run_files[i]);
  return comment;
}

std::string dump_file_name(const std::string& dbname, const std::string& stamp, bool encrypted) {
  return dbname + "_" + stamp + ".dump.gz" + (encrypted ? kEncryptedSuffix : "");
}
std::string manifest_file_name(const std::string& dbname, const std::string& stamp) {
  return dbname + "_" + stamp + ".manifest.json";
}
bool encrypted_name(const std::string& name) {
  const std::string suffix = kEncryptedSuffix;
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string latest_link_name(const std::string& dbname, bool encrypted) {
  return dbname + "_latest.dump.gz" + (encrypted ? kEncryptedSuffix : "");
}
std::string archive_file_name(const std::string& name, const std::string& stamp, bool encrypted) {
  return name + "_" + stamp + ".tar.gz" + (encrypted ? kEncryptedSuffix : "");
}
std::string archive_manifest_file_name(const std::string& name, const std::string& stamp) {
  return archive_file_name(name, stamp) + ".manifest.json";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + ("'" + names[i] + "'");
  return text;
}

const BackupFile* BackupSet::dump_of(const std::string& dbname) const {
  for (const auto& d : dumps)
    if (d.dbname == dbname) return &d;
  return nullptr;
}

const ArchiveFile* BackupSet::archive_of(const std::string& name) const {
  for (const auto& a : archives)
    if (a.name == name) return &a;
  return nullptr;
}

std::time_t BackupSet::newest_mtime() const {
  std::time_t t = 0;
  for (const auto& d : dumps) t = std::max(t, d.mtime);
  return t;
}

std::vector<std::string> BackupSet::missing_databases() const {
  std::vector<std::string> missing;
  for (const auto& d : dumps)
    for (const auto& planned : d.run_databases)
      if (!dump_of(planned) && std::find(missing.begin(), missing.end(), planned) == missing.end())
        missing.push_back(planned);
  return missing;
}

std::vector<std::string> BackupSet::missing_archives() const {
  std::vector<std::string> missing;
  for (const auto& d : dumps)
    for (const auto& planned : d.run_files)
      if (!archive_of(planned) && std::find(missing.begin(), missing.end(), planned) == missing.end())
        missing.push_back(planned);
  return missing;
}

std::string BackupSet::partial_reason() const {
  auto dbs = missing_databases();
  auto files = missing_archives();
  if (dbs.empty() && files.empty()) return "";
  std::string what = dbs.empty() ? "" : "backing up " + join_names(dbs);
  if (!files.empty()) what += (what.empty() ? "" : " and ") + ("archiving " + join_names(files));
  return "the run stopped before " + what;
}

std::string BackupSet::not_latest_reason() const {
  if (partial()) return "partial: " + partial_reason();
  for (const auto& d : dumps)
    if (d.manifest_missing()) return "the manifest of '" + d.dbname + "' is missing: the run is not proven finished";
  for (const auto& a : archives)
    if (a.manifest_missing())
      return "the manifest of the archive '" + a.name + "' is missing: the run is not proven finished";
  return "";
}

Catalog Catalog::scan(const std::string& dir) {
  Catalog catalog;
  catalog.dir_ = dir;
  require_private_folder(dir);  // what is listed here may be restored: nobody else may have put it there
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return catalog;
    throw system_error("unable to read backup folder '" + dir + "'", errno);
  }
  std::map<std::string, BackupSet> by_stamp;
  std::map<std::string, std::string> manifests;  // path -> stamp
  while (struct dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name == "." || name == ".." || name == ".auditpitr.lock") continue;
    std::smatch m;
    std::string path = join_path(dir, name);
    struct stat st {};
    bool regular = ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    // auditpitr's own records (ops/outcome_record.h): a real folder, never a link.
    if (name == ".auditpitr" && S_ISDIR(st.st_mode)) continue;
    std::string target = temporary_file_target(path);
    if (!target.empty()) {
      catalog.temporary_files_.push_back({path, target});
    } else if (regular && std::regex_match(name, m, kDumpName) && is_stamp(m[2])) {
      BackupFile f = read_dump(dir, path, m, st);
      by_stamp[f.stamp].stamp = f.stamp;
      by_stamp[f.stamp].dumps.push_back(std::move(f));
    } else if (regular && std::regex_match(name, m, kManifestName) && is_stamp(m[2])) {
      manifests[path] = m[2];
    } else if (regular && std::regex_match(name, m, kArchiveName) && is_stamp(m[2])) {
      ArchiveFile a;
      a.name = m[1];
      a.stamp = m[2];
      a.path = path;
      a.manifest_path = join_path(dir, archive_manifest_file_name(a.name, a.stamp));
      a.size = static_cast<uint64_t>(st.st_size);
      a.mtime = st.st_mtime;
      a.encrypted = m[3].matched;  // only auditpitr writes them; the gzip header is inside the encryption
      a.written_by_auditpitr = a.encrypted || gzip_header_comment(path).rfind(kArchiveMarker, 0) == 0;
      by_stamp[a.stamp].stamp = a.stamp;
      by_stamp[a.stamp].archives.push_back(std::move(a));
    } else if (regular && std::regex_match(name, m, kArchiveManifestName) && is_stamp(m[2])) {
      manifests[path] = m[2];
    } else if (!(S_ISLNK(st.st_mode) && std::regex_match(name, kLatestLinkName))) {
      catalog.unrecognised_.push_back(path);
    }
  }
  ::closedir(d);
  for (auto& [stamp, set] : by_stamp) {
    for (auto& f : set.dumps)
      if (manifests.erase(f.manifest_path)) {
        f.has_manifest = true;
        if (f.encrypted) read_run_from_manifest(f);
      }
    for (auto& a : set.archives) {
      if (manifests.erase(a.manifest_path)) a.has_manifest = true;
      set.other_files.push_back(a.path);
      if (a.has_manifest) set.other_files.push_back(a.manifest_path);
    }
    std::sort(set.dumps.begin(), set.dumps.end(), [](auto& a, auto& b) { return a.dbname < b.dbname; });
    std::sort(set.archives.begin(), set.archives.end(), [](auto& a, auto& b) { return a.name < b.name; });
  }
  for (auto& [path, stamp] : manifests) {  // a manifest whose dump is not there
    by_stamp[stamp].stamp = stamp;
    by_stamp[stamp].lone_manifests.push_back(path);
  }
  for (auto& [stamp, set] : by_stamp) catalog.sets_.push_back(std::move(set));
  std::sort(catalog.sets_.begin(), catalog.sets_.end(), [](auto& a, auto& b) { return a.stamp > b.stamp; });
  std::sort(catalog.unrecognised_.begin(), catalog.unrecognised_.end());
  return catalog;
}

Catalog Catalog::of_sets(std::string dir, std::vector<BackupSet> sets) {
  Catalog catalog;
  catalog.dir_ = std::move(dir);
  catalog.sets_ = std::move(sets);
  for (auto& set : catalog.sets_)
    std::sort(set.dumps.begin(), set.dumps.end(), [](auto& a, auto& b) { return a.dbname < b.dbname; });
  std::sort(catalog.sets_.begin(), catalog.sets_.end(), [](auto& a, auto& b) { return a.stamp > b.stamp; });
  return catalog;
}

const BackupSet* Catalog::find(const std::string& stamp) const {
  for (const auto& s : sets_)
    if (s.stamp == stamp) return &s;
  return nullptr;
}

std::string Catalog::latest_stamp(const std::vector<std::string>& dbnames) const {
  for (const auto& s : sets_) {
    bool holds_all = !dbnames.empty();
    for (const auto& db : dbnames) holds_all = holds_all && s.dump_of(db);
    if (holds_all && s.not_latest_reason().empty()) return s.stamp;
  }
  return "";
}

std::vector<std::string> Catalog::nearest_stamps(const std::string& stamp, std::size_t count) const {
  std::vector<std::pair<double, std::string>> ranked;
  auto wanted = stamp_to_time(stamp);
  for (const auto& s : sets_) {
    if (s.dumps.empty()) continue;
    double distance = wanted ? std::abs(std::difftime(*stamp_to_time(s.stamp), *wanted)) : ranked.size();
    ranked.emplace_back(distance, s.stamp);
  }
  std::stable_sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ranked.size() && i < count; ++i) out.push_back(ranked[i].second);
  return out;
}

namespace {

// Why `latest` is not newer for these databases: each newer set holding one of them, and why it
// is passed over. Empty when nothing newer exists.
std::string passed_over(const Catalog& catalog, const std::string& latest, const std::vector<std::string>& dbnames) {
  std::string note;
  for (const auto& s : catalog.sets()) {
    if (s.stamp <= latest) break;
    std::vector<std::string> held, lacking;
    for (const auto& db : dbnames) (s.dump_of(db) ? held : lacking).push_back(db);
    if (held.empty()) continue;
    std::string why = s.not_latest_reason();
    if (why.empty()) why = "it holds no backup of " + join_names(lacking);
    note += (note.empty() ? "" : "; ") + ("backup " + s.stamp + " is not used (" + why + ")");
  }
  return note;
}

// What a user may type for a stamp: the stamp, 'latest' in any case, or a backup's file name
// (backups/portfolio_db_20250123_140530.dump.gz), whose stamp is the one before the extension.
std::string typed_stamp(const std::string& text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "latest") return lower;
  std::string name = text.substr(text.find_last_of('/') == std::string::npos ? 0 : text.find_last_of('/') + 1);
  std::size_t dot = name.find('.');
  std::size_t stamp_size = std::string("YYYYMMDD_HHMMSS").size();
  if (dot != std::string::npos && dot > stamp_size && name[dot - stamp_size - 1] == '_') {
    std::string stamp = name.substr(dot - stamp_size, stamp_size);
    if (is_stamp(stamp)) return stamp;
  }
  return text;
}

}  // namespace

std::string Catalog::resolve_stamp(const std::string& typed, const std::vector<std::string>& dbnames,
                                   std::string* note) const {
  std::string stamp_or_latest = typed_stamp(typed);
  if (stamp_or_latest != "latest") {
    if (!is_stamp(stamp_or_latest))
      throw usage_error("'" + stamp_or_latest + "' is not a backup stamp",
                        "stamps look like 20250123_140530 (see 'auditpitr list'), or use 'latest'");
    return stamp_or_latest;
  }
  std::string stamp = latest_stamp(dbnames);
  if (stamp.empty()) {
    std::string why = passed_over(*this, "", dbnames);
    // None at all is a fact about the folder (exit 1); backups that cannot be 'latest' ask for a stamp or --db.
    Error e(why.empty() ? ErrorKind::runtime : ErrorKind::usage,
            "no backup of " + join_names(dbnames) + " can be 'latest' in '" + dir_ + "'" +
                (why.empty() ? ": there is none" : ": " + why),
            dbnames.size() > 1 ? "name a stamp (auditpitr list), or one database with --db"
                               : "create one with 'auditpitr backup', or name a stamp (auditpitr list)");
    throw e;
  }
  if (note) *note = passed_over(*this, stamp, dbnames);
  if (note && !note->empty()) *note = "latest is " + stamp + ": " + *note;
  return stamp;
}

const BackupFile& Catalog::resolve(const std::string& stamp_or_latest, const std::string& dbname,
                                   std::string* note) const {
  std::string stamp = resolve_stamp(stamp_or_latest, {dbname}, note);
  const BackupSet* set = find(stamp);
  const BackupFile* file = set ? set->dump_of(dbname) : nullptr;
  if (file) return *file;
  if (set && set->partial())
    throw verification_error(
        "backup " + stamp + " is partial: the run stopped before backing up " + join_names(set->missing_databases()),
        "choose a whole backup (auditpitr list), or restore only what it holds with --db");
  std::string nearest;
  for (const auto& s : nearest_stamps(stamp)) nearest += (nearest.empty() ? "" : ", ") + s;
  throw usage_error("backup not found: no backup of '" + dbname + "' with stamp " + stamp + " in '" + dir_ + "'",
                    nearest.empty() ? "there are no backups yet: create one with 'auditpitr backup'"
                                    : "the nearest available stamps are: " + nearest);
}

}  // namespace auditpitr
