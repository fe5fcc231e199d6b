// ConnInfo: libpq's syntax, addresses for messages, and the password kept out of messages.
#include "src/pg/conninfo.h"

#include <catch2/catch.hpp>

#include "src/error.h"

using namespace auditpitr;

TEST_CASE("connection strings and URIs are parsed by libpq's rules", "[conninfo]") {
  auto a = pg::ConnInfo::parse("host=localhost port=5432 user=portfolio_user", "portfolio_db");
  CHECK(a.server_address() == "localhost:5432");
  CHECK(a.dbname() == "portfolio_db");
  CHECK(a.with_dbname("other").dbname() == "other");
  auto b = pg::ConnInfo::parse("postgresql://app:pw@db.internal:6000/appdb");
  CHECK(b.server_address() == "db.internal:6000");
  CHECK(b.dbname() == "appdb");
  CHECK(b.to_libpq_string().find("password='pw'") != std::string::npos);
  CHECK_THROWS_AS(pg::ConnInfo::parse("host='unclosed"), Error);
  CHECK_THROWS_AS(pg::ConnInfo::parse("nonsense_key=1"), Error);
}
