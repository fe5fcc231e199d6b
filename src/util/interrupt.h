// SIGINT/SIGTERM become a flag that long-running loops poll, so that they stop cleanly; calls that
// block without polling (a COPY, a query waiting for a lock) are ended by an InterruptWatch.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "src/error.h"

namespace auditpitr {

/// Installs handlers for SIGINT and SIGTERM that record the signal (main() calls it once).
void install_interrupt_handlers();
bool interrupt_requested();
/// The first of SIGINT/SIGTERM that arrived, 0 while none did.
int interrupt_signal();
/// The stop's Error: kind interrupted (exit 130) for SIGINT, terminated (exit 143) for SIGTERM.
Error stop_error(std::string cause = {});
/// Throws stop_error() when a signal arrived.
void throw_if_interrupted();

/// While alive, calls `cancel` once, from a watcher thread, within a few tens of milliseconds of
/// SIGINT or SIGTERM: for work in this thread that blocks without polling the flag, so that it
/// ends promptly (e.g. a query cancelled on the server, whose error then becomes the stop's).
class InterruptWatch {
 public:
  explicit InterruptWatch(std::function<void()> cancel);
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  void watch();
  std::function<void()> cancel_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace auditpitr
