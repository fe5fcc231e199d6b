// The values lost and recover's verification render without PostgreSQL (verify/row_fold.h,
// Renderer::local_rendering) against PostgreSQL's own rendering of the same text in the same
// column: every value rendered locally must read exactly as the server renders it, edge cases and
// random values alike; a value the server refuses must not be rendered locally.
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "replay/apply/pg_session.h"
#include "replay/apply/pg_sink.h"
#include "replay/apply/row_statement.h"
#include "src/pg/connection.h"
#include "tests/support/test_cluster.h"
#include "verify/row_fold.h"

using namespace auditpitr;
using replay::Value;

namespace {

std::vector<Value> edge_values() {
  std::vector<Value> out;
  auto add = [&](Value::Kind kind, std::vector<std::string> texts) {
    for (auto& t : texts) out.push_back(Value::of(kind, std::move(t)));
  };
  add(Value::Kind::integer, {"0",
                             "-0",
                             "007",
                             "1",
                             "-1",
                             "+1",
                             "1e3",
                             "12a",
                             "",
                             "-",
                             "32767",
                             "32768",
                             "-32768",
                             "-32769",
                             "2147483647",
                             "2147483648",
                             "-2147483648",
                             "-2147483649",
                             "9223372036854775807",
                             "9223372036854775808",
                             "-9223372036854775808",
                             "-9223372036854775809",
                             "18446744073709551616",
                             "99999999999999999999"});
  add(Value::Kind::timestamp,
      {"2026-12-03T14:05:00Z",      "2026-12-03T14:05:00.120500Z", "2026-12-03T14:05:00.000000Z",
       "2026-12-03T14:05:00.1Z",    "2026-12-03T14:05:00.123456Z", "2026-12-03T14:05:00.1234567Z",
       "2026-12-03T14:05:00.Z",     "2024-02-29T00:00:00Z",        "2023-02-29T00:00:00Z",
       "2000-02-29T23:59:59Z",      "1900-02-29T00:00:00Z",        "0999-01-01T00:00:00Z",
       "1000-01-01T00:00:00Z",      "9999-12-31T23:59:59.999999Z", "2026-13-01T00:00:00Z",
       "2026-12-03T24:00:00Z",      "2026-12-03T23:59:60Z",        "2026-12-03 14:05:00Z",
       "2026-12-03T14:05:00+01:00", "2026-12-03T14:05:00"});
  add(Value::Kind::string,
      {"plain", "tab\there", "back\\slash", "new\nline\r", "\xc3\xa9 \xe2\x9c\x93", "\x01\x7f", "\xff", "\xc0\xaf",
       "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x9f\xbf", "", "12345", "123456", "2026-12-03T14:05:00Z", "\\N"});
  add(Value::Kind::boolean, {"true", "false"});
  add(Value::Kind::number, {"1.50", "-0.0", "1e3"});
  return out;
}

/// Random integers and timestamps near the edges the local rendering checks.
std::vector<Value> random_values(std::size_t n) {
  std::mt19937_64 random(20261203);
  std::vector<Value> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string digits = (random() % 4 == 0 ? "-" : "");
    std::size_t length = 1 + random() % 20;
    for (std::size_t d = 0; d < length; ++d) digits += static_cast<char>('0' + random() % 10);
    out.push_back(Value::of(Value::Kind::integer, digits));
    char stamp[40];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(990 + random() % 9100),
                  static_cast<int>(random() % 14), static_cast<int>(random() % 33), static_cast<int>(random() % 25),
                  static_cast<int>(random() % 61), static_cast<int>(random() % 61));
    std::string text = stamp;
    if (random() % 2) {
      text += '.';
      for (std::size_t d = 0, f = 1 + random() % 7; d < f; ++d) text += static_cast<char>('0' + random() % 3);
    }
    out.push_back(Value::of(Value::Kind::timestamp, text + "Z"));
  }
  return out;
}

/// A database with table local_kinds, a column of each kind local rendering knows and of a few
/// it leaves to the server, and what rendering and folding it takes.
struct KindsTable {
  explicit KindsTable(const std::string& name)
      : db(make_database(name)),
        session(db),
        targets(read_targets(session)),
        mapper(replay::MappingRules{}, replay::MappingCatalog(shapes_of(targets))),
        tables(targets, mapper),
        renderer(session, tables),
        t(tables.index("local_kinds")) {}
  KindsTable(const KindsTable&) = delete;

  static pg::ConnInfo make_database(const std::string& name) {
    auto db = test::portfolio_database(name);
    test::execute(db,
                  "CREATE TABLE local_kinds (id bigint PRIMARY KEY, s smallint, i integer, b bigint, t text, "
                  "v character varying, v5 character varying(5), tz timestamp with time zone, "
                  "ts timestamp without time zone, n numeric, j jsonb, a text[])");
    return db;
  }
  static std::vector<replay::TargetTable> read_targets(replay::PgSession& session) {
    session.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
    return replay::read_target_tables(session);
  }
  static std::vector<verify::TableShape> shapes_of(const std::vector<replay::TargetTable>& targets) {
    std::vector<verify::TableShape> shapes;
    for (const auto& t : targets) shapes.push_back(verify::rows::shape_of(t));
    return shapes;
  }

  pg::ConnInfo db;
  replay::PgSession session;
  std::vector<replay::TargetTable> targets;  ///< tables point into it: never moved
  replay::Mapper mapper;
  verify::rows::Tables tables;
  verify::rows::Renderer renderer;
  std::size_t t;
};

}  // namespace

