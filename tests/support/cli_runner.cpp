// run_cli: the real process runner pointed at the built binary.
#include "tests/support/cli_runner.h"

#include <cstring>

#include "src/pg/process_runner.h"

namespace auditpitr::test {

CliResult run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                  const std::string* input) {
  pg::Command command;
  command.program = AUDITPITR_BINARY;
  command.args = args;
  command.env = env;
  command.env.emplace("NO_COLOR", "1");
  command.capture_stdout = true;
  std::size_t offset = 0;
  if (input) {
    command.stdin_source = [&](char* buffer, std::size_t capacity) {
      std::size_t n = std::min(capacity, input->size() - offset);
      std::memcpy(buffer, input->data() + offset, n);
      offset += n;
      return n;
    };
  }
  std::string err;
  command.stderr_line = [&](const std::string& line) { err += line + "\n"; };
  pg::PosixProcessRunner runner;
  pg::ProcessResult result = runner.run(command);
  return CliResult{result.exit_code, result.term_signal, result.stdout_text, err};
}

}  // namespace auditpitr::test
