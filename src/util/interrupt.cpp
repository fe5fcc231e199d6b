// Interrupt flag set from signal handlers.
#include "src/util/interrupt.h"

#include <csignal>

#include "src/error.h"

namespace auditpitr {
namespace {
volatile std::sig_atomic_t interrupted = 0;
void on_signal(int) { interrupted = 1; }
}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a dead child's pipe must be an error, not our death
}

bool interrupt_requested() { return interrupted != 0; }

void throw_if_interrupted() {
  if (interrupted)
    throw Error(ErrorKind::interrupted, "interrupted", "nothing was left half-done; run the command again");
}

}  // namespace auditpitr
