// The flat-line parser for any CPU (SSE2 on x86-64), and the choice of the fastest build.
#define AUDITPITR_FLAT_PARSER parse_line_flat
#include "replay/log/log_line_flat.inc"

namespace auditpitr::replay {

FlatLineParser best_flat_line_parser() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi")) return parse_line_flat_avx2;
#endif
  return parse_line_flat;
}

}  // namespace auditpitr::replay
