// Exactly once: a replay SIGKILLed at several points (a batch applied but not committed, just
// committed), with the logs rotated in between, then run to the end, gives the database an
// uninterrupted run gives, compared column by column. Batching never changes the result either:
// one event per transaction (every statement alone) against large pipelined batches, a refused
// event in the middle included.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "tests/integration/replay_support.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;
using test::LogLine;

namespace {

const char* const kFrom = "2025-01-15T00:00:00Z";
const char* const kTo = "2025-01-16T00:00:00Z";

std::string stamp(int second) {
  char text[32];
  std::snprintf(text, sizeof text, "2025-01-15T11:%02d:%02dZ", second / 60, second % 60);
  return text;
}

/// Portfolios 100..109 and their categories: creates, renames with the previous title as `from`,
/// position moves, deletes with cascades, a few events per second, one category of a portfolio
/// that does not exist (a refused event).
std::vector<LogLine> workload(int events) {
  std::mt19937 rng(7);
  std::vector<LogLine> lines;
  std::map<int, std::string> titles;
  int second = 0;
  for (int i = 0; i < events; ++i) {
    if (rng() % 3 == 0) ++second;
    int p = 100 + static_cast<int>(rng() % 10);
    std::string id = std::to_string(p), t = stamp(second);
    std::string title = "t" + std::to_string(i);
    switch (rng() % 6) {
      case 0:
      case 1:
        lines.push_back(
            {"CREATE_PORTFOLIO", t, "\"portfolioID\":" + id + ",\"title\":\"" + title + "\",\"userID\":\"u\""});
        titles[p] = title;
        break;
      case 2:
        lines.push_back({"UPDATE_PORTFOLIO", t,
                         "\"portfolioID\":" + id + ",\"changes\":{\"title\":{\"from\":\"" + titles[p] + "\",\"to\":\"" +
                             title + "\"}},\"userID\":\"u\""});
        titles[p] = title;
        break;
      case 3:
        lines.push_back({"CREATE_CATEGORY", t,
                         "\"categoryID\":" + std::to_string(1000 + i) + ",\"portfolioID\":" + id +
                             ",\"title\":\"c\",\"userID\":\"u\""});
        break;
      case 4:
        lines.push_back({"UPDATE_CATEGORY_POSITION", t,
                         "\"categoryID\":" + std::to_string(1000 + i - 1 - static_cast<int>(rng() % 5)) +
                             ",\"oldPosition\":0,\"newPosition\":" + std::to_string(i) + ",\"userID\":\"u\""});
        break;
      default: lines.push_back({"DELETE_PORTFOLIO", t, "\"portfolioID\":" + id + ",\"userID\":\"u\""}); break;
    }
  }
  lines.insert(lines.begin() + events / 2, {"CREATE_CATEGORY", stamp(second / 2),
                                            R"("categoryID":5000,"portfolioID":9999,"title":"x","userID":"u")"});
  return lines;
}

}  // namespace

