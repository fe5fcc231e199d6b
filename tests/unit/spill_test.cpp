// SpillBuckets: records come back per bucket in the order appended, memory stays within the budget,
// the temporary file is never seen in its folder, and a failed write names it.
#include "src/util/spill.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "src/error.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

/// TMPDIR points at a fresh folder for the scope.
class TmpDir {
 public:
  TmpDir() {
    const char* old = std::getenv("TMPDIR");
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv("TMPDIR", dir_.path().c_str(), 1);
  }
  ~TmpDir() {
    if (had_) ::setenv("TMPDIR", old_.c_str(), 1);
    else ::unsetenv("TMPDIR");
  }
  const std::string& path() const { return dir_.path(); }
  bool empty() const { return std::filesystem::is_empty(dir_.path()); }

 private:
  test::TempDir dir_;
  std::string old_;
  bool had_ = false;
};

std::vector<std::string> records(const SpillBuckets& spill, std::size_t bucket) {
  std::vector<std::string> out;
  spill.read(bucket, [&](std::string_view r) { out.emplace_back(r); });
  return out;
}

std::string record(int bucket, int i) {
  return std::to_string(bucket) + ":" + std::to_string(i) + std::string(std::size_t(i % 97), 'x');
}

}  // namespace

TEST_CASE("spilled records come back per bucket, in order, within the memory budget", "[spill]") {
  TmpDir tmp;
  SpillBuckets spill("test records", {}, 8u << 10);
  std::size_t empty = spill.add_bucket();
  std::vector<std::size_t> buckets{spill.add_bucket(), spill.add_bucket(), spill.add_bucket()};
  std::size_t most = 0;
  for (int i = 0; i < 5000; ++i) {
    std::size_t b = buckets[std::size_t(i * i) % buckets.size()];  // unevenly
    spill.append(b, record(int(b), i));
    most = std::max(most, spill.buffered_bytes());
  }
  spill.append(buckets[0], "");  // an empty record is a record
  CHECK(most <= (8u << 10) + 200);
  CHECK(spill.spilled_bytes() > 100000);
  CHECK(spill.path().rfind(tmp.path() + "/auditpitr-spill-", 0) == 0);
  CHECK(tmp.empty());  // unlinked at once: nothing to clean up, whatever happens
  CHECK(records(spill, empty).empty());
  std::size_t total = 0;
  for (std::size_t b : buckets) {
    std::vector<std::string> expected;
    for (int i = 0; i < 5000; ++i)
      if (buckets[std::size_t(i * i) % buckets.size()] == b) expected.push_back(record(int(b), i));
    if (b == buckets[0]) expected.emplace_back();
    CHECK(records(spill, b) == expected);
    total += expected.size();
  }
  CHECK(total == 5001);
}

TEST_CASE("records within the budget never touch the disk", "[spill]") {
  TmpDir tmp;
  SpillBuckets spill("test records");
  std::size_t b = spill.add_bucket();
  for (int i = 0; i < 100; ++i) spill.append(b, record(0, i));
  CHECK(spill.spilled_bytes() == 0);
  CHECK(spill.path().empty());
  CHECK(records(spill, b).size() == 100);
}

TEST_CASE("a temporary file that cannot be written or created is named, with what to do", "[spill]") {
  TmpDir tmp;
  {
    // A full disk, as far as this process can tell: files may not grow beyond 64 KB.
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 64u << 10;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message, hint;
    try {
      SpillBuckets spill("test records", "ask for less", 4u << 10);
      std::size_t b = spill.add_bucket();
      for (int i = 0; i < 100000; ++i) spill.append(b, record(0, i));
    } catch (const Error& e) {
      message = e.what();
      hint = e.hint();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, old_handler);
    CHECK_THAT(message, Catch::StartsWith("unable to write the temporary file '" + tmp.path() + "/auditpitr-spill-") &&
                            Catch::Contains("that holds test records") && Catch::Contains("written)"));
    CHECK_THAT(hint, Catch::Contains("TMPDIR") && Catch::EndsWith("or ask for less"));
  }
  CHECK(tmp.empty());
  ::setenv("TMPDIR", (tmp.path() + "/missing").c_str(), 1);
  SpillBuckets spill("test records", {}, 16);
  std::size_t b = spill.add_bucket();
  try {
    for (int i = 0; i < 10; ++i) spill.append(b, record(0, i));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("unable to create a temporary file in '" + tmp.path() + "/missing' for test records"));
  }
}
