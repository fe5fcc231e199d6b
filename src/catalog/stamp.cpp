// Stamp parsing and formatting with the C library's local-time functions.
#include "src/catalog/stamp.h"

#include <cctype>
#include <cstdio>

namespace auditpitr {

std::optional<std::time_t> stamp_to_time(const std::string& s) {
  if (s.size() != 15 || s[8] != '_') return std::nullopt;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(6, 2));
  tm.tm_hour = std::stoi(s.substr(9, 2));
  tm.tm_min = std::stoi(s.substr(11, 2));
  tm.tm_sec = std::stoi(s.substr(13, 2));
  tm.tm_isdst = -1;
  std::tm check = tm;
  std::time_t t = std::mktime(&check);
  if (t == -1 || check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  return t;
}

bool is_stamp(const std::string& text) { return stamp_to_time(text).has_value(); }

std::string time_to_stamp(std::time_t when) {
  std::tm tm{};
  localtime_r(&when, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
  return buf;
}

std::string stamp_display(const std::string& s) {
  if (s.size() != 15) return s;
  return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + " " + s.substr(9, 2) + ":" + s.substr(11, 2) +
         ":" + s.substr(13, 2);
}

}  // namespace auditpitr
