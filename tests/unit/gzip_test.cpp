// gzip: multi-member output that gunzip and our reader accept; damage is detected.
#include "src/util/gzip.h"

#include <zlib.h>

#include <catch2/catch.hpp>

#include "src/error.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

std::string compress(const std::string& data, unsigned threads, int level = 6) {
  std::string out;
  GzipWriter w([&](const char* d, std::size_t n) { out.append(d, n); }, level, threads, "auditpitr backup");
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

// What zlib wrote: earlier auditpitr versions' dumps (members compressed by zlib's deflate, the
// first with the marker comment) and gzip(1)'s single member (the old scripts' dumps, rotated logs).
TEST_CASE("files zlib wrote are read back whole", "[gzip]") {
  test::TempDir dir;
  std::string data = sample(6 << 20);
  std::string members;
  for (std::size_t at = 0; at < data.size(); at += 4u << 20) {
    std::string part = data.substr(at, 4u << 20);
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    gz_header header{};
    std::string comment = "auditpitr backup";
    header.comment = reinterpret_cast<Bytef*>(comment.data());
    if (at == 0) deflateSetHeader(&zs, &header);
    std::string out(deflateBound(&zs, part.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(part.data());
    zs.avail_in = static_cast<uInt>(part.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    members += out;
  }
  test::write_text(dir / "earlier.gz", members);
  CHECK(decompress(dir / "earlier.gz") == data);
  CHECK(gzip_header_comment(dir / "earlier.gz") == "auditpitr backup");
  gzFile gz = gzopen((dir / "single.gz").c_str(), "wb");
  gzwrite(gz, data.data(), static_cast<unsigned>(data.size()));
  gzclose(gz);
  CHECK(decompress(dir / "single.gz") == data);
}

// Each member zlib would accept: its own inflate (the reader's) over the whole multi-member file,
// member by member, and compression_level changes the size (1 fast, 6 and 9 smaller).
TEST_CASE("members are plain gzip at the configured level", "[gzip]") {
  std::string data = sample(5 << 20);
  std::string small = compress(data, 2, 9), fast = compress(data, 2, 1), usual = compress(data, 2, 6);
  CHECK(small.size() < fast.size());  // 9 is not always smaller than 6 by libdeflate's heuristics
  CHECK(usual.size() < fast.size());
  std::string inflated(data.size(), '\0');
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(usual.data());
  zs.avail_in = static_cast<uInt>(usual.size());
  zs.next_out = reinterpret_cast<Bytef*>(inflated.data());
  zs.avail_out = static_cast<uInt>(inflated.size());
  int members = 0;
  for (int rc = Z_OK; zs.avail_in > 0; ++members) {
    rc = inflate(&zs, Z_FINISH);
    REQUIRE(rc == Z_STREAM_END);
    if (members == 0) CHECK(zs.total_out == 4u << 20);
    inflateReset(&zs);
  }
  inflateEnd(&zs);
  CHECK(members == 2);
  CHECK(inflated == data);
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
