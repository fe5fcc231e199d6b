// LineParser: the fast path and simdjson give the same verdict and fields for any line, and the
// fast path really takes the usual logrus lines.
#include "replay/log/log_line.h"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "replay/log/log_line_fast.h"
#include "replay/log/log_line_flat.h"
#include "replay/log/time_parse.h"

using namespace auditpitr::replay;

namespace {

/// What a parser said about a line, comparable.
struct Verdict {
  bool ok = false;
  LineIssue issue = LineIssue::malformed_json;
  std::string level, operation;
  TimePoint time{};
  bool operator==(const Verdict& o) const {
    return ok == o.ok && (ok ? level == o.level && operation == o.operation && time == o.time : issue == o.issue);
  }
};

Verdict run(LineParser& parser, const std::string& line) {
  std::string padded = line + std::string(simdjson::SIMDJSON_PADDING, '\0');
  Verdict v;
  ParsedLine out;
  v.ok = parser.parse(std::string_view(padded.data(), line.size()), out, v.issue);
  if (v.ok) {
    v.level = std::string(out.level);
    v.operation = std::string(out.operation);
    v.time = out.time;
  }
  return v;
}

bool fast_accepts(const std::string& line) {
  std::string padded = line + std::string(simdjson::SIMDJSON_PADDING, '\0');
  ParsedLine out;
  return parse_line_fast(std::string_view(padded.data(), line.size()), out);
}

/// The flat parsers this CPU can run (the SSE2/portable one always; AVX2 when present).
std::vector<FlatLineParser> flat_parsers() {
  std::vector<FlatLineParser> parsers = {parse_line_flat};
  if (best_flat_line_parser() != parse_line_flat) parsers.push_back(best_flat_line_parser());
  return parsers;
}

bool flat_accepts(FlatLineParser parser, const std::string& line) {
  std::string padded = line + std::string(simdjson::SIMDJSON_PADDING, '\0');
  ParsedLine out;
  return parser(std::string_view(padded.data(), line.size()), out);
}

/// Whatever a flat parser accepts, simdjson accepts with the same fields. (The flat parsers leave
/// UTF-8 to their caller, so lines that are not UTF-8 are not theirs to judge.)
void check_flat_agrees(const std::string& line) {
  if (!simdjson::validate_utf8(line.data(), line.size())) return;
  static LineParser slow(false);
  Verdict expected = run(slow, line);
  std::string padded = line + std::string(simdjson::SIMDJSON_PADDING, '\0');
  for (FlatLineParser parser : flat_parsers()) {
    ParsedLine out;
    if (!parser(std::string_view(padded.data(), line.size()), out)) continue;
    INFO("line: " << line);
    REQUIRE(expected.ok);
    CHECK(std::string(out.level) == expected.level);
    CHECK(std::string(out.operation) == expected.operation);
    CHECK(out.time == expected.time);
  }
}

/// Both parsers agree on `line`.
void check_same(const std::string& line) {
  static LineParser fast(true), slow(false);
  Verdict a = run(fast, line), b = run(slow, line);
  INFO("line: " << line);
  CHECK(a.ok == b.ok);
  CHECK(a == b);
}

const std::string kTime = R"("time":"2025-01-23T14:00:00Z")";

std::vector<std::string> tricky_lines() {
  std::string deep_open(70, '['), deep_close(70, ']');
  std::string long_value(2000, 'x');
  // A table of lines, several to a row: kept as written.
  return {
      // clang-format off
      // usual lines and harmless variations
      R"({"level":"info","msg":"Portfolio created","operation":"CREATE_PORTFOLIO","portfolioID":1,)" + kTime + "}",
      R"({ "level" : "info" , "operation" : "X" , )" + kTime + " }  ",
      "\t{\"level\":\"info\",\t" + kTime + "}\t",
      "{" + kTime + R"(,"items":[{"id":1,"position":2},{"id":2,"position":[]}],"o":{},"a":[],"n":null})",
      "{" + kTime + R"(,"t":true,"f":false,"n":null,"i":-0,"d":1.5e-3,"e":2E+10,"z":0.0})",
      "{" + kTime + R"(,"msg":"long )" + long_value + R"("})",  // past the quote index's limit
      "{" + kTime + R"(,"msg":")" + std::string(70, 'y') + R"("})",  // a string over 64 bytes
      "{" + kTime + R"(,"level":"info","level":"debug","operation":"A","operation":"B"})",  // first wins
      "{" + kTime + R"(,"time":"not a time"})",  // duplicate time: the first counts
      R"({"time":"2025-01-23T14:00:00.123456+02:00","level":"warning"})",
      // escapes: in other values, in keys, in the values the reader takes
      "{" + kTime + R"(,"msg":"say \"hi\" \\ \/ \b\f\n\r\t \u00e9 \uD83D\uDE00"})",
      "{" + kTime + R"(,"ti\u006de":"x","lev\"el":"y"})",
      R"({"time":"2025-01-23T14:00:00\u005a"})",
      "{" + kTime + R"(,"level":"in\u0066o","operation":"A\"B"})",
      R"({"ti\u006de":"2025-01-23T14:00:00Z"})",
      // broken strings and escapes
      "{" + kTime + R"(,"msg":"bad \x escape"})",
      "{" + kTime + R"(,"msg":"bad \u12G4"})",
      "{" + kTime + R"(,"msg":"cut \u12"})",
      "{" + kTime + ",\"msg\":\"raw \x01 control\"}",
      "{" + kTime + ",\"msg\":\"raw \t tab\"}",
      "{" + kTime + R"(,"msg":"unterminated})",
      "{" + kTime + R"(,"msg":"ends in backslash\)",
      // numbers and literals
      "{" + kTime + R"(,"n":01})", "{" + kTime + R"(,"n":1.})", "{" + kTime + R"(,"n":.5})",
      "{" + kTime + R"(,"n":-})", "{" + kTime + R"(,"n":1e})", "{" + kTime + R"(,"n":1e+})",
      "{" + kTime + R"(,"n":+1})", "{" + kTime + R"(,"n":1 2})", "{" + kTime + R"(,"n":0x10})",
      "{" + kTime + R"(,"n":tru})", "{" + kTime + R"(,"n":nulll})", "{" + kTime + R"(,"n":True})",
      "{" + kTime + R"(,"n":NaN})", "{" + kTime + R"(,"n":-Infinity})", "{" + kTime + R"(,"n":1.5e308})",
      // structure
      "{" + kTime + "}}", "{" + kTime + "} x", "{" + kTime + ",}", "{" + kTime + ",,\"a\":1}",
      "{" + kTime + R"(,"a":[1,2,]})", "{" + kTime + R"(,"a":[1 2]})", "{" + kTime + R"(,"a":{"b"}})",
      "{" + kTime + R"(,"a":{"b":1,}})", "{" + kTime + R"(,"a":[}})", "{" + kTime + R"(,"a":{]})",
      "{" + kTime + R"(,"a":)" + deep_open + deep_close + "}",
      "{" + kTime + R"(,"a":)" + deep_open + deep_close.substr(1) + "}",
      "{" + kTime + R"(,"a" 1})", "{" + kTime + R"(,"a"::1})", "{" + kTime + R"(,a:1})",
      "{" + kTime, "{" + kTime + ",", R"({"time":"2025-01-23T14:00:00Z)", "{", "}", "{}", " { } ",
      R"([1,2])", R"("text")", "42", "null", "garbage", "{\"a\":1}{\"b\":2}",
      // fields of the wrong type or missing
      R"({"level":"info","operation":"A"})", R"({"time":20250123})", R"({"time":null})",
      R"({"time":"2025-02-30T00:00:00Z"})", R"({"time":"2025-01-23T14:00:00"})",
      R"({"time":"2025-01-23T14:00:00Z ","level":"info"})",
      "{" + kTime + R"(,"level":1,"operation":["A"]})", "{" + kTime + R"(,"level":null})",
      "{" + kTime + R"(,"operation":{"a":1}})",
      // clang-format on
  };
}

}  // namespace

