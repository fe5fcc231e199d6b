// Test-only crash points. When AUDITPITR_TEST_PAUSE_AT names a phase, the process stops itself
// (SIGSTOP) on reaching it, so a test can SIGKILL it at exactly that moment and check that
// nothing was lost. Unset in normal use: then this is one getenv per phase.
#pragma once

namespace auditpitr {

void pause_point(const char* phase);

}  // namespace auditpitr
