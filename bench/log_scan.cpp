// Benchmark driver for the audit-log reader: `generate DIR MB` writes a Portfolio Manager log set,
// `scan DIR` reads it through EventStream (one core) and prints throughput and peak memory,
// `inflate DIR` only inflates DIR's .gz files with zlib (the reference the .gz scan is held to),
// `map DIR RULES` reads and maps it (Mapper::map_compact, and map() for RowChanges) with RULES
// over Portfolio Manager's tables: the mapper's events per second.
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "replay/log/event_stream.h"
#include "replay/log/log_line.h"
#include "replay/log/time_parse.h"
#include "replay/mapping/mapping.h"
#include "src/error.h"

using namespace auditpitr;
using namespace auditpitr::replay;

namespace {

/// SplitMix64: a deterministic stream of well-mixed numbers, so every run writes the same logs.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

/// Field values as varied as a real application's (a thousand users, ids spread over a large
/// table, titles from a vocabulary), so the .gz copy compresses like a real log (about 8x), not
/// like one line repeated.
struct LineValues {
  explicit LineValues(uint64_t i) : seed(mix(i)) {}
  uint64_t next() { return seed = mix(seed); }
  std::string id() { return std::to_string(1 + next() % 5000000); }
  std::string small() { return std::to_string(next() % 40); }
  std::string user() {
    uint64_t a = mix(next() % 1000), b = mix(a);
    char text[40];
    std::snprintf(text, sizeof text, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>(a & 0xffff), static_cast<unsigned>((a >> 16) & 0xfff),
                  static_cast<unsigned>(b & 0xfff), static_cast<unsigned long long>(b >> 16));
    return text;
  }
  std::string title() {
    static const char* words[] = {"Web",    "design",  "About",   "me",     "Mobile", "apps", "Brand",
                                  "studio", "Photo",   "gallery", "Client", "work",   "Open", "source",
                                  "Case",   "studies", "Travel",  "notes",  "Print",  "ads",  "Logo",
                                  "ideas",  "Landing", "pages",   "Data",   "charts", "UX",   "research"};
    constexpr uint64_t kWords = sizeof words / sizeof words[0];
    return std::string(words[next() % kWords]) + " " + words[next() % kWords] + " " + std::to_string(next() % 1000);
  }
  uint64_t seed;
};

/// One realistic line per operation kind, cycling; times advance one second every three lines.
std::string make_line(uint64_t i, const std::string& time, int log) {
  LineValues v(i);
  const std::string t = R"(,"time":")" + time + R"(")";
  switch (log * 3 + static_cast<int>(i % 3)) {
    case 0:
      return R"({"level":"info","msg":"Portfolio created","operation":"CREATE_PORTFOLIO","portfolioID":)" + v.id() + t +
             R"(,"title":")" + v.title() + R"(","userID":")" + v.user() + R"("})";
    case 1:
      return R"({"categoryID":)" + v.id() +
             R"(,"level":"info","msg":"Category created","operation":"CREATE_CATEGORY","portfolioID":)" + v.id() + t +
             R"(,"title":")" + v.title() + R"(","userID":")" + v.user() + R"("})";
    case 2:
      return R"({"level":"info","msg":"Section created","operation":"CREATE_SECTION","portfolioID":)" + v.id() +
             R"(,"position":)" + v.small() + R"(,"sectionID":)" + v.id() + t + R"(,"title":")" + v.title() +
             R"(","userID":")" + v.user() + R"("})";
    case 3:
      return R"({"level":"info","msg":"Portfolio updated","operation":"UPDATE_PORTFOLIO","portfolioID":)" + v.id() + t +
             R"(,"title":")" + v.title() + R"(","userID":")" + v.user() + R"("})";
    case 4:
      return R"({"categoryID":)" + v.id() + R"(,"level":"info","msg":"Category position updated","newPosition":)" +
             v.small() + R"(,"oldPosition":)" + v.small() + R"(,"operation":"UPDATE_CATEGORY_POSITION")" + t +
             R"(,"userID":")" + v.user() + R"("})";
    case 5:
      return R"({"itemCount":3,"items":[{"id":)" + v.id() + R"(,"position":1},{"id":)" + v.id() +
             R"(,"position":2},{"id":)" + v.id() +
             R"(,"position":3}],"level":"info","msg":"Sections reordered","operation":"BULK_REORDER_SECTIONS")" + t +
             R"(,"userID":")" + v.user() + R"("})";
    case 6:
      return R"({"cascade":"projects","categoryID":)" + v.id() +
             R"(,"level":"info","msg":"Category deleted","operation":"DELETE_CATEGORY","portfolioID":)" + v.id() + t +
             R"(,"title":")" + v.title() + R"(","userID":")" + v.user() + R"("})";
    case 7:
      return R"({"contentID":)" + v.id() +
             R"(,"level":"info","msg":"Section content deleted","operation":"DELETE_SECTION_CONTENT","sectionID":)" +
             v.id() + t + R"(,"type":"text","userID":")" + v.user() + R"("})";
    default:
      return R"({"level":"info","msg":"Project deleted","operation":"DELETE_PROJECT","projectID":)" + v.id() +
             R"(,"categoryID":)" + v.id() + t + R"(,"title":")" + v.title() + R"(","userID":")" + v.user() + R"("})";
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

/// The process's CPU time so far, in user code and in the kernel (read() copies, page-cache misses).
struct CpuUsage {
  double user = 0, system = 0;
  long max_rss_kb = 0;
  double total() const { return user + system; }
};

CpuUsage cpu_usage() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return {usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6, usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6,
          usage.ru_maxrss};
}

