// Writing and reading auditpitr's database mark; the copies' names.
#include "src/ops/database_marks.h"

#include <chrono>
#include <sstream>
#include <vector>

#include "replay/log/time_parse.h"
#include "src/catalog/stamp.h"
#include "src/error.h"

namespace auditpitr::ops {
namespace {

constexpr std::size_t kMaxIdentifierBytes = 63;  // NAMEDATALEN - 1: longer names are truncated
constexpr const char* kMarkWord = "auditpitr";

const char* name_infix(CopyKind kind) {
  switch (kind) {
    case CopyKind::restoring: return "_restoring_";
    case CopyKind::kept: return "_before_restore_";
    case CopyKind::undone: return "_undone_";
    case CopyKind::recovering: return "_pitr_";
  }
  return "";
}

}  // namespace

const char* kind_word(CopyKind kind) {
  switch (kind) {
    case CopyKind::restoring: return "restoring";
    case CopyKind::kept: return "kept";
    case CopyKind::undone: return "undone";
    case CopyKind::recovering: return "recovering";
  }
  return "";
}

std::string mark_text(const DatabaseMark& mark) {
  auto made =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::from_time_t(mark.made));
  return std::string(kMarkWord) + " " + kind_word(mark.kind) + " " + mark.stamp + " " + replay::format_rfc3339(made);
}

std::optional<DatabaseMark> parse_mark(const std::string& comment) {
  std::istringstream in(comment);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  if (words.size() != 4 || words[0] != kMarkWord || !is_stamp(words[2])) return std::nullopt;
  DatabaseMark mark;
  mark.stamp = words[2];
  if (words[1] == kind_word(CopyKind::restoring)) mark.kind = CopyKind::restoring;
  else if (words[1] == kind_word(CopyKind::kept)) mark.kind = CopyKind::kept;
  else if (words[1] == kind_word(CopyKind::undone)) mark.kind = CopyKind::undone;
  else if (words[1] == kind_word(CopyKind::recovering)) mark.kind = CopyKind::recovering;
  else return std::nullopt;
  auto made = replay::parse_rfc3339(words[3]);
  if (!made) return std::nullopt;
  mark.made = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(*made));
  return mark;
}

std::string copy_prefix(CopyKind kind, const std::string& dbname) { return dbname + name_infix(kind); }

std::string copy_name(CopyKind kind, const std::string& dbname, const std::string& stamp) {
  std::string name = copy_prefix(kind, dbname) + stamp;
  if (name.size() > kMaxIdentifierBytes)
    throw usage_error("database name '" + dbname + "' is too long to derive '" + name + "' (PostgreSQL keeps 63 bytes)",
                      "use --into with a shorter name");
  return name;
}

}  // namespace auditpitr::ops
