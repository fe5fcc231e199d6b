// Retention: by mtime as the old script, grandfather-father-son, never the newest of a database;
// only what is provably auditpitr's is a leftover, and everything else is left alone and named.
#include "src/catalog/retention.h"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "src/catalog/stamp.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

// An old-script style backup whose mtime is its stamp's time.
void backup_at(const test::TempDir& dir, const std::string& stamp, const std::string& dbname = "app",
               const std::string& comment = "") {
  std::string path = dir / (dbname + "_" + stamp + ".dump.gz");
  std::string out;
  GzipWriter w([&](const char* d, std::size_t n) { out.append(d, n); }, 1, 1, comment);
  w.finish();
  test::write_text(path, out);
  std::time_t t = *stamp_to_time(stamp);
  struct utimbuf times {
    t, t
  };
  ::utime(path.c_str(), &times);
}

PruneFacts configured(std::vector<std::string> databases) {
  PruneFacts facts;
  facts.databases = std::move(databases);
  return facts;
}

std::vector<std::string> paths(const std::vector<FileVerdict>& verdicts) {
  std::vector<std::string> out;
  for (const auto& v : verdicts) out.push_back(base_name(v.path));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> expired(const PrunePlan& plan) {
  std::vector<std::string> stamps;
  for (auto* s : plan.expired) stamps.push_back(s->stamp);
  return stamps;
}

}  // namespace

TEST_CASE("age retention deletes what is older than retention_days, never the newest", "[retention]") {
  test::TempDir dir;
  backup_at(dir, "20250101_020000");
  backup_at(dir, "20250120_020000");
  backup_at(dir, "20250130_020000");
  RetentionPolicy policy;
  policy.retention_days = 15;
  std::time_t now = *stamp_to_time("20250131_000000");
  Catalog catalog = Catalog::scan(dir.path());
  PrunePlan plan = plan_prune(catalog, policy, now, configured({"app"}));
  CHECK(expired(plan) == std::vector<std::string>{"20250101_020000"});

  // Everything old: the newest still stays.
  now = *stamp_to_time("20250601_000000");
  plan = plan_prune(catalog, policy, now, configured({"app"}));
  CHECK(expired(plan) == std::vector<std::string>{"20250120_020000", "20250101_020000"});
  CHECK_THAT(plan.kept.at("20250130_020000"), Catch::Contains("latest") && Catch::Contains("newest of 'app'"));

  policy.retention_days = 0;  // keeps forever
  CHECK(plan_prune(catalog, policy, now, configured({"app"})).expired.empty());
}

TEST_CASE("grandfather-father-son keeps the newest of each day, week and month", "[retention]") {
  test::TempDir dir;
  for (const char* s : {"20250301_020000", "20250301_140000", "20250302_020000", "20250310_020000", "20250215_020000",
                        "20250110_020000", "20241210_020000"})
    backup_at(dir, s);
  RetentionPolicy policy;
  policy.retention_days = 1;
  policy.keep_daily = 2;
  policy.keep_weekly = 2;
  policy.keep_monthly = 3;
  Catalog catalog = Catalog::scan(dir.path());
  PrunePlan plan = plan_prune(catalog, policy, *stamp_to_time("20250320_000000"), configured({"app"}));
  // daily: 0310, 0302; weekly: 0310 (W10... ), 0302 (W09); monthly: 0310 (Mar), 0215 (Feb), 0110 (Jan)
  CHECK(plan.kept.count("20250310_020000"));
  CHECK(plan.kept.count("20250302_020000"));
  CHECK(plan.kept.count("20250215_020000"));
  CHECK(plan.kept.count("20250110_020000"));
  auto gone = expired(plan);
  CHECK(std::find(gone.begin(), gone.end(), "20250301_140000") != gone.end());
  CHECK(std::find(gone.begin(), gone.end(), "20250301_020000") != gone.end());
  CHECK(std::find(gone.begin(), gone.end(), "20241210_020000") != gone.end());
}

TEST_CASE("every database keeps its newest backup, not only the newest stamp", "[retention]") {
  test::TempDir dir;
  backup_at(dir, "20250101_020000", "authentik");     // authentik's only backup
  backup_at(dir, "20250110_020000", "portfolio_db");  // a newer portfolio-only backup
  backup_at(dir, "20250105_020000", "portfolio_db");
  RetentionPolicy policy;
  policy.retention_days = 1;
  Catalog catalog = Catalog::scan(dir.path());
  PrunePlan plan =
      plan_prune(catalog, policy, *stamp_to_time("20250601_000000"), configured({"portfolio_db", "authentik"}));
  CHECK(expired(plan) == std::vector<std::string>{"20250105_020000"});
  CHECK_THAT(plan.kept.at("20250101_020000"), Catch::Contains("newest of 'authentik'"));
  CHECK_THAT(plan.kept.at("20250110_020000"), Catch::Contains("newest of 'portfolio_db'"));
}