/// zlib's inflate alone (gzread, in chunks of the log reader's inflating thread's size): the
/// reference the .gz scan is measured against. The reader itself inflates with ISA-L (GzipReader).
int inflate(const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".gz") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  std::vector<char> buffer(256u << 10);
  auto start = std::chrono::steady_clock::now();
  uint64_t bytes = 0, check = 0;
  for (const std::string& path : paths) {
    gzFile gz = gzopen(path.c_str(), "rb");
    if (!gz) return 1;
    gzbuffer(gz, 1u << 16);
    for (int n; (n = gzread(gz, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0;) {
      bytes += static_cast<uint64_t>(n);
      check += static_cast<unsigned char>(buffer[static_cast<std::size_t>(n) - 1]);  // touch the result
    }
    gzclose(gz);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = cpu_usage().total();
  std::printf("files=%zu bytes=%llu seconds=%.3f cpu_seconds=%.3f mb_per_s=%.1f mb_per_cpu_s=%.1f check=%llu\n",
              paths.size(), static_cast<unsigned long long>(bytes), seconds, cpu, bytes / 1e6 / seconds,
              bytes / 1e6 / cpu, static_cast<unsigned long long>(check));
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
  // CPU seconds too: on a shared machine the wall clock also counts time spent waiting for a core.
  CpuUsage cpu = cpu_usage();
  std::printf(
      "events=%llu bad=%llu bytes=%llu seconds=%.3f cpu_seconds=%.3f (user %.3f, system %.3f) mb_per_s=%.1f "
      "mb_per_cpu_s=%.1f max_rss_kb=%ld kernel=%s check=%llu\n",
      static_cast<unsigned long long>(events), static_cast<unsigned long long>(bad),
      static_cast<unsigned long long>(bytes), seconds, cpu.total(), cpu.user, cpu.system, bytes / 1e6 / seconds,
      bytes / 1e6 / cpu.total(), cpu.max_rss_kb, LineParser().kernel(),
      static_cast<unsigned long long>(operation_bytes));
  return 0;
}

/// Portfolio Manager's tables as fixtures/portfolio-manager/schema.sql creates them.
MappingCatalog portfolio_catalog() {
  auto table = [](const std::string& name, std::vector<std::string> columns) {
    columns.insert(columns.begin(), {"id", "created_at", "updated_at", "deleted_at"});
    return verify::TableShape{"public", name, columns, {"id"}};
  };
  return MappingCatalog({
      table("portfolios", {"title", "description", "owner_id"}),
      table("categories", {"title", "description", "position", "owner_id", "portfolio_id"}),
      table("projects", {"title", "description", "skills", "client", "link", "position", "owner_id", "category_id"}),
      table("sections", {"title", "description", "type", "position", "owner_id", "portfolio_id"}),
      table("section_contents", {"section_id", "type", "content", "order", "metadata", "owner_id"}),
  });
}

/// Reads DIR and maps every event, twice: the compact form alone (what analyze uses), then with
/// the RowChanges of strings too. Prints events/s of each, reading included.
int map(const std::string& dir, const std::string& rules_path) {
  for (bool rows : {false, true}) {
    Mapper mapper(load_mapping_rules(rules_path), portfolio_catalog());
    MappedEvent mapped;
    CpuUsage before = cpu_usage();
    auto start = std::chrono::steady_clock::now();
    EventStream stream(dir);
    AuditEvent event;
    uint64_t events = 0, changes = 0;
    while (stream.next(event)) {
      ++events;
      if (rows) changes += mapper.map(event).changes.size();
      else {
        mapper.map_compact(event, mapped);
        changes += mapped.changes.size();
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpu = cpu_usage().total() - before.total();
    std::printf("%s: events=%llu changes=%llu seconds=%.3f cpu_seconds=%.3f events_per_s=%.0f events_per_cpu_s=%.0f\n",
                rows ? "map (RowChange)" : "map_compact", static_cast<unsigned long long>(events),
                static_cast<unsigned long long>(changes), seconds, cpu, events / seconds, events / cpu);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "generate" && argc == 4) return generate(argv[2], std::strtoull(argv[3], nullptr, 10));
    if (mode == "scan" && argc == 3) return scan(argv[2]);
    if (mode == "inflate" && argc == 3) return inflate(argv[2]);
    if (mode == "map" && argc == 4) return map(argv[2], argv[3]);
    std::fprintf(
        stderr,
        "usage: log_scan generate DIR MB | log_scan scan DIR | log_scan inflate DIR | log_scan map DIR RULES\n");
    return 2;
  } catch (const auditpitr::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return auditpitr::exit_code(e.kind());
  }
}
