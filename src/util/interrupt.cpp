// Interrupt flag set from signal handlers, and the watcher thread that acts on it.
#include "src/util/interrupt.h"

#include <chrono>
#include <csignal>

#include "src/error.h"

namespace auditpitr {
namespace {
volatile std::sig_atomic_t received = 0;
void on_signal(int signal) {
  if (!received) received = signal;  // the first one says how we were asked to stop
}
}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a dead child's pipe must be an error, not our death
}

bool interrupt_requested() { return received != 0; }

int interrupt_signal() { return received; }

Error stop_error(std::string cause) {
  const char* hint = "nothing was left half-done; run the command again";
  if (received == SIGTERM) return Error(ErrorKind::terminated, "terminated (SIGTERM)", hint, std::move(cause));
  return Error(ErrorKind::interrupted, "interrupted", hint, std::move(cause));
}

void throw_if_interrupted() {
  if (received) throw stop_error();
}

InterruptWatch::InterruptWatch(std::function<void()> cancel)
    : cancel_(std::move(cancel)), thread_([this] { watch(); }) {}

InterruptWatch::~InterruptWatch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void InterruptWatch::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  // The flag is set by a signal handler, which cannot notify: polled 20 times a second.
  while (!wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_ || interrupt_requested(); })) {
  }
  if (done_) return;
  try {
    cancel_();
  } catch (...) {  // the stop is noticed later anyway, when the work returns
  }
}

}  // namespace auditpitr
