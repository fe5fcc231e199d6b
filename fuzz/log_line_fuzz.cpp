// libFuzzer target for the audit-log line parser and the reader around it: arbitrary bytes as one
// line (LineParser, whose fast paths must agree with simdjson on every input) and as a whole log
// file (LogReader with tiny buffers, so splitting is hit too).
#include <simdjson.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "replay/log/log_line.h"
#include "replay/log/log_line_fast.h"
#include "replay/log/log_line_flat.h"
#include "replay/log/log_reader.h"

using namespace auditpitr::replay;

namespace {

void parse_as_line(const uint8_t* data, size_t size) {
  static LineParser fast(true), slow(false);
  // Exactly SIMDJSON_PADDING bytes after the line, as the reader guarantees (ASan sees overreads).
  std::vector<char> padded(size + simdjson::SIMDJSON_PADDING, 'x');
  std::copy(data, data + size, padded.begin());
  std::string_view line(padded.data(), size);
  ParsedLine out, expected;
  LineIssue issue = LineIssue::too_long, expected_issue = LineIssue::too_long;
  bool ok = fast.parse(line, out, issue);
  bool expected_ok = slow.parse(line, expected, expected_issue);
  // The fast path decides nothing simdjson would decide differently.
  if (ok != expected_ok) __builtin_trap();
  if (ok && (out.level != expected.level || out.operation != expected.operation || out.time != expected.time))
    __builtin_trap();
  if (!ok && issue != expected_issue) __builtin_trap();
  if (ok) {
    // What was returned must lie inside the line or the parser's own buffers, and be readable.
    volatile size_t sink = out.level.size() + out.operation.size();
    for (char c : out.operation) sink = sink + static_cast<unsigned char>(c);
    (void)sink;
  }
  // Each flat parser alone: what it accepts (on UTF-8) simdjson accepts with the same fields.
  bool utf8 = simdjson::validate_utf8(line.data(), line.size());
  for (FlatLineParser flat : {FlatLineParser{parse_line_flat}, best_flat_line_parser()}) {
    ParsedLine flat_out;
    if (!flat(line, flat_out) || !utf8) continue;
    if (!expected_ok || flat_out.level != expected.level || flat_out.operation != expected.operation ||
        flat_out.time != expected.time)
      __builtin_trap();
  }
  // The fast path alone, on bytes that may not be UTF-8 (the reader checks that first).
  ParsedLine raw;
  (void)parse_line_fast(line, raw);
}

void read_as_file(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/auditpitr-fuzz-" + std::to_string(getpid()) + ".log";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  ReaderOptions options;
  options.buffer_bytes = 64;
  options.max_line_bytes = 48;
  LogReader reader(LogSet{"create.log", {LogFile{path, 0, false, {}}}}, options);
  LogRecord record;
  uint64_t lines = 0;
  while (reader.next(record)) ++lines;
  if (reader.stats()[0].records != lines) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parse_as_line(data, size);
  read_as_file(data, size);
  return 0;
}
