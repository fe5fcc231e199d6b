// use_huge_page_heap's second start, and the user's own glibc tunables: no exec in either (the
// exec itself, and the heap it gives, are tested on lost in tests/integration/lost_pg_test.cpp).
#include "src/util/huge_pages.h"

#include <catch2/catch.hpp>
#include <cstdlib>
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
