// pause_point: compare the variable with the phase, stop on a match.
#include "src/util/pause_point.h"

#include <signal.h>

#include <cstdlib>
#include <cstring>

namespace auditpitr {

void pause_point(const char* phase) {
  const char* wanted = std::getenv("AUDITPITR_TEST_PAUSE_AT");
  if (wanted && std::strcmp(wanted, phase) == 0) ::raise(SIGSTOP);
}

}  // namespace auditpitr
