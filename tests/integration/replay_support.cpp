// Replay test support: logs, configuration, snapshots.
#include "tests/integration/replay_support.h"

#include <simdjson.h>
#include <zlib.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>

#include "src/pg/connection.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"
#include "verify/database_checksum.h"

namespace auditpitr::test {
namespace {

void gzip_file(const std::string& from, const std::string& to) {
  std::string text = read_text(from);
  gzFile out = gzopen(to.c_str(), "wb");
  if (!out || gzwrite(out, text.data(), static_cast<unsigned>(text.size())) != static_cast<int>(text.size()))
    throw std::runtime_error("cannot gzip " + from);
  gzclose(out);
  std::filesystem::remove(from);
}

/// The text of `lines` by the log each belongs to (all three logs present, maybe empty).
std::map<std::string, std::string> texts_of(const std::vector<LogLine>& lines) {
  std::map<std::string, std::string> files{{"create.log", ""}, {"update.log", ""}, {"delete.log", ""}};
  for (const auto& l : lines) files[log_file_for(l.operation)] += audit_line(l);
  return files;
}

}  // namespace

std::string log_file_for(const std::string& operation) {
  if (operation.rfind("CREATE_", 0) == 0) return "create.log";
  if (operation.rfind("DELETE_", 0) == 0) return "delete.log";
  return "update.log";
}

std::string audit_line(const LogLine& l) {
  return "{\"level\":\"info\",\"operation\":\"" + l.operation + "\",\"time\":\"" + l.time + "\"" +
         (l.fields.empty() ? "" : "," + l.fields) + "}\n";
}

ReplayWorkspace::ReplayWorkspace(const pg::ConnInfo& info, const std::vector<LogLine>& lines) {
  std::filesystem::create_directories(audit_dir());
  for (const auto& [name, text] : texts_of(lines)) write_text(audit_dir() + "/" + name, text);
  write_text(config(), "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"portfolio\"\ndbname = \"" +
                           info.dbname() + "\"\nconninfo = \"" + info.to_libpq_string() + "\"\n[audit]\ndir = \"" +
                           audit_dir() + "\"\ndatabase = \"portfolio\"\nmapping = \"" +
                           source_path("fixtures/portfolio-manager/mapping.toml") + "\"\n");
}

CliResult ReplayWorkspace::replay(std::vector<std::string> args) const {
  args.insert(args.begin(), "replay");
  return cli(std::move(args));
}

CliResult ReplayWorkspace::cli(std::vector<std::string> args) const {
  args.insert(args.begin(), {"-c", config()});
  return run_cli(args);
}

void ReplayWorkspace::rotate(bool gzip) const {
  for (const char* name : {"create.log", "update.log", "delete.log"}) {
    std::string live = audit_dir() + "/" + name;
    std::string rotated = live + ".1";
    std::filesystem::rename(live, rotated);
    if (gzip) gzip_file(rotated, rotated + ".gz");
    write_text(live, "");
  }
}

void ReplayWorkspace::rotate_dateext(const std::string& stamp, bool gzip) const {
  for (const char* name : {"create.log", "update.log", "delete.log"}) {
    std::string live = audit_dir() + "/" + name;
    std::string rotated = live + "-" + stamp;
    std::filesystem::copy_file(live, rotated);
    if (gzip) gzip_file(rotated, rotated + ".gz");
    std::filesystem::resize_file(live, 0);
  }
}

void ReplayWorkspace::append(const std::vector<LogLine>& lines) const {
  for (const auto& [name, text] : texts_of(lines))
    write_text(audit_dir() + "/" + name, read_text(audit_dir() + "/" + name) + text);
}

std::vector<verify::TableChecksum> snapshot(const pg::ConnInfo& info) { return checksums_of(info); }

std::string compare(const std::vector<verify::TableChecksum>& a, const std::vector<verify::TableChecksum>& b) {
  if (a.size() != b.size()) return "different table counts";
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].qualified() != b[i].qualified()) return "tables " + a[i].qualified() + " / " + b[i].qualified();
    if (a[i].rows != b[i].rows)
      return a[i].qualified() + ": " + std::to_string(a[i].rows) + " rows against " + std::to_string(b[i].rows);
    for (const auto& [column, sum] : a[i].column_sums)
      if (b[i].column_sums.at(column) != sum) return a[i].qualified() + "." + column + " differs";
    if (a[i].row_sum != b[i].row_sum) return a[i].qualified() + " rows differ";
  }
  return {};
}

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string json_keys_against_docs(const std::string& json, const std::string& doc) {
  std::set<std::string> documented, actual;
  std::istringstream lines(read_text(source_path("docs/" + doc)));
  bool in_json = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("## ", 0) == 0) in_json = line.find("`--json`") != std::string::npos;
    if (!in_json || line.rfind("| `", 0) != 0) continue;
    std::string cell = line.substr(1, line.find('|', 1) - 1);
    for (std::size_t open = cell.find('`'); open != std::string::npos; open = cell.find('`', open)) {
      std::size_t close = cell.find('`', open + 1);
      documented.insert(cell.substr(open + 1, close - open - 1));
      open = close + 1;
    }
  }
  simdjson::dom::parser parser;
  for (auto field : parser.parse(json).get_object())
    if (field.key != "format") actual.insert(std::string(field.key));
  std::string diff;
  for (const auto& k : actual)
    if (!documented.count(k)) diff += " undocumented: " + k;
  for (const auto& k : documented)
    if (!actual.count(k)) diff += " documented but absent: " + k;
  return diff;
}

}  // namespace auditpitr::test
