// libFuzzer target: any bytes given to the rules loader either parse or raise a usage Error;
// never a crash, hang or other exception. Parsed rules are also validated against a small catalog.
#include <cstddef>
#include <cstdint>
#include <string>

#include "replay/mapping/mapping_rules.h"
#include "src/error.h"

namespace {

const auditpitr::replay::MappingCatalog& catalog() {
  static const auditpitr::replay::MappingCatalog c({
      {"public", "portfolios", {"id", "deleted_at", "title", "owner_id"}, {"id"}},
      {"public", "categories", {"id", "deleted_at", "position", "portfolio_id"}, {"id"}},
  });
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto rules = auditpitr::replay::parse_mapping_rules(text, "fuzz.toml");
    auditpitr::replay::validate_mapping_rules(rules, catalog());
  } catch (const auditpitr::Error& e) {
    if (e.kind() != auditpitr::ErrorKind::usage) __builtin_trap();
  }
  return 0;
}
