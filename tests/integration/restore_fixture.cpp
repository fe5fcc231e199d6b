// RestoreFixture: config text, backups by the built binary, old-script backups by pg_dump + gzip.
#include "tests/integration/restore_fixture.h"

#include <catch2/catch.hpp>

#include "src/pg/connection.h"
#include "src/pg/pg_tools.h"
#include "src/util/fs.h"
#include "verify/database_checksum.h"
#include "verify/manifest.h"

namespace auditpitr::test {

RestoreFixture::RestoreFixture(const std::vector<std::string>& dbnames, const std::string& extra_toml)
    : dbnames_(dbnames) {
  auto& c = cluster();
  std::string toml = "[backup]\ndir = \"backups\"\n";
  for (const auto& name : dbnames) {
    portfolio_database(name);
    toml += "[[databases]]\nalias = \"" + name + "\"\ndbname = \"" + name + "\"\nconninfo = \"host=" + c.folder() +
            " port=" + std::to_string(c.port()) + " user=postgres\"\n";
  }
  write_text(config(), toml + extra_toml);
}

RestoreFixture::~RestoreFixture() {
  // Kept copies and side databases of this fixture's databases go too, so reruns start clean.
  try {
    pg::Connection admin(cluster().connect_info());
    pqxx::nontransaction tx(admin.raw());
    for (const auto& row :
         tx.exec("SELECT datname FROM pg_database WHERE datname NOT IN ('postgres','template0','template1')")) {
      std::string name = row[0].as<std::string>();
      for (const auto& mine : dbnames_)
        if (name.rfind(mine + "_", 0) == 0)
          tx.exec("DROP DATABASE IF EXISTS " + pg::quote_ident(name) + " WITH (FORCE)");
    }
  } catch (const std::exception&) {
  }
}

CliResult RestoreFixture::cli(std::vector<std::string> args) const {
  args.insert(args.begin(), {"-c", config()});
  return run_cli(args);
}

std::string RestoreFixture::backup() const {
  CliResult r = cli({"backup", "--json"});
  REQUIRE(r.exit_code == 0);
  auto at = r.out.find("\"stamp\": \"");
  REQUIRE(at != std::string::npos);
  return r.out.substr(at + 10, 15);
}

void RestoreFixture::old_script_backup(const std::string& dbname, const std::string& stamp) const {
  test::old_script_backup(dbname, backups(), stamp);
}

std::vector<std::string> RestoreFixture::databases_like(const std::string& prefix) const {
  std::vector<std::string> names;
  pg::Connection admin(cluster().connect_info());
  pqxx::nontransaction tx(admin.raw());
  for (const auto& row : tx.exec("SELECT datname FROM pg_database ORDER BY 1")) {
    std::string name = row[0].as<std::string>();
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  return names;
}

std::vector<verify::TableChecksum> manifest_checksums(const std::string& manifest_path) {
  return verify::load_manifest(manifest_path).tables;
}

}  // namespace auditpitr::test
