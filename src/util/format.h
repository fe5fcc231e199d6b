// Human-readable sizes, durations and counts, as the old scripts printed them.
#pragma once

#include <cstdint>
#include <string>

namespace auditpitr {

/// "2.3M", "512K", "87B" (du -h style).
std::string human_size(uint64_t bytes);
/// "1.2 s", "3 min 4 s".
std::string human_duration(double seconds);
/// "1 insert", "0 inserts", "2 inserts": `noun` is the singular of a noun whose plural adds "s".
std::string count_text(uint64_t count, const std::string& noun);

}  // namespace auditpitr
