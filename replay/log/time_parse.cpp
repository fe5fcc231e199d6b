// RFC 3339 parsing by hand (the log path runs it once per line) with date's civil-day arithmetic;
// local command-line forms go through the C library's mktime, which honours TZ.
#include "replay/log/time_parse.h"

#include <date/date.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "src/error.h"

namespace auditpitr::replay {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

/// Reads `count` ASCII digits at `pos`; false when any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    unsigned digit = static_cast<unsigned char>(text[i]) - '0';
    if (digit > 9) return false;
    value = value * 10 + static_cast<int>(digit);
  }
  return true;
}

struct CivilTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

/// `YYYY-MM-DD?HH:MM:SS` where ? is `separator_ok`; the date part is checked against the calendar.
bool read_civil(std::string_view text, CivilTime& civil, bool (*separator_ok)(char)) {
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || !separator_ok(text[10]) || text[13] != ':' ||
      text[16] != ':')
    return false;
  return read_digits(text, 0, 4, civil.year) && read_digits(text, 5, 2, civil.month) &&
         read_digits(text, 8, 2, civil.day) && read_digits(text, 11, 2, civil.hour) &&
         read_digits(text, 14, 2, civil.minute) && read_digits(text, 17, 2, civil.second) && civil.hour < 24 &&
         civil.minute < 60 && civil.second <= 60;
}

std::optional<date::sys_days> civil_day(const CivilTime& civil) {
  date::year_month_day ymd{date::year{civil.year}, date::month{static_cast<unsigned>(civil.month)},
                           date::day{static_cast<unsigned>(civil.day)}};
  if (!ymd.ok()) return std::nullopt;
  return date::sys_days{ymd};
}

bool rfc3339_separator(char c) { return c == 'T' || c == 't' || c == ' '; }
bool space_separator(char c) { return c == ' '; }

/// `.digits`: returns microseconds and advances `pos`; false for a dot without digits.
bool read_fraction(std::string_view text, std::size_t& pos, int64_t& micros) {
  micros = 0;
  if (pos >= text.size() || text[pos] != '.') return true;
  std::size_t start = ++pos;
  int64_t scale = 100000;
  while (pos < text.size() && static_cast<unsigned>(text[pos] - '0') <= 9) {
    micros += (text[pos] - '0') * scale;
    scale /= 10;
    ++pos;
  }
  return pos > start;
}

/// `Z` or `±HH:MM` as the offset to subtract from the local clock reading to get UTC.
bool read_offset(std::string_view text, std::size_t pos, seconds& offset) {
  if (pos + 1 == text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    offset = seconds{0};
    return true;
  }
  int hours = 0, minutes = 0;
  if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') || text[pos + 3] != ':' ||
      !read_digits(text, pos + 1, 2, hours) || !read_digits(text, pos + 4, 2, minutes) || hours > 23 || minutes > 59)
    return false;
  offset = seconds{(hours * 60 + minutes) * 60};
  if (text[pos] == '-') offset = -offset;
  return true;
}

/// The wall-clock reading as local time, through mktime (TZ honoured; DST chosen by the C library).
std::optional<TimePoint> local_to_utc(const CivilTime& civil) {
  if (!civil_day(civil)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = civil.year - 1900;
  tm.tm_mon = civil.month - 1;
  tm.tm_mday = civil.day;
  tm.tm_hour = civil.hour;
  tm.tm_min = civil.minute;
  tm.tm_sec = civil.second;
  tm.tm_isdst = -1;
  std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1) && !(civil.year == 1969 || civil.year == 1970)) return std::nullopt;
  return TimePoint{seconds{t}};
}

std::optional<TimePoint> parse_local_datetime(std::string_view text) {
  CivilTime civil;
  if (text.size() != 19 || !read_civil(text, civil, space_separator)) return std::nullopt;
  return local_to_utc(civil);
}

std::optional<TimePoint> parse_stamp(std::string_view text) {
  CivilTime civil;
  if (text.size() != 15 || text[8] != '_') return std::nullopt;
  if (!read_digits(text, 0, 4, civil.year) || !read_digits(text, 4, 2, civil.month) ||
      !read_digits(text, 6, 2, civil.day) || !read_digits(text, 9, 2, civil.hour) ||
      !read_digits(text, 11, 2, civil.minute) || !read_digits(text, 13, 2, civil.second) || civil.hour > 23 ||
      civil.minute > 59 || civil.second > 60)
    return std::nullopt;
  return local_to_utc(civil);
}

