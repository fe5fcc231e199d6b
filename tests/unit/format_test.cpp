// Sizes, durations and counts as people read them.
#include "src/util/format.h"

#include <catch2/catch.hpp>

using namespace auditpitr;

TEST_CASE("sizes read like du -h", "[format]") {
  CHECK(human_size(87) == "87B");
  CHECK(human_size(512 * 1024) == "512K");
  CHECK(human_size(2411725) == "2.3M");
  CHECK(human_size(uint64_t{3} << 40) == "3.0T");
}

TEST_CASE("durations are seconds below a minute, then minutes and seconds", "[format]") {
  CHECK(human_duration(1.24) == "1.2 s");
  CHECK(human_duration(184) == "3 min 4 s");
}

TEST_CASE("counts agree with their noun and group their digits", "[format]") {
  CHECK(count_text(0, "insert") == "0 inserts");
  CHECK(count_text(1, "insert") == "1 insert");
  CHECK(count_text(2, "row change") == "2 row changes");
  CHECK(count_text(4850309, "event") == "4,850,309 events");
  CHECK(grouped(999) == "999");
  CHECK(grouped(1000) == "1,000");
  CHECK(grouped(123456) == "123,456");
}

TEST_CASE("columns line up on their widest cell; the last cell is left as it is", "[format]") {
  CHECK(align_columns({{"a", "1", "x"}, {"long name", "22", "y"}}) ==
        std::vector<std::string>{"a         1  x", "long name 22 y"});
  CHECK(align_columns({{"one"}, {}}) == std::vector<std::string>{"one", ""});
}

TEST_CASE("text from the logs cannot drive the terminal", "[format]") {
  CHECK(printable("CREATE_\x1b[31mX") == "CREATE_\\x1b[31mX");
  CHECK(printable("two\nlines\r") == "two\\x0alines\\x0d");
  CHECK(printable("del\x7f") == "del\\x7f");
  CHECK(printable("csi \xc2\x9b 2J") == "csi \\u009b 2J");                 // C1 control in UTF-8
  CHECK(printable("Caf\xc3\xa9 \xc2\xa0ok") == "Caf\xc3\xa9 \xc2\xa0ok");  // é and no-break space stay
  CHECK(printable("cut \xc2") == "cut \xc2");
}

TEST_CASE("64-bit values as 16 hex digits, and back", "[format]") {
  CHECK(to_hex(0) == "0000000000000000");
  CHECK(to_hex(0x0123456789abcdefULL) == "0123456789abcdef");
  uint64_t value = 0;
  REQUIRE(from_hex("fedcba9876543210", value));
  CHECK(value == 0xfedcba9876543210ULL);
  CHECK(to_hex(value) == "fedcba9876543210");
  CHECK_FALSE(from_hex("fedcba987654321", value));   // 15 digits
  CHECK_FALSE(from_hex("FEDCBA9876543210", value));  // upper case is not how they are written
  CHECK_FALSE(from_hex("fedcba987654321g", value));
}
