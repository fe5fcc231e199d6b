// keep_freed_heap: large blocks from the heap, and freed memory kept.
#include "src/util/heap.h"

#include <malloc.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>

using namespace auditpitr;

TEST_CASE("keep_freed_heap: a block of megabytes comes from the heap, and the heap keeps it once freed", "[heap]") {
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // glibc's defaults, which would map the block and unmap it
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  keep_freed_heap();
  struct mallinfo2 before = mallinfo2();
  constexpr std::size_t kBlock = 16 << 20;
  char* volatile block = static_cast<char*>(std::malloc(kBlock));
  REQUIRE(block != nullptr);
  std::memset(block, 1, kBlock);
  struct mallinfo2 held = mallinfo2();
  CHECK(held.hblks == before.hblks);  // no mapping of its own
  CHECK(block[kBlock - 1] == 1);
  std::free(block);
  struct mallinfo2 after = mallinfo2();
  CHECK(after.arena >= held.arena);  // the heap did not shrink
  CHECK(after.fordblks >= kBlock);   // the block is free memory the heap keeps
}
