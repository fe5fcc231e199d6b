// Two pieces of work at once: one on a thread of its own, one on the calling thread.
#pragma once

#include <exception>
#include <functional>
#include <thread>

namespace auditpitr {

/// Runs `beside` on a thread of its own while `here` runs on this one, and returns once both have
/// ended. An exception from either is rethrown here (this thread's when both throw), after the
/// other thread has been joined.
inline void run_beside(const std::function<void()>& beside, const std::function<void()>& here) {
  std::exception_ptr failed;
  std::thread other([&] {
    try {
      beside();
    } catch (...) {
      failed = std::current_exception();
    }
  });
  try {
    here();
  } catch (...) {
    other.join();
    throw;
  }
  other.join();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace auditpitr
