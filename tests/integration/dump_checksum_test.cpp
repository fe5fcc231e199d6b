// The manifest's checksums taken from a dump's own rows (verify/dump_checksum.h) equal a separate
// COPY read of the same snapshot, whatever the database's output settings, identifiers and values.
#include "verify/dump_checksum.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <sstream>

#include "src/error.h"
#include "src/pg/connection.h"
#include "src/pg/custom_archive.h"
#include "src/pg/local_cluster.h"
#include "src/pg/pg_tools.h"
#include "src/pg/process_runner.h"
#include "src/util/sha256.h"
#include "tests/support/test_cluster.h"
#include "verify/compare.h"
#include "verify/database_checksum.h"

using namespace auditpitr;

namespace {

// Settings unlike the checksum session's, types whose text depends on them, odd identifiers, rows
// longer than a pipe's buffer, a dropped and a generated column, large objects, an empty table and
// auditpitr's own schema (not in manifests).
pg::ConnInfo awkward_database(const std::string& name) {
  auto info = test::fresh_database(name);
  test::execute(test::cluster().connect_info("postgres"),
                "ALTER DATABASE " + name + " SET timezone = 'Asia/Kolkata'; ALTER DATABASE " + name +
                    " SET bytea_output = 'escape'; ALTER DATABASE " + name + " SET DateStyle = 'German, DMY'; " +
                    "ALTER DATABASE " + name + " SET IntervalStyle = 'iso_8601'; ALTER DATABASE " + name +
                    " SET extra_float_digits = 0");
  test::execute(info, R"SQL(
    CREATE TABLE t (id int PRIMARY KEY, at timestamptz, d date, i interval, f float8, b bytea, x text,
                    gone int, twice int GENERATED ALWAYS AS (id * 2) STORED);
    ALTER TABLE t DROP COLUMN gone;
    INSERT INTO t SELECT g, '2025-01-23 14:05:30+01'::timestamptz + g * interval '1 hour', date '2025-01-23' + g,
                         g * interval '90 minutes', g / 3.0, decode(md5(g::text), 'hex'),
                         CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN E'tab\there\nnew line \\ back' WHEN 2 THEN ''
                              ELSE repeat(md5(g::text), 5000) END
      FROM generate_series(1, 300) g;
    CREATE SCHEMA "Odd.Schema";
    CREATE TABLE "Odd.Schema"."my ""table"" (x)" ("a, b" int, "C)" text, "select" text);
    INSERT INTO "Odd.Schema"."my ""table"" (x)" VALUES (1, 'one', 's'), (2, NULL, 't'), (2, NULL, 't');
    CREATE TABLE empty (id int PRIMARY KEY);
    SELECT lo_from_bytea(0, decode(repeat('ab', 100000), 'hex'));
    CREATE SCHEMA auditpitr; CREATE TABLE auditpitr.bookkeeping (id int); INSERT INTO auditpitr.bookkeeping VALUES (1);
  )SQL");
  return info;
}

// pg_dump -F c -Z0 of the snapshot, fed to a DumpChecksummer in pieces of `piece` bytes.
verify::DumpChecksummer::Result checksum_dump(const pg::ConnInfo& info, const std::string& snapshot,
                                              const std::vector<verify::TableShape>& tables, std::size_t piece) {
  verify::DumpChecksummer summer(tables);
  // As the backup decides it: from the default of a session not yet made canonical (escape here).
  pg::Connection fresh(info);
  bool escape_bytea = fresh.raw().get_variable("bytea_output") != "hex";
  CHECK(escape_bytea);
  pg::Command command = pg::pg_dump_command(pg::server_bin_dir() + "/pg_dump", info, snapshot, escape_bytea);
  command.stdout_sink = [&](const char* data, std::size_t size) {
    for (std::size_t at = 0; at < size; at += piece) summer.feed(data + at, std::min(piece, size - at));
  };
  pg::PosixProcessRunner runner;
  auto r = runner.run(command);
  INFO(r.stderr_tail);
  REQUIRE(r.ok());
  return summer.finish();
}

}  // namespace