TEST_CASE("values rendered without PostgreSQL read exactly as PostgreSQL renders them", "[pg][lost]") {
  KindsTable kinds("render_local");
  std::size_t t = kinds.t;

  std::vector<Value> values = edge_values();
  for (auto& v : random_values(2000)) values.push_back(std::move(v));
  std::size_t local = 0, asked = 0;
  for (std::size_t c = 0; c < kinds.tables[t].target->columns.size(); ++c) {
    const replay::TargetColumn& column = kinds.tables[t].target->columns[c];
    for (const Value& v : values) {
      auto mine = kinds.renderer.local_rendering(t, c, v);
      if (!mine) continue;
      ++local;
      replay::PgResult r =
          kinds.session.try_exec("SELECT " + replay::typed_value_sql(column, v.kind, "$1::text"), {v.text});
      std::string theirs = "(refused)";
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK)
        theirs = PQgetisnull(r.get(), 0, 0) ? verify::rows::kNull
                                            : verify::copy_field(PQgetvalue(r.get(), 0, 0),
                                                                 static_cast<std::size_t>(PQgetlength(r.get(), 0, 0)));
      ++asked;
      INFO(column.name << " (" << column.type << ") <- " << replay::kind_name(v.kind) << " '" << v.text << "'");
      CHECK(*mine == theirs);
    }
  }
  // not a test that cannot fail: most columns render most valid values locally
  CHECK(local > 3000);
  CHECK(asked == local);
}

namespace {

/// Folds `changes` into a fold of its own: rendered as applied (`defer` false), or with values
/// kept as logged until render_deferred (lost's way), and when `ahead`, each change's values
/// first rendered by render_values_locally (lost's reading thread); with `event_times_kept`, the
/// events' times kept as such (lost's way). Returns each row's fields and marks as text, by key,
/// an event's time shown as "<event time>" (checked to be kept, or not, as asked).
std::map<std::string, std::string> folded_rows(std::vector<verify::rows::FoldChange> changes, KindsTable& kinds,
                                               bool defer, bool ahead, bool event_times_kept = false) {
  verify::rows::Fold fold(kinds.tables, kinds.mapper, true);
  if (defer) fold.defer_values();
  if (event_times_kept) fold.keep_event_times();
  if (ahead)
    for (auto& c : changes) verify::rows::render_values_locally(c, kinds.renderer, !event_times_kept);
  fold.request(changes, kinds.renderer);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    fold.set_event(static_cast<uint32_t>(i));
    fold.apply(changes[i], kinds.renderer);
  }
  kinds.renderer.clear();
  fold.render_deferred(kinds.renderer);
  std::map<std::string, std::string> out;
  for (const auto& [key, row] : fold.rows(kinds.t)) {
    std::string shown;
    for (std::size_t c = 0; c < row.fields.size(); ++c) {
      const auto& mark = row.mark(c);
      if (mark.automatic) CHECK((row.fields[c] == verify::rows::kEventTime) == event_times_kept);
      shown += (mark.automatic ? std::string("<event time>") : std::string(row.fields[c])) + " [" +
               std::to_string(mark.set_by) + " " + std::to_string(static_cast<int>(mark.origin)) + " " +
               std::to_string(mark.automatic) + "] ";
    }
    out[key] = shown;
  }
  return out;
}

}  // namespace

TEST_CASE("values rendered ahead of the fold (lost's reading thread) fold into the same rows", "[pg][lost]") {
  KindsTable kinds("render_ahead");
  std::size_t t = kinds.t;
  std::size_t columns = kinds.tables[t].target->columns.size();

  // Inserts, then updates of random columns with random values: valid ones, ones only the server
  // renders (numeric, jsonb, arrays, varchar(5)), ones it refuses, and NULLs.
  std::vector<Value> values = edge_values();
  values.push_back(Value::of(Value::Kind::string, "{\"a\": 1}"));
  values.push_back(Value::of(Value::Kind::string, "{x,y}"));
  values.push_back(Value::null());
  std::mt19937_64 random(20261205);
  std::vector<verify::rows::FoldChange> changes;
  for (int i = 0; i < 3000; ++i) {
    verify::rows::FoldChange c;
    c.table = t;
    int id = 1 + static_cast<int>(random() % 60);
    c.action = i < 60 ? replay::ChangeAction::insert : replay::ChangeAction::update;
    if (i < 60) id = i + 1;
    c.add(c.key, kinds.tables[t].key_positions[0], Value::of(Value::Kind::integer, std::to_string(id)));
    for (int k = 0; k < 3; ++k) {
      std::size_t column = 1 + random() % (columns - 1);
      c.add(c.set, column, values[random() % values.size()]);
    }
    if (random() % 4 == 0) {  // an automatic timestamp: the event's time
      c.time = replay::TimePoint(std::chrono::microseconds(1796300000000000LL + i * 1000001LL));
      c.add(c.set, kinds.tables[t].column("tz"), Value::of(Value::Kind::timestamp, replay::format_time(c.time)), true);
    }
    verify::rows::render_key_locally(c, kinds.tables, kinds.renderer);
    changes.push_back(std::move(c));
  }
  std::size_t rendered_ahead = 0;
  for (auto c : changes) {
    verify::rows::render_values_locally(c, kinds.renderer);
    for (const auto& s : c.set) rendered_ahead += s.rendered;
  }
  CHECK(rendered_ahead > 1000);  // many of the 9,000 values render locally, not all
  CHECK(rendered_ahead < 9000);

  auto as_applied = folded_rows(changes, kinds, false, false);
  auto deferred = folded_rows(changes, kinds, true, false);
  auto ahead = folded_rows(changes, kinds, true, true);
  auto times_kept = folded_rows(changes, kinds, true, true, true);
  REQUIRE(as_applied.size() == 60);
  CHECK(deferred == as_applied);
  CHECK(ahead == as_applied);
  CHECK(times_kept == as_applied);
}
