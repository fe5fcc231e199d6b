// gzip: multi-member output that gunzip and our reader accept; damage is detected.
#include "src/util/gzip.h"

#include <zlib.h>

#include <catch2/catch.hpp>

#include "src/error.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

std::string compress(const std::string& data, unsigned threads) {
  std::string out;
  GzipWriter w([&](const char* d, std::size_t n) { out.append(d, n); }, 6, threads, "auditpitr backup");
  for (std::size_t i = 0; i < data.size(); i += 100000)
    w.write(data.data() + i, std::min<std::size_t>(100000, data.size() - i));
  w.finish();
  return out;
}

std::string decompress(const std::string& path) {
  GzipReader r(path);
  std::string out;
  char buf[7000];
  while (std::size_t n = r.read(buf, sizeof buf)) out.append(buf, n);
  return out;
}

std::string sample(std::size_t size) {
  std::string s;
  for (std::size_t i = 0; s.size() < size; ++i) s += std::to_string(i * 7919 % 100003) + "\tsome row text\n";
  s.resize(size);
  return s;
}

}  // namespace

TEST_CASE("parallel multi-member gzip round-trips and carries the marker", "[gzip]") {
  test::TempDir dir;
  std::string data = sample(9 << 20);  // three members of 4 MiB
  for (unsigned threads : {1u, 3u}) {
    std::string path = dir / ("x" + std::to_string(threads) + ".gz");
    test::write_text(path, compress(data, threads));
    CHECK(decompress(path) == data);
    CHECK(gzip_header_comment(path) == "auditpitr backup");
  }
}

TEST_CASE("gzip damage and truncation are reported as verification errors", "[gzip]") {
  test::TempDir dir;
  std::string packed = compress(sample(1 << 20), 1);
  std::string flipped = packed;
  flipped[flipped.size() / 2] ^= 0x55;
  test::write_text(dir / "flipped.gz", flipped);
  test::write_text(dir / "cut.gz", packed.substr(0, packed.size() - 100));
  test::write_text(dir / "empty.gz", "");
  test::write_text(dir / "garbage.gz", packed + "garbage after the end");
  // One member cut short, as gzip(1) writes them (the old scripts' backups, rotated logs).
  {
    gzFile gz = gzopen((dir / "single.gz").c_str(), "wb");
    std::string data = sample(1 << 20);
    gzwrite(gz, data.data(), static_cast<unsigned>(data.size()));
    gzclose(gz);
  }
  std::string single = test::read_text(dir / "single.gz");
  test::write_text(dir / "single-cut.gz", single.substr(0, single.size() / 2));
  const std::pair<const char*, const char*> cases[] = {
      {"flipped.gz", ""},
      {"cut.gz", "the file ends in the middle of the data (truncated)"},
      {"empty.gz", "the file is empty"},
      {"garbage.gz", ""},
      {"single-cut.gz", "the file ends in the middle of the data (truncated)"},
  };
  for (const auto& [name, reason] : cases) {
    INFO(name);
    try {
      decompress(dir / name);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::verification);
      CHECK_THAT(e.what(), Catch::Contains(name) && Catch::Contains("damaged"));
      CHECK_THAT(e.what(), !Catch::Contains("backup"));  // the reader does not know what the file is
      CHECK(gzip_problem(e) == e.cause());
      if (*reason) CHECK(gzip_problem(e) == reason);
    }
  }
}
