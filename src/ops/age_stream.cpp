// AgeEncryptor/AgeDecryptor: `age` runs to completion inside ProcessRunner::run on a thread of its
// own, fed from (or feeding) a bounded queue that the caller's thread writes (or reads). Whichever
// side stops first tells the other through the queue, so neither waits for ever.
#include "src/ops/age_stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "src/error.h"
#include "src/util/format.h"
#include "src/util/interrupt.h"

namespace auditpitr::ops {
namespace {

constexpr std::size_t kQueueBytes = 8u << 20;  // what may wait between the two sides
constexpr auto kPollInterval = std::chrono::milliseconds(100);

const char* const kInstallHint = "install Debian's package 'age' (scripts/install-deps does), or put 'age' in PATH";

// Bytes passed from one thread to the other. The producer closes it at the end; either side may
// abandon it, after which both stop: push() answers false, pop() 0.
class ByteQueue {
 public:
  bool push(const char* data, std::size_t size) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (bytes_ >= kQueueBytes && !abandoned_ && !interrupt_requested()) changed_.wait_for(lock, kPollInterval);
    if (abandoned_ || interrupt_requested()) return false;
    chunks_.emplace_back(data, size);
    bytes_ += size;
    changed_.notify_all();
    return true;
  }
  std::size_t pop(char* buffer, std::size_t capacity) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (chunks_.empty() && !closed_ && !abandoned_ && !interrupt_requested()) changed_.wait_for(lock, kPollInterval);
    if (abandoned_ || chunks_.empty()) return 0;
    std::string& front = chunks_.front();
    std::size_t n = std::min(capacity, front.size() - offset_);
    std::memcpy(buffer, front.data() + offset_, n);
    offset_ += n;
    bytes_ -= n;
    if (offset_ == front.size()) chunks_.pop_front(), offset_ = 0;
    changed_.notify_all();
    return n;
  }
  void close() { set(closed_); }
  void abandon() { set(abandoned_); }