TEST_CASE("prune touches only what it can prove it wrote, and names what it leaves alone", "[retention]") {
  test::TempDir dir;
  backup_at(dir, "20250101_020000");
  backup_at(dir, "20250102_020000");
  backup_at(dir, "20200101_000000", "otherapp");  // a database not in the configuration
  test::write_text(dir / "my_notes.txt.tmp-4000000", "the user's");
  test::write_text(dir / "x.tmp-99999999999999999999", "was: unexpected error: stol");
  REQUIRE(::mkdir((dir / "d.tmp-4000001").c_str(), 0700) == 0);
  REQUIRE(::mkdir((dir / "app_20250103_020000.dump.gz.tmp-4000002").c_str(), 0700) == 0);
  test::write_text(dir / "otherapp_20250103_020000.dump.gz.tmp-4000003", "not configured");
  test::write_text(dir / "app_20250103_020000.dump.gz.tmp-4000004", "a killed backup's");
  test::write_text(dir / "app_20250103_020000.manifest.json.tmp-4000005", "a killed backup's");
  test::write_text(dir / "app_20250102_020000.dump.tmp-aB3xY9", "a killed restore's inflated copy");
  test::write_text(dir / "app_20250104_020000.manifest.json", "{} whose dump is gone");
  RetentionPolicy policy;
  policy.retention_days = 1;
  Catalog catalog = Catalog::scan(dir.path());
  PrunePlan plan = plan_prune(catalog, policy, *stamp_to_time("20250601_000000"), configured({"app"}));

  CHECK(expired(plan) == std::vector<std::string>{"20250101_020000"});
  CHECK(paths(plan.leftovers) == std::vector<std::string>{"app_20250102_020000.dump.tmp-aB3xY9",
                                                          "app_20250103_020000.dump.gz.tmp-4000004",
                                                          "app_20250103_020000.manifest.json.tmp-4000005"});
  CHECK(paths(plan.ignored) ==
        std::vector<std::string>{"app_20250103_020000.dump.gz.tmp-4000002", "app_20250104_020000.manifest.json",
                                 "d.tmp-4000001", "my_notes.txt.tmp-4000000", "otherapp_20200101_000000.dump.gz",
                                 "otherapp_20250103_020000.dump.gz.tmp-4000003", "x.tmp-99999999999999999999"});
  for (const auto& v : plan.ignored) CHECK_FALSE(v.reason.empty());
  for (const auto& v : plan.leftovers) CHECK_THAT(v.reason, Catch::Contains("stopped before finishing"));
  for (const BackupSet* s : plan.expired)
    CHECK(files_to_delete(*s, PruneFacts{{"app"}, {}, {}}) ==
          std::vector<std::string>{dir / "app_20250101_020000.dump.gz"});
}

TEST_CASE("a temporary file a running process holds is not a leftover", "[retention]") {
  test::TempDir dir;
  backup_at(dir, "20250101_020000");
  AtomicFile writing(dir / "app_20250101_020000.dump", 0600);  // as restore inflates a dump
  writing.write("PGDMP");
  Catalog catalog = Catalog::scan(dir.path());
  PrunePlan plan = plan_prune(catalog, RetentionPolicy{}, *stamp_to_time("20250102_000000"), configured({"app"}));
  CHECK(plan.leftovers.empty());
  REQUIRE(plan.ignored.size() == 1);
  CHECK_THAT(plan.ignored[0].reason, Catch::Contains("running"));
}

TEST_CASE("a dump of auditpitr's without manifest is a leftover only when proven cut short", "[retention]") {
  test::TempDir dir;
  backup_at(dir, "20250101_020000", "app", kDumpMarker);  // its manifest was lost: a backup
  backup_at(dir, "20250102_020000", "app", kDumpMarker);  // cut short (as read by prune)
  backup_at(dir, "20250103_020000", "app", kDumpMarker);
  test::write_text(dir / "app_20250103_020000.manifest.json", "{}");
  PruneFacts facts = configured({"app"});
  facts.cut_short[dir / "app_20250102_020000.dump.gz"] = "its gzip stream is cut short";
  RetentionPolicy policy;
  policy.retention_days = 0;  // keeps every backup forever
  Catalog catalog = Catalog::scan(dir.path());
  PrunePlan plan = plan_prune(catalog, policy, *stamp_to_time("20250601_000000"), facts);
  CHECK(expired(plan).empty());
  CHECK(paths(plan.leftovers) == std::vector<std::string>{"app_20250102_020000.dump.gz"});
  CHECK_THAT(plan.leftovers[0].reason, Catch::Contains("cut short"));
  CHECK(plan.kept.count("20250101_020000"));
}
