// Issue names, the portable parser kernel, and the choice between it and the AVX2 one.
#define AUDITPITR_KERNEL_FACTORY make_portable_kernel
#include "replay/log_line_kernel.inc"

namespace auditpitr::replay {

#if defined(__x86_64__)
std::unique_ptr<LineParser::Kernel> make_haswell_kernel();
#endif

LineParser::LineParser() {
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

bool LineParser::parse(std::string_view line, ParsedLine& out, LineIssue& issue) {
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
