// Statement text: identifiers quoted, values only as placeholders (or escaped literals for
// scripts), one shape per table/action/columns. What the statements do is tested against
// PostgreSQL in tests/integration/replay_pg_test.cpp.
#include "replay/apply/row_statement.h"

#include <catch2/catch.hpp>

using namespace auditpitr;

namespace {

replay::TargetCatalog catalog() {
  replay::TargetTable t{"public", "portfolios", {}, {"id"}, "deleted_at"};
  for (const char* c : {"id", "title", "owner_id", "created_at", "updated_at", "deleted_at"})
    t.columns.push_back({c, std::string(c) == "id" ? "bigint" : "text", false, false, false, false, ""});
  replay::TargetTable odd{
      "public",
      "we\"ird",
      {{"id", "bigint", false, false, false, false, ""}, {"tags", "text[]", true, false, false, false, ""}},
      {"id"},
      ""};
  return replay::TargetCatalog({t, odd});
}

replay::RowChange change(replay::ChangeAction action, const std::string& table = "portfolios") {
  replay::RowChange c;
  c.table = table;
  c.action = action;
  c.operation = "OP";
  c.key.push_back(
      {"id", replay::Value::of(replay::Value::Kind::integer, "5"), "portfolioID", replay::ValueOrigin::field});
  return c;
}

std::string placeholders(const replay::RowChange& c) {
  return replay::build_statement(c, catalog(), [](std::size_t i) { return "$" + std::to_string(i + 1); });
}

}  // namespace

TEST_CASE("logged text never reaches the statement text; identifiers are quoted") {
  auto c = change(replay::ChangeAction::update);
  c.set.push_back({"title", replay::Value::of(replay::Value::Kind::string, "x'); DROP TABLE portfolios; --"), "title",
                   replay::ValueOrigin::field});
  std::string sql = placeholders(c);
  CHECK(sql.find("DROP") == std::string::npos);
  CHECK(sql ==
        R"(UPDATE "public"."portfolios" AS t SET "title" = $2 WHERE t."id" = ($1)::bigint RETURNING true, 0::bigint)");
  auto params = replay::statement_params(c);
  REQUIRE(params.size() == 2);
  CHECK(*params[1] == "x'); DROP TABLE portfolios; --");
  auto odd = change(replay::ChangeAction::insert, "we\"ird");
  CHECK(placeholders(odd).find(R"("public"."we""ird")") != std::string::npos);
}

TEST_CASE("script literals double quotes and keep backslashes; NULL stays NULL") {
  CHECK(replay::sql_literal(std::string("it's \\ fine")) == "'it''s \\ fine'");
  CHECK(replay::sql_literal(std::nullopt) == "NULL");
}

TEST_CASE("an insert of an existing key updates the carried columns but not the creation stamp") {
  auto c = change(replay::ChangeAction::insert);
  c.set.push_back({"title", replay::Value::of(replay::Value::Kind::string, "a"), "title", replay::ValueOrigin::field});
  c.set.push_back({"created_at", replay::Value::of(replay::Value::Kind::timestamp, "2025-01-15T10:00:00.000000Z"),
                   "(event time)", replay::ValueOrigin::event_time});
  std::string sql = placeholders(c);
  CHECK(sql.find(R"(ON CONFLICT ("id") DO UPDATE SET "title" = EXCLUDED."title" RETURNING)") != std::string::npos);
}

TEST_CASE("a JSON array for an array column becomes an array; shapes tell conversions apart") {
  auto c = change(replay::ChangeAction::update, "we\"ird");
  c.set.push_back(
      {"tags", replay::Value::of(replay::Value::Kind::json, R"(["a","b"])"), "tags", replay::ValueOrigin::field});
  CHECK(placeholders(c).find("ARRAY(SELECT jsonb_array_elements_text(($2)::jsonb)))::text[]") != std::string::npos);
  auto d = c;
  d.set[0].value = replay::Value::null();
  CHECK(replay::statement_shape(c, catalog()) != replay::statement_shape(d, catalog()));
  auto e = c;
  e.set[0].value = replay::Value::of(replay::Value::Kind::json, R"(["z"])");
  CHECK(replay::statement_shape(c, catalog()) == replay::statement_shape(e, catalog()));
}

TEST_CASE("a change naming a column the table lacks is a usage error") {
  auto c = change(replay::ChangeAction::update);
  c.set.push_back({"nope", replay::Value::of(replay::Value::Kind::string, "a"), "nope", replay::ValueOrigin::field});
  CHECK_THROWS_WITH(placeholders(c), Catch::Contains("has no column 'nope'"));
}

TEST_CASE("a canonical integer is the one text PostgreSQL prints for the number") {
  // Two such texts name the same row exactly when they are equal: set-based groups and the batch
  // order rely on it.
  auto integer = [](const char* text) { return replay::Value::of(replay::Value::Kind::integer, text); };
  for (const char* text : {"0", "7", "-7", "120", "9223372036854775807", "-9223372036854775808"})
    CHECK(replay::canonical_integer(integer(text)));
  for (const char* text : {"", "-", "-0", "00", "07", "-07", "+7", "7.0", "1e3", " 7", "12345678901234567890"}) {
    INFO(text);
    CHECK_FALSE(replay::canonical_integer(integer(text)));
  }
  CHECK_FALSE(replay::canonical_integer(replay::Value::of(replay::Value::Kind::string, "7")));
}
