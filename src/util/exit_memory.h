// Large structures a command has finished with, left for the process's exit to free all at once:
// freeing half a million small objects one by one costs about a second (lost's fold of a million
// events: 1.1 s of 8), while the exit hands the pages back in one go. They stay reachable from
// here, so leak checkers do not report them.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace auditpitr {

inline void leave_to_exit(std::shared_ptr<void> object) {
  static std::mutex mutex;
  static auto* kept = new std::vector<std::shared_ptr<void>>();  // never destroyed, so never freed
  std::lock_guard<std::mutex> lock(mutex);
  kept->push_back(std::move(object));
}

}  // namespace auditpitr
