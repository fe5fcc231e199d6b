// TableChecksummer and manifests without a server: order independence, keys, round trip.
#include <catch2/catch.hpp>

#include "src/error.h"
#include "src/pg/connection.h"
#include "verify/compare.h"
#include "verify/manifest.h"
#include "verify/table_checksum.h"
#include "verify/table_diff.h"

using namespace auditpitr;
using namespace auditpitr::verify;

namespace {

TableChecksum sum_of(const std::vector<std::string>& rows) {
  TableShape shape{"public", "t", {"id", "name", "note"}, {"id"}};
  TableChecksummer s(shape);
  for (const auto& r : rows) s.add_row(r.data(), r.size());
  return s.result();
}

}  // namespace

TEST_CASE("row order does not matter; content, keys and counts do", "[checksum]") {
  auto a = sum_of({"1\talice\t\\N", "2\tbob\tx"});
  auto b = sum_of({"2\tbob\tx", "1\talice\t\\N"});
  CHECK(a.row_sum == b.row_sum);
  CHECK(a.column_sums == b.column_sums);
  auto swapped = sum_of({"1\tbob\t\\N", "2\talice\tx"});
  CHECK(swapped.column_sums.at("name") != a.column_sums.at("name"));
  CHECK(swapped.column_sums.at("note") == a.column_sums.at("note"));
  auto duplicated = sum_of({"1\talice\t\\N", "1\talice\t\\N", "2\tbob\tx"});
  CHECK(duplicated.rows == 3);
  CHECK(duplicated.row_sum != a.row_sum);
  CHECK_THROWS_AS(sum_of({"1\tonly two"}), Error);
}

TEST_CASE("manifests round-trip and comparisons name what differs", "[checksum]") {
  Manifest m;
  m.alias = "portfolio";
  m.dbname = "portfolio_db";
  m.stamp = "20250123_140530";
  m.snapshot_time_utc = "2025-01-23T13:05:30.000001Z";
  m.server_version = "15.18";
  m.server_version_num = 150018;
  m.pg_dump_version = "pg_dump (PostgreSQL) 15.18";
  m.tables = {sum_of({"1\talice\t\\N"})};
  m.file_name = "portfolio_db_20250123_140530.dump.gz";
  m.file_size = 123;
  m.file_sha256 = std::string(64, 'a');
  Manifest back = parse_manifest(manifest_to_json(m), "m.json");
  CHECK(back.tables.size() == 1);
  CHECK(back.tables[0].row_sum == m.tables[0].row_sum);
  CHECK(back.tables[0].column_sums == m.tables[0].column_sums);
  CHECK(back.file_sha256 == m.file_sha256);
  CHECK_THROWS_AS(parse_manifest("{\"format\": 1}", "m.json"), Error);

  auto changed = sum_of({"1\talicia\t\\N"});
  auto diffs = compare_checksums(m.tables, {changed});
  REQUIRE(diffs.size() == 1);
  CHECK(describe(diffs[0]) == "public.t.name: values differ");
  std::set<std::string> only{"t.note"};
  CHECK(compare_checksums(m.tables, {changed}, {&only}).empty());
  CHECK(describe(compare_checksums(m.tables, {})[0]) == "public.t: table missing");
}

TEST_CASE("COPY text fields are unescaped and ordered as the C collation orders their values", "[verify]") {
  using auditpitr::verify::compare_copy_fields;
  using auditpitr::verify::copy_unescape;
  CHECK(copy_unescape("a\\tb\\\\c\\nd") == "a\tb\\c\nd");
  CHECK(copy_unescape("\\N") == "\\N");
  CHECK(compare_copy_fields("a", "b") < 0);
  CHECK(compare_copy_fields("B", "a") < 0);         // bytes, not a locale's order
  CHECK(compare_copy_fields("a", "aa") < 0);        // shorter first
  CHECK(compare_copy_fields("10", "9") < 0);        // text, as the sort key is
  CHECK(compare_copy_fields("a\\tb", "a b") < 0);   // a tab (0x09) before a space, though '\\' is after ' '
  CHECK(compare_copy_fields("\\\\", "]") < 0);      // a backslash (0x5c) before ']'
  CHECK(compare_copy_fields("\xc3\xa9", "z") > 0);  // UTF-8 bytes are above ASCII
  CHECK(compare_copy_fields("\\N", "z") > 0);       // NULLS LAST
  CHECK(compare_copy_fields("\\N", "\\N") == 0);
}

TEST_CASE("compare_tables says per column what is equal, different or not comparable", "[verify]") {
  using namespace auditpitr::verify;
  TableShape shape{"public", "t", {"id", "name", "note"}, {"id"}};
  TableChecksummer expected(shape);
  std::string row = "1\talice\t\\N", wide_row = "1\talicia\t\\N\tx";
  expected.add_row(row.data(), row.size());
  TableShape wider{"public", "t", {"id", "name", "note", "extra"}, {"id"}};
  TableChecksummer actual(wider);
  actual.add_row(wide_row.data(), wide_row.size());
  auto tables = compare_tables({expected.result()}, {actual.result()});
  REQUIRE(tables.size() == 1);
  const TableComparison& t = tables[0];
  CHECK(!t.equal());
  CHECK(t.content == Verdict::not_comparable);
  REQUIRE(t.columns.size() == 4);
  CHECK(t.columns[0].verdict == Verdict::equal);
  CHECK(t.columns[1].verdict == Verdict::different);
  CHECK(t.columns[3].presence == Presence::actual_only);
  CHECK(describe(differences(t)[1]) == "public.t.extra: unexpected column");
  std::set<std::string> only{"name"};
  auto limited = compare_tables({expected.result()}, {actual.result()}, {&only});
  CHECK(limited[0].columns.size() == 1);
  CHECK(limited[0].content == Verdict::equal);  // not looked at
}

TEST_CASE("a text copies as it is exactly when copy_field leaves it unchanged", "[verify]") {
  for (int b = 0; b < 256; ++b) {
    std::string one(1, static_cast<char>(b)), text = "ab" + one + "cd";
    INFO("byte " << b);
    CHECK(auditpitr::pg::copies_as_is(text) == (auditpitr::pg::copy_field(text.data(), text.size()) == text));
  }
  CHECK(auditpitr::pg::copies_as_is("Ana's source 495, \xc3\xa9"));
  CHECK_FALSE(auditpitr::pg::copies_as_is("tab\there"));
  CHECK_FALSE(auditpitr::pg::copies_as_is("back\\slash"));
}
