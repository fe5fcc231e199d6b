// LogReader and log discovery: every kind of bad line, strict mode, huge lines, rotation and
// gzip order, damaged gzip, bounded memory.
#include "replay/log/log_reader.h"

#include <simdjson.h>
#include <sys/resource.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "replay/log/log_files.h"
#include "replay/log/time_parse.h"
#include "src/error.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr::replay;
using auditpitr::test::TempDir;
using auditpitr::test::write_text;

namespace {

std::string fixture(const std::string& name) { return std::string(AUDITPITR_SOURCE_DIR) + "/fixtures/logs/" + name; }

std::string line(int id, const std::string& time, const std::string& extra = "") {
  return R"({"level":"info","msg":"Portfolio created","operation":"CREATE_PORTFOLIO","portfolioID":)" +
         std::to_string(id) + R"(,"time":")" + time + R"(","title":"t)" + extra + R"(","userID":"u-1"})";
}

struct Collected {
  std::vector<std::string> ids;  // "file-basename:line"
  std::vector<IssueReport> issues;
  std::vector<FileStats> stats;
};

std::string basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

Collected read_all(LogSet set, ReaderOptions options = {}) {
  Collected c;
  options.on_issue = [&](const IssueReport& r) { c.issues.push_back(r); };
  LogReader reader(std::move(set), options);
  LogRecord record;
  while (reader.next(record)) c.ids.push_back(basename(*record.file) + ":" + std::to_string(record.line_number));
  c.stats = reader.stats();
  return c;
}

LogSet single(const std::string& path) { return LogSet{"create.log", {LogFile{path, 0, false, {}}}}; }

std::map<uint64_t, LineIssue> issues_by_line(const Collected& c) {
  std::map<uint64_t, LineIssue> m;
  for (const auto& r : c.issues) m[r.line_number] = r.issue;
  return m;
}

}  // namespace

TEST_CASE("each kind of bad line is counted, reported with file:line and skipped") {
  Collected c = read_all(discover_log_set(fixture("bad"), kCreateLog));
  // Line 7 (no operation) is a well-formed record: EventStream decides it is not an event.
  CHECK(c.ids == std::vector<std::string>{"create.log:1", "create.log:7", "create.log:9", "create.log:10"});
  auto m = issues_by_line(c);
  CHECK(m == std::map<uint64_t, LineIssue>{{2, LineIssue::malformed_json},
                                           {3, LineIssue::not_object},
                                           {4, LineIssue::missing_time},
                                           {5, LineIssue::bad_time},
                                           {6, LineIssue::invalid_utf8},
                                           {10, LineIssue::out_of_order}});
  const FileStats& s = c.stats.at(0);
  CHECK(s.lines == 10);  // line 11, without its newline in the live file, is still being written
  CHECK(s.unfinished_line_bytes == 134);
  CHECK(s.records == 4);
  CHECK(s.blank_lines == 1);
  CHECK(s.count(LineIssue::malformed_json) == 1);
  CHECK(s.bad_lines() == 5);
  CHECK(s.earliest == parse_rfc3339("2025-01-23T13:00:00Z"));
  CHECK(s.latest == parse_rfc3339("2025-01-23T14:00:04Z"));
  REQUIRE(!c.issues.empty());
  CHECK(describe(c.issues[0]) ==
        "audit log '" + fixture("bad") + "/create.log' line 2: malformed JSON (cut short or broken)");
}

TEST_CASE("strict mode stops at the first bad line with a verification error naming file:line") {
  ReaderOptions options;
  options.strict = true;
  try {
    read_all(discover_log_set(fixture("bad"), kCreateLog), options);
    FAIL("no error");
  } catch (const auditpitr::Error& e) {
    CHECK(e.kind() == auditpitr::ErrorKind::verification);
    CHECK(std::string(e.what()).find("create.log' line 2: malformed JSON") != std::string::npos);
    CHECK(!e.hint().empty());
  }
}

