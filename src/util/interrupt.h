// SIGINT/SIGTERM become a flag that long-running loops poll, so that they stop cleanly.
#pragma once

namespace auditpitr {

/// Installs handlers for SIGINT and SIGTERM that set the flag (main() calls it once).
void install_interrupt_handlers();
bool interrupt_requested();
/// Throws an interrupted Error when the flag is set.
void throw_if_interrupted();

}  // namespace auditpitr
