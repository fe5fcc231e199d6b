// The AVX2 build of the flat-line parser; this file alone is compiled with -mavx2 & co.
#if defined(__x86_64__)
#define AUDITPITR_FLAT_PARSER parse_line_flat_avx2
#include "replay/log_line_flat.inc"
#endif