TEST_CASE("structural breakage anywhere in the line is malformed") {
  TempDir dir;
  std::string good = line(1, "2025-01-23T14:00:00Z");
  write_text(dir / "create.log",
             good + "\n" +                                                                    // 1 ok
                 good + "}\n" +                                                               // 2 trailing brace
                 good + " x\n" +                                                              // 3 trailing word
                 R"({"time":"2025-01-23T14:00:00Z","items":[{"id":1,"position":2})" + "\n" +  // 4 cut nested
                 R"({"time":"2025-01-23T14:00:00Z","title":"unterminated})" + "\n" +          // 5 open string
                 R"({"time":"2025-01-23T14:00:00Z",})" + "\n" +                               // 6 dangling comma
                 "garbage\n" +                                                                // 7
                 R"({"time":20250123})" + "\n" +                                              // 8 time not string
                 good + "\r\n");                                                              // 9 CRLF ok
  Collected c = read_all(single(dir / "create.log"));
  CHECK(c.ids == std::vector<std::string>{"create.log:1", "create.log:9"});
  auto m = issues_by_line(c);
  for (uint64_t n : {2, 3, 4, 5, 6, 7}) {
    INFO("line " << n);
    CHECK(m[n] == LineIssue::malformed_json);
  }
  CHECK(m[8] == LineIssue::bad_time);
}

TEST_CASE("a huge line is skipped unread and reported as too long") {
  TempDir dir;
  std::string huge = line(2, "2025-01-23T14:00:01Z", std::string(5u << 20, 'x'));
  write_text(dir / "create.log", line(1, "2025-01-23T14:00:00Z") + "\n" + huge + "\n" +
                                     line(3, "2025-01-23T14:00:02Z") + "\n" +
                                     huge);  // the last one also lacks its newline
  ReaderOptions options;
  options.buffer_bytes = 64 << 10;
  options.max_line_bytes = 1 << 20;
  Collected c = read_all(single(dir / "create.log"), options);
  CHECK(c.ids == std::vector<std::string>{"create.log:1", "create.log:3"});
  REQUIRE(c.issues.size() == 2);
  CHECK(c.issues[0].issue == LineIssue::too_long);
  CHECK(c.issues[0].line_number == 2);
  CHECK(c.issues[0].detail == "line of " + std::to_string(huge.size()) + " bytes exceeds the limit of 1048576");
  CHECK(c.issues[1].line_number == 4);
  CHECK(c.issues[1].issue == LineIssue::too_long);
  CHECK(c.stats[0].lines == 4);
  CHECK(c.stats[0].bytes == 3 * 1 + 2 * huge.size() + 2 * line(1, "2025-01-23T14:00:00Z").size() + 0);
}

TEST_CASE("a line just under the limit is read, just over is too long") {
  TempDir dir;
  ReaderOptions options;
  options.buffer_bytes = 256;
  options.max_line_bytes = 300;
  std::string base = line(1, "2025-01-23T14:00:00Z", "");
  std::string fits = line(1, "2025-01-23T14:00:00Z", std::string(300 - base.size(), 'a'));
  std::string over = line(2, "2025-01-23T14:00:00Z", std::string(301 - base.size(), 'a'));
  REQUIRE(fits.size() == 300);
  write_text(dir / "create.log", fits + "\n" + over + "\n" + fits + "\n");
  Collected c = read_all(single(dir / "create.log"), options);
  CHECK(c.ids == std::vector<std::string>{"create.log:1", "create.log:3"});
  REQUIRE(c.issues.size() == 1);
  CHECK(c.issues[0].issue == LineIssue::too_long);
}

TEST_CASE("rotated and gzip files are discovered and read oldest first") {
  LogSet set = discover_log_set(fixture("rotated"), kCreateLog);
  REQUIRE(set.files.size() == 4);
  CHECK(basename(set.files[0].path) == "create.log.3.gz");
  CHECK(set.files[0].gzip);
  CHECK(set.files[0].rotation == 3);
  CHECK(basename(set.files[1].path) == "create.log.2.gz");
  CHECK(basename(set.files[2].path) == "create.log.1");
  CHECK(basename(set.files[3].path) == "create.log");
  Collected c = read_all(set);
  CHECK(c.ids == std::vector<std::string>{"create.log.3.gz:1", "create.log.2.gz:1", "create.log.1:1", "create.log:1"});
  CHECK(c.issues.empty());
}

