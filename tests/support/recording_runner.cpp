// RecordingProcessRunner: the scripted answer delivered through the Command's streams.
#include "tests/support/recording_runner.h"

#include <fstream>
#include <sstream>

#include "src/error.h"

namespace auditpitr::test {
namespace {

std::string read_input(const pg::Command& command) {
  std::string input;
  if (command.stdin_source) {
    char buffer[65536];
    for (std::size_t n; (n = command.stdin_source(buffer, sizeof buffer)) > 0;) input.append(buffer, n);
  } else if (!command.stdin_file.empty()) {
    std::ifstream in(command.stdin_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    input = text.str();
  }
  return input;
}

void deliver_stdout(const pg::Command& command, const std::string& text, pg::ProcessResult& result) {
  if (command.stdout_sink || command.capture_stdout) {  // a pipe: the file is not written
    if (command.stdout_sink && !text.empty()) command.stdout_sink(text.data(), text.size());
    if (command.capture_stdout) result.stdout_text = text;
  } else if (!command.stdout_file.empty()) {
    std::ofstream(command.stdout_file, std::ios::binary) << text;
  }
}

void deliver_stderr(const pg::Command& command, const std::string& text, pg::ProcessResult& result) {
  auto line = [&](const std::string& l) {
    if (command.stderr_line) command.stderr_line(l);
    result.stderr_tail += l + "\n";
  };
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    line(text.substr(start, nl - start));
  if (start < text.size()) line(text.substr(start));  // an unterminated last line
  if (result.stderr_tail.size() > 16384) result.stderr_tail.erase(0, result.stderr_tail.size() - 16384);
}

}  // namespace

pg::ProcessResult RecordingProcessRunner::run(const pg::Command& command) {
  commands_.push_back(command);
  auto it = answers_.find(command.program);
  if (it == answers_.end())
    throw system_error("unable to run '" + command.program + "'", ENOENT, "install it or put it in PATH");
  inputs_.push_back(read_input(command));
  pg::ProcessResult result;
  deliver_stdout(command, it->second.stdout_text, result);
  deliver_stderr(command, it->second.stderr_text, result);
  result.exit_code = it->second.exit_code;
  return result;
}

}  // namespace auditpitr::test
