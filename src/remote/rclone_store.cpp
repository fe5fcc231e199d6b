// RcloneStore: one rclone command per operation, its JSON read with simdjson, its failures named
// with rclone's last error line.
#include "src/remote/rclone_store.h"

#include <simdjson.h>

#include <algorithm>

#include "src/error.h"
#include "src/util/fs.h"

namespace auditpitr::remote {
namespace {

// rclone's exit statuses for "directory not found" and "file not found".
constexpr int kDirectoryNotFound = 3;
constexpr int kFileNotFound = 4;

std::vector<RemoteObject> parse_listing(const std::string& json, const std::string& hash_type,
                                        const std::string& what) {
  std::vector<RemoteObject> objects;
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  if (parser.parse(json).get(entries) != simdjson::SUCCESS)
    throw runtime_error("unable to read rclone's listing of " + what, "", json.substr(0, 200));
  for (simdjson::dom::element e : entries) {
    bool is_dir = false;
    if (e["IsDir"].get(is_dir) == simdjson::SUCCESS && is_dir) continue;
    std::string_view path;
    int64_t size = 0;
    if (e["Path"].get(path) != simdjson::SUCCESS || e["Size"].get(size) != simdjson::SUCCESS)
      throw runtime_error("unable to read rclone's listing of " + what + ": an entry without Path or Size");
    RemoteObject o;
    o.path = std::string(path);
    o.size = size < 0 ? 0 : static_cast<uint64_t>(size);
    std::string_view hash;
    if (!hash_type.empty() && e["Hashes"][hash_type].get(hash) == simdjson::SUCCESS) o.hash = std::string(hash);
    objects.push_back(std::move(o));
  }
  return objects;
}

}  // namespace

void require_rclone() {
  if (pg::find_program("rclone").empty())
    throw runtime_error("rclone not found", "install it: 'apt-get install rclone' (or scripts/install-deps)");
}

RcloneStore::RcloneStore(RemoteConfig remote, pg::ProcessRunner& runner)
    : remote_(std::move(remote)), runner_(runner) {}

std::string RcloneStore::describe() const { return "'" + remote_.name + "' (" + remote_.rclone + ")"; }

std::string RcloneStore::full_path(const std::string& path) const {
  if (path.empty()) return remote_.rclone;
  char last = remote_.rclone.back();
  return remote_.rclone + (last == ':' || last == '/' ? "" : "/") + path;
}

pg::Command RcloneStore::command(std::vector<std::string> args) const {
  pg::Command c;
  c.program = "rclone";
  c.args = std::move(args);
  if (!remote_.config_file.empty()) c.env["RCLONE_CONFIG"] = remote_.config_file;
  return c;
}

pg::ProcessResult RcloneStore::run(const pg::Command& c, const std::string& what, bool missing_ok) {
  pg::ProcessResult r = runner_.run(c);
  if (r.ok() || (missing_ok && (r.exit_code == kDirectoryNotFound || r.exit_code == kFileNotFound))) return r;
  std::string last = r.last_stderr_line();
  throw runtime_error(
      "rclone could not " + what + " on remote " + describe() + ": rclone " + r.describe() +
          (last.empty() ? "" : " (" + last + ")"),
      "run 'rclone lsd " + remote_.rclone + "' with the same RCLONE_CONFIG to see whether rclone reaches the remote",
      r.stderr_tail);
}

std::vector<RemoteObject> RcloneStore::list(const std::string& folder) {
  pg::Command c = command({"lsjson", "--files-only", "--no-mimetype", "--no-modtime", full_path(folder)});
  c.capture_stdout = true;
  pg::ProcessResult r = run(c, "list '" + (folder.empty() ? full_path(folder) : folder) + "'", true);
  if (!r.ok()) return {};
  std::vector<RemoteObject> objects = parse_listing(r.stdout_text, "", full_path(folder));
  for (auto& o : objects) o.path = folder.empty() ? o.path : folder + "/" + o.path;
  return objects;
}

std::optional<RemoteObject> RcloneStore::stat(const std::string& path, const std::string& hash_type) {
  std::vector<std::string> args = {"lsjson", "--files-only", "--no-mimetype", "--no-modtime"};
  if (!hash_type.empty()) args.insert(args.end(), {"--hash-type", hash_type});
  args.push_back(full_path(path));
  pg::Command c = command(args);
  c.capture_stdout = true;
  pg::ProcessResult r = run(c, "read the size of '" + path + "'", true);
  if (!r.ok()) return std::nullopt;
  std::vector<RemoteObject> objects = parse_listing(r.stdout_text, hash_type, full_path(path));
  if (objects.empty()) return std::nullopt;
  objects.front().path = path;
  return objects.front();
}

std::vector<std::string> RcloneStore::hash_types() {
  if (hash_types_) return *hash_types_;
  pg::Command c = command({"backend", "features", full_path("")});
  c.capture_stdout = true;
  pg::ProcessResult r = run(c, "read the features");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array hashes;
  std::vector<std::string> types;
  if (parser.parse(r.stdout_text).get(root) == simdjson::SUCCESS && root["Hashes"].get(hashes) == simdjson::SUCCESS)
    for (simdjson::dom::element h : hashes) {
      std::string_view name;
      if (h.get(name) == simdjson::SUCCESS) types.emplace_back(name);
    }
  hash_types_ = types;
  return types;
}

void RcloneStore::upload(const std::string& local_path, const std::string& path) {
  run(command({"copyto", absolute_path(local_path), full_path(path)}), "upload '" + path + "'");
}

void RcloneStore::write(const std::string& path, const std::string& content) {
  pg::Command c = command({"rcat", full_path(path)});
  std::size_t offset = 0;
  c.stdin_source = [&](char* buffer, std::size_t capacity) {
    std::size_t n = std::min(capacity, content.size() - offset);
    content.copy(buffer, n, offset);
    offset += n;
    return n;
  };
  run(c, "write '" + path + "'");
}

void RcloneStore::read(const std::string& path, const std::function<void(const char*, std::size_t)>& sink,
                       const std::string& include) {
  std::vector<std::string> args = {"cat"};
  if (!include.empty()) args.insert(args.end(), {"--include", include});
  args.push_back(full_path(path));
  pg::Command c = command(args);
  c.stdout_sink = sink;
  run(c, "read '" + path + "'", !include.empty());
}

void RcloneStore::move(const std::string& from, const std::string& to) {
  run(command({"moveto", full_path(from), full_path(to)}), "rename '" + from + "' to '" + to + "'");
}

void RcloneStore::remove(const std::string& path) {
  run(command({"deletefile", full_path(path)}), "delete '" + path + "'", true);
}

}  // namespace auditpitr::remote
