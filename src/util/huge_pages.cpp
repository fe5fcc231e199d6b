#include "src/util/huge_pages.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace auditpitr {
namespace {

constexpr const char* kTunables = "GLIBC_TUNABLES";
constexpr const char* kHugePageHeap = "glibc.malloc.hugetlb=1";

/// THP's mode is "[madvise]": huge pages for the memory that asks (under "[always]" the heap
/// already has them, under "[never]" asking changes nothing).
bool huge_pages_on_request() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  return std::getline(in, modes) && modes.find("[madvise]") != std::string::npos;
}

}  // namespace

void use_huge_page_heap(char** argv) {
  const char* tunables = std::getenv(kTunables);
  if (tunables && std::strcmp(tunables, kHugePageHeap) == 0) {  // the second start: glibc has read it
    unsetenv(kTunables);
    return;
  }
  if (tunables || !huge_pages_on_request()) return;  // the user's own tunables are left as they are
  if (setenv(kTunables, kHugePageHeap, 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv(kTunables);  // exec failed: go on with the usual heap
}

void keep_freed_heap() {
  constexpr int kLargestHeapBlock = 32 << 20;  // glibc's upper limit for M_MMAP_THRESHOLD on 64 bits
  constexpr int kNeverTrim = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kLargestHeapBlock);
  mallopt(M_TRIM_THRESHOLD, kNeverTrim);
}

}  // namespace auditpitr