/// The minute of the last time parsed: consecutive log lines nearly always share it, so comparing
/// 16 bytes replaces parsing and calendar arithmetic. One per thread.
struct MinuteCache {
  uint64_t prefix[2] = {};  ///< the text's first 16 bytes, `YYYY-MM-DDTHH:MM`
  TimePoint minute{};
  bool valid = false;
};

/// `YYYY-MM-DD?HH:MM` as a time point, through `cache`. (Plain out-parameters:
/// a std::optional here costs a store-forwarding stall on the log hot path.)
bool cached_minute(std::string_view text, MinuteCache& cache, TimePoint& minute) {
  constexpr std::size_t kPrefix = 16;
  uint64_t prefix[2];
  std::memcpy(prefix, text.data(), kPrefix);  // two loads: cheaper than a call to memcmp
  // `valid`: zero bytes could come from an escaped `\u0000` time.
  if (!cache.valid || prefix[0] != cache.prefix[0] || prefix[1] != cache.prefix[1]) {
    CivilTime civil;
    if (!read_civil(text, civil, rfc3339_separator)) return false;
    auto day = civil_day(civil);
    if (!day) return false;
    cache.prefix[0] = prefix[0];
    cache.prefix[1] = prefix[1];
    cache.valid = true;
    cache.minute = TimePoint{*day + std::chrono::hours{civil.hour} + std::chrono::minutes{civil.minute}};
  }
  minute = cache.minute;
  return true;
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  thread_local MinuteCache cache;
  TimePoint minute;
  int second = 0;
  if (text.size() < 19 || !cached_minute(text, cache, minute) || text[16] != ':' || !read_digits(text, 17, 2, second) ||
      second > 60)
    return std::nullopt;
  if (text.size() == 20 && text[19] == 'Z') return minute + seconds{second};  // what logrus writes
  std::size_t pos = 19;
  int64_t micros = 0;
  seconds offset{0};
  if (!read_fraction(text, pos, micros) || !read_offset(text, pos, offset)) return std::nullopt;
  return minute + seconds{second} - offset + microseconds{micros};
}

TimePoint parse_cli_time(std::string_view text, std::string_view what) {
  if (auto t = parse_rfc3339(text)) return *t;
  if (auto t = parse_local_datetime(text)) return *t;
  if (auto t = parse_stamp(text)) return *t;
  throw usage_error(std::string(what) + " '" + std::string(text) + "' is not a time I can read",
                    "use RFC 3339 (2025-01-23T14:05:30Z or 2025-01-23T11:05:30-03:00), local time "
                    "'2025-01-23 14:05:30', or a backup stamp 20250123_140530 (local)");
}

namespace {

/// `count` decimal digits of `value` at `out`, most significant first.
void put_digits(char* out, int64_t value, int count) {
  for (int i = count - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
}

/// `YYYY-MM-DDTHH:MM:SS`, then `.ffffff` when asked for or when there is a sub-second part, then Z.
std::string format_utc(TimePoint time, bool always_fraction) {
  auto day = date::floor<date::days>(time);
  date::year_month_day ymd{day};
  int64_t micros = (time - day).count();
  int year = static_cast<int>(ymd.year());
  char text[] = "0000-00-00T00:00:00.000000Z";
  put_digits(text, std::clamp(year, 0, 9999), 4);  // RFC 3339 has four-digit years only
  put_digits(text + 5, static_cast<unsigned>(ymd.month()), 2);
  put_digits(text + 8, static_cast<unsigned>(ymd.day()), 2);
  int64_t seconds = micros / 1000000;
  put_digits(text + 11, seconds / 3600, 2);
  put_digits(text + 14, seconds / 60 % 60, 2);
  put_digits(text + 17, seconds % 60, 2);
  int64_t fraction = micros % 1000000;
  if (!always_fraction && fraction == 0) return std::string(text, 19) + "Z";
  put_digits(text + 20, fraction, 6);
  return std::string(text, sizeof text - 1);
}

}  // namespace

std::string format_rfc3339(TimePoint time) { return format_utc(time, false); }

std::string format_time(TimePoint time) { return format_utc(time, true); }

}  // namespace auditpitr::replay