TEST_CASE("the fast path and simdjson agree on tricky lines") {
  for (const std::string& line : tricky_lines()) check_same(line);
}

TEST_CASE("the fast path takes the usual lines and declines what it must leave to simdjson") {
  CHECK(fast_accepts(R"({"level":"info","msg":"Portfolio created","operation":"CREATE_PORTFOLIO","portfolioID":1,)" +
                     kTime + R"(,"title":"Portfolio number 1","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})"));
  CHECK(fast_accepts(
      R"({"itemCount":3,"items":[{"id":1,"position":1}],"level":"info","operation":"BULK_REORDER_SECTIONS",)" + kTime +
      "}"));
  CHECK(fast_accepts("{" + kTime + R"(,"msg":"quote \" inside"})"));                    // escapes elsewhere are fine
  CHECK(fast_accepts("{" + kTime + R"(,"msg":")" + std::string(3000, 'z') + R"("})"));  // long line
  CHECK_FALSE(fast_accepts("{" + kTime + R"(,"level":"in\u0066o"})"));                  // simdjson unescapes it
  CHECK_FALSE(fast_accepts("{" + kTime + R"(,"level":1})"));                            // simdjson's rule: ""
  CHECK_FALSE(fast_accepts(R"({"level":"info"})"));  // missing time: simdjson names it
  CHECK_FALSE(fast_accepts("{" + kTime + "} x"));
}

