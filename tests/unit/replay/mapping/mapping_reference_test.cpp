// The Mapper against its reference (the tree-of-strings mapper it replaced, mapping_reference.h):
// the same MapResult and unmapped fields for the fixture application's logs and for random lines,
// valid or not, under the fixture's rules, rules exercising every feature, and the conventions alone.
// And JsonDocument's hand-written parser against simdjson on the same lines.
#include "tests/unit/replay/mapping/mapping_reference.h"

#include <catch2/catch.hpp>

#include "replay/log/event_stream.h"
#include "replay/mapping/event_json.h"
#include "src/util/fs.h"
#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;
using namespace auditpitr::replay;

namespace {

std::string fixture_rules() { return std::string(AUDITPITR_SOURCE_DIR) + "/fixtures/portfolio-manager/mapping.toml"; }

/// Both mappers over the same rules, fed the same events; every result compared as text.
class Pair {
 public:
  explicit Pair(const std::string& rules_text)
      : mapper_(rules(rules_text), test::portfolio_catalog()),
        reference_(rules(rules_text), test::portfolio_catalog()) {}

  void check(const AuditEvent& event) {
    MapResult reference;
    try {
      reference = reference_.map(event);
    } catch (const simdjson::simdjson_error&) {  // the reference let some invalid lines throw ("nul")
      MapResult r = mapper_.map(event);
      INFO(event.json);
      CHECK(r.outcome == MapOutcome::invalid);
      CHECK(r.reason.rfind("invalid JSON: ", 0) == 0);
      return;
    }
    std::string got = test::describe(mapper_.map(event)), want = test::describe(reference);
    if (got != want) FAIL("line: " << event.json << "\nMapper:    " << got << "\nreference: " << want);
  }
  void check(const std::string& operation, const std::string& json) {
    test::EventHolder holder(operation, json);
    check(holder.event);
  }
  const Mapper& mapper() const { return mapper_; }
  void check_unmapped() const {
    CHECK(test::describe(mapper_.unmapped_fields()) == test::describe(reference_.unmapped_fields()));
    CHECK(mapper_.target("UPDATE_PORTFOLIO").reason == reference_.target("UPDATE_PORTFOLIO").reason);
  }

 private:
  static MappingRules rules(const std::string& text) {
    return text.empty() ? MappingRules{} : parse_mapping_rules(text, "rules.toml");
  }

  Mapper mapper_;
  test::ReferenceMapper reference_;
};

/// SplitMix64: the same random lines on every run.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t x = state += 0x9e3779b97f4a7c15;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
    x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
    return x ^ (x >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  template <std::size_t N>
  const char* pick(const char* const (&items)[N]) {
    return items[below(N)];
  }
};

/// Random lines made of the names the rules and the catalog know, values of every JSON kind,
/// escapes, nesting, duplicates; some broken on purpose.
class LineMaker {
 public:
  explicit LineMaker(uint64_t seed) : random_{seed} {}

  std::string operation() {
    static const char* const ops[] = {"CREATE_PORTFOLIO",
                                      "UPDATE_PORTFOLIO",
                                      "DELETE_PORTFOLIO",
                                      "CREATE_CATEGORY",
                                      "DELETE_CATEGORY",
                                      "CREATE_SECTION",
                                      "UPDATE_SECTION_CONTENT",
                                      "DELETE_SECTION_CONTENT",
                                      "DELETE_PROJECT",
                                      "CREATE_PROJECT",
                                      "UPDATE_CATEGORY_POSITION",
                                      "BULK_REORDER_SECTIONS",
                                      "PUBLISH_PORTFOLIO",
                                      "CREATE_AUDIT_NOTE",
                                      "LOGIN",
                                      "CREATE_WIDGET",
                                      "SOMETHING_ELSE",
                                      "UPDATE_SECTION_POSITION",
                                      "BULK_REORDER_CATEGORIES",
                                      "CREATE_IMAGE"};
    return random_.pick(ops);
  }

  std::string line(int depth = 0) {
    std::string out = "{";
    std::size_t n = random_.below(depth ? 4 : 9);
    for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + key() + ":" + value(depth);
    out += "}";
    return broken(out);
  }

