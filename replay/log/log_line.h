// One audit-log line to one record: `level`, `operation` and `time` are pulled out and the whole
// line is checked to be one well-formed JSON object; the rest stays for consumers. Lines as logrus
// writes them take a bit-mask path (log_line_flat.h), other usual lines a one-pass scanner
// (log_line_fast.h); anything else is parsed and judged by simdjson on-demand.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "replay/log/event.h"

namespace auditpitr::replay {

/// Why a line was not taken. Counted per file and reported with file:line.
enum class LineIssue : uint8_t {
  malformed_json,     ///< not valid JSON, or cut short (the last line of a file being written)
  not_object,         ///< valid JSON but not an object (`[1,2]`, `"text"`, `42`)
  missing_time,       ///< no `time` key
  bad_time,           ///< `time` is not an RFC 3339 string
  invalid_utf8,       ///< bytes that are not UTF-8
  too_long,           ///< longer than the reader's line limit: skipped without being loaded
  missing_operation,  ///< an `info` line of an event log without `operation`
  out_of_order,       ///< earlier than a previous line of the same log by more than the window
  damaged_file,       ///< a .gz file that cannot be inflated to its end (the rest is lost)
};
inline constexpr std::size_t kLineIssueKinds = 9;

/// "malformed_json", "not_object", …: stable names for reports and `analyze --json`.
const char* issue_name(LineIssue issue);

/// The fields a reader extracts. The views point into the line or the parser and stay valid
/// until the parser parses another line.
struct ParsedLine {
  std::string_view level;      ///< "" when absent or not a string
  std::string_view operation;  ///< "" when absent or not a string
  TimePoint time;
};

/// Parses lines through the fast paths, falling back to the fastest simdjson on-demand kernel the
/// CPU runs (AVX2 "haswell" when available, else the portable one), chosen once at construction.
/// Both give the same answer for any line (the fuzz target checks it). Not thread-safe: one per reader.
class LineParser {
 public:
  /// `fast_path` false: every line goes through simdjson (for tests and the fuzz target).
  explicit LineParser(bool fast_path = true);
  ~LineParser();
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  /// Parses `line` (which must be followed by SIMDJSON_PADDING readable bytes). Returns true and
  /// fills `out`, or false with `issue` set. Duplicate keys: the first occurrence wins. Values
  /// other than level/operation/time are checked for structure (balanced, terminated), not decoded.
  /// Never throws and never reads outside line + padding, whatever the bytes. `utf8_checked`: the
  /// caller has already validated the line's UTF-8 (LineSplitter does it a buffer at a time).
  bool parse(std::string_view line, ParsedLine& out, LineIssue& issue, bool utf8_checked = false);
  /// "haswell" or "fallback"/"westmere": the kernel in use, for benchmarks and --verbose.
  const char* kernel() const;

  /// The per-implementation half; defined in log_line_kernel.inc.
  class Kernel {
   public:
    virtual ~Kernel() = default;
    virtual bool parse(std::string_view line, ParsedLine& out, LineIssue& issue) = 0;
    virtual const char* name() const = 0;
  };

 private:
  std::unique_ptr<Kernel> kernel_;
  bool (*flat_)(std::string_view, ParsedLine&);  // log_line_flat.h's parser for this CPU
  bool fast_path_;
};

}  // namespace auditpitr::replay
