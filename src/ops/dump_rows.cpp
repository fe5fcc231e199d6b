#include "src/ops/dump_rows.h"

#include "src/error.h"
#include "src/ops/check.h"
#include "src/ops/verified_dump.h"
#include "src/pg/pg_restore.h"
#include "verify/manifest.h"
#include "verify/row_fold.h"

namespace auditpitr::ops {
namespace {

/// The identifiers of `text` from `pos` on: `public.projects` or `a, "b ""c"""`, up to `stop`.
std::vector<std::string> identifiers(const std::string& text, std::size_t pos, char separator, char stop) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') out.back() += text[++i];
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == separator) {
      out.emplace_back();
    } else if (c == stop) {
      break;
    } else if (c != ' ') {
      out.back() += c;
    }
  }
  return out;
}

}  // namespace

void CopyTextReader::feed(const char* data, std::size_t size) {
  pending_.append(data, size);
  std::string_view all(pending_);
  std::size_t start = 0;
  for (std::size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1)
    line(all.substr(start, nl - start));
  pending_.erase(0, start);
}

void CopyTextReader::line(std::string_view text) {
  if (!in_copy_) {
    if (text.substr(0, 5) != "COPY ") return;
    std::string header(text);
    std::vector<std::string> name = identifiers(header, 5, '.', ' ');
    table_.clear();
    for (const auto& part : name) table_ += (table_.empty() ? "" : ".") + part;
    std::size_t open = header.find(" (");
    columns_ = open == std::string::npos ? std::vector<std::string>{} : identifiers(header, open + 2, ',', ')');
    in_copy_ = saw_copy_ = true;
    return;
  }
  if (text == "\\.") {
    in_copy_ = false;
    return;
  }
  on_line_(table_, columns_, text);
}

void read_dump_tables(const Config& config, const BackupFile& backup, const std::vector<std::string>& tables,
                      pg::ProcessRunner& runner, const DumpRowFn& on_row) {
  read_dump_lines(config, backup, tables, runner,
                  [&](const std::string& table, const std::vector<std::string>& columns, std::string_view line) {
                    std::vector<std::string> fields = verify::rows::split_fields(std::string(line));
                    if (fields.size() == columns.size()) on_row(table, columns, fields);
                  });
}

PreparedDump::PreparedDump(const Config& config, const BackupFile& backup, pg::ProcessRunner& runner)
    : backup_(backup) {
  CheckResult checked = check_backup(config, backup, runner);
  if (!checked.sound())
    throw verification_error("backup '" + backup.path + "' is damaged: " + checked.problem,
                             "pick another backup: auditpitr list");
  int version = backup.has_manifest ? verify::load_manifest(backup.manifest_path).server_version_num : 0;
  archive_ = std::make_unique<VerifiedDump>(backup.path, checked.verified, runner);
  pg_restore_ = pg_restore_for(config, version, runner);
}

void read_dump_lines(const Config& config, const BackupFile& backup, const std::vector<std::string>& tables,
                     pg::ProcessRunner& runner, const DumpLineFn& on_line) {
  read_dump_lines(config, PreparedDump(config, backup, runner), tables, runner, on_line);
}

void read_dump_lines(const Config& config, const PreparedDump& dump, const std::vector<std::string>& tables,
                     pg::ProcessRunner& runner, const DumpLineFn& on_line) {
  pg::PgRestoreOptions options;
  options.input_file = dump.archive_path();
  options.output_file = "-";
  options.data_only = true;
  options.tables = tables;
  const DatabaseConfig& db = config.database(config.audit_database);
  pg::Command command = pg::pg_restore_command(dump.pg_restore(), db.connect_info(), options);
  CopyTextReader reader(on_line);
  command.stdout_sink = [&reader](const char* data, std::size_t n) { reader.feed(data, n); };
  pg::ProcessResult result = runner.run(command);
  if (!result.ok())
    throw runtime_error("pg_restore " + result.describe() + " reading the data of '" + dump.backup().path + "'",
                        "check the backup: auditpitr check " + dump.backup().stamp, result.stderr_tail);
}

}  // namespace auditpitr::ops
