// PgTools: version probing with `--version`, argv construction for pg_dump.
#include "src/pg/pg_tools.h"

#include <cctype>
#include <cstdlib>

#include "src/error.h"
#include "src/util/fs.h"

namespace auditpitr::pg {

Command Tool::command(const std::vector<std::string>& args) const {
  Command command;
  if (exec.empty()) {
    command.program = path;
    command.args = args;
    return command;
  }
  command.program = exec.front();
  command.args.assign(exec.begin() + 1, exec.end());
  command.args.push_back(path);
  command.args.insert(command.args.end(), args.begin(), args.end());
  return command;
}

PgTools::PgTools(ProcessRunner& runner, std::string bin_dir, std::vector<std::string> exec)
    : runner_(runner), bin_dir_(std::move(bin_dir)), exec_(std::move(exec)) {}

int server_major(int num) { return num / 10000; }

int PgTools::major_of_version_text(const std::string& text) {
  auto close = text.find(')');
  std::size_t i = close == std::string::npos ? 0 : close + 1;
  while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  int major = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) major = major * 10 + (text[i++] - '0');
  return major;
}

std::string PgTools::version_text(const Tool& tool, ProcessRunner& runner) {
  Command command = tool.command({"--version"});
  command.capture_stdout = true;
  try {
    ProcessResult r = runner.run(command);
    std::string text = r.stdout_text;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return r.ok() ? text : "";
  } catch (const Error&) {
    return "";
  }
}

Tool PgTools::find(const std::string& tool, int server_version_num, const std::string& server) {
  int major = server_major(server_version_num);
  bool inside = !exec_.empty();  // the container's files cannot be looked at from here: its answer decides
  std::vector<std::string> candidates;
  if (!bin_dir_.empty()) {
    candidates.push_back(join_path(bin_dir_, tool));
  } else {
    candidates.push_back("/usr/lib/postgresql/" + std::to_string(major) + "/bin/" + tool);
    std::string in_path = inside ? tool : find_program(tool);
    if (!in_path.empty()) candidates.push_back(in_path);
  }
  std::string seen;
  for (const auto& path : candidates) {
    if (!inside && !path_exists(path)) continue;
    Tool candidate(path, exec_);
    std::string text = version_text(candidate);
    if (major_of_version_text(text) == major) return candidate;
    seen += (seen.empty() ? "" : ", ") + path + " is " + (text.empty() ? "not runnable" : "'" + text + "'");
  }
  std::string fix = inside ? "use a [tools] exec container with the PostgreSQL " + std::to_string(major) +
                                 " client tools (or set [tools] bin_dir to their folder inside it)"
                           : "install postgresql-client-" + std::to_string(major) +
                                 " or set [tools] bin_dir to the folder of " + tool + " " + std::to_string(major);
  if (inside) seen = "through [tools] exec " + seen;
  if (seen.empty())
    throw runtime_error(
        tool + " not found (needed for server " + server + ", major version " + std::to_string(major) + ")", fix);
  throw runtime_error(tool + " of major version " + std::to_string(major) + " is needed for server " + server +
                          " (PostgreSQL " + std::to_string(major) + "), but " + seen,
                      fix);
}

Command pg_dump_command(const Tool& pg_dump, const ConnInfo& info, const std::string& snapshot, bool force_hex_bytea) {
  Command command = pg_dump.command({"--format=custom", "--compress=0", "--no-password", "--snapshot=" + snapshot});
  command.env = info.child_environment();
  // The manifest's checksums are taken from the rows of this dump (verify/dump_checksum.h): its
  // session renders values as checksum sessions do (kCanonicalOutputSql). pg_dump itself sets
  // DateStyle, IntervalStyle and extra_float_digits alike, but leaves TimeZone and bytea_output to
  // the defaults. TimeZone travels as PGTZ, a startup parameter poolers such as pgbouncer accept
  // (a timestamptz is the same instant in any zone); bytea_output only when its default is not
  // already hex, as a startup option (PGOPTIONS), which pgbouncer refuses unless configured to.
  command.env["PGTZ"] = "UTC";
  if (force_hex_bytea) {
    auto options = command.env.find("PGOPTIONS");
    const char* inherited = std::getenv("PGOPTIONS");
    std::string base = options != command.env.end() ? options->second : inherited ? inherited : "";
    command.env["PGOPTIONS"] = base + (base.empty() ? "" : " ") + "-c bytea_output=hex";
  }
  return command;
}

}  // namespace auditpitr::pg