TEST_CASE("random damage to good lines gets the same verdict from both paths") {
  const std::vector<std::string> seeds = {
      R"({"level":"info","msg":"Category position updated","newPosition":4,"oldPosition":2,"operation":"UPDATE_CATEGORY_POSITION",)" +
          kTime + R"(,"userID":"8f14e45f"})",
      R"({"itemCount":3,"items":[{"id":1,"position":1},{"id":2,"position":2}],"level":"info","msg":"a \"b\" c","operation":"BULK",)" +
          kTime + "}",
      R"({"time":"2025-01-23T14:00:00.5-03:30","level":"error","n":[-1.5e+3,true,false,null,{}]})",
  };
  const std::string alphabet = "{}[]:,\"\\ \t-+.0123456789eEtrufalsn\x01\x7fZT";
  std::mt19937 random(20250123);
  for (int round = 0; round < 20000; ++round) {
    std::string line = seeds[random() % seeds.size()];
    int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !line.empty(); ++e) {
      std::size_t at = random() % line.size();
      char c = alphabet[random() % alphabet.size()];
      switch (random() % 4) {
        case 0: line[at] = c; break;
        case 1: line.insert(line.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        case 2: line.erase(at, 1); break;
        default: line.resize(at); break;
      }
    }
    check_same(line);
  }
}

TEST_CASE("the flat path takes logrus lines and declines every other shape") {
  const std::string usual =
      R"({"level":"info","msg":"Portfolio created","operation":"CREATE_PORTFOLIO","portfolioID":1,)" + kTime +
      R"(,"title":"Portfolio number 1","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
  for (FlatLineParser parser : flat_parsers()) {
    CHECK(flat_accepts(parser, usual));
    CHECK(flat_accepts(parser,
                       "{" + kTime + R"(,"t":true,"f":false,"n":null,"i":-0,"d":1.5e-3,"z":0,"big":12345678901234})"));
    CHECK(flat_accepts(parser, "{" + kTime + R"(,"msg":"{[ ]}, : inside strings"})"));
    CHECK(flat_accepts(parser, "{" + kTime + ",\"msg\":\"é ✓ \x7f\"}"));
    CHECK_FALSE(flat_accepts(parser, R"({"items":[{"id":1}],)" + kTime + "}"));   // nested: the walker's
    CHECK_FALSE(flat_accepts(parser, "{ " + kTime + "}"));                        // whitespace
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"msg":"a \"quote\""})"));  // an escape
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"level":1})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"n":01})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"n":1.})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"n":tru})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"a":"b""c":1})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"a":1"c":1})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"a"})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"a":"b":"c"})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,1:"c"})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"b":"c",:1})"));  // a colon without its key
    CHECK_FALSE(flat_accepts(parser, R"({:"c",)" + kTime + "}"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"a":"b""c","d":1})"));  // two values in a row
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"a":1"c","d":1})"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + ",}"));
    CHECK_FALSE(flat_accepts(parser, "{}"));
    CHECK_FALSE(flat_accepts(parser, "{" + kTime + R"(,"msg":")" + std::string(600, 'x') + R"("})"));  // too long
  }
}

TEST_CASE("the flat path agrees with simdjson wherever a line's bytes fall across its 64-byte words") {
  // A filler of every length moves each token across the word boundaries; then each byte in turn
  // is replaced by each character that matters to the grammar.
  const std::string specials = "{}[]:,\"\\ 0-1e.tnZ\x01\xc3";
  int accepted = 0;
  for (std::size_t fill = 0; fill < 140; fill += 1) {
    std::string line = R"({"msg":")" + std::string(fill, 'x') + R"(","level":"info","n":1234,"operation":"OP",)" +
                       kTime + R"(,"ok":true,"neg":-5,"f":2.5})";
    for (FlatLineParser parser : flat_parsers()) accepted += flat_accepts(parser, line);
    check_flat_agrees(line);
    if (fill % 7 != 0) continue;  // mutations on a sample of the shifts keep the test quick
    for (std::size_t at = 0; at < line.size(); ++at)
      for (char c : specials) {
        std::string mutated = line;
        mutated[at] = c;
        check_flat_agrees(mutated);
        check_same(mutated);
      }
  }
  CHECK(accepted == 140 * static_cast<int>(flat_parsers().size()));
}
