// The AVX2 build of the flat-line parser. Only the parser's own functions are compiled for AVX2
// (a target region after the headers): inline functions from headers stay baseline code, so the
// linker can never pick an AVX2 copy of one for callers that run on any CPU.
#if defined(__x86_64__)
#include <immintrin.h>
#include <simdjson.h>

#include <cstdint>
#include <cstring>

#include "replay/log/log_line_fast.h"
#include "replay/log/log_line_flat.h"
#include "replay/log/time_parse.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,bmi,bmi2,pclmul,lzcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,bmi,bmi2,pclmul,lzcnt")
#endif
#define AUDITPITR_FLAT_PARSER parse_line_flat_avx2
#define AUDITPITR_FLAT_AVX2 1
#include "replay/log/log_line_flat.inc"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