 private:
  std::string key() {
    static const char* const keys[] = {"\"portfolioID\"",
                                       "\"sectionID\"",
                                       "\"categoryID\"",
                                       "\"contentID\"",
                                       "\"sectionContentID\"",
                                       "\"id\"",
                                       "\"title\"",
                                       "\"userID\"",
                                       "\"position\"",
                                       "\"newPosition\"",
                                       "\"oldPosition\"",
                                       "\"description\"",
                                       "\"isPinned\"",
                                       "\"changes\"",
                                       "\"items\"",
                                       "\"cascade\"",
                                       "\"level\"",
                                       "\"msg\"",
                                       "\"time\"",
                                       "\"operation\"",
                                       "\"type\"",
                                       "\"metadata\"",
                                       "\"note\"",
                                       "\"t\\u0069tle\"",
                                       "\"ti\\\"tle\"",
                                       "\"content\"",
                                       "\"order\"",
                                       "\"\""};
    return random_.pick(keys);
  }

  std::string value(int depth) {
    static const char* const scalars[] = {"7",
                                          "-3",
                                          "0",
                                          "-0",
                                          "12.5",
                                          "1e3",
                                          "-2.5E-3",
                                          "12345678901234567890",
                                          "9223372036854775807",
                                          "true",
                                          "false",
                                          "null",
                                          "\"News\"",
                                          "\"\"",
                                          "\"a\\\"b\\\\c\\/d\\n\\t\"",
                                          "\"caf\\u00e9 \\u4e2d\"",
                                          "\"\\ud83d\\ude00\"",
                                          "\"caf\xc3\xa9\"",
                                          "\"R\\u0026D\"",
                                          " 5 ",
                                          "\"user-1\""};
    std::size_t roll = random_.below(20);
    if (depth < 3 && roll == 0) return line(depth + 1);
    if (depth < 3 && roll == 1) return changes();
    if (depth < 3 && roll == 2) return items(depth);
    if (roll == 3) return "[]";
    return random_.pick(scalars);
  }

  std::string changes() {
    static const char* const diffs[] = {R"({"from":"a","to":"b"})", R"({"to":null})", R"({"from":1})", R"("x")",
                                        R"({"to":{"k":[1,2.5,"s"]},"from":{}})"};
    std::string out = "{";
    std::size_t n = random_.below(3);
    for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + key() + ":" + random_.pick(diffs);
    return out + "}";
  }

  std::string items(int depth) {
    std::string out = "[";
    std::size_t n = random_.below(4);
    for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + (random_.below(8) ? line(depth + 1) : value(3));
    return out + "]";
  }

  /// One line in twelve is damaged: cut short, trailing bytes, a bad escape, a control character.
  std::string broken(std::string line) {
    switch (random_.below(24)) {
      case 0: return line.substr(0, random_.below(line.size() + 1));
      case 1: return line + " x";
      case 2: return line + "  \n";
      case 3: return line.size() > 2 ? line.insert(1 + random_.below(line.size() - 1), "\\q") : line;
      case 4: return line.size() > 2 ? line.insert(1 + random_.below(line.size() - 1), "\x01") : line;
      default: return line;
    }
  }

  Random random_;
};

}  // namespace

TEST_CASE("the Mapper maps the fixture application's logs exactly as its reference", "[mapping]") {
  Pair pair(read_small_file(fixture_rules()));
  EventStream stream(std::string(AUDITPITR_SOURCE_DIR) + "/fixtures/portfolio-manager/audit");
  AuditEvent event;
  int events = 0;
  while (stream.next(event)) {
    pair.check(event);
    ++events;
  }
  CHECK(events > 10);
  pair.check_unmapped();
}

TEST_CASE("the Mapper maps random lines, valid or not, exactly as its reference", "[mapping]") {
  std::string fixture = read_small_file(fixture_rules());
  for (const std::string& rules : {std::string(), std::string(test::kFeatureRules), fixture}) {
    Pair pair(rules);
    LineMaker maker(rules.size());
    for (int i = 0; i < 20000; ++i) pair.check(maker.operation(), maker.line());
    pair.check_unmapped();
  }
}

