// use_huge_page_heap's second start, and the user's own glibc tunables: no exec in either (the
// exec itself, and the heap it gives, are tested on lost in tests/integration/lost_pg_test.cpp).
#include "src/util/huge_pages.h"

#include <malloc.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace auditpitr;

TEST_CASE("use_huge_page_heap, started with its setting, removes it so child programs do not inherit it",
          "[huge_pages]") {
  char name[] = "auditpitr";
  char* argv[] = {name, nullptr};
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
  use_huge_page_heap(argv);  // returns: this is the second start
  CHECK(std::getenv("GLIBC_TUNABLES") == nullptr);
}

TEST_CASE("use_huge_page_heap leaves the user's own glibc tunables alone", "[huge_pages]") {
  char name[] = "auditpitr";
  char* argv[] = {name, nullptr};
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2", 1);
  use_huge_page_heap(argv);  // returns: no exec under the user's settings
  REQUIRE(std::getenv("GLIBC_TUNABLES") != nullptr);
  CHECK(std::string(std::getenv("GLIBC_TUNABLES")) == "glibc.malloc.arena_max=2");
  ::unsetenv("GLIBC_TUNABLES");
}

TEST_CASE("keep_freed_heap: a block of megabytes comes from the heap, and the heap keeps it once freed",
          "[huge_pages]") {
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
