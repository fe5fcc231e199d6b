// CompactFolding::change_into refills changes handed back (lost's chunks): a change refilled
// again and again, with more values or fewer than it held, must equal the change made afresh.
#include <catch2/catch.hpp>

#include "replay/log/audit_source.h"
#include "tests/support/test_cluster.h"
#include "tests/unit/replay/mapping/mapping_test_support.h"
#include "verify/row_fold.h"

using namespace auditpitr;

namespace {

std::vector<replay::TargetTable> targets_of(const replay::MappingCatalog& catalog) {
  std::vector<replay::TargetTable> out;
  for (const auto& shape : catalog.tables()) {
    replay::TargetTable t{shape.schema, shape.name, {}, shape.primary_key, ""};
    for (const auto& c : shape.columns) t.columns.push_back({c, "text", false, false, false, false, ""});
    out.push_back(t);
  }
  return out;
}

/// The values `a` of change `ca` and `b` of change `cb` are the same, texts included.
bool same_values(const verify::rows::FoldChange& ca, const std::vector<verify::rows::FoldValue>& a,
                 const verify::rows::FoldChange& cb, const std::vector<verify::rows::FoldValue>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].column != b[i].column || a[i].kind != b[i].kind || ca.text(a[i]) != cb.text(b[i]) ||
        a[i].event_time != b[i].event_time || a[i].rendered != b[i].rendered)
      return false;
  return true;
}

}  // namespace

TEST_CASE("a change refilled by change_into equals the change made afresh", "[fold]") {
  replay::MappingCatalog catalog = test::portfolio_catalog();
  replay::Mapper mapper(replay::load_mapping_rules(test::source_path("fixtures/portfolio-manager/mapping.toml")),
                        catalog);
  std::vector<replay::TargetTable> targets = targets_of(catalog);
  verify::rows::Tables tables(targets, mapper);
  verify::rows::CompactFolding folding(tables, mapper);
  // pools of 1, 2 and 5 changes refilled in turn: each is refilled with changes of other shapes
  std::vector<verify::rows::FoldChange> pools[3] = {std::vector<verify::rows::FoldChange>(1),
                                                    std::vector<verify::rows::FoldChange>(2),
                                                    std::vector<verify::rows::FoldChange>(5)};
  std::size_t turn = 0, compared = 0, shrunk = 0, grown = 0;
  for (int pass = 0; pass < 3; ++pass) {  // the logs again: each pool refilled with changes of every shape
    auto events = replay::open_event_logs(test::source_path("fixtures/portfolio-manager/audit"), {});
    replay::AuditEvent e;
    replay::MappedEvent mapped;
    while (events->next(e)) {
      mapper.map_compact(e, mapped);
      if (mapped.outcome != replay::MapOutcome::mapped) continue;
      for (const auto& c : mapped.changes) {
        verify::rows::FoldChange fresh = folding.change(mapped, c, e.time);
        for (auto& pool : pools) {
          verify::rows::FoldChange& reused = pool[turn % pool.size()];
          std::size_t before = reused.key.size() + reused.set.size();
          reused.key_rendered = true;  // as a change the fold has seen
          reused.set.emplace_back();   // a value of the change before, marked rendered
          reused.set.back().rendered = true;
          folding.change_into(mapped, c, e.time, reused);
          std::size_t after = reused.key.size() + reused.set.size();
          shrunk += after < before;
          grown += after > before;
          INFO(e.operation << " line " << e.line_number);
          REQUIRE(reused.table == fresh.table);
          REQUIRE(reused.action == fresh.action);
          REQUIRE(reused.time == fresh.time);
          REQUIRE(!reused.key_rendered);
          REQUIRE(same_values(reused, reused.key, fresh, fresh.key));
          REQUIRE(same_values(reused, reused.set, fresh, fresh.set));
          ++compared;
        }
        ++turn;
      }
    }
  }
  CHECK(compared > 100);
  CHECK(shrunk > 10);  // not a test that cannot fail: refills with fewer values and with more
  CHECK(grown > 10);
}