TEST_CASE("discovery ignores foreign names, rotation 10 is older than 9, ambiguity is an error") {
  TempDir dir;
  for (const char* name : {"create.log", "create.log.9", "create.log.10", "create.log.bak", "create.log.1.xz",
                           "create.logx", "create.log.0", "update.log"})
    write_text(dir / name, "");
  LogSet set = discover_log_set(dir.path(), kCreateLog);
  REQUIRE(set.files.size() == 3);
  CHECK(basename(set.files[0].path) == "create.log.10");
  CHECK(basename(set.files[1].path) == "create.log.9");
  CHECK(basename(set.files[2].path) == "create.log");
  CHECK(discover_log_set(dir.path(), kDeleteLog).empty());
  write_text(dir / "create.log.9.gz", "");
  CHECK_THROWS_AS(discover_log_set(dir.path(), kCreateLog), auditpitr::Error);
  try {
    discover_log_set(dir / "missing", kCreateLog);
    FAIL("no error");
  } catch (const auditpitr::Error& e) {
    CHECK(e.kind() == auditpitr::ErrorKind::usage);
  }
}

TEST_CASE("the live file's last line without its newline is being written: not read, not an issue, not fatal") {
  TempDir dir;
  std::string cut = line(3, "2025-01-23T14:00:02Z").substr(0, 40);
  write_text(dir / "create.log", line(1, "2025-01-23T14:00:00Z") + "\n" + line(2, "2025-01-23T14:00:01Z") + "\n" + cut);
  ReaderOptions strict;
  strict.strict = true;
  Collected c = read_all(discover_log_set(dir.path(), kCreateLog), strict);
  CHECK(c.ids == std::vector<std::string>{"create.log:1", "create.log:2"});
  CHECK(c.issues.empty());
  CHECK(c.stats[0].lines == 2);
  CHECK(c.stats[0].unfinished_line_bytes == cut.size());
  CHECK(total(c.stats, "all").unfinished_line_bytes == cut.size());

  // Once the application has written the newline, the line is read.
  write_text(dir / "create.log", line(1, "2025-01-23T14:00:00Z") + "\n" + line(2, "2025-01-23T14:00:01Z") + "\n" +
                                     line(3, "2025-01-23T14:00:02Z") + "\n");
  Collected done = read_all(discover_log_set(dir.path(), kCreateLog), strict);
  CHECK(done.ids.size() == 3);
  CHECK(done.stats[0].unfinished_line_bytes == 0);
}

TEST_CASE("an unterminated last line of a rotated file is read as a line: malformed when cut, fatal under strict") {
  TempDir dir;
  std::string cut = line(2, "2025-01-23T14:00:01Z").substr(0, 40);
  // A whole line without newline in a rotation is an ordinary line; a cut one is malformed.
  write_text(dir / "create.log.2", line(1, "2025-01-23T14:00:00Z"));
  write_text(dir / "create.log.1", cut);
  write_text(dir / "create.log", line(3, "2025-01-23T14:00:02Z") + "\n");
  Collected c = read_all(discover_log_set(dir.path(), kCreateLog));
  CHECK(c.ids == std::vector<std::string>{"create.log.2:1", "create.log:1"});
  REQUIRE(c.issues.size() == 1);
  CHECK(c.issues[0].issue == LineIssue::malformed_json);
  CHECK(basename(c.issues[0].file) == "create.log.1");
  CHECK(c.stats[1].unfinished_line_bytes == 0);
  ReaderOptions strict;
  strict.strict = true;
  CHECK_THROWS_AS(read_all(discover_log_set(dir.path(), kCreateLog), strict), auditpitr::Error);

  // Without a live file the newest rotation is not being written either: its cut line is bad.
  std::filesystem::remove(dir / "create.log");
  write_text(dir / "create.log-20250124", cut);
  Collected rotated_only = read_all(discover_log_set(dir.path(), kCreateLog));
  CHECK(rotated_only.issues.size() == 2);
  CHECK(basename(rotated_only.issues.back().file) == "create.log-20250124");
}