 private:
  void set(bool& flag) {
    std::lock_guard<std::mutex> lock(mutex_);
    flag = true;
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> chunks_;
  std::size_t offset_ = 0, bytes_ = 0;
  bool closed_ = false, abandoned_ = false;
};

// Thrown inside age's thread to stop the runner when the caller went away; never seen outside.
struct Abandoned {};

std::string find_age() {
  std::string path = pg::find_program("age");
  if (path.empty())
    throw runtime_error("the 'age' program is not installed (needed for encrypted backups)", kInstallHint);
  return path;
}

// age says "age: error: …" and then a line asking for reports: the first is the reason.
std::string age_error_line(const pg::ProcessResult& result) {
  const std::string prefix = "age: error: ";
  std::size_t at = result.stderr_tail.rfind(prefix);
  if (at == std::string::npos) return result.last_stderr_line();
  std::size_t end = result.stderr_tail.find('\n', at);
  return result.stderr_tail.substr(at + prefix.size(),
                                   end == std::string::npos ? std::string::npos : end - at - prefix.size());
}

std::string octal_mode(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

Error decryption_failure(const pg::ProcessResult& result, const IdentitySource& identity, const std::string& what) {
  std::string reason = age_error_line(result);
  std::string message =
      "age " + result.describe() + " while decrypting " + what + (reason.empty() ? "" : ": " + reason);
  if (contains(reason, "no identity matched"))
    return Error(ErrorKind::usage,
                 "the identity file '" + identity.path + "' (" + identity.origin + ") cannot decrypt " + what +
                     ": it holds none of the keys the backup was encrypted to",
                 "name the identity file of one of the recipients its manifest lists (encryption.recipients), with " +
                     std::string("[backup] identity_file or --identity FILE"),
                 result.stderr_tail);
  if (contains(reason, "identity") || contains(reason, "reading \""))
    return Error(ErrorKind::usage, message,
                 "check " + identity.origin + " ('" + identity.path +
                     "'): it must be an age identity file (age-keygen writes one)",
                 result.stderr_tail);
  if (contains(reason, "header") || contains(reason, "payload") || contains(reason, "unexpected EOF") ||
      contains(reason, "trailing data") || contains(reason, "stream"))
    return Error(ErrorKind::verification, what + " is damaged: " + reason,
                 "use another backup (auditpitr list shows them); 'age -d' gives the same verdict", reason);
  return runtime_error(message, "", result.stderr_tail);
}

// Runs `command` on its own thread; keeps its result or the Error it threw.
class ChildThread {
 public:
  void start(pg::ProcessRunner& runner, pg::Command command, std::function<void()> on_end) {
    command_ = std::move(command);
    thread_ = std::thread([this, &runner, on_end = std::move(on_end)] {
      try {
        result_ = runner.run(command_);
      } catch (const Abandoned&) {
        abandoned_ = true;
      } catch (...) {
        error_ = std::current_exception();
      }
      on_end();
    });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  ~ChildThread() { join(); }
  const pg::ProcessResult& result() const { return result_; }
  std::exception_ptr error() const { return error_; }

 private:
  pg::Command command_;
  std::thread thread_;
  pg::ProcessResult result_;
  std::exception_ptr error_;
  bool abandoned_ = false;
};

}  // namespace

void require_identity(const IdentitySource& identity, const std::string& what) {
  if (identity.path.empty())
    throw usage_error(what + " needs an age identity file to decrypt it, and none is configured",
                      "set [backup] identity_file = \"PATH\" in the configuration or pass --identity PATH (the file "
                      "age-keygen wrote, whose public key the backup was encrypted to; never the key itself)");
  struct stat st {};
  if (::stat(identity.path.c_str(), &st) != 0)
    throw Error(ErrorKind::usage, "unable to read the identity file '" + identity.path + "' (" + identity.origin + ")",
                "check " + identity.origin, std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw usage_error("the identity file '" + identity.path + "' (" + identity.origin + ") is not a plain file",
                      "name the file age-keygen wrote");
  if (st.st_mode & 077)
    throw refused_error(
        "the identity file '" + identity.path + "' (" + identity.origin +
            ") may be read or written by "
            "users other than its owner (mode " +
            octal_mode(st.st_mode & 07777u) + "): it is not used",
        "a private key must be private: chmod 600 '" + identity.path + "' (and look at who may have read it)");
}

// ---- encryption ----

struct AgeEncryptor::Impl {
  ByteQueue input;
  ChildThread child;
  std::string what;
  bool finished = false;

  [[noreturn]] void fail() {
    input.abandon();
    child.join();
    throw_if_interrupted();
    if (child.error()) std::rethrow_exception(child.error());
    const pg::ProcessResult& r = child.result();
    std::string reason = age_error_line(r);
    throw runtime_error("age " + r.describe() + " while encrypting " + what + (reason.empty() ? "" : ": " + reason),
                        "nothing was written; check [backup] encrypt_to", r.stderr_tail);
  }
};

AgeEncryptor::AgeEncryptor(pg::ProcessRunner& runner, const std::vector<std::string>& recipients, Sink sink,
                           std::string what)
    : impl_(std::make_unique<Impl>()) {
  impl_->what = std::move(what);
  pg::Command command;
  command.program = find_age();
  for (const auto& r : recipients) command.args.insert(command.args.end(), {"-r", r});
  Impl* impl = impl_.get();
  command.stdin_source = [impl](char* buffer, std::size_t capacity) { return impl->input.pop(buffer, capacity); };
  command.stdout_sink = std::move(sink);
  impl_->child.start(runner, std::move(command), [impl] { impl->input.abandon(); });
}

AgeEncryptor::~AgeEncryptor() {
  impl_->input.abandon();  // age gets the end of its input; what it wrote is discarded by the caller
  impl_->child.join();
}

void AgeEncryptor::write(const char* data, std::size_t size) {
  if (!impl_->input.push(data, size)) impl_->fail();
}

void AgeEncryptor::finish() {
  impl_->input.close();
  impl_->child.join();
  throw_if_interrupted();
  if (impl_->child.error() || !impl_->child.result().ok()) impl_->fail();
  impl_->finished = true;
}

// ---- decryption ----

struct AgeDecryptor::Impl {
  ByteQueue output;
  ChildThread child;
  IdentitySource identity;
  Source source;
  std::string what;
  bool ended = false;

  // After age's end: the rest of the file through `source` (for its observers), then age's verdict.
  void end() {
    child.join();
    ended = true;
    throw_if_interrupted();
    if (child.error()) std::rethrow_exception(child.error());
    if (!child.result().ok()) throw decryption_failure(child.result(), identity, what);
    static thread_local char rest[1 << 16];
    while (source(rest, sizeof rest) > 0) {
    }
  }
};

AgeDecryptor::AgeDecryptor(pg::ProcessRunner& runner, const IdentitySource& identity, Source source, std::string what)
    : impl_(std::make_unique<Impl>()) {
  impl_->identity = identity;
  impl_->source = std::move(source);
  impl_->what = std::move(what);
  pg::Command command;
  command.program = find_age();
  command.args = {"-d", "-i", identity.path};
  Impl* impl = impl_.get();
  command.stdin_source = [impl](char* buffer, std::size_t capacity) { return impl->source(buffer, capacity); };
  command.stdout_sink = [impl](const char* data, std::size_t size) {
    if (!impl->output.push(data, size)) throw Abandoned{};
  };
  impl_->child.start(runner, std::move(command), [impl] { impl->output.close(); });
}

AgeDecryptor::~AgeDecryptor() {
  impl_->output.abandon();
  impl_->child.join();
}

std::size_t AgeDecryptor::read(char* buffer, std::size_t capacity) {
  if (impl_->ended) return 0;
  std::size_t n = impl_->output.pop(buffer, capacity);
  if (n == 0) impl_->end();
  return n;
}

// ---- header ----

AgeHeader read_age_header(const std::string& path) {
  AgeHeader header;
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw system_error("unable to open '" + path + "'", errno);
  std::string head(64 << 10, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), file));
  std::fseek(file, 0, SEEK_END);
  long size = std::ftell(file);
  std::fclose(file);
  std::size_t pos = 0;
  auto next_line = [&](std::string& line) {
    std::size_t end = head.find('\n', pos);
    if (end == std::string::npos) return false;
    line = head.substr(pos, end - pos);
    pos = end + 1;
    return true;
  };
  std::string line;
  if (!next_line(line) || line != "age-encryption.org/v1") {
    header.problem = "it does not start with an age header (age-encryption.org/v1)";
    return header;
  }
  while (next_line(line)) {
    if (line.rfind("--- ", 0) == 0) {
      header.header_bytes = pos;
      // A 16-byte nonce, then at least one chunk with its 16-byte tag.
      if (size < 0 || static_cast<std::size_t>(size) < pos + 32)
        header.problem = "it ends right after its age header (no encrypted data)";
      else if (header.stanza_types.empty()) header.problem = "its age header names no recipient";
      return header;
    }
    if (line.rfind("-> ", 0) != 0) break;
    header.stanza_types.push_back(line.substr(3, line.find(' ', 3) - 3));
    std::string body;
    do {
      if (!next_line(body)) break;
    } while (body.size() == 64);  // a stanza's body ends with its first line shorter than 64 columns
  }
  header.problem = "its age header is damaged or cut short";
  return header;
}

}  // namespace auditpitr::ops
