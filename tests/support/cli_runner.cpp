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

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace auditpitr::test {

int run_cli_until_paused(const std::vector<std::string>& args, const std::string& phase,
                         const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv_strings{AUDITPITR_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("AUDITPITR_TEST_PAUSE_AT", phase.c_str(), 1);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, WUNTRACED);
  return WIFSTOPPED(status) ? pid : -1;
}

void kill_and_reap(int pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::optional<int> wait_for_exit(int pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    ::usleep(10000);
  }
}

int resume_and_wait(int pid) {
  ::kill(pid, SIGCONT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace auditpitr::test

#include <poll.h>
#include <pty.h>

#include <chrono>

namespace auditpitr::test {

CliResult run_cli_in_terminal(const std::vector<std::string>& args, const std::string& prompt, const std::string& typed,
                              std::string* piped_stdout) {
  std::vector<std::string> argv_strings{AUDITPITR_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  int pipe_fds[2] = {-1, -1};
  if (piped_stdout && ::pipe(pipe_fds) != 0) return CliResult{};
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    ::setenv("NO_COLOR", "1", 1);
    if (piped_stdout) {
      ::dup2(pipe_fds[1], 1);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (piped_stdout) ::close(pipe_fds[1]);
  int piped = pipe_fds[0];
  CliResult result;
  bool answered = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  for (;;) {
    struct pollfd fds[2] = {{master, POLLIN, 0}, {piped, POLLIN, 0}};
    if (::poll(fds, piped >= 0 ? 2 : 1, 200) > 0) {
      char buffer[4096];
      if (piped >= 0 && fds[1].revents) {
        ssize_t n = ::read(piped, buffer, sizeof buffer);
        if (n > 0) {
          piped_stdout->append(buffer, static_cast<std::size_t>(n));
        } else {
          ::close(piped);
          piped = -1;
        }
      }
      if (fds[0].revents) {
        ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n <= 0) break;  // EIO: the program closed the terminal (it exited)
        result.out.append(buffer, static_cast<std::size_t>(n));
      }
    }
    if (!answered && result.out.find(prompt) != std::string::npos) {
      std::string line = typed + "\n";
      if (::write(master, line.data(), line.size()) < 0) break;
      answered = true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  if (piped >= 0) {  // the rest, now that it exited
    char buffer[4096];
    for (ssize_t n; (n = ::read(piped, buffer, sizeof buffer)) > 0;)
      piped_stdout->append(buffer, static_cast<std::size_t>(n));
    ::close(piped);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace auditpitr::test

#include <pty.h>

#include <cerrno>

namespace auditpitr::test {

CliResult run_cli_on_terminal(const std::vector<std::string>& args) {
  std::vector<std::string> argv_strings{AUDITPITR_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return {};
  if (pid == 0) {
    ::setenv("NO_COLOR", "1", 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  CliResult result;
  char buffer[4096];
  for (;;) {  // until the child's side closes: EIO on Linux
    ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n > 0) result.out.append(buffer, static_cast<std::size_t>(n));
    else if (n < 0 && errno == EINTR) continue;
    else break;
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace auditpitr::test
