// Runs the built auditpitr binary the way a user would, for end-to-end tests.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace auditpitr::test {

struct CliResult {
  int exit_code = -1;
  int term_signal = 0;
  std::string out;
  std::string err;
};

/// Runs `auditpitr args...` with stdin from /dev/null (no terminal) unless `input` is given.
CliResult run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                  const std::string* input = nullptr);

}  // namespace auditpitr::test

namespace auditpitr::test {

/// Runs `auditpitr args...` on a pseudo-terminal (stdin, stdout and stderr all the terminal, as a
/// user's shell): what the terminal showed, both streams mixed, is in `out`.
CliResult run_cli_on_terminal(const std::vector<std::string>& args);

/// Starts `auditpitr args...` with AUDITPITR_TEST_PAUSE_AT=phase and waits until it stops itself
/// there. Returns its pid (stopped), or -1 when it exited without reaching the phase.
int run_cli_until_paused(const std::vector<std::string>& args, const std::string& phase,
                         const std::map<std::string, std::string>& env = {});
/// SIGKILLs a process started by run_cli_until_paused and reaps it.
void kill_and_reap(int pid);
/// Lets a process started by run_cli_until_paused go on (SIGCONT) and returns its exit status
/// (-1 when a signal ended it).
int resume_and_wait(int pid);
/// Waits at most `timeout` for such a process, once resumed, to end: its exit status (-1 when a
/// signal ended it), or nullopt while it still runs.
std::optional<int> wait_for_exit(int pid, std::chrono::milliseconds timeout);

}  // namespace auditpitr::test

namespace auditpitr::test {

/// Runs `auditpitr args...` on a pseudo-terminal (stdin, stdout and stderr are a terminal, as for a
/// person), typing `typed` once the program prints `prompt`. `out` holds everything it showed.
/// With `piped_stdout`, stdout alone is a pipe instead (a script reading --json output while a
/// person answers); what came through it is returned there.
CliResult run_cli_in_terminal(const std::vector<std::string>& args, const std::string& prompt, const std::string& typed,
                              std::string* piped_stdout = nullptr);

}  // namespace auditpitr::test
