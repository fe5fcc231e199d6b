// Outcome records: small JSON files written like manifests (AtomicFile), read with simdjson.
#include "src/ops/outcome_record.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>

#include "replay/log/time_parse.h"
#include "src/error.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {
namespace {

constexpr int kFormat = 1;

std::string utc_text(std::time_t t) { return replay::format_rfc3339(replay::TimePoint(std::chrono::seconds(t))); }

std::time_t parse_utc(const std::string& text, const std::string& path) {
  auto t = replay::parse_rfc3339(text);
  if (!t) throw runtime_error("outcome record '" + path + "' holds an invalid time '" + text + "'");
  return static_cast<std::time_t>(std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count());
}

bool valid_operation(const std::string& operation) {
  if (operation.empty()) return false;
  for (char c : operation)
    if (!((c >= 'a' && c <= 'z') || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

std::string outcome_path(const std::string& backup_dir, const std::string& operation) {
  if (!valid_operation(operation)) throw usage_error("'" + operation + "' is not an operation name");
  return join_path(join_path(backup_dir, kRecordsFolder), "last-" + operation + ".json");
}

std::string outcome_json(const OutcomeRecord& r) {
  JsonWriter w;
  w.begin_object().field("format", kFormat).field("operation", r.operation).field("ok", r.ok);
  w.field("started", utc_text(r.started)).field("finished", utc_text(r.finished));
  w.field_or_null("stamp", r.stamp).field("detail", r.detail).field("bytes", r.bytes).end_object();
  return w.str() + "\n";
}

void record_outcome(const std::string& backup_dir, const OutcomeRecord& record) noexcept {
  try {
    // Only inside a backup folder that exists: never creates one (nor one that was refused).
    struct stat st {};
    if (::stat(backup_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
    std::string path = outcome_path(backup_dir, record.operation);
    std::string folder = parent_path(path);
    if (::lstat(folder.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
      throw runtime_error("'" + folder + "' is not a folder");
    ensure_directory(folder, 0700);
    write_file_atomically(path, outcome_json(record), 0600);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "WARNING: the outcome of this %s was not recorded for auditpitr status: %s\n",
                 record.operation.c_str(), e.what());
  }
}

std::optional<OutcomeRecord> read_outcome(const std::string& backup_dir, const std::string& operation) {
  std::string path = outcome_path(backup_dir, operation);
  if (!path_exists(path)) return std::nullopt;
  std::string text = read_small_file(path, 1 << 20);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS || !root.is_object())
    throw runtime_error("outcome record '" + path + "' is not a JSON object",
                        "it is rewritten by the next " + operation + "; remove it to forget the last outcome");
  auto string_of = [&](const char* key) -> std::string {
    std::string_view v;
    if (root[key].get(v) != simdjson::SUCCESS) return "";
    return std::string(v);
  };
  OutcomeRecord r;
  r.operation = string_of("operation");
  bool ok = false;
  if (r.operation != operation || root["ok"].get(ok) != simdjson::SUCCESS)
    throw runtime_error("outcome record '" + path + "' does not record a " + operation,
                        "it is rewritten by the next " + operation + "; remove it to forget the last outcome");
  r.ok = ok;
  r.started = parse_utc(string_of("started"), path);
  r.finished = parse_utc(string_of("finished"), path);
  r.stamp = string_of("stamp");
  r.detail = string_of("detail");
  uint64_t bytes = 0;
  if (root["bytes"].get(bytes) == simdjson::SUCCESS) r.bytes = bytes;
  return r;
}

}  // namespace auditpitr::ops
