// pg_restore_command and the reading of pg_restore's messages.
#include "src/pg/pg_restore.h"

#include <algorithm>
#include <cstdlib>

#include "src/pg/connection.h"
#include "src/util/fs.h"

namespace auditpitr::pg {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '.')) text.pop_back();
  std::size_t start = text.find_first_not_of(' ');
  return start == std::string::npos ? "" : text.substr(start);
}

// "3340; 0 0 COMMENT SCHEMA public pg_database_owner" -> "COMMENT SCHEMA public": the entry's
// id and two OIDs go, and so does the owner at the end.
std::string object_of_toc_entry(const std::string& entry) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < entry.size()) {
    std::size_t end = entry.find(' ', start);
    if (end == std::string::npos) end = entry.size();
    if (end > start) words.push_back(entry.substr(start, end - start));
    start = end + 1;
  }
  if (words.size() <= 4) return entry;
  std::string object;
  for (std::size_t i = 3; i + 1 < words.size(); ++i) object += (object.empty() ? "" : " ") + words[i];
  return object;
}

// The kinds of error the old guide told users to ignore: restoring over an existing database, or
// into a server without the dump's roles. Everything else is a real error.
std::string expected_kind(const std::string& message) {
  if (message.find("role \"") != std::string::npos && message.find("does not exist") != std::string::npos)
    return "role does not exist";
  if (message.find("already exists") != std::string::npos) return "already exists";
  if (starts_with(message, "must be owner of")) return "must be owner";
  return {};
}

}  // namespace

std::string conninfo_dbname(const std::string& dbname) { return "dbname=" + quote_conninfo_value(dbname); }

Command pg_restore_command(const Tool& pg_restore, const ConnInfo& info, const PgRestoreOptions& options) {
  bool host_files = !pg_restore.through_exec();
  Command command = pg_restore.command({});
  command.env = info.child_environment();
  command.env["LC_ALL"] = "C";
  if (options.english_server_messages) {
    const char* inherited = std::getenv("PGOPTIONS");
    std::string& pgoptions = command.env["PGOPTIONS"];  // from the conninfo's options, if it has some
    if (pgoptions.empty() && inherited) pgoptions = inherited;
    pgoptions += (pgoptions.empty() ? "" : " ") + std::string("-c lc_messages=C");
  }
  auto& args = command.args;
  args.push_back("--no-password");
  if (!options.output_file.empty()) {
    bool to_stdout = options.output_file == "-" || !host_files;
    args.push_back("--file=" + (to_stdout ? "-" : absolute_path(options.output_file)));
    if (!host_files && options.output_file != "-") command.stdout_file = absolute_path(options.output_file);
  } else {
    args.push_back("--dbname=" + conninfo_dbname(options.target_dbname));
  }
  if (options.jobs > 1 && !options.input_file.empty() && host_files && !options.single_transaction)
    args.push_back("--jobs=" + std::to_string(options.jobs));
  if (options.no_owner) {
    args.push_back("--no-owner");
    args.push_back("--no-privileges");
  }
  if (options.data_only) args.push_back("--data-only");
  if (options.single_transaction) args.push_back("--single-transaction");
  for (const auto& table : options.tables) args.push_back("--table=" + table);
  for (const auto& section : options.sections) args.push_back("--section=" + section);
  if (options.verbose) args.push_back("--verbose");
  // Absolute: a relative path such as "-f/x.dump" would be read as an option.
  if (!options.input_file.empty() && host_files) args.push_back(absolute_path(options.input_file));
  if (!options.input_file.empty() && !host_files) command.stdin_file = absolute_path(options.input_file);
  return command;
}

std::string loaded_table_data(const std::string& line) {
  static const std::string kFinished = "pg_restore: finished item ";
  static const std::string kTableData = " TABLE DATA ";
  if (!starts_with(line, kFinished)) return "";
  std::size_t digits = line.find_first_not_of("0123456789", kFinished.size());
  if (digits == kFinished.size() || digits == std::string::npos ||
      line.compare(digits, kTableData.size(), kTableData) != 0)
    return "";
  return line.substr(digits + kTableData.size());
}

std::string PgRestoreError::describe() const {
  std::string text = object.empty() ? "" : object + ": ";
  text += message;
  std::string extra = detail;
  if (!context.empty()) extra += (extra.empty() ? "" : "; ") + context;
  if (!extra.empty()) text += " (" + extra + ")";
  return text;
}

void PgRestoreMessages::add_line(const std::string& line) {
  static const std::string kFromToc = "pg_restore: from TOC entry ";
  static const std::string kQueryError = "pg_restore: error: could not execute query: ";  // then "ERROR:  "
  static const std::string kWarning = "pg_restore: warning: ";
  static const std::string kCopyFailed = "pg_restore: error: COPY failed for table ";
  if (starts_with(line, kFromToc)) {
    current_object_ = object_of_toc_entry(line.substr(kFromToc.size()));
  } else if (starts_with(line, kQueryError)) {
    PgRestoreError error;
    error.object = current_object_;
    error.message = trim(first_line(line.substr(kQueryError.size())));  // the severity in any language
    error.kind = expected_kind(error.message);
    auto& bucket = error.kind.empty() ? errors : expected;
    bucket.push_back(error);
    last_ = &bucket.back();
  } else if (starts_with(line, kCopyFailed) && line.find(": ERROR:  ") != std::string::npos) {
    // pg_restore: error: COPY failed for table "categories": ERROR:  duplicate key value ...
    auto at = line.find(": ERROR:  ");
    PgRestoreError error;
    error.object = "TABLE DATA " + line.substr(kCopyFailed.size(), at - kCopyFailed.size());
    error.message = trim(line.substr(at + 10));
    errors.push_back(error);
    last_ = &errors.back();
  } else if (last_ && starts_with(line, "DETAIL:  ")) {
    last_->detail = trim(line.substr(9));
  } else if (last_ && starts_with(line, "CONTEXT:  ")) {
    last_->context = trim(line.substr(10));
  } else if (last_ && starts_with(line, "Command was: ")) {
    last_->command = trim(line.substr(13));
  } else if (starts_with(line, kWarning)) {
    // The final tally repeats what was counted above.
    if (line.find("errors ignored on restore") == std::string::npos) warnings.push_back(line.substr(kWarning.size()));
  } else if (starts_with(line, "pg_restore: error: ")) {
    other.push_back(line.substr(19));
    last_ = nullptr;
  }
  // Anything else (the rest of a multi-line command, "while PROCESSING TOC") needs no report.
}

std::string PgRestoreMessages::summary() const {
  std::map<std::string, int> by_kind;
  for (const auto& e : expected) ++by_kind[e.kind];
  for (const auto& w : warnings) ++by_kind["warning: " + w.substr(0, w.find(':'))];
  int total = static_cast<int>(expected.size() + warnings.size());
  if (total == 0) return {};
  std::string text = std::to_string(total) + " expected pg_restore message" + (total == 1 ? "" : "s") + " ignored: ";
  bool first = true;
  for (const auto& [kind, count] : by_kind) {
    text += (first ? "" : ", ") + std::to_string(count) + " x " + kind;
    first = false;
  }
  return text;
}

}  // namespace auditpitr::pg
