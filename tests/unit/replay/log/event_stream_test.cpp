// EventStream: the k-way merge by time, the tie rule, sequences, `until`, and level filtering.
#include "replay/log/event_stream.h"

#include <catch2/catch.hpp>

#include "replay/log/time_parse.h"
#include "src/error.h"

using namespace auditpitr::replay;

namespace {

std::string fixture(const std::string& name) { return std::string(AUDITPITR_SOURCE_DIR) + "/fixtures/logs/" + name; }
std::string basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

/// "OPERATION file:line" for each event, checking sequence numbers run 1, 2, 3…
std::vector<std::string> events(EventStream& stream) {
  std::vector<std::string> out;
  AuditEvent e;
  while (stream.next(e)) {
    CHECK(e.sequence == out.size() + 1);
    CHECK(e.level == "info");
    CHECK(e.json.front() == '{');
    CHECK(e.json.back() == '}');
    out.push_back(std::string(e.operation) + " " + basename(*e.file) + ":" + std::to_string(e.line_number));
  }
  return out;
}

}  // namespace

TEST_CASE("create, update and delete logs merge into one time-ordered stream") {
  EventStream stream(fixture("normal"));
  CHECK(events(stream) == std::vector<std::string>{"CREATE_PORTFOLIO create.log:1", "CREATE_CATEGORY create.log:2",
                                                   "CREATE_SECTION create.log:3", "UPDATE_PORTFOLIO update.log:1",
                                                   "BULK_REORDER_CATEGORIES update.log:2",
                                                   "DELETE_SECTION delete.log:1"});
  CHECK(stream.events_returned() == 6);
}

TEST_CASE("equal timestamps: create before update before delete, then file order") {
  EventStream stream(fixture("ties"));
  CHECK(events(stream) == std::vector<std::string>{"CREATE_CATEGORY create.log:1", "CREATE_CATEGORY create.log:2",
                                                   "UPDATE_CATEGORY_POSITION update.log:1",
                                                   "DELETE_CATEGORY delete.log:1"});
}

TEST_CASE("rotated and gzip files merge in time order across logs") {
  EventStream stream(fixture("rotated"));
  CHECK(events(stream) ==
        std::vector<std::string>{"CREATE_PORTFOLIO create.log.3.gz:1", "UPDATE_PORTFOLIO update.log.1.gz:1",
                                 "CREATE_PORTFOLIO create.log.2.gz:1", "DELETE_PORTFOLIO delete.log:1",
                                 "CREATE_PORTFOLIO create.log.1:1", "UPDATE_PORTFOLIO update.log.1.gz:2",
                                 "CREATE_PORTFOLIO create.log:1", "UPDATE_PORTFOLIO update.log:1"});
}

TEST_CASE("offsets and fractions are compared as UTC instants") {
  EventStream stream(fixture("offsets"));
  std::vector<TimePoint> times;
  std::vector<std::string> order;
  AuditEvent e;
  while (stream.next(e)) {
    times.push_back(e.time);
    order.push_back(std::string(e.operation) + " " + std::to_string(e.line_number));
  }
  CHECK(order == std::vector<std::string>{"CREATE_PORTFOLIO 1", "UPDATE_PORTFOLIO 1", "CREATE_PORTFOLIO 2",
                                          "CREATE_PORTFOLIO 3"});
  REQUIRE(times.size() == 4);
  CHECK(format_rfc3339(times[0]) == "2025-01-23T14:00:00Z");
  CHECK(format_rfc3339(times[1]) == "2025-01-23T14:00:00.500000Z");
  CHECK(format_rfc3339(times[2]) == "2025-01-23T14:00:01Z");
  CHECK(format_rfc3339(times[3]) == "2025-01-23T14:00:01.250000Z");
}

TEST_CASE("until stops the stream after the given time") {
  EventStreamOptions options;
  options.until = parse_rfc3339("2025-01-23T14:03:00Z");
  EventStream stream(fixture("normal"), options);
  CHECK(events(stream).size() == 4);  // three creates and the update at exactly 14:03:00
}

TEST_CASE("info lines without operation are reported; other levels are not events") {
  std::vector<IssueReport> issues;
  EventStreamOptions options;
  options.reader.on_issue = [&](const IssueReport& r) { issues.push_back(r); };
  EventStream stream(std::vector<LogSet>{discover_log_set(fixture("bad"), kCreateLog)}, options);
  CHECK(events(stream) == std::vector<std::string>{"CREATE_PORTFOLIO create.log:1", "CREATE_PORTFOLIO create.log:9",
                                                   "CREATE_PORTFOLIO create.log:10"});
  bool reported = false;
  for (const auto& r : issues) reported |= r.issue == LineIssue::missing_operation && r.line_number == 7;
  CHECK(reported);
  CHECK(stream.readers()[0]->stats()[0].count(LineIssue::missing_operation) == 1);

  EventStream errors(std::vector<LogSet>{discover_log_set(fixture("normal"), kErrorLog)});
  AuditEvent e;
  CHECK_FALSE(errors.next(e));  // warning/error lines: counted by LogReader, never events
  CHECK(errors.readers()[0]->stats()[0].records == 2);
  CHECK(errors.readers()[0]->stats()[0].info_records == 0);
}

TEST_CASE("a missing log is simply empty") {
  EventStream stream(fixture("offsets"));  // has no delete.log
  CHECK(events(stream).size() == 4);
  CHECK(stream.readers()[2]->stats().empty());
}