TEST_CASE("lines of one shape map through the line plan exactly as the reference maps them", "[mapping]") {
  // Each operation's lines keep their fields and order; values change, and now and then a line
  // does not fit: an escape, bytes over 0x7F (valid or not), another kind, whitespace, a field
  // more or less, a field renamed, trailing bytes.
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"CREATE_SECTION", R"({"level":"info","msg":"m","operation":"CREATE_SECTION","position":$N,"sectionID":$N,)"
                         R"("time":"2025-01-15T10:00:00Z","title":$S,"userID":$S,"isPinned":$B})"},
      {"UPDATE_CATEGORY_POSITION", R"({"categoryID":$N,"newPosition":$N,"oldPosition":$N,"userID":$S})"},
      {"DELETE_PORTFOLIO", R"({"cascade":"categories","portfolioID":$N,"title":$S,"userID":$S,"note":null})"},
      {"PUBLISH_PORTFOLIO", R"({"portfolioID":$N,"note":$S,"rating":$F})"},
      {"DELETE_PROJECT", R"({"projectID":$N,"categoryID":$N,"title":$S})"},
  };
  const char* const strings[] = {R"("plain")", R"("with \"escape\"")", "\"caf\xc3\xa9\"", "\"bad \xff\"",
                                 R"("")",      R"("R\u0026D")"};
  const char* const numbers[] = {"1", "42", "-7", "0", "123456789012345678"};
  const char* const odd[] = {"1.5", "null", "true", R"({"a":1})", "[1]", "1e2", "12345678901234567890"};
  Random random{7};
  auto fill = [&](std::string line) {
    for (std::size_t at; (at = line.find('$')) != std::string::npos;) {
      char kind = line[at + 1];
      std::string value = random.below(30) == 0 ? odd[random.below(7)]
                          : kind == 'S'         ? strings[random.below(6)]
                          : kind == 'B'         ? (random.below(2) ? "true" : "false")
                          : kind == 'F'         ? std::to_string(random.below(100)) + ".5"
                                                : numbers[random.below(5)];
      line.replace(at, 2, value);
    }
    switch (random.below(40)) {
      case 0: return line.insert(1, " ");
      case 1: return line.insert(1, R"("extra":1,)");
      case 2: return line + "x";
      case 3: return line + " \r\n";
      case 4: return line.replace(line.find('"') + 1, 1, "Q");
      default: return line;
    }
  };
  for (const std::string& rules : {std::string(), std::string(test::kFeatureRules)}) {
    Pair pair(rules);
    for (int i = 0; i < 20000; ++i) {
      const auto& [operation, shape] = shapes[random.below(shapes.size())];
      pair.check(operation, fill(shape));
    }
    pair.check_unmapped();
    // Half the string values have an escape or bad bytes: both paths take thousands of lines.
    CHECK(pair.mapper().planned_lines() > 2000);
    CHECK(pair.mapper().tree_lines() > 2000);
  }
}

TEST_CASE("JsonDocument's own parser reads lines as simdjson does, and takes the usual ones", "[mapping]") {
  LineMaker maker(1);
  JsonDocument fast, reference;
  int taken = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line = maker.line();
    std::string fast_error, reference_error;
    bool fast_ok = fast.parse_text(line, fast_error);
    taken += fast.fast();
    std::string padded = line + std::string(64, '\0');
    bool reference_ok = reference.parse_with_simdjson(std::string_view(padded.data(), line.size()), reference_error);
    INFO(line);
    REQUIRE(fast_ok == reference_ok);
    REQUIRE(fast_error == reference_error);
    if (fast_ok) REQUIRE(test::describe(fast) == test::describe(reference));
  }
  CHECK(taken > 5000);  // a third of these random lines have exponents, long numbers, surrogates or damage
}

TEST_CASE("every line of the fixture application takes JsonDocument's hand-written path", "[mapping]") {
  EventStream stream(std::string(AUDITPITR_SOURCE_DIR) + "/fixtures/portfolio-manager/audit");
  AuditEvent event;
  JsonDocument doc;
  std::string error;
  while (stream.next(event)) {
    INFO(event.json);
    REQUIRE(doc.parse(event.json, error));
    CHECK(doc.fast());
  }
}
