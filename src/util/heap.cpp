#include "src/util/heap.h"

#include <malloc.h>

namespace auditpitr {

void keep_freed_heap() {
  constexpr int kLargestHeapBlock = 32 << 20;  // glibc's upper limit for M_MMAP_THRESHOLD on 64 bits
  constexpr int kNeverTrim = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kLargestHeapBlock);
  mallopt(M_TRIM_THRESHOLD, kNeverTrim);
}

}  // namespace auditpitr
