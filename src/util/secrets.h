// Passwords never reach the user's screen or logs: every Error's text goes through mask_passwords.
#pragma once

#include <string>

namespace auditpitr {

/// `text` with passwords replaced by "****": the password of a URI's user part
/// ("postgresql://user:secret@host" becomes "postgresql://user:****@host") and the value of a
/// password=… keyword (libpq's conninfo, PGPASSWORD=…), quoted or not.
std::string mask_passwords(const std::string& text);

}  // namespace auditpitr
