// Hooks: the configured argv (e.g. stop/start the application's services, as the old script did),
// run without a shell, with every line of its output shown.
#include "src/ops/restore_internal.h"

namespace auditpitr::ops::detail {

int run_hook(const std::string& name, const std::vector<std::string>& argv,
             const std::map<std::string, std::string>& env, pg::ProcessRunner& runner, const Reporter& reporter) {
  reporter.info("Running the " + name + " hook: " + argv.front());
  pg::Command command;
  command.program = argv.front();
  command.args.assign(argv.begin() + 1, argv.end());
  command.env = env;
  std::string pending;
  command.stdout_sink = [&](const char* data, std::size_t size) {
    pending.append(data, size);
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1))
      reporter.info(name + ": " + pending.substr(0, nl));
  };
  command.stderr_line = [&](const std::string& line) { reporter.info(name + ": " + line); };
  pg::ProcessResult result = runner.run(command);
  if (!pending.empty()) reporter.info(name + ": " + pending);
  if (!result.ok()) {
    reporter.warning("the " + name + " hook " + result.describe());
    return result.exit_code == 0 ? 1 : result.exit_code;
  }
  return 0;
}

}  // namespace auditpitr::ops::detail
