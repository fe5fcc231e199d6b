// The AVX2 ("haswell") build of the line parser; this file alone is compiled with -mavx2 & co.
#if defined(__x86_64__)
#define AUDITPITR_KERNEL_FACTORY make_haswell_kernel
#include "replay/log/log_line_kernel.inc"
#endif
