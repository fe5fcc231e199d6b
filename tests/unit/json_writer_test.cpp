// JsonWriter: nesting, commas and escaping.
#include "src/util/json_writer.h"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <random>

using namespace auditpitr;

TEST_CASE("json output nests, separates and escapes", "[json]") {
  JsonWriter w(0);
  w.begin_object().field("a", 1).key("list").begin_array().value("x\"y\n").value(true).null().end_array();
  w.key("empty").begin_object().end_object().field("n", static_cast<uint64_t>(18446744073709551615ull)).end_object();
  CHECK(w.str() == R"({"a":1,"list":["x\"y\n",true,null],"empty":{},"n":18446744073709551615})");
  CHECK(json_quote(std::string("\x01", 1)) == "\"\\u0001\"");
}

TEST_CASE("a line object is one line in an indented document, and the document goes on indented", "[json]") {
  JsonWriter w;
  w.begin_object().key("rows").begin_array();
  w.begin_line_object().field("key", "7").key("set").begin_array();
  w.begin_object().field("column", "a").field("value", 1).end_object();
  w.begin_object().end_object().end_array().key("from").begin_array().end_array().end_object();
  w.begin_line_object().field("key", "8").end_object();
  w.end_array().field("after", true).end_object();
  CHECK(w.str() ==
        "{\n"
        "  \"rows\": [\n"
        "    {\"key\": \"7\", \"set\": [{\"column\": \"a\", \"value\": 1}, {}], \"from\": []},\n"
        "    {\"key\": \"8\"}\n"
        "  ],\n"
        "  \"after\": true\n"
        "}");

  JsonWriter fragment;  // a row made apart, inserted later with json(): one line wherever it goes
  fragment.begin_line_object().field("key", "9").end_object();
  CHECK(fragment.str() == "{\"key\": \"9\"}");
  JsonWriter compact(0);
  compact.begin_line_object().field("a", 1).field("b", 2).end_object();
  CHECK(compact.str() == R"({"a":1,"b":2})");
}

// append_json_quoted copies runs of plain characters whole: checked against a JSON parser on
// random strings of plain, escaped and multi-byte characters.
TEST_CASE("quoted strings read back as they were", "[json]") {
  const std::vector<std::string> pieces = {"a",     "Z",
                                           " ",     "\"",
                                           "\\",    "/",
                                           "\n",    "\r",
                                           "\t",    std::string(1, '\0'),
                                           "\x01",  "\x1f",
                                           "\x7f",  "é",
                                           "Ñandú", "€",
                                           "😀",     "abcdefghijklmnop"};
  std::mt19937 random(7);
  simdjson::dom::parser parser;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    std::size_t length = random() % 40;
    for (std::size_t i = 0; i < length; ++i) text += pieces[random() % pieces.size()];
    std::string quoted = "[" + json_quote(text) + "]";
    simdjson::dom::element parsed;
    REQUIRE(parser.parse(quoted).get(parsed) == simdjson::SUCCESS);
    std::string_view back = parsed.at(0).get_string();
    REQUIRE(back == text);
  }
}
