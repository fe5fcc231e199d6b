// Large structures a loop has finished with, freed on a thread of its own while the loop goes on:
// a replay batch's hundred thousand events and folded rows take 0.05–0.1 s each to free, time
// the server's work on the next batch can hide. Unlike leave_to_exit (exit_memory.h), memory
// stays bounded: one structure at a time is being freed, the next release waits for it.
#pragma once

#include <future>
#include <utility>

namespace auditpitr {

class FreeBeside {
 public:
  FreeBeside() = default;
  FreeBeside(const FreeBeside&) = delete;
  FreeBeside& operator=(const FreeBeside&) = delete;
  ~FreeBeside() { wait(); }

  /// Takes `object` (moved from: the caller's is left empty) and frees it on another thread.
  template <typename T>
  void release(T& object) {
    wait();
    freeing_ = std::async(std::launch::async, [held = std::move(object)]() mutable {
      T dropped = std::move(held);  // destroyed here, on this thread, not with the future's state
    });
    object = T();
  }

  /// Returns once the structure being freed, if any, is.
  void wait() {
    if (freeing_.valid()) freeing_.get();
  }

 private:
  std::future<void> freeing_;
};

}  // namespace auditpitr
