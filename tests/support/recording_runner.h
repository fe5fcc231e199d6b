// A fake pg::ProcessRunner: records each Command and answers with what the test scripted for its
// program, through the Command's own streams the way the real runner does (process_runner_test.cpp
// holds both to one contract). For code whose programs a test cannot install (other PostgreSQL
// majors, failing tools).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "src/pg/process_runner.h"

namespace auditpitr::test {

class RecordingProcessRunner : public pg::ProcessRunner {
 public:
  struct Answer {
    int exit_code = 0;
    std::string stdout_text;
    std::string stderr_text;
  };
  /// What a run of `program` (as the Command names it) answers; an unscripted program cannot be
  /// started (the real runner's Error).
  void script(const std::string& program, Answer answer) { answers_[program] = std::move(answer); }

  pg::ProcessResult run(const pg::Command& command) override;

  const std::vector<pg::Command>& commands() const { return commands_; }
  /// What each run read from its stdin_source or stdin_file, in order.
  const std::vector<std::string>& inputs() const { return inputs_; }

 private:
  std::map<std::string, Answer> answers_;
  std::vector<pg::Command> commands_;
  std::vector<std::string> inputs_;
};

}  // namespace auditpitr::test
