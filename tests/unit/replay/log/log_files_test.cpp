// Log discovery: logrotate's dateext names read in date order with numbered rotations, and every
// other file that looks like a log named as unread, with the reason and a hint.
#include "replay/log/log_files.h"

#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "replay/log/log_reader.h"
#include "src/error.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr::replay;
using auditpitr::test::TempDir;
using auditpitr::test::write_text;

namespace {

std::string basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::vector<std::string> names(const LogSet& set) {
  std::vector<std::string> out;
  for (const auto& f : set.files) out.push_back(basename(f.path));
  return out;
}

std::string line(int id, int minute) {
  char time[32];
  std::snprintf(time, sizeof time, "2025-01-23T14:%02d:00Z", minute);
  return R"({"level":"info","operation":"CREATE_PORTFOLIO","portfolioID":)" + std::to_string(id) + R"(,"time":")" +
         time + "\"}\n";
}

void write_gzip(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
}

std::vector<std::string> unread_names(const std::vector<UnreadFile>& unread) {
  std::vector<std::string> out;
  for (const auto& u : unread) out.push_back(basename(u.path));
  return out;
}

}  // namespace

TEST_CASE("dateext rotations are read by their date, after numbered ones, before the live file") {
  TempDir dir;
  // Written in a shuffled order; each file holds one line whose minute is its place in time.
  write_text(dir / "create.log", line(8, 8));
  write_text(dir / "create.log-2025-01-23", line(7, 7));     // dateformat -%Y-%m-%d
  write_text(dir / "create.log-2025012214", line(6, 6));     // hourly: -%Y%m%d%H
  write_text(dir / "create.log-20250122", line(5, 5));       // daily, same day: before its hours
  write_gzip(dir / "create.log-20250121.gz", line(4, 4));    // the RHEL default, compressed
  write_text(dir / "create.log-20250120_0600", line(3, 3));  // -%Y%m%d_%H%M
  write_text(dir / "create.log.1", line(2, 2));              // numbered: from before dateext was on
  write_gzip(dir / "create.log.2.gz", line(1, 1));
  LogSet set = discover_log_set(dir.path(), kCreateLog);
  CHECK(names(set) == std::vector<std::string>{"create.log.2.gz", "create.log.1", "create.log-20250120_0600",
                                               "create.log-20250121.gz", "create.log-20250122", "create.log-2025012214",
                                               "create.log-2025-01-23", "create.log"});
  CHECK(set.files[3].gzip);
  CHECK(set.files[3].date == "20250121");
  CHECK_FALSE(set.files[3].live());
  CHECK(set.files.back().live());

  std::vector<IssueReport> issues;
  ReaderOptions options;
  options.on_issue = [&](const IssueReport& r) { issues.push_back(r); };
  LogReader reader(set, options);
  LogRecord record;
  std::vector<std::string> order;
  while (reader.next(record)) order.push_back(std::string(record.json.substr(record.json.find("ID\":") + 4, 1)));
  CHECK(order == std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"});
  CHECK(issues.empty());  // nothing out of order
}

TEST_CASE("a dateext stamp that exists twice is ambiguous; short or lettered suffixes are not dateext") {
  TempDir dir;
  write_text(dir / "create.log", "");
  for (const char* name : {"create.log-2025", "create.log-old", "create.log-20250123x", "create.log-"})
    write_text(dir / name, "");
  CHECK(names(discover_log_set(dir.path(), kCreateLog)) == std::vector<std::string>{"create.log"});
  write_text(dir / "create.log-20250123", "");
  CHECK(discover_log_set(dir.path(), kCreateLog).files.size() == 2);
  write_text(dir / "create.log-20250123.gz", "");
  CHECK_THROWS_AS(discover_log_set(dir.path(), kCreateLog), auditpitr::Error);
}

TEST_CASE("files that look like logs and are not read are named, with why and what to do") {
  TempDir dir;
  for (const char* name :
       {"create.log", "create.log.1", "create.log-20250123.gz", "update.log-2025012314",  // read
        "create.log.old", "create.log.0", "create.log.1.xz", "update.log-20250123.zst", "delete.log.2.bz2",
        "error.log.1.xz",  // unread when error.log is read (analyze), silent for replay
        "audit.log.1.xz",  // audit.log is never read: silent
        "portfolio.log", "notes.txt", ".create.log.swp"})
    write_text(dir / name, "");
  std::filesystem::create_directory(dir / "create.log.d");  // not a file

  const std::vector<std::string_view> replayed = {kCreateLog, kUpdateLog, kDeleteLog};
  auto unread = unread_log_files(dir.path(), replayed);
  CHECK(unread_names(unread) == std::vector<std::string>{"create.log.0", "create.log.1.xz", "create.log.old",
                                                         "delete.log.2.bz2", "portfolio.log",
                                                         "update.log-20250123.zst"});
  std::map<std::string, UnreadFile> by_name;
  for (const auto& u : unread) by_name[basename(u.path)] = u;
  CHECK(by_name["create.log.1.xz"].path == dir / "create.log.1.xz");
  CHECK_THAT(by_name["create.log.1.xz"].reason, Catch::Contains("compressed with xz") && Catch::Contains(".gz"));
  CHECK_THAT(by_name["create.log.1.xz"].hint,
             Catch::Contains("xz -dk '" + dir / "create.log.1.xz" + "'") && Catch::Contains("compresscmd"));
  CHECK_THAT(by_name["update.log-20250123.zst"].reason, Catch::Contains("zstd"));
  CHECK_THAT(by_name["delete.log.2.bz2"].hint, Catch::Contains("bzip2 -dk"));
  CHECK_THAT(by_name["create.log.old"].reason,
             Catch::Contains("part of create.log") && Catch::Contains("create.log-YYYYMMDD"));
  CHECK_THAT(by_name["create.log.old"].hint, Catch::Contains("rename"));
  CHECK_THAT(by_name["portfolio.log"].reason, Catch::Contains("create.log, update.log, delete.log"));

  const std::vector<std::string_view> analyzed = {kCreateLog, kUpdateLog, kDeleteLog, kErrorLog};
  auto with_errors = unread_names(unread_log_files(dir.path(), analyzed));
  CHECK(std::count(with_errors.begin(), with_errors.end(), "error.log.1.xz") == 1);
  CHECK(with_errors.size() == unread.size() + 1);

  // Decompressed where it lies, the rotation is read and no longer reported.
  std::filesystem::remove(dir / "create.log.1.xz");
  write_text(dir / "create.log.2", "");
  CHECK(unread_log_files(dir.path(), replayed).size() == unread.size() - 1);
  CHECK(discover_log_set(dir.path(), kCreateLog).files.size() == 4);
}

TEST_CASE("a folder without anything log-like has nothing unread; a missing folder is a usage error") {
  TempDir dir;
  write_text(dir / "README", "");
  CHECK(unread_log_files(dir.path(), {kCreateLog}).empty());
  try {
    unread_log_files(dir / "missing", {kCreateLog});
    FAIL("no error");
  } catch (const auditpitr::Error& e) {
    CHECK(e.kind() == auditpitr::ErrorKind::usage);
  }
}
