// The PostgreSQL sink reorders a batch's changes into waves so that changes of one shape share
// set-based statements (replay/apply/batch_order.h). Tested against the simplest reference there
// is: the same logs replayed one event per batch, where nothing can move. Random workloads over the
// fixture application's tables, with what makes order matter: rows changed several times, children
// created under parents created or deleted in the same batch, cascades over children deleted
// earlier, missing rows, drift, foreign keys refused. Database and report must be identical.
#include <catch2/catch.hpp>
#include <random>
#include <sstream>

#include "tests/integration/replay_support.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;
using test::LogLine;

namespace {

class RandomWorkload {
 public:
  /// With `unknown_parents`, a few creations name a parent that never exists (refused: the batch is
  /// applied again event by event); with `bad_values`, a few positions are not numbers (refused too).
  RandomWorkload(unsigned seed, bool unknown_parents, bool bad_values = false)
      : random_(seed), unknown_parents_(unknown_parents), bad_values_(bad_values) {}

  std::vector<LogLine> lines(int count) {
    std::vector<LogLine> out;
    for (int p = 4; p <= 14; ++p)  // parents first, in the batch that uses them
      out.push_back(
          {"CREATE_PORTFOLIO", time(), "\"portfolioID\":" + std::to_string(p) + ",\"title\":\"p\"," + user()});
    for (int c = 4; c <= 30; ++c)
      out.push_back(
          {"CREATE_CATEGORY", time(),
           "\"categoryID\":" + std::to_string(c) + ",\"portfolioID\":" + id(14) + ",\"title\":\"c\"," + user()});
    for (int i = 0; i < count; ++i) {
      if (pick(3) > 0) ++second_;  // some events share their time
      out.push_back(event());
    }
    return out;
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  std::string id(int n) { return std::to_string(1 + pick(n)); }
  std::string parent(int n) { return unknown_parents_ && pick(40) == 0 ? "99" : id(n); }
  std::string user() { return "\"userID\":\"user-" + std::string(pick(4) ? "alice" : "bob") + "\""; }
  std::string time() const {
    std::ostringstream t;
    t << "2025-01-15T10:" << (10 + second_ / 60) << ":" << (second_ % 60 < 10 ? "0" : "") << second_ % 60 << "Z";
    return t.str();
  }

  // Ids run a little past what exists, so that some rows are missing and some parents unknown.
  LogLine event() {
    switch (pick(11)) {
      case 0:
        return {"CREATE_PORTFOLIO", time(), "\"portfolioID\":" + id(14) + ",\"title\":\"p" + id(99) + "\"," + user()};
      case 1:
        return {"UPDATE_PORTFOLIO", time(), "\"portfolioID\":" + id(16) + ",\"title\":\"t" + id(99) + "\"," + user()};
      case 2: return {"DELETE_PORTFOLIO", time(), "\"portfolioID\":" + id(16) + "," + user()};
      case 3:
      case 4:
        return {"CREATE_CATEGORY", time(),
                "\"categoryID\":" + id(30) + ",\"portfolioID\":" + parent(14) + ",\"title\":\"c\"," + user()};
      case 5:
        return {
            "UPDATE_CATEGORY_POSITION", time(),
            "\"categoryID\":" + id(32) + ",\"oldPosition\":" + id(3) + ",\"newPosition\":" + position() + "," + user()};
      case 6: {
        std::string items;
        for (int k = 0; k < 4; ++k)
          items += std::string(k ? "," : "") + "{\"id\":" + id(32) + ",\"position\":" + id(9) + "}";
        return {"BULK_REORDER_CATEGORIES", time(), "\"itemCount\":4,\"items\":[" + items + "]," + user()};
      }
      case 7:
        return {"DELETE_CATEGORY", time(), "\"categoryID\":" + id(32) + ",\"portfolioID\":" + id(15) + "," + user()};
      case 8:
        return {"CREATE_PROJECT", time(),
                "\"projectID\":" + id(40) + ",\"categoryID\":" + parent(30) + ",\"title\":\"j\"," + user()};
      case 9: return {"DELETE_PROJECT", time(), "\"projectID\":" + id(42) + ",\"categoryID\":" + id(31) + "," + user()};
      default:
        return {"CREATE_SECTION", time(),
                "\"sectionID\":" + id(20) + ",\"portfolioID\":" + parent(14) + ",\"title\":\"s\"," + user()};
    }
  }

  std::mt19937 random_;
  std::string position() { return bad_values_ && pick(30) == 0 ? "\"x\"" : id(9); }

  bool unknown_parents_, bad_values_;
  int second_ = 0;
};

// The report without what differs from run to run: the database's name, the timings, the folder.
std::string comparable(const std::string& report, const std::string& folder) {
  std::istringstream in(report);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find("\"database\"") != std::string::npos || line.find("\"elapsed_seconds\"") != std::string::npos ||
        line.find("\"events_per_second\"") != std::string::npos || line.find("folded") != std::string::npos)
      continue;
    for (std::size_t at; (at = line.find(folder)) != std::string::npos;) line.replace(at, folder.size(), "<folder>");
    out += line + "\n";
  }
  return out;
}

}  // namespace

