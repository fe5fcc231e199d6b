// Log discovery by name pattern in one directory listing per logical log.
#include "replay/log/log_files.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include "src/error.h"

namespace auditpitr::replay {
namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Matches `name[.N][.gz]`; nullopt for other files (create.log.bak, create.log.1.xz, …).
std::optional<LogFile> match_rotation(std::string_view entry, std::string_view name) {
  if (entry.substr(0, name.size()) != name) return std::nullopt;
  std::string_view rest = entry.substr(name.size());
  LogFile file;
  if (rest.size() >= 3 && rest.substr(rest.size() - 3) == ".gz") {
    file.gzip = true;
    rest.remove_suffix(3);
  }
  if (!rest.empty()) {
    if (rest[0] != '.' || !all_digits(rest.substr(1))) return std::nullopt;
    file.rotation = static_cast<unsigned>(std::stoul(std::string(rest.substr(1))));
    if (file.rotation == 0) return std::nullopt;  // logrotate never writes name.0
  }
  return file;
}

std::vector<std::string> list_directory(const std::string& dir) {
  DIR* handle = opendir(dir.c_str());
  if (!handle)
    throw Error(ErrorKind::usage, "unable to read audit log folder '" + dir + "': " + std::strerror(errno),
                "set [audit] dir in the configuration or pass --audit-dir");
  std::vector<std::string> names;
  while (dirent* entry = readdir(handle)) names.emplace_back(entry->d_name);
  closedir(handle);
  return names;
}

}  // namespace

LogSet discover_log_set(const std::string& dir, std::string_view name) {
  std::map<unsigned, LogFile, std::greater<>> by_rotation;  // oldest (highest number) first
  for (const std::string& entry : list_directory(dir)) {
    auto file = match_rotation(entry, name);
    if (!file) continue;
    file->path = dir + "/" + entry;
    auto [it, inserted] = by_rotation.emplace(file->rotation, *file);
    if (!inserted)
      throw runtime_error(
          "audit log rotation is ambiguous: both '" + it->second.path + "' and '" + file->path + "' exist",
          "keep only one of them (compare them with zcat/diff first)");
  }
  LogSet set{std::string(name), {}};
  for (auto& [rotation, file] : by_rotation) set.files.push_back(std::move(file));
  return set;
}

std::vector<LogSet> discover_event_logs(const std::string& dir) {
  return {discover_log_set(dir, kCreateLog), discover_log_set(dir, kUpdateLog), discover_log_set(dir, kDeleteLog)};
}

std::vector<LogSet> discover_all_logs(const std::string& dir) {
  auto sets = discover_event_logs(dir);
  sets.push_back(discover_log_set(dir, kErrorLog));
  sets.push_back(discover_log_set(dir, kAuditLog));
  return sets;
}

}  // namespace auditpitr::replay