TEST_CASE("checksums of a dump's rows equal a separate read of the same snapshot", "[pg][verify][dump]") {
  auto info = awkward_database("dump_sums");
  pg::Connection conn(info);
  conn.set_canonical_output();
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn.raw());
  std::string snapshot = tx.exec1("SELECT pg_export_snapshot()")[0].as<std::string>();
  auto tables = verify::list_tables(tx);
  REQUIRE(tables.size() == 3);
  auto separately = verify::checksum_tables(tx, tables);
  // Written after the snapshot: neither read may see it.
  test::execute(info, "INSERT INTO t (id) VALUES (1000); DELETE FROM empty");

  for (std::size_t piece : {std::size_t(1) << 20, std::size_t(4093), std::size_t(7)}) {
    INFO("fed in pieces of " << piece << " bytes");
    auto read = checksum_dump(info, snapshot, tables, piece);
    CHECK(read.unreadable.empty());
    for (const auto& m : read.missing) UNSCOPED_INFO("missing " << m.qualified());
    CHECK(read.missing.empty());
    REQUIRE(read.found.size() == tables.size());
    auto differences = verify::compare_checksums(separately, read.found);
    for (const auto& d : differences) UNSCOPED_INFO(verify::describe(d));
    CHECK(differences.empty());
    for (std::size_t i = 0; i < tables.size(); ++i) {
      CHECK(read.found[i].rows == separately[i].rows);
      CHECK(read.found[i].row_sum == separately[i].row_sum);
      CHECK(read.found[i].column_sums == separately[i].column_sums);
    }
  }
}

TEST_CASE("tables a dump does not carry as the checksum reads them are left to a separate read", "[pg][verify][dump]") {
  auto info = awkward_database("dump_missing");
  pg::Connection conn(info);
  conn.set_canonical_output();
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn.raw());
  std::string snapshot = tx.exec1("SELECT pg_export_snapshot()")[0].as<std::string>();
  auto tables = verify::list_tables(tx);
  auto shapes = tables;
  shapes[0].columns.pop_back();                           // other columns than the dump's COPY
  shapes.push_back({"public", "not_dumped", {"a"}, {}});  // no data in the dump
  auto read = checksum_dump(info, snapshot, shapes, 1 << 16);
  CHECK(read.unreadable.empty());
  REQUIRE(read.missing.size() == 2);
  CHECK(read.missing[0].qualified() == shapes[0].qualified());
  CHECK(read.missing[1].name == "not_dumped");
  CHECK(read.found.size() == tables.size() - 1);
}

TEST_CASE("an archive the reader does not know is left whole to the separate read", "[verify][dump]") {
  std::vector<verify::TableShape> tables{{"public", "t", {"a"}, {}}};
  for (std::string bytes : {std::string("PGDMP\x01\x0e\x00\x04\x08\x01\x00\x00\x00\x00\x06", 16),  // compressed
                            std::string("PGDMP\x01\x63\x00", 8),                                   // version 1.99
                            std::string("not an archive"), std::string("PGDMP\x01\x0e")}) {        // cut short
    verify::DumpChecksummer summer(tables);
    summer.feed(bytes.data(), bytes.size());
    auto read = summer.finish();
    CHECK_FALSE(read.unreadable.empty());
    CHECK(read.found.empty());
    CHECK(read.missing.size() == 1);
  }
}

TEST_CASE("pg_dump's COPY statements are parsed with their quoted identifiers", "[verify][dump]") {
  std::string schema, name;
  std::vector<std::string> columns;
  REQUIRE(
      verify::parse_copy_statement("COPY \"Odd.Schema\".\"my \"\"table\"\" (x)\" (\"a, b\", \"C)\", \"select\", "
                                   "plain) FROM stdin;\n",
                                   schema, name, columns));
  CHECK(schema == "Odd.Schema");
  CHECK(name == "my \"table\" (x)");
  CHECK(columns == std::vector<std::string>{"a, b", "C)", "select", "plain"});
  REQUIRE(verify::parse_copy_statement("COPY public.nothing  FROM stdin;\n", schema, name, columns));
  CHECK(columns.empty());
  CHECK_FALSE(verify::parse_copy_statement("COPY public.t (a FROM stdin;\n", schema, name, columns));
  CHECK_FALSE(verify::parse_copy_statement("INSERT INTO public.t VALUES (1);\n", schema, name, columns));
}

