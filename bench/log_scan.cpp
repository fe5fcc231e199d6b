// Benchmark driver for the audit-log reader: `generate DIR MB` writes a Portfolio Manager log set,
// `scan DIR` reads it through EventStream (one core) and prints throughput and peak memory.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "replay/event_stream.h"
#include "replay/log_line.h"
#include "replay/time_parse.h"
#include "src/error.h"

using namespace auditpitr::replay;

namespace {

/// One realistic line per operation kind, cycling; times advance one second every three lines.
std::string make_line(uint64_t i, const std::string& time, int log) {
  std::string id = std::to_string(i);
  switch (log * 3 + static_cast<int>(i % 3)) {
    case 0: return R"({"level":"info","msg":"Portfolio created","operation":"CREATE_PORTFOLIO","portfolioID":)" + id + R"(,"time":")" + time + R"(","title":"Portfolio number )" + id + R"(","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    case 1: return R"({"categoryID":)" + id + R"(,"level":"info","msg":"Category created","operation":"CREATE_CATEGORY","portfolioID":)" + id + R"(,"time":")" + time + R"(","title":"Web design","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    case 2: return R"({"level":"info","msg":"Section created","operation":"CREATE_SECTION","portfolioID":)" + id + R"(,"position":3,"sectionID":)" + id + R"(,"time":")" + time + R"(","title":"About me","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    case 3: return R"({"level":"info","msg":"Portfolio updated","operation":"UPDATE_PORTFOLIO","portfolioID":)" + id + R"(,"time":")" + time + R"(","title":"Renamed portfolio )" + id + R"(","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    case 4: return R"({"categoryID":)" + id + R"(,"level":"info","msg":"Category position updated","newPosition":4,"oldPosition":2,"operation":"UPDATE_CATEGORY_POSITION","time":")" + time + R"(","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    case 5: return R"({"itemCount":3,"items":[{"id":1,"position":1},{"id":2,"position":2},{"id":3,"position":3}],"level":"info","msg":"Sections reordered","operation":"BULK_REORDER_SECTIONS","time":")" + time + R"(","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    case 6: return R"({"cascade":"projects","categoryID":)" + id + R"(,"level":"info","msg":"Category deleted","operation":"DELETE_CATEGORY","portfolioID":)" + id + R"(,"time":")" + time + R"(","title":"Old category","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    case 7: return R"({"contentID":)" + id + R"(,"level":"info","msg":"Section content deleted","operation":"DELETE_SECTION_CONTENT","sectionID":)" + id + R"(,"time":")" + time + R"(","type":"text","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
    default: return R"({"level":"info","msg":"Project deleted","operation":"DELETE_PROJECT","projectID":)" + id + R"(,"categoryID":7,"time":")" + time + R"(","title":"Old project","userID":"8f14e45f-ceea-467f-a0e6-b2c3d4e5f601"})";
  }
}

int generate(const std::string& dir, uint64_t megabytes) {
  const char* names[] = {"create.log", "update.log", "delete.log"};
  std::ofstream out[3];
  for (int f = 0; f < 3; ++f) out[f].open(dir + "/" + names[f], std::ios::binary | std::ios::trunc);
  uint64_t target = megabytes << 20, written = 0;
  TimePoint t = *parse_rfc3339("2025-01-01T00:00:00Z");
  std::string time = format_rfc3339(t);
  for (uint64_t i = 0; written < target; ++i) {
    if (i % 3 == 0) time = format_rfc3339(t += std::chrono::seconds{1});
    int log = i % 10 < 5 ? 0 : (i % 10 < 8 ? 1 : 2);  // creates 50 %, updates 30 %, deletes 20 %
    std::string line = make_line(i, time, log) + "\n";
    out[log] << line;
    written += line.size();
  }
  return 0;
}

int scan(const std::string& dir) {
  auto start = std::chrono::steady_clock::now();
  EventStream stream(dir);
  AuditEvent event;
  uint64_t events = 0, operation_bytes = 0;
  while (stream.next(event)) {
    ++events;
    operation_bytes += event.operation.size();  // touch the result so nothing is optimised away
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t bytes = 0, bad = 0;
  for (const auto& reader : stream.readers()) {
    FileStats sum = total(reader->stats(), reader->name());
    bytes += sum.bytes;
    bad += sum.bad_lines();
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  // CPU seconds too: on a shared machine the wall clock also counts time spent waiting for a core.
  double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::printf("events=%llu bad=%llu bytes=%llu seconds=%.3f cpu_seconds=%.3f mb_per_s=%.1f mb_per_cpu_s=%.1f "
              "max_rss_kb=%ld kernel=%s check=%llu\n",
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(bytes), seconds, cpu, bytes / 1e6 / seconds, bytes / 1e6 / cpu,
              usage.ru_maxrss, LineParser().kernel(), static_cast<unsigned long long>(operation_bytes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "generate" && argc == 4) return generate(argv[2], std::strtoull(argv[3], nullptr, 10));
    if (mode == "scan" && argc == 3) return scan(argv[2]);
    std::fprintf(stderr, "usage: log_scan generate DIR MB | log_scan scan DIR\n");
    return 2;
  } catch (const auditpitr::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return auditpitr::exit_code(e.kind());
  }
}