TEST_CASE("SIGKILL at several points, logs rotated in between, then a re-run: the uninterrupted result",
          "[pg][replay][crash]") {
  auto lines = workload(120);
  auto reference = test::portfolio_database("replay_crash_reference");
  test::ReplayWorkspace ref_ws(reference, lines);
  REQUIRE(ref_ws.replay({"--from", kFrom, "--to", kTo, "--batch", "10"}).exit_code == 0);
  auto expected = test::snapshot(reference);

  auto target = test::portfolio_database("replay_crash_target");
  test::ReplayWorkspace ws(target, lines);
  std::vector<std::string> args = {"-c", ws.config(), "replay", "--from", kFrom, "--to", kTo, "--batch", "10"};
  for (const char* phase : {"replay-batch-2-applied", "replay-batch-4-committed", "replay-batch-7-applied"}) {
    int pid = test::run_cli_until_paused(args, phase);
    REQUIRE(pid > 0);
    test::kill_and_reap(pid);
    if (std::string(phase) == "replay-batch-4-committed") ws.rotate(true);  // create.log -> create.log.1.gz
  }
  // The resumed run continues (the window's start is the recorded one: no --from needed).
  auto resumed = ws.replay({"--to", kTo, "--json"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Catch::Contains(R"("resumed_after": {)"));
  CHECK(test::compare(expected, test::snapshot(target)) == "");

  auto again = ws.replay({"--to", kTo});
  CHECK_THAT(again.out, Catch::Contains("already applied"));
  CHECK(test::compare(expected, test::snapshot(target)) == "");
}

TEST_CASE("logs rotated with dateext between two runs, new lines after: the second run resumes by content",
          "[pg][replay][crash]") {
  auto lines = workload(80);
  const std::string middle = stamp(6);  // the inserted refused event (second ~13) is later
  std::vector<LogLine> early, late;
  for (const auto& l : lines) (l.time <= middle ? early : late).push_back(l);
  REQUIRE(early.size() > 5);
  REQUIRE(late.size() > 5);
  auto reference = test::portfolio_database("replay_dateext_reference");
  test::ReplayWorkspace ref_ws(reference, lines);
  REQUIRE(ref_ws.replay({"--from", kFrom, "--to", kTo}).exit_code == 0);

  auto target = test::portfolio_database("replay_dateext_target");
  test::ReplayWorkspace ws(target, early);
  REQUIRE(ws.replay({"--from", kFrom, "--to", middle}).exit_code == 0);
  ws.rotate_dateext("20250115", true);  // create.log -> create.log-20250115.gz, create.log emptied
  ws.append(late);
  std::string live = ws.audit_dir() + "/delete.log";
  test::write_text(live, test::read_text(live) + R"({"level":"info","operation":"DELETE_PORT)");  // being written
  auto resumed = ws.replay({"--to", kTo, "--json"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Catch::Contains(R"("resumed_after": {)"));
  CHECK_THAT(resumed.out, Catch::Contains(R"("before_position": )" + std::to_string(early.size())));
  CHECK_THAT(resumed.out, Catch::Contains(R"("unread_files": [])"));
  CHECK_THAT(resumed.out, Catch::Contains(R"("path": ")" + live + R"(",)") && Catch::Contains(R"("bytes": 40)"));
  CHECK(test::compare(test::snapshot(reference), test::snapshot(target)) == "");

  // A rotation it cannot read is said, in the text report and in --json.
  test::write_text(ws.audit_dir() + "/update.log-20250114.xz", "");
  auto warned = ws.replay({"--to", kTo});
  CHECK_THAT(warned.out, Catch::Contains("already applied") && Catch::Contains("not read: '" + ws.audit_dir() +
                                                                               "/update.log-20250114.xz': compressed "
                                                                               "with xz"));

  // Rotated with a compressor it cannot read, the position's event is gone: stopped, naming the file.
  for (const char* name : {"create.log", "update.log", "delete.log"}) {
    std::string log = ws.audit_dir() + "/" + name;
    std::filesystem::rename(log, log + "-20250116.xz");
    test::write_text(log, "");
  }
  auto lost = ws.replay({"--to", "2025-01-17T00:00:00Z"});
  CHECK(lost.exit_code == 3);
  CHECK_THAT(lost.err,
             Catch::Contains("no longer hold") && Catch::Contains(ws.audit_dir() + "/delete.log-20250116.xz"));
}

TEST_CASE("Ctrl-C during a batch: exit 130, that batch rolled back, the next run finishes the job",
          "[pg][replay][crash]") {
  auto lines = workload(60);
  auto reference = test::portfolio_database("replay_sigint_reference");
  test::ReplayWorkspace ref_ws(reference, lines);
  REQUIRE(ref_ws.replay({"--from", kFrom, "--to", kTo, "--batch", "10"}).exit_code == 0);

  auto target = test::portfolio_database("replay_sigint_target");
  test::ReplayWorkspace ws(target, lines);
  int pid = test::run_cli_until_paused({"-c", ws.config(), "replay", "--from", kFrom, "--to", kTo, "--batch", "10"},
                                       "replay-batch-3-applied");
  REQUIRE(pid > 0);
  ::kill(pid, SIGINT);
  ::kill(pid, SIGCONT);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  // Two batches committed: the third was rolled back.
  CHECK(test::query_value(target, "SELECT position_ordinal IS NOT NULL FROM auditpitr.replay") == "t");
  CHECK(test::query_value(target, "SELECT events_applied <= 20 FROM auditpitr.replay") == "t");
  REQUIRE(ws.replay({"--to", kTo}).exit_code == 0);
  CHECK(test::compare(test::snapshot(reference), test::snapshot(target)) == "");
}

TEST_CASE("every event alone gives what pipelined batches give, a refused event included", "[pg][replay]") {
  auto lines = workload(300);
  auto alone = test::portfolio_database("replay_batch_one");
  auto batched = test::portfolio_database("replay_batch_many");
  test::ReplayWorkspace ws_alone(alone, lines), ws_batched(batched, lines);
  auto a = ws_alone.replay({"--from", kFrom, "--to", kTo, "--batch", "1", "--json"});
  auto b = ws_batched.replay({"--from", kFrom, "--to", kTo, "--batch", "1000", "--json"});
  INFO(a.err << b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  auto by_kind = [](const std::string& json) {
    return json.substr(json.find("\"conflicts_by_kind\""),
                       json.find("\"drift_count\"") - json.find("\"conflicts_by_kind\""));
  };
  CHECK_THAT(b.out, Catch::Contains(R"("foreign_key": )"));  // the slow path ran
  CHECK(by_kind(a.out) == by_kind(b.out));
  CHECK(test::compare(test::snapshot(alone), test::snapshot(batched)) == "");
}
