// RFC 3339 from the logs, the three command-line forms, and formatting back.
#include "replay/log/time_parse.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <ctime>

#include "src/error.h"

using namespace auditpitr::replay;
using std::chrono::microseconds;
using std::chrono::seconds;

namespace {

// 2025-01-23T14:00:00Z
constexpr int64_t kBase = 1737640800;

TimePoint at(int64_t unix_seconds, int64_t micros = 0) {
  return TimePoint{seconds{unix_seconds}} + microseconds{micros};
}

/// Sets TZ for the scope of a test and restores it.
struct ScopedTz {
  explicit ScopedTz(const char* tz) {
    const char* old = getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (had_) setenv("TZ", old_.c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  bool had_;
  std::string old_;
};

}  // namespace

TEST_CASE("rfc 3339 with Z, offsets and fractions normalises to UTC") {
  CHECK(parse_rfc3339("2025-01-23T14:00:00Z") == at(kBase));
  CHECK(parse_rfc3339("2025-01-23T11:00:00-03:00") == at(kBase));
  CHECK(parse_rfc3339("2025-01-23T19:30:00+05:30") == at(kBase));
  CHECK(parse_rfc3339("2025-01-23T14:00:00.5Z") == at(kBase, 500000));
  CHECK(parse_rfc3339("2025-01-23T14:00:00.123456789Z") == at(kBase, 123456));
  CHECK(parse_rfc3339("2025-01-23t14:00:00z") == at(kBase));
  CHECK(parse_rfc3339("2025-01-23 14:00:00Z") == at(kBase));
  CHECK(parse_rfc3339("2025-01-24T00:30:00+10:30") == at(kBase));
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == at(0));
}

TEST_CASE("malformed rfc 3339 is rejected") {
  for (const char* bad :
       {"", "2025-01-23", "2025-01-23T14:00:00", "2025-02-30T14:00:00Z", "2025-13-01T14:00:00Z", "2025-01-23T24:00:00Z",
        "2025-01-23T14:60:00Z", "2025-01-23T14:00:00.Z", "2025-01-23T14:00:00+0300", "2025-01-23T14:00:00+03:00x",
        "2025-01-23X14:00:00Z", "2025-0a-23T14:00:00Z", "yesterday", "2025-01-23T14:00:00ZZ", "2023-02-29T00:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}

TEST_CASE("format gives RFC 3339 UTC and round-trips") {
  CHECK(format_rfc3339(at(kBase)) == "2025-01-23T14:00:00Z");
  CHECK(format_rfc3339(at(kBase, 250000)) == "2025-01-23T14:00:00.250000Z");
  CHECK(format_rfc3339(at(0)) == "1970-01-01T00:00:00Z");
  CHECK(parse_rfc3339(format_rfc3339(at(kBase, 7))) == at(kBase, 7));
  CHECK(format_rfc3339(at(kBase + 86399, 999999)) == "2025-01-24T13:59:59.999999Z");
}

TEST_CASE("format_time always writes microseconds, before the epoch too") {
  CHECK(format_time(at(kBase)) == "2025-01-23T14:00:00.000000Z");
  CHECK(format_time(at(kBase, 7)) == "2025-01-23T14:00:00.000007Z");
  CHECK(format_time(at(-1, 250000)) == "1969-12-31T23:59:59.250000Z");
  CHECK(format_time(at(951782400)) == "2000-02-29T00:00:00.000000Z");
}

TEST_CASE("command-line times: rfc 3339, local date-time and backup stamps honour TZ") {
  ScopedTz tz("America/Sao_Paulo");  // -03:00, no DST since 2019
  CHECK(parse_cli_time("2025-01-23T14:00:00Z") == at(kBase));
  CHECK(parse_cli_time("2025-01-23 11:00:00") == at(kBase));
  CHECK(parse_cli_time("20250123_110000") == at(kBase));
  ScopedTz posix("<+0530>-5:30");
  CHECK(parse_cli_time("2025-01-23 19:30:00") == at(kBase));
  CHECK(parse_cli_time("20250123_193000") == at(kBase));
}

TEST_CASE("bad command-line times are usage errors that list the accepted forms") {
  for (const char* bad : {"", "tomorrow", "2025-01-23", "2025-02-30 10:00:00", "20250230_100000", "2025-01-23 10:00",
                          "20250123-100000", "2025-01-23T10:00:00"}) {
    INFO(bad);
    try {
      parse_cli_time(bad, "--until");
      FAIL("accepted");
    } catch (const auditpitr::Error& e) {
      CHECK(e.kind() == auditpitr::ErrorKind::usage);
      CHECK(std::string(e.what()).find("--until '") == 0);
      CHECK(e.hint().find("RFC 3339") != std::string::npos);
      CHECK(e.hint().find("20250123_140530") != std::string::npos);
    }
  }
}