TEST_CASE("a damaged gzip file is reported, its good lines kept, and reading goes on") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += line(i, "2025-01-23T14:00:00Z") + "\n";
  {
    gzFile gz = gzopen((dir / "create.log.1.gz").c_str(), "wb");
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
  }
  std::string packed = auditpitr::test::read_text(dir / "create.log.1.gz");
  write_text(dir / "create.log.1.gz", packed.substr(0, packed.size() / 2));
  write_text(dir / "create.log", line(9999, "2025-01-23T14:00:01Z") + "\n");
  Collected c = read_all(discover_log_set(dir.path(), kCreateLog));
  REQUIRE(!c.issues.empty());
  CHECK(c.issues.back().issue == LineIssue::damaged_file);
  CHECK(c.stats[0].count(LineIssue::damaged_file) == 1);
  CHECK(c.stats[0].records > 100);
  CHECK(c.stats[0].records < 2000);
  CHECK(c.ids.back() == "create.log:1");
  ReaderOptions strict;
  strict.strict = true;
  CHECK_THROWS_AS(read_all(discover_log_set(dir.path(), kCreateLog), strict), auditpitr::Error);
}

TEST_CASE("out-of-order lines beyond the window are reported, within it they are not") {
  TempDir dir;
  write_text(dir / "create.log", line(1, "2025-01-23T14:00:10Z") + "\n" + line(2, "2025-01-23T14:00:07Z") + "\n" +
                                     line(3, "2025-01-23T14:00:04Z") + "\n");
  ReaderOptions options;
  options.order_window = std::chrono::seconds{3};
  Collected c = read_all(single(dir / "create.log"), options);
  CHECK(c.ids.size() == 3);  // reported, never dropped
  REQUIRE(c.issues.size() == 1);
  CHECK(c.issues[0].issue == LineIssue::out_of_order);
  CHECK(c.issues[0].line_number == 3);
  CHECK(c.issues[0].detail == "2025-01-23T14:00:04Z after 2025-01-23T14:00:10Z");
  options.strict = true;  // out of order is not fatal: nothing is lost
  CHECK_NOTHROW(read_all(single(dir / "create.log"), options));
}

TEST_CASE("memory stays bounded while reading a log many times the buffer size") {
  TempDir dir;
  const int kLines = 200000;  // ~30 MB
  {
    std::ofstream out(dir / "create.log", std::ios::binary);
    for (int i = 0; i < kLines; ++i) out << line(i, "2025-01-23T14:00:00Z", std::string(i % 50, 'y')) << '\n';
  }
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  ReaderOptions options;
  options.buffer_bytes = 4096;
  options.max_line_bytes = 1024;
  LogReader reader(single(dir / "create.log"), options);
  LogRecord record;
  uint64_t count = 0, last_line = 0;
  while (reader.next(record)) {
    ++count;
    last_line = record.line_number;
  }
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  CHECK(count == kLines);
  CHECK(last_line == kLines);
  CHECK(reader.stats()[0].bad_lines() == 0);
  CHECK(reader.stats()[0].bytes > 25u << 20);
  // Peak RSS (KiB) may not grow by more than a few MB: the 30 MB file is never held.
  CHECK(after.ru_maxrss - before.ru_maxrss < 8 * 1024);
}

