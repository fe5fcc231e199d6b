// Human-readable sizes, durations and counts, as the old scripts printed them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace auditpitr {

/// "2.3M", "512K", "87B" (du -h style).
std::string human_size(uint64_t bytes);
/// "1.2 s", "3 min 4 s".
std::string human_duration(double seconds);
/// "4,850,309": digits in groups of three.
std::string grouped(uint64_t number);
/// "1 insert", "0 inserts", "2,000 inserts": `noun` is the singular of a noun whose plural adds "s".
std::string count_text(uint64_t count, const std::string& noun);
/// `text` followed by spaces up to `width`, or by one space when it is that long already.
std::string pad(const std::string& text, std::size_t width);
/// `text` safe to show on a terminal: control characters (C0, DEL, and C1 encoded in UTF-8),
/// which could move the cursor, recolour or forge lines, become visible `\xNN` / `\u00NN`.
/// For text that comes from the logs: an application's users choose some of it.
std::string printable(const std::string& text);
/// `text` as one word for a POSIX shell, for commands printed in hints: as it is when it holds only
/// characters no shell treats specially, otherwise in single quotes (a quote inside becomes '\'').
std::string shell_word(const std::string& text);
/// 16 lower-case hex digits (checksums and event hashes as stored), and back: false when `text`
/// is not 16 of them.
std::string to_hex(uint64_t value);
bool from_hex(const std::string& text, uint64_t& value);
/// Rows of cells as lines whose columns line up: each cell padded to its column's widest plus one
/// space (the last cell of a row as it is).
std::vector<std::string> align_columns(const std::vector<std::vector<std::string>>& rows);

}  // namespace auditpitr