uint64_t json_count(const std::string& report, const std::string& key) {
  std::size_t at = report.find("\"" + key + "\":");
  return at == std::string::npos ? 0 : std::stoull(report.substr(at + key.size() + 3));
}

TEST_CASE("reordered and folded batches give what replaying event by event gives, database and report",
          "[pg][replay]") {
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    INFO("seed " << seed);
    std::vector<LogLine> lines = RandomWorkload(seed, seed == 4, seed == 5).lines(400);
    auto one_by_one = test::portfolio_database("replay_order_ref_" + std::to_string(seed));
    test::ReplayWorkspace ref_ws(one_by_one, lines);
    const std::vector<std::string> window = {"--from", "2025-01-15T00:00:00Z", "--to", "2025-01-16T00:00:00Z",
                                             "--json"};
    std::vector<std::string> single = window;
    single.insert(single.end(), {"--batch", "1", "--no-fold"});
    auto ref = ref_ws.replay(single);
    INFO(ref.err);
    REQUIRE(ref.exit_code == 0);
    // Reordered (set-based statements), folded in batches of 150, folded whole.
    const std::vector<std::vector<std::string>> ways = {{"--batch", "150", "--no-fold"}, {"--batch", "150"}, {}};
    for (std::size_t way = 0; way < ways.size(); ++way) {
      INFO("way " << way);
      auto db = test::portfolio_database("replay_order_" + std::to_string(seed) + "_" + std::to_string(way));
      test::ReplayWorkspace ws(db, lines);
      std::vector<std::string> args = window;
      args.insert(args.end(), ways[way].begin(), ways[way].end());
      auto r = ws.replay(args);
      INFO(r.err);
      std::size_t because = r.out.find("not_folded_because");
      INFO((because == std::string::npos ? "" : r.out.substr(because, 120)));
      REQUIRE(r.exit_code == 0);
      CHECK(comparable(r.out, ws.path()) == comparable(ref.out, ref_ws.path()));
      CHECK(test::compare(test::snapshot(db), test::snapshot(one_by_one)) == "");
      if (way == 0) CHECK(json_count(r.out, "batches_folded") == 0);
      // Unknown parents, positions that are not numbers: the database would refuse those events, so
      // their batches are not folded.
      bool refused = seed >= 4;
      if (way > 0 && !refused) CHECK(json_count(r.out, "batches_not_folded") == 0);
      if (way > 0) CHECK(json_count(r.out, "batches_folded") + json_count(r.out, "batches_not_folded") > 0);
      if (way > 0 && refused) CHECK(json_count(r.out, "batches_not_folded") > 0);
    }
  }
}

TEST_CASE("a batch the fold cannot follow (a CHECK constraint) goes change by change, and the report says why",
          "[pg][replay]") {
  std::vector<LogLine> lines = RandomWorkload(6, false).lines(200);
  auto folded = test::portfolio_database("replay_fold_check");
  auto text = test::portfolio_database("replay_fold_check_text");
  auto one_by_one = test::portfolio_database("replay_fold_check_ref");
  for (const auto& db : {folded, text, one_by_one})
    test::execute(db, "ALTER TABLE categories ADD CONSTRAINT position_small CHECK (position <= 6)");
  test::ReplayWorkspace ws(folded, lines), text_ws(text, lines), ref_ws(one_by_one, lines);
  const std::vector<std::string> window = {"--from", "2025-01-15T00:00:00Z", "--to", "2025-01-16T00:00:00Z"};
  std::vector<std::string> json = window, single = window;
  json.push_back("--json");
  single.insert(single.end(), {"--json", "--batch", "1", "--no-fold"});
  auto r = ws.replay(json);
  auto t = text_ws.replay(window);
  auto ref = ref_ws.replay(single);
  INFO(r.err << t.err << ref.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(t.exit_code == 0);
  REQUIRE(ref.exit_code == 0);
  CHECK(json_count(r.out, "batches_folded") == 0);
  CHECK(json_count(r.out, "batches_not_folded") == 1);
  CHECK(r.out.find("\"not_folded_because\": \"table 'categories' has another unique key, a trigger, a rule or a CHECK "
                   "constraint\"") != std::string::npos);
  CHECK(t.out.find("1 batch not folded whole (the first because of table 'categories'") != std::string::npos);
  CHECK(json_count(ref.out, "check") > 0);  // positions above 6 were refused: the fold must not hide them
  CHECK(comparable(r.out, ws.path()) == comparable(ref.out, ref_ws.path()));
  CHECK(test::compare(test::snapshot(folded), test::snapshot(one_by_one)) == "");
  CHECK(test::compare(test::snapshot(text), test::snapshot(one_by_one)) == "");
}
