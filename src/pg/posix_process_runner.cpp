// The real ProcessRunner: fork + execvpe with argv arrays, pipes pumped with poll().
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "src/error.h"
#include "src/pg/process_runner.h"
#include "src/util/interrupt.h"

extern char** environ;

namespace auditpitr::pg {
namespace {

constexpr std::size_t kStderrTailBytes = 16 * 1024;

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  void open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error("unable to create a pipe", errno);
    read_end = fds[0];
    write_end = fds[1];
  }
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ~Pipe() {
    close_fd(read_end);
    close_fd(write_end);
  }
};

std::vector<std::string> build_environment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> result;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && overrides.count(entry.substr(0, eq))) continue;
    result.push_back(std::move(entry));
  }
  for (const auto& [name, value] : overrides) result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

struct UserIds {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

UserIds resolve_user(const std::string& name) {
  UserIds ids;
  if (name.empty() || ::geteuid() != 0) return ids;
  struct passwd* pw = ::getpwnam(name.c_str());
  if (!pw)
    throw runtime_error("user '" + name + "' does not exist", "create it (PostgreSQL's server refuses to run as root)");
  ids.switch_user = true;
  ids.uid = pw->pw_uid;
  ids.gid = pw->pw_gid;
  return ids;
}

// Only async-signal-safe calls between fork and exec.
[[noreturn]] void exec_child(const Command& cmd, char** argv, char** envp, const UserIds& ids, int in_fd, int out_fd,
                             int err_fd, int report_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);
  ::sigaction(SIGINT, &dfl, nullptr);
  ::sigaction(SIGTERM, &dfl, nullptr);
  auto fail = [&](int code) {
    ssize_t ignored = ::write(report_fd, &code, sizeof code);
    (void)ignored;
    ::_exit(127);
  };
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) fail(errno);
  if (!cmd.working_dir.empty() && ::chdir(cmd.working_dir.c_str()) != 0) fail(errno);
  if (ids.switch_user) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(ids.gid) != 0 || ::setuid(ids.uid) != 0) fail(errno);
  }
  ::execvpe(argv[0], argv, envp);
  fail(errno);
  ::_exit(127);
}

int open_or_throw(const std::string& path, int flags, const char* what) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) throw system_error(std::string("unable to open ") + what + " '" + path + "'", errno);
  return fd;
}

class ChildPump {
 public:
  // The pump closes the descriptors it finishes with through these references, so the
  // owning Pipe objects never close them twice.
  ChildPump(const Command& cmd, pid_t pid, int& out_fd, int& err_fd, int& in_fd)
      : cmd_(cmd), pid_(pid), out_fd_(out_fd), err_fd_(err_fd), in_fd_(in_fd) {}

  void pump(ProcessResult& result) {
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      if (interrupt_requested() && !signalled_) {
        ::kill(pid_, SIGTERM);
        signalled_ = true;
      }
      struct pollfd fds[3];
      int n = 0;
      int out_index = -1, err_index = -1, in_index = -1;
      if (out_fd_ >= 0) out_index = n, fds[n++] = {out_fd_, POLLIN, 0};
      if (err_fd_ >= 0) err_index = n, fds[n++] = {err_fd_, POLLIN, 0};
      if (in_fd_ >= 0) in_index = n, fds[n++] = {in_fd_, POLLOUT, 0};
      int ready = ::poll(fds, n, 250);
      if (ready < 0 && errno != EINTR) throw system_error("poll failed", errno);
      if (ready <= 0) continue;
      if (in_index >= 0 && fds[in_index].revents) feed_stdin();
      if (out_index >= 0 && fds[out_index].revents) drain(out_fd_, &ChildPump::on_stdout, result);
      if (err_index >= 0 && fds[err_index].revents) drain(err_fd_, &ChildPump::on_stderr, result);
    }
    Pipe::close_fd(in_fd_);
    if (!pending_line_.empty()) emit_stderr_line(result);
  }

 private:
  void feed_stdin() {
    if (pending_in_offset_ == pending_in_size_) {
      pending_in_size_ = cmd_.stdin_source(in_buffer_, sizeof in_buffer_);
      pending_in_offset_ = 0;
      if (pending_in_size_ == 0) {
        Pipe::close_fd(in_fd_);
        return;
      }
    }
    ssize_t n = ::write(in_fd_, in_buffer_ + pending_in_offset_, pending_in_size_ - pending_in_offset_);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      Pipe::close_fd(in_fd_);  // the child closed its stdin (EPIPE): its exit status tells why
      return;
    }
    pending_in_offset_ += static_cast<std::size_t>(n);
  }

  void drain(int& fd, void (ChildPump::*handler)(const char*, std::size_t, ProcessResult&), ProcessResult& result) {
    char buffer[1 << 16];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      (this->*handler)(buffer, static_cast<std::size_t>(n), result);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      Pipe::close_fd(fd);
    }
  }

  void on_stdout(const char* data, std::size_t size, ProcessResult& result) {
    if (cmd_.stdout_sink) cmd_.stdout_sink(data, size);
    if (cmd_.capture_stdout) result.stdout_text.append(data, size);
  }

  void on_stderr(const char* data, std::size_t size, ProcessResult& result) {
    for (std::size_t i = 0; i < size; ++i) {
      if (data[i] == '\n') {
        emit_stderr_line(result);
      } else {
        pending_line_.push_back(data[i]);
      }
    }
  }

  void emit_stderr_line(ProcessResult& result) {
    if (cmd_.stderr_line) cmd_.stderr_line(pending_line_);
    result.stderr_tail += pending_line_;
    result.stderr_tail += '\n';
    if (result.stderr_tail.size() > kStderrTailBytes)
      result.stderr_tail.erase(0, result.stderr_tail.size() - kStderrTailBytes);
    pending_line_.clear();
  }

  const Command& cmd_;
  pid_t pid_;
  int& out_fd_;
  int& err_fd_;
  int& in_fd_;
  bool signalled_ = false;
  std::string pending_line_;
  char in_buffer_[1 << 16];
  std::size_t pending_in_size_ = 0, pending_in_offset_ = 0;
};

