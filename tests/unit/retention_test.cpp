// Retention: by mtime as the old script, grandfather-father-son, never the newest.
#include "src/catalog/retention.h"

#include <sys/stat.h>
#include <utime.h>

#include <catch2/catch.hpp>

#include "src/catalog/stamp.h"
#include "src/util/gzip.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

// An old-script style backup whose mtime is its stamp's time.
void backup_at(const test::TempDir& dir, const std::string& stamp) {
  std::string path = dir / ("app_" + stamp + ".dump.gz");
  std::string out;
  GzipWriter w([&](const char* d, std::size_t n) { out.append(d, n); }, 1, 1, "");
  w.finish();
  test::write_text(path, out);
  std::time_t t = *stamp_to_time(stamp);
  struct utimbuf times {
    t, t
  };
  ::utime(path.c_str(), &times);
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
  PrunePlan plan = plan_prune(catalog, policy, now);
  CHECK(expired(plan) == std::vector<std::string>{"20250101_020000"});

  // Everything old: the newest still stays.
  now = *stamp_to_time("20250601_000000");
  plan = plan_prune(catalog, policy, now);
  CHECK(expired(plan) == std::vector<std::string>{"20250120_020000", "20250101_020000"});
  CHECK(plan.kept.at("20250130_020000") == "newest");

  policy.retention_days = 0;  // keeps forever
  CHECK(plan_prune(catalog, policy, now).expired.empty());
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
  PrunePlan plan = plan_prune(catalog, policy, *stamp_to_time("20250320_000000"));
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
