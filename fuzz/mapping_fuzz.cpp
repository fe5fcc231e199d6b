// libFuzzer target: any bytes as one audit line (the first byte picks the operation) give the
// Mapper's and its reference's (tests/unit/replay/mapping/mapping_reference.h) same result and
// unmapped fields, and JsonDocument's hand-written parser the same tree as simdjson. Never a crash.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/unit/replay/mapping/mapping_reference.h"
#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;

namespace {

replay::MappingRules rules() { return replay::parse_mapping_rules(test::kFeatureRules, "fuzz.toml"); }

void compare_documents(const std::string& line) {
  static replay::JsonDocument fast, reference;
  std::string fast_error, reference_error;
  bool fast_ok = fast.parse_text(line, fast_error);
  simdjson::padded_string padded(line);
  bool reference_ok = reference.parse_with_simdjson(std::string_view(padded.data(), line.size()), reference_error);
  if (fast_ok != reference_ok || fast_error != reference_error) __builtin_trap();
  if (fast_ok && test::describe(fast) != test::describe(reference)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const operations[] = {
      "CREATE_PORTFOLIO",       "UPDATE_PORTFOLIO",         "DELETE_PORTFOLIO",
      "UPDATE_SECTION_CONTENT", "UPDATE_CATEGORY_POSITION", "BULK_REORDER_SECTIONS",
      "PUBLISH_PORTFOLIO",      "CREATE_AUDIT_NOTE",        "LOGIN",
      "DELETE_SECTION_CONTENT"};
  static replay::Mapper mapper(rules(), test::portfolio_catalog());
  static test::ReferenceMapper reference(rules(), test::portfolio_catalog());
  if (size == 0) return 0;
  std::string line(reinterpret_cast<const char*>(data) + 1, size - 1);
  compare_documents(line);
  test::EventHolder holder(operations[data[0] % (sizeof operations / sizeof operations[0])], line);
  replay::MapResult want;
  try {
    want = reference.map(holder.event);
  } catch (const simdjson::simdjson_error&) {  // the reference let some invalid lines throw ("nul")
    if (mapper.map(holder.event).outcome != replay::MapOutcome::invalid) __builtin_trap();
    return 0;
  }
  if (test::describe(mapper.map(holder.event)) != test::describe(want)) __builtin_trap();
  if (test::describe(mapper.unmapped_fields()) != test::describe(reference.unmapped_fields())) __builtin_trap();
  return 0;
}