ProcessResult wait_for(pid_t pid) {
  ProcessResult result;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw system_error("waitpid failed", errno);
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

}  // namespace

std::string ProcessResult::describe() const {
  if (term_signal) return "was killed by signal " + std::to_string(term_signal);
  return "exited with status " + std::to_string(exit_code);
}

std::string ProcessResult::last_stderr_line() const {
  std::size_t end = stderr_tail.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  std::size_t start = stderr_tail.find_last_of('\n', end);
  return stderr_tail.substr(start == std::string::npos ? 0 : start + 1,
                            end + 1 - (start == std::string::npos ? 0 : start + 1));
}

ProcessResult PosixProcessRunner::run(const Command& cmd) {
  std::vector<std::string> argv_strings{cmd.program};
  argv_strings.insert(argv_strings.end(), cmd.args.begin(), cmd.args.end());
  std::vector<std::string> env_strings = build_environment(cmd.env);
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);
  UserIds ids = resolve_user(cmd.run_as_user);

  Pipe out, err, in, report;
  err.open();
  report.open();
  int child_in = -1, child_out = -1;
  int null_fd = open_or_throw("/dev/null", O_RDWR, "file");
  if (cmd.stdin_source) {
    in.open();
    child_in = in.read_end;
  } else {
    child_in = cmd.stdin_file.empty() ? null_fd : open_or_throw(cmd.stdin_file, O_RDONLY, "input file");
  }
  if (cmd.stdout_sink || cmd.capture_stdout) {
    out.open();
    child_out = out.write_end;
  } else {
    child_out =
        cmd.stdout_file.empty() ? null_fd : open_or_throw(cmd.stdout_file, O_WRONLY | O_CREAT | O_TRUNC, "output file");
  }

  pid_t pid = ::fork();
  if (pid < 0) throw system_error("unable to start '" + cmd.program + "'", errno);
  if (pid == 0) exec_child(cmd, argv.data(), envp.data(), ids, child_in, child_out, err.write_end, report.write_end);

  if (child_in != null_fd && child_in != in.read_end) ::close(child_in);
  if (child_out != null_fd && child_out != out.write_end) ::close(child_out);
  ::close(null_fd);
  Pipe::close_fd(report.write_end);
  Pipe::close_fd(out.write_end);
  Pipe::close_fd(err.write_end);
  Pipe::close_fd(in.read_end);

  int exec_errno = 0;
  if (::read(report.read_end, &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    wait_for(pid);
    throw system_error("unable to run '" + cmd.program + "'", exec_errno,
                       exec_errno == ENOENT ? "install it or put it in PATH" : "");
  }
  if (in.write_end >= 0) ::fcntl(in.write_end, F_SETFL, O_NONBLOCK);

  ChildPump pump(cmd, pid, out.read_end, err.read_end, in.write_end);
  ProcessResult result;
  try {
    pump.pump(result);
  } catch (...) {
    ::kill(pid, SIGKILL);
    wait_for(pid);
    throw;
  }
  ProcessResult status = wait_for(pid);
  result.exit_code = status.exit_code;
  result.term_signal = status.term_signal;
  if (interrupt_requested()) throw_if_interrupted();
  return result;
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return "";
}

}  // namespace auditpitr::pg