TEST_CASE("good and bad lines mixed across many buffers keep exact counts and line numbers") {
  // Bad lines of every parser kind among good ones, with buffers small enough that the UTF-8
  // check of some buffers fails (each of their lines is then checked alone) and others pass.
  TempDir dir;
  const std::vector<std::pair<std::string, LineIssue>> bad = {
      {R"({"level":"info","time":"2025-01-23T14:00:00Z")", LineIssue::malformed_json},
      {R"(["not","an","object"])", LineIssue::not_object},
      {R"({"level":"info","operation":"CREATE_PORTFOLIO"})", LineIssue::missing_time},
      {R"({"time":"yesterday"})", LineIssue::bad_time},
      {"{\"time\":\"2025-01-23T14:00:00Z\",\"title\":\"\xc3\x28\"}", LineIssue::invalid_utf8},
      {R"({"time":"2025-01-23T14:00:00Z","title":"a"} x)", LineIssue::malformed_json},
  };
  std::string text;
  std::map<uint64_t, LineIssue> expected_issues;
  std::vector<std::string> expected_ids;
  for (uint64_t n = 1; n <= 3000; ++n) {
    if (n % 37 == 0) {
      const auto& [content, issue] = bad[(n / 37) % bad.size()];
      text += content + "\n";
      expected_issues[n] = issue;
    } else if (n % 101 == 0) {
      text += "  \n";  // blank
    } else {
      // Some good lines carry escapes or a long value, so they leave the fast path's common case.
      std::string extra = n % 53 == 0 ? R"(\"quoted\")" : (n % 89 == 0 ? std::string(1500, 'w') : "");
      text += line(static_cast<int>(n), "2025-01-23T14:00:00Z", extra) + (n % 2 ? "\n" : "\r\n");
      expected_ids.push_back("create.log:" + std::to_string(n));
    }
  }
  write_text(dir / "create.log", text);
  for (std::size_t buffer : {std::size_t{512}, std::size_t{4096}, std::size_t{1} << 20}) {
    INFO("buffer " << buffer);
    ReaderOptions options;
    options.buffer_bytes = buffer;
    options.max_line_bytes = 2048;
    Collected c = read_all(single(dir / "create.log"), options);
    CHECK(c.ids == expected_ids);
    CHECK(issues_by_line(c) == expected_issues);
    CHECK(c.stats[0].lines == 3000);
    CHECK(c.stats[0].records == expected_ids.size());
    CHECK(c.stats[0].bad_lines() == expected_issues.size());
  }
}

namespace {
// Every line of `path` through a LineSplitter, as text; touches the SIMDJSON_PADDING bytes after
// each line (a read past a mapping would crash here).
std::vector<std::string> split_all(const std::string& path, std::size_t buffer, std::size_t max_line,
                                   std::vector<uint64_t>* numbers = nullptr) {
  LineSplitter splitter({LogFile{path, 0, false, {}}}, buffer, max_line);
  std::vector<std::string> lines;
  RawLine raw;
  unsigned sink = 0;
  while (splitter.next(raw)) {
    if (numbers) numbers->push_back(raw.line_number);
    if (raw.kind == RawLine::Kind::too_long) {
      lines.push_back("<too long " + std::to_string(raw.length) + ">");
      continue;
    }
    for (std::size_t i = 0; i < simdjson::SIMDJSON_PADDING; ++i)
      sink += static_cast<unsigned char>(raw.text.data()[raw.text.size() + i]);
    lines.emplace_back(raw.text);
  }
  CHECK(sink < ~0u);
  return lines;
}
}  // namespace

TEST_CASE("lines straddling buffer boundaries come back whole, numbered, too-long ones skipped") {
  TempDir dir;
  std::string path = dir.path() + "/create.log";
  std::vector<std::string> expected;
  std::string content;
  // ~9 MB of lines of varied lengths (many buffer refills), with a few too-long ones among them.
  for (int i = 0; content.size() < (9u << 20); ++i) {
    std::size_t length = (i % 97 == 0) ? 70000 : static_cast<std::size_t>((i * 7919) % 3000);
    std::string text(length, static_cast<char>('a' + i % 26));
    content += text + "\n";
    expected.push_back(length > 65536 ? "<too long " + std::to_string(length) + ">" : text);
  }
  write_text(path, content);
  std::vector<uint64_t> numbers;
  auto lines = split_all(path, 4096, 65536, &numbers);
  REQUIRE(lines.size() == expected.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    REQUIRE(lines[i] == expected[i]);
    REQUIRE(numbers[i] == i + 1);
  }
}

TEST_CASE("the last line of a page-sized file is followed by readable padding") {
  TempDir dir;
  std::string path = dir.path() + "/update.log";
  for (bool final_newline : {true, false}) {
    std::string content(8191, 'x');
    content[100] = '\n';
    content += final_newline ? "\n" : "y";  // 8192 bytes: the mapping ends exactly at the file's end
    write_text(path, content);
    auto lines = split_all(path, 256, 65536);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == std::string(100, 'x'));
    CHECK(lines[1].size() == (final_newline ? 8090u : 8091u));
  }
}
