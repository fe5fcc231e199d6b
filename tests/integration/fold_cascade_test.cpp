// The fold's cascades (verify/row_fold.h) over children that move from one parent to another: a
// child is linked to each parent it held, and the links it left stay; a cascade must reach only
// the rows holding the parent's key at that moment, and each of them once.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "replay/apply/pg_session.h"
#include "replay/apply/pg_sink.h"
#include "replay/apply/target_catalog.h"
#include "replay/mapping/mapping_rules.h"
#include "src/pg/connection.h"
#include "tests/support/test_cluster.h"
#include "verify/row_fold.h"

using namespace auditpitr;
using replay::ChangeAction;
using replay::Value;

namespace {

std::vector<verify::TableShape> shapes_of(const std::vector<replay::TargetTable>& targets) {
  std::vector<verify::TableShape> shapes;
  for (const auto& t : targets) shapes.push_back(verify::rows::shape_of(t));
  return shapes;
}

/// The fixture application's tables and mapping (portfolios cascade to categories by
/// portfolio_id), and a fold of hand-made changes over them, an event per change.
struct PortfolioFold {
  PortfolioFold()
      : db(test::portfolio_database("fold_cascade")),
        session(db),
        targets(read_targets(session)),
        mapper(replay::load_mapping_rules(test::source_path("fixtures/portfolio-manager/mapping.toml")),
               replay::MappingCatalog(shapes_of(targets))),
        tables(targets, mapper),
        renderer(session, tables),
        fold(tables, mapper, true) {}

  static std::vector<replay::TargetTable> read_targets(replay::PgSession& session) {
    session.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
    return replay::read_target_tables(session);
  }

  void change(const std::string& table, ChangeAction action, int id,
              const std::vector<std::pair<std::string, Value>>& set = {}) {
    verify::rows::FoldChange c;
    c.table = tables.index(table);
    c.action = action;
    c.time = *replay::parse_rfc3339("2025-01-15T10:00:00Z") + std::chrono::seconds(events);
    c.add(c.key, tables[c.table].key_positions[0], Value::of(Value::Kind::integer, std::to_string(id)));
    for (const auto& [column, value] : set) c.add(c.set, tables[c.table].column(column), value);
    std::vector<verify::rows::FoldChange> one{c};
    fold.request(one, renderer);
    fold.set_event(events++);
    fold.apply(c, renderer);
    renderer.clear();
  }
  void create_category(int id, int portfolio) {
    change("categories", ChangeAction::insert, id, {{"portfolio_id", integer(portfolio)}});
  }
  void move_category(int id, int portfolio) {
    change("categories", ChangeAction::update, id, {{"portfolio_id", integer(portfolio)}});
  }
  void delete_portfolio(int id) {
    change("portfolios", ChangeAction::soft_delete, id,
           {{"deleted_at",
             Value::of(Value::Kind::timestamp, replay::format_rfc3339(*replay::parse_rfc3339("2025-01-15T10:00:00Z") +
                                                                      std::chrono::seconds(events)))}});
  }
  static Value integer(int i) { return Value::of(Value::Kind::integer, std::to_string(i)); }

  /// The category's deleted_at as folded, and the event that set it (kNoEvent: none did).
  std::pair<std::string, uint32_t> deleted_at(int id) {
    std::size_t t = tables.index("categories");
    const auto& row = fold.rows(t).at(std::to_string(id));
    std::size_t column = tables[t].column("deleted_at");
    return {std::string(row.fields[column]), row.mark(column).set_by};
  }

  pg::ConnInfo db;
  replay::PgSession session;
  std::vector<replay::TargetTable> targets;
  replay::Mapper mapper;
  verify::rows::Tables tables;
  verify::rows::Renderer renderer;
  verify::rows::Fold fold;
  uint32_t events = 0;
};

}  // namespace

TEST_CASE("a cascade reaches the children holding the parent's key then, each once", "[pg][fold]") {
  PortfolioFold f;
  for (int p = 1; p <= 3; ++p) f.change("portfolios", ChangeAction::insert, p);
  f.create_category(10, 1);  // stays under 1
  f.create_category(11, 1);  // moves to 2 before 1 is deleted
  f.move_category(11, 2);
  f.create_category(12, 3);  // 3 -> 2 -> 3: linked to 3 twice
  f.move_category(12, 2);
  f.move_category(12, 3);
  f.create_category(13, 2);  // 2 -> 2: the same value again
  f.move_category(13, 2);

  f.delete_portfolio(1);
  uint32_t first_delete = f.events - 1;
  char shown[32];
  std::snprintf(shown, sizeof shown, "2025-01-15 10:00:%02u+00", first_delete);
  CHECK(f.deleted_at(10) == std::make_pair(std::string(shown), first_delete));
  CHECK(f.deleted_at(11).second == verify::rows::kNoEvent);  // left portfolio 1 before its delete
  CHECK(f.deleted_at(12).second == verify::rows::kNoEvent);
  CHECK(f.deleted_at(13).second == verify::rows::kNoEvent);

  f.delete_portfolio(3);
  uint32_t second_delete = f.events - 1;
  CHECK(f.deleted_at(12).second == second_delete);  // back under 3
  CHECK(f.deleted_at(11).second == verify::rows::kNoEvent);

  f.delete_portfolio(2);
  uint32_t third_delete = f.events - 1;
  CHECK(f.deleted_at(11).second == third_delete);
  CHECK(f.deleted_at(13).second == third_delete);
  CHECK(f.deleted_at(12).second == second_delete);  // deleted already: keeps its own time
}