namespace {

// The whole output of pg_dump -F c with `compress` ("0", or "6" as the old scripts' default).
std::string dump_archive(const pg::ConnInfo& info, const std::string& compress) {
  pg::Command command;
  command.program = pg::server_bin_dir() + "/pg_dump";
  command.args = {"--format=custom", "--compress=" + compress};
  command.env = info.child_environment();
  std::string out;
  command.stdout_sink = [&](const char* data, std::size_t size) { out.append(data, size); };
  pg::PosixProcessRunner runner;
  auto r = runner.run(command);
  INFO(r.stderr_tail);
  REQUIRE(r.ok());
  return out;
}

// `archive` through a re-writer, fed in pieces of `piece` bytes.
template <typename Rewriter, typename... Args>
std::string rewrite(const std::string& archive, std::size_t piece, Args... args) {
  std::string out;
  Rewriter rewriter([&](const char* data, std::size_t size) { out.append(data, size); }, args...);
  for (std::size_t at = 0; at < archive.size(); at += piece)
    rewriter.write(archive.data() + at, std::min(piece, archive.size() - at));
  rewriter.finish();
  return out;
}

// Compared this way, a difference does not print megabytes.
std::string fingerprint(const std::string& bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return std::to_string(bytes.size()) + " bytes, sha256 " + sha.hex_digest();
}

// What pg_restore makes of an archive given on its stdin: the SQL script, data included, without
// the random key of its \restrict lines (pg_restore 15.14 and later).
std::string restore_script(const std::string& archive) {
  pg::Command command;
  command.program = pg::server_bin_dir() + "/pg_restore";
  command.args = {"--file=-"};
  command.capture_stdout = true;
  std::size_t at = 0;
  command.stdin_source = [&](char* buffer, std::size_t capacity) {
    std::size_t n = std::min(capacity, archive.size() - at);
    std::memcpy(buffer, archive.data() + at, n);
    at += n;
    return n;
  };
  pg::PosixProcessRunner runner;
  auto r = runner.run(command);
  INFO(r.stderr_tail);
  REQUIRE(r.ok());
  std::istringstream lines(r.stdout_text);
  std::string script;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("\\restrict ", 0) != 0 && line.rfind("\\unrestrict ", 0) != 0) script += line + "\n";
  return script;
}

}  // namespace

TEST_CASE(
    "a plain archive's data compressed inside is restored by pg_restore as the plain one, and inflates back byte for "
    "byte",
    "[pg][dump][archive]") {
  auto info = awkward_database("archive_codec");
  std::string plain = dump_archive(info, "0");
  std::string script = restore_script(plain);
  REQUIRE(script.find("COPY public.t ") != std::string::npos);
  REQUIRE(script.find("lo_open") != std::string::npos);  // the large object's data
  for (std::size_t piece : {std::size_t(1) << 20, std::size_t(4093), std::size_t(7)}) {
    INFO("fed in pieces of " << piece << " bytes");
    std::string compressed = rewrite<pg::ArchiveCompressor>(plain, piece);
    CHECK(compressed.size() < plain.size() / 4);
    CHECK(fingerprint(restore_script(compressed)) == fingerprint(script));
    // The same archive again, its data in other chunks.
    std::string inflated = rewrite<pg::ArchiveInflater>(compressed, piece, std::string("test archive"));
    CHECK(inflated.size() < plain.size());
    CHECK(fingerprint(restore_script(inflated)) == fingerprint(script));
    // Already compressed: passes unchanged.
    CHECK(fingerprint(rewrite<pg::ArchiveCompressor>(compressed, piece)) == fingerprint(compressed));
  }
}

TEST_CASE("an archive pg_dump compressed itself (the old scripts') inflates to a plain one pg_restore reads the same",
          "[pg][dump][archive]") {
  auto info = awkward_database("archive_inflate");
  std::string compressed = dump_archive(info, "6");
  std::string plain = rewrite<pg::ArchiveInflater>(compressed, 65536, std::string("old.dump"));
  CHECK(plain.size() > compressed.size() * 4);
  // The header's compression level (1.14: an int after the format byte, its value from byte 12).
  CHECK(compressed[12] == 6);
  CHECK(plain[12] == 0);
  CHECK(fingerprint(restore_script(plain)) == fingerprint(restore_script(compressed)));
  // Plain archives pass unchanged.
  CHECK(fingerprint(rewrite<pg::ArchiveInflater>(plain, 4093, std::string("plain.dump"))) == fingerprint(plain));
}

TEST_CASE("damaged compressed data is a verification error; archives the reader does not know pass unchanged",
          "[pg][dump][archive]") {
  auto info = awkward_database("archive_damage");
  std::string compressed = rewrite<pg::ArchiveCompressor>(dump_archive(info, "0"), 1 << 16);
  std::size_t data_at = compressed.find("COPY public.t ");  // in the head; the data comes after it
  REQUIRE(data_at != std::string::npos);
  std::string flipped = compressed;
  std::size_t middle = data_at + (compressed.size() - data_at) / 2;
  for (std::size_t i = middle; i < middle + 64; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  try {
    rewrite<pg::ArchiveInflater>(flipped, 1 << 16, std::string("flipped.dump"));
    FAIL("damage not found");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::verification);
    CHECK_THAT(e.what(), Catch::Contains("'flipped.dump' is damaged"));
  }
  CHECK_THROWS_AS(rewrite<pg::ArchiveInflater>(compressed.substr(0, middle), 1 << 16, std::string("cut.dump")), Error);
  for (std::string unknown : {std::string("PGDMP\x01\x63\x00", 8), std::string("not an archive"), std::string()}) {
    CHECK(rewrite<pg::ArchiveInflater>(unknown, 3, std::string("x")) == unknown);
    CHECK(rewrite<pg::ArchiveCompressor>(unknown, 3) == unknown);
  }
}
