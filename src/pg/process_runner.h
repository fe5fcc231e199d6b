// Running external programs (pg_dump, pg_restore, initdb, hooks) from an argument list, never a shell.
// ProcessRunner is the seam: tests drive code that spawns processes through a fake that records argv
// and answers as scripted (tests/support/recording_runner.h), held to the real runner's contract.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace auditpitr::pg {

struct Command {
  std::string program;                     ///< looked up in PATH when it has no '/'
  std::vector<std::string> args;           ///< argv[1..]; never joined into a string
  std::map<std::string, std::string> env;  ///< added to (or replacing in) the inherited environment
  std::string run_as_user;                 ///< when set and we are root: setuid to this user first
  std::string working_dir;
  std::string stdin_file;   ///< read stdin from this file (else /dev/null unless stdin_source)
  std::string stdout_file;  ///< write stdout to this file (created 0600)
  /// Streams stdout to the caller as it arrives (mutually exclusive with stdout_file).
  std::function<void(const char* data, std::size_t size)> stdout_sink;
  /// Fills stdin: returns the bytes written into `buffer`, 0 at end of input.
  std::function<std::size_t(char* buffer, std::size_t capacity)> stdin_source;
  /// Called with each complete line of stderr (without the newline) as it arrives.
  std::function<void(const std::string& line)> stderr_line;
  bool capture_stdout = false;  ///< keep stdout in Result::stdout_text
};

struct ProcessResult {
  int exit_code = -1;       ///< the program's exit status; -1 when it was killed by a signal
  int term_signal = 0;      ///< the signal that ended it, 0 when it exited
  std::string stderr_tail;  ///< the last lines of its stderr (up to 16 KiB)
  std::string stdout_text;  ///< when Command::capture_stdout

  bool ok() const { return exit_code == 0; }
  /// "exited with status 1" or "was killed by signal 9".
  std::string describe() const;
  /// The last non-empty line the program wrote to stderr (its final error, usually).
  std::string last_stderr_line() const;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  /// Runs the command to completion. Throws a runtime Error when the program cannot be started
  /// (naming it), the stop's Error when SIGINT/SIGTERM arrived (the child is stopped first);
  /// a non-zero exit is reported in the result, not thrown.
  virtual ProcessResult run(const Command& command) = 0;
};

/// The real runner: fork + exec with an argv array; reaps the child and forwards interruption.
/// The child gets PR_SET_PDEATHSIG so it cannot outlive a killed auditpitr.
class PosixProcessRunner : public ProcessRunner {
 public:
  ProcessResult run(const Command& command) override;
};

/// Finds a program in PATH; empty when absent.
std::string find_program(const std::string& name);

}  // namespace auditpitr::pg
