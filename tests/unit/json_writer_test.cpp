// JsonWriter: nesting, commas and escaping.
#include "src/util/json_writer.h"

#include <catch2/catch.hpp>

using namespace auditpitr;

TEST_CASE("json output nests, separates and escapes", "[json]") {
  JsonWriter w(0);
  w.begin_object().field("a", 1).key("list").begin_array().value("x\"y\n").value(true).null().end_array();
  w.key("empty").begin_object().end_object().field("n", static_cast<uint64_t>(18446744073709551615ull)).end_object();
  CHECK(w.str() == R"({"a":1,"list":["x\"y\n",true,null],"empty":{},"n":18446744073709551615})");
  CHECK(json_quote(std::string("\x01", 1)) == "\"\\u0001\"");
}
