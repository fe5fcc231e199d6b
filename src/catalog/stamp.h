// Backup stamps: YYYYMMDD_HHMMSS in the host's local time, as the old scripts wrote them.
#pragma once

#include <ctime>
#include <optional>
#include <string>

namespace auditpitr {

/// True when `text` has the shape YYYYMMDD_HHMMSS and names a real date and time.
bool is_stamp(const std::string& text);
/// The stamp as a point in time (local time zone); nullopt when it is not a stamp.
std::optional<std::time_t> stamp_to_time(const std::string& stamp);
std::string time_to_stamp(std::time_t when);
/// "2025-01-23 14:05:30" (local), as the old list script showed it.
std::string stamp_display(const std::string& stamp);

}  // namespace auditpitr
