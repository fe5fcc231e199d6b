// Runs the built auditpitr binary the way a user would, for end-to-end tests.
#pragma once

#include <map>
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
