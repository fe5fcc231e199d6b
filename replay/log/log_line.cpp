// Issue names, the portable parser kernel, the choice between it and the AVX2 one, and the fast
// paths in front of both (flat lines, then any usual line).
#define AUDITPITR_KERNEL_FACTORY make_portable_kernel
#include "replay/log/log_line_fast.h"
#include "replay/log/log_line_flat.h"
#include "replay/log/log_line_kernel.inc"

namespace auditpitr::replay {

#if defined(__x86_64__)
std::unique_ptr<LineParser::Kernel> make_haswell_kernel();
#endif

LineParser::LineParser(bool fast_path) : flat_(best_flat_line_parser()), fast_path_(fast_path) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("pclmul")) {
    kernel_ = make_haswell_kernel();
    return;
  }
#endif
  kernel_ = make_portable_kernel();
}

LineParser::~LineParser() = default;

bool LineParser::parse(std::string_view line, ParsedLine& out, LineIssue& issue, bool utf8_checked) {
  // The kernel validates UTF-8 before anything else; the fast paths need it done beforehand.
  // A line the fast paths decline is parsed again from scratch, so simdjson alone judges it.
  if (fast_path_ && (utf8_checked || simdjson::validate_utf8(line.data(), line.size())) &&
      (flat_(line, out) || parse_line_fast(line, out)))
    return true;
  return kernel_->parse(line, out, issue);
}

const char* LineParser::kernel() const { return kernel_->name(); }

const char* issue_name(LineIssue issue) {
  switch (issue) {
    case LineIssue::malformed_json: return "malformed_json";
    case LineIssue::not_object: return "not_object";
    case LineIssue::missing_time: return "missing_time";
    case LineIssue::bad_time: return "bad_time";
    case LineIssue::invalid_utf8: return "invalid_utf8";
    case LineIssue::too_long: return "too_long";
    case LineIssue::missing_operation: return "missing_operation";
    case LineIssue::out_of_order: return "out_of_order";
    case LineIssue::damaged_file: return "damaged_file";
  }
  return "unknown";
}

}  // namespace auditpitr::replay
