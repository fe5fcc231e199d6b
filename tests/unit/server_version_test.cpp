// Supported servers: PostgreSQL 13 and newer; an older one is refused when auditpitr connects.
// Only PostgreSQL 15 is installed here, so the refusal is tested with the version numbers it decides by.
#include <catch2/catch.hpp>

#include "src/error.h"
#include "src/pg/connection.h"

using namespace auditpitr;

TEST_CASE("server versions are written as PostgreSQL writes them", "[server-version]") {
  CHECK(pg::version_text(150018) == "15.18");
  CHECK(pg::version_text(130000) == "13.0");
  CHECK(pg::version_text(170002) == "17.2");
  CHECK(pg::version_text(120022) == "12.22");
  CHECK(pg::version_text(90624) == "9.6.24");
}

TEST_CASE("a server older than PostgreSQL 13 is refused, naming it, its version and what is supported",
          "[server-version]") {
  const std::string where = "database 'app' at db.internal:5433";
  for (int supported : {130000, 130016, 140013, 150018, 160004, 170002}) {
    INFO(supported);
    CHECK_NOTHROW(pg::require_supported_server(supported, where));
  }
  for (int old : {120022, 110000, 100023, 90624}) {
    INFO(old);
    try {
      pg::require_supported_server(old, where);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::runtime);
      CHECK_THAT(e.what(), Catch::Contains(where) && Catch::Contains("PostgreSQL " + pg::version_text(old)) &&
                               Catch::Contains("supports PostgreSQL 13 and newer"));
      CHECK_THAT(e.hint(), Catch::Contains("upgrade"));
    }
  }
}
