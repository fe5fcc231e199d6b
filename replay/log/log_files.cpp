// Log discovery by name pattern in one directory listing per logical log; names that look like logs
// but match no pattern are judged by the same patterns, so "read" and "reported as unread" cannot
// disagree.
#include "replay/log/log_files.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "src/error.h"

namespace auditpitr::replay {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), is_digit);
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// The digits of logrotate's dateext suffix `-STAMP`: its dateformat allows %Y %m %d %H %M %S %V
/// %s and literal text, and requires stamps to sort by date (year first), so the digits alone order
/// them, whatever the separators, and a daily stamp before an hourly one of the same day. Empty
/// when `rest` is no such suffix (fewer than 6 digits, other characters).
std::string date_stamp(std::string_view rest) {
  if (rest.size() < 2 || rest[0] != '-' || !is_digit(rest[1]) || !is_digit(rest.back())) return {};
  std::string digits;
  for (char c : rest.substr(1)) {
    if (is_digit(c)) digits += c;
    else if (c != '-' && c != '_') return {};
  }
  return digits.size() >= 6 ? digits : std::string();
}

/// Matches `name[.N|-STAMP][.gz]`; nullopt for other files (create.log.bak, create.log.1.xz, …).
std::optional<LogFile> match_rotation(std::string_view entry, std::string_view name) {
  if (!starts_with(entry, name)) return std::nullopt;
  std::string_view rest = entry.substr(name.size());
  LogFile file;
  if (ends_with(rest, ".gz")) {
    file.gzip = true;
    rest.remove_suffix(3);
  }
  if (rest.empty()) return file;
  if (rest[0] == '.' && all_digits(rest.substr(1))) {
    file.rotation = static_cast<unsigned>(std::stoul(std::string(rest.substr(1))));
    if (file.rotation == 0) return std::nullopt;  // logrotate never writes name.0
    return file;
  }
  file.date = date_stamp(rest);
  if (file.date.empty()) return std::nullopt;
  return file;
}

/// Oldest first: numbered rotations (a higher N is older), then dateext ones by stamp, then the
/// live file. Numbered ones go first because a folder holds both after `dateext` was turned on
/// (RHEL/Fedora's default): logrotate then leaves the old numbered files alone for good.
int group_of(const LogFile& f) { return f.rotation > 0 ? 0 : !f.date.empty() ? 1 : 2; }
bool older(const LogFile& a, const LogFile& b) {
  if (group_of(a) != group_of(b)) return group_of(a) < group_of(b);
  if (a.rotation != b.rotation) return a.rotation > b.rotation;
  return a.date < b.date;
}
bool same_place(const LogFile& a, const LogFile& b) { return !older(a, b) && !older(b, a); }

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

constexpr std::string_view kKnownLogs[] = {kCreateLog, kUpdateLog, kDeleteLog, kErrorLog, kAuditLog};

/// Compressors logrotate can be configured with (compresscmd) whose format zlib cannot read, and the
/// command that restores the plain file beside the compressed one.
struct Compressor {
  std::string_view suffix, name, decompress;
};
constexpr Compressor kCompressors[] = {
    {".xz", "xz", "xz -dk"},     {".zst", "zstd", "zstd -d"},    {".bz2", "bzip2", "bzip2 -dk"},
    {".lz4", "lz4", "lz4 -d"},   {".lzma", "lzma", "xz -dk"},    {".lz", "lzip", "lzip -dk"},
    {".lzo", "lzop", "lzop -d"}, {".br", "brotli", "brotli -d"}, {".Z", "compress", "gzip -dk"},
};

std::string joined(const std::vector<std::string_view>& names) {
  std::string text;
  for (std::string_view n : names) text += (text.empty() ? "" : ", ") + std::string(n);
  return text;
}

/// Why `entry` (not read) is not read, and what would have it read; `log` is the logical log it
/// belongs to by its name, or empty.
UnreadFile explain(const std::string& path, std::string_view entry, std::string_view log,
                   const std::vector<std::string_view>& read) {
  for (const Compressor& c : kCompressors)
    if (ends_with(entry, c.suffix))
      return {path, "compressed with " + std::string(c.name) + ", which auditpitr does not read (only gzip: .gz)",
              "decompress it where it lies (" + std::string(c.decompress) + " '" + path +
                  "'; gzip the result if you like), or have logrotate compress with gzip (compresscmd "
                  "/usr/bin/gzip, compressext .gz)"};
  if (!log.empty()) {
    std::string l(log);
    return {
        path,
        "not a name auditpitr reads as part of " + l + " (" + l + ", " + l + ".N, " + l + "-YYYYMMDD, each maybe .gz)",
        "if it holds lines of " + l +
            ", rename it to one of those names (in its place by time); if not, move "
            "it out of the audit folder"};
  }
  return {path, "not one of the logs auditpitr reads (" + joined(read) + ", with their rotations)",
          "if it holds audit lines, rename it to the log and rotation it belongs to; if not, move it out of the "
          "audit folder"};
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// The logical log `entry` belongs to by its name (create.log for create.log.old), or empty.
std::string_view known_log_of(std::string_view entry) {
  for (std::string_view log : kKnownLogs)
    if (starts_with(entry, log)) return log;
  return {};
}

}  // namespace

LogSet discover_log_set(const std::string& dir, std::string_view name) {
  std::vector<LogFile> files;
  for (const std::string& entry : list_directory(dir)) {
    auto file = match_rotation(entry, name);
    if (!file) continue;
    file->path = dir + "/" + entry;
    files.push_back(std::move(*file));
  }
  std::sort(files.begin(), files.end(), older);
  for (std::size_t i = 1; i < files.size(); ++i)
    if (same_place(files[i - 1], files[i]))
      throw runtime_error(
          "audit log rotation is ambiguous: both '" + files[i - 1].path + "' and '" + files[i].path + "' exist",
          "keep only one of them (compare them with zcat/diff first)");
  return LogSet{std::string(name), std::move(files)};
}

std::vector<UnreadFile> unread_log_files(const std::string& dir, const std::vector<std::string_view>& read) {
  std::vector<std::string> entries = list_directory(dir);
  std::sort(entries.begin(), entries.end());
  std::vector<UnreadFile> unread;
  for (const std::string& entry : entries) {
    if (entry.empty() || entry[0] == '.') continue;  // hidden: editors' swap files, not logs
    std::string_view log = known_log_of(entry);
    bool reads_log = std::find(read.begin(), read.end(), log) != read.end();
    if (!log.empty() && (!reads_log || match_rotation(entry, log))) continue;  // read, or left out on purpose
    if (log.empty() && entry.find(".log") == std::string::npos) continue;      // does not look like a log
    std::string path = dir + "/" + entry;
    if (is_regular_file(path)) unread.push_back(explain(path, entry, log, read));
  }
  return unread;
}

std::vector<LogSet> discover_event_logs(const std::string& dir) {
  return {discover_log_set(dir, kCreateLog), discover_log_set(dir, kUpdateLog), discover_log_set(dir, kDeleteLog)};
}

}  // namespace auditpitr::replay
