// leave_to_exit keeps what it is given alive (and reachable) until the process ends.
#include "src/util/exit_memory.h"

#include <catch2/catch.hpp>

using namespace auditpitr;

namespace {
struct Flagged {
  explicit Flagged(bool* flag) : destroyed(flag) {}
  ~Flagged() { *destroyed = true; }
  bool* destroyed;
};
}  // namespace

TEST_CASE("leave_to_exit does not free what it is given", "[exit_memory]") {
  static bool destroyed = false;
  auto object = std::make_unique<Flagged>(&destroyed);
  Flagged* raw = object.get();
  leave_to_exit(std::move(object));
  CHECK_FALSE(destroyed);
  CHECK(raw->destroyed == &destroyed);  // still there
}
