// The tar writer and reader: a folder round-trips (long names, links, empty files), GNU tar reads
// what we write and we read what GNU tar writes (the old scripts' `tar czf`), and names or links
// that would leave the folder are refused.
#include "src/util/tar.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>

#include "src/error.h"
#include "src/ops/file_archive.h"
#include "src/pg/pg_tools.h"
#include "src/pg/process_runner.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

struct Read {
  std::map<std::string, std::string> files;  // name -> content
  std::map<std::string, std::string> links;  // name -> target
  std::vector<std::string> folders;
};

Read read_all(const std::string& bytes) {
  std::size_t at = 0;
  TarReader reader(
      [&](char* b, std::size_t n) {
        std::size_t k = std::min(n, bytes.size() - at);
        std::copy(bytes.data() + at, bytes.data() + at + k, b);
        at += k;
        return k;
      },
      "test.tar");
  Read r;
  TarEntry e;
  char buffer[7];  // small: content arrives in many pieces
  while (reader.next(e)) {
    if (e.type == TarEntry::Type::directory) r.folders.push_back(e.name);
    if (e.type == TarEntry::Type::symlink) r.links[e.name] = e.link;
    if (e.type == TarEntry::Type::file) {
      std::string content;
      for (std::size_t n; (n = reader.read(buffer, sizeof buffer)) > 0;) content.append(buffer, n);
      r.files[e.name] = content;
    }
  }
  return r;
}

std::string read_gzip(const std::string& path) {
  GzipReader gz(path);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = gz.read(buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  return out;
}

pg::ProcessResult run(const std::string& program, const std::vector<std::string>& args, const std::string& cwd) {
  pg::PosixProcessRunner runner;
  pg::Command c;
  c.program = program;
  c.args = args;
  c.working_dir = cwd;
  c.capture_stdout = true;
  return runner.run(c);
}

const std::string kLongName = std::string(120, 'n') + ".jpg";

void make_folder(const test::TempDir& dir) {
  ensure_directory(dir / "uploads/sub/deeper", 0755);
  test::write_text(dir / "uploads/a.jpg", "AAAA");
  test::write_text(dir / "uploads/empty.png", "");
  test::write_text(dir / "uploads/sub/b.png", std::string(70000, 'b'));
  test::write_text(dir / "uploads/sub/deeper/" + kLongName, "long");
  REQUIRE(::symlink("a.jpg", (dir / "uploads/latest.jpg").c_str()) == 0);
}

std::string tar_bytes(const std::string& folder, ops::FolderCounts* counts = nullptr) {
  std::string bytes;
  auto c = ops::write_folder_tar(folder, "uploads", [&](const char* d, std::size_t n) { bytes.append(d, n); });
  if (counts) *counts = c;
  return bytes;
}

}  // namespace

TEST_CASE("a folder round-trips through the tar writer and reader", "[tar]") {
  test::TempDir dir;
  make_folder(dir);
  ops::FolderCounts counts;
  std::string bytes = tar_bytes(dir / "uploads", &counts);
  CHECK(bytes.size() % 512 == 0);
  CHECK(counts.files == 4);
  CHECK(counts.symlinks == 1);
  CHECK(counts.directories == 3);
  Read r = read_all(bytes);
  CHECK(r.files["uploads/a.jpg"] == "AAAA");
  CHECK(r.files["uploads/empty.png"].empty());
  CHECK(r.files["uploads/sub/b.png"] == std::string(70000, 'b'));
  CHECK(r.files["uploads/sub/deeper/" + kLongName] == "long");  // past ustar's 100 bytes: a pax header
  CHECK(r.links["uploads/latest.jpg"] == "a.jpg");
  CHECK(r.folders == std::vector<std::string>{"uploads", "uploads/sub", "uploads/sub/deeper"});
}

TEST_CASE("GNU tar reads our archives, and we read GNU tar's", "[tar]") {
  if (pg::find_program("tar").empty()) {
    WARN("no tar program: skipped");
    return;
  }
  test::TempDir dir;
  make_folder(dir);
  std::string bytes = tar_bytes(dir / "uploads");
  test::write_text(dir / "ours.tar", bytes);
  auto listed = run("tar", {"-tvf", dir / "ours.tar"}, dir.path());
  INFO(listed.stderr_tail);
  REQUIRE(listed.ok());
  CHECK_THAT(listed.stdout_text, Catch::Contains("uploads/sub/deeper/" + kLongName));
  CHECK_THAT(listed.stdout_text, Catch::Contains("uploads/latest.jpg -> a.jpg"));

  // The old scripts' way: tar czf beside the folder (GNU format: 'L' long names).
  auto made = run("tar", {"czf", dir / "uploads_20250120_120000.tar.gz", "uploads"}, dir.path());
  REQUIRE(made.ok());
  Read r = read_all(read_gzip(dir / "uploads_20250120_120000.tar.gz"));
  CHECK(r.files["uploads/sub/deeper/" + kLongName] == "long");
  CHECK(r.files["uploads/sub/b.png"] == std::string(70000, 'b'));
  CHECK(r.links["uploads/latest.jpg"] == "a.jpg");
  auto posix = run("tar", {"--format=posix", "-cf", dir / "posix.tar", "uploads"}, dir.path());
  REQUIRE(posix.ok());
  CHECK(read_all(test::read_text(dir / "posix.tar")).files["uploads/sub/deeper/" + kLongName] == "long");
}

TEST_CASE("names and links that would leave the folder are refused", "[tar]") {
  auto archive_with = [](const std::function<void(TarWriter&)>& add) {
    std::string bytes;
    TarWriter w([&](const char* d, std::size_t n) { bytes.append(d, n); });
    add(w);
    w.finish();
    return bytes;
  };
  auto none = [](char*, std::size_t) { return std::size_t{0}; };
  for (const std::string& name : {std::string("../evil"), std::string("/etc/passwd"), std::string("a/../../b")}) {
    std::string bytes = archive_with([&](TarWriter& w) { w.file(name, 0644, 0, 0, none); });
    INFO(name);
    CHECK_THROWS_WITH(read_all(bytes), Catch::Contains("it is not extracted"));
  }
  for (const std::string& target : {std::string("/etc"), std::string("../../x"), std::string("d/l/..")}) {
    std::string bytes = archive_with([&](TarWriter& w) { w.symlink("top/l", target, 0); });
    INFO(target);
    CHECK_THROWS_WITH(read_all(bytes), Catch::Contains("points outside its folder"));
  }
  CHECK(link_stays_inside({"top", "l"}, "../other"));
  CHECK(link_stays_inside({"top", "l"}, "x/y"));
  CHECK_FALSE(link_stays_inside({"l"}, ".."));
  std::string ok = archive_with([&](TarWriter& w) { w.symlink("top/l", "../top/x", 0); });
  CHECK(read_all(ok).links["top/l"] == "../top/x");
  CHECK(read_all(archive_with([](TarWriter&) {})).files.empty());  // an empty archive holds nothing
}

TEST_CASE("a damaged or cut tar stream is damage, named", "[tar]") {
  test::TempDir dir;
  make_folder(dir);
  std::string bytes = tar_bytes(dir / "uploads");
  std::string flipped = bytes;
  flipped[0] ^= 0x20;  // the first header's name: its checksum no longer matches
  CHECK_THROWS_WITH(read_all(flipped), Catch::Contains("'test.tar' is damaged") && Catch::Contains("checksum"));
  CHECK_THROWS_WITH(read_all(bytes.substr(0, 512 * 5 + 100)), Catch::Contains("truncated"));
}
