// The Mapper as it was before its fast path (commit 82c7a70): a JSON tree of std::strings per line,
// columns looked up by name. Kept, unchanged in behaviour, as the reference the Mapper is compared
// with (tests/unit/replay/mapping/mapping_reference_test.cpp, fuzz/mapping_fuzz.cpp): the same MapResult for every
// line and the same unmapped fields, whatever the line.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replay/mapping/mapping.h"

namespace auditpitr::test {

class ReferenceMapper {
 public:
  ReferenceMapper(replay::MappingRules rules, replay::MappingCatalog catalog);

  replay::MapResult map(const replay::AuditEvent& event);
  replay::OperationTarget target(const std::string& operation) const;
  const std::vector<replay::UnmappedField>& unmapped_fields() const { return unmapped_; }

 private:
  friend class RefChangeBuilder;
  struct KnownOperation {
    replay::OperationTarget target;
    const replay::OperationRule* rule = nullptr;
  };
  const KnownOperation& known(std::string_view operation);
  void note_unmapped(const replay::AuditEvent& event, const std::string& field);
  std::string soft_delete_column(const std::string& table) const;
  std::vector<replay::CascadeDelete> cascades_of(const std::string& table) const;

  replay::MappingRules rules_;
  replay::MappingCatalog catalog_;
  std::map<std::string, KnownOperation, std::less<>> known_;
  std::vector<replay::UnmappedField> unmapped_;
  std::map<std::pair<std::string, std::string>, std::size_t> unmapped_index_;
  replay::Mapper base_;  ///< for what the fast path did not replace: targets, soft deletes, cascades
};

/// Rules using every feature: renames, checks, constants, event times, ignore, fan-out, rule keys,
/// cascades, real deletes (for the portfolio catalog of mapping_test_support.h).
extern const char* const kFeatureRules;

/// Results as text, every field included, so that two mappers' results compare (and differ readably).
std::string describe(const replay::MapResult& result);
std::string describe(const std::vector<replay::UnmappedField>& fields);
/// Every node of the document: kind, name, text and extent.
std::string describe(const replay::JsonDocument& doc);

}  // namespace auditpitr::test
