// The applier loop over scripted events and the in-memory sink: batching never changes the result,
// a crash at any commit then a resumed run gives the uninterrupted result, conflicts under both
// policies, filters, the window's bounds, drift in the skew margin.
#include "replay/apply/applier.h"

#include <catch2/catch.hpp>
#include <random>

#include "src/error.h"
#include "tests/unit/replay/apply/memory_sink.h"
#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;

namespace {

constexpr int64_t kStart = 1736935200;  // 2025-01-15 10:00:00Z

struct Line {
  std::string operation, json;
  int64_t time;
};

class ScriptedSource : public replay::AuditEventSource {
 public:
  explicit ScriptedSource(std::vector<Line> lines) : lines_(std::move(lines)) {}
  bool next(replay::AuditEvent& event) override {
    if (next_ == lines_.size()) return false;
    const Line& l = lines_[next_];
    holder_ = std::make_unique<test::EventHolder>(l.operation, l.json, l.time);
    event = holder_->event;
    event.line_number = ++next_;
    event.sequence = next_;
    return true;
  }
  std::vector<replay::AuditFileStats> file_stats() const override { return {}; }

 private:
  std::vector<Line> lines_;
  std::size_t next_ = 0;
  std::unique_ptr<test::EventHolder> holder_;
};

replay::MappingRules cascade_rules() {
  return replay::parse_mapping_rules(R"(
[fields]
userID = "owner_id"
[tables.portfolios]
cascade = [{ table = "categories", column = "portfolio_id" }]
)",
                                     "rules.toml");
}

Line create_portfolio(int id, const std::string& title, int64_t t, int user = 1) {
  return {"CREATE_PORTFOLIO",
          R"({"operation":"CREATE_PORTFOLIO","portfolioID":)" + std::to_string(id) + R"(,"title":")" + title +
              R"(","userID":)" + std::to_string(user) + "}",
          t};
}
Line update_portfolio(int id, const std::string& from, const std::string& to, int64_t t, int user = 1) {
  return {"UPDATE_PORTFOLIO",
          R"({"operation":"UPDATE_PORTFOLIO","portfolioID":)" + std::to_string(id) +
              R"(,"changes":{"title":{"from":")" + from + R"(","to":")" + to + R"("}},"userID":)" +
              std::to_string(user) + "}",
          t};
}
Line delete_portfolio(int id, int64_t t, int user = 1) {
  return {"DELETE_PORTFOLIO",
          R"({"operation":"DELETE_PORTFOLIO","portfolioID":)" + std::to_string(id) + R"(,"userID":)" +
              std::to_string(user) + "}",
          t};
}
Line create_category(int id, int portfolio, int64_t t) {
  return {"CREATE_CATEGORY",
          R"({"operation":"CREATE_CATEGORY","categoryID":)" + std::to_string(id) + R"(,"portfolioID":)" +
              std::to_string(portfolio) + R"(,"title":"c","userID":1})",
          t};
}

/// A random mixed workload over a few keys: creates (also of existing keys), updates with the
/// previous title as `from` (sometimes wrong: drift), deletes, categories under portfolios;
/// several events share a second.
std::vector<Line> random_workload(unsigned seed, int events) {
  std::mt19937 rng(seed);
  std::map<int, std::string> titles;
  std::vector<Line> lines;
  int64_t t = kStart;
  for (int i = 0; i < events; ++i) {
    if (rng() % 3 == 0) ++t;
    int id = 1 + static_cast<int>(rng() % 12);
    std::string title = "t" + std::to_string(i);
    switch (rng() % 5) {
      case 0:
        lines.push_back(create_portfolio(id, title, t));
        titles[id] = title;
        break;
      case 1:
      case 2: {
        std::string from = rng() % 7 == 0 ? "wrong" : titles[id];
        lines.push_back(update_portfolio(id, from, title, t));
        titles[id] = title;
        break;
      }
      case 3: lines.push_back(delete_portfolio(id, t)); break;
      default: lines.push_back(create_category(100 + i, id, t)); break;
    }
  }
  return lines;
}

replay::ApplySummary run(std::vector<Line> lines, test::MemorySink& sink, replay::ApplyOptions options) {
  ScriptedSource source(std::move(lines));
  replay::Mapper mapper(cascade_rules(), test::portfolio_catalog());
  return replay::apply_events(source, mapper, sink, options);
}

replay::ApplyOptions window(int64_t from_offset = -1, int64_t to_offset = 1000000) {
  replay::ApplyOptions o;
  o.from = replay::TimePoint(std::chrono::seconds(kStart + from_offset));
  o.to = replay::TimePoint(std::chrono::seconds(kStart + to_offset));
  return o;
}

}  // namespace

TEST_CASE("batch size never changes the result or the counts") {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    auto lines = random_workload(seed, 300);
    test::MemorySink one_batch, small_batches;
    auto options = window();
    options.batch_events = 100000;
    auto a = run(lines, one_batch, options);
    options.batch_events = 7;
    auto b = run(lines, small_batches, options);
    CHECK(one_batch.tables == small_batches.tables);
    CHECK(a.applied == b.applied);
    CHECK(a.conflicts_by_kind == b.conflicts_by_kind);
    CHECK(a.drift == b.drift);
    CHECK(a.drift > 0);
    CHECK(a.conflicts_by_kind["missing_row"] > 0);
    CHECK(small_batches.commits == (300 + 6) / 7);
  }
}

TEST_CASE("a crash at any commit, then a resumed run, gives the uninterrupted result") {
  auto lines = random_workload(42, 200);
  auto options = window();
  options.batch_events = 9;
  test::MemorySink reference;
  run(lines, reference, options);
  for (uint64_t crash = 1; crash <= (200 + 8) / 9; ++crash) {
    test::MemorySink sink;
    sink.crash_at_commit = crash;
    REQUIRE_THROWS_AS(run(lines, sink, options), test::SimulatedCrash);
    sink.crash_at_commit.reset();
    auto resumed = options;
    resumed.resume_after = sink.committed_position;
    auto summary = run(lines, sink, resumed);
    CHECK(sink.tables == reference.tables);
    CHECK(summary.resumed == (crash > 1));
    // Running the finished replay again applies nothing.
    auto again = options;
    again.resume_after = sink.committed_position;
    test::Tables before = sink.tables;
    auto second = run(lines, sink, again);
    CHECK(second.applied == 0);
    CHECK(second.in_window == 0);
    CHECK(sink.tables == before);
  }
}

TEST_CASE("the resume position is found by time, ordinal and content, not by file and line") {
  std::vector<Line> lines = {create_portfolio(1, "a", kStart), create_portfolio(2, "b", kStart),
                             create_portfolio(3, "c", kStart), update_portfolio(1, "a", "A", kStart + 1)};
  auto options = window();
  options.batch_events = 2;
  test::MemorySink sink;
  sink.crash_at_commit = 2;
  REQUIRE_THROWS_AS(run(lines, sink, options), test::SimulatedCrash);
  REQUIRE(sink.committed_position->ordinal == 2);
  sink.crash_at_commit.reset();

  SECTION("the same events continue after the second one of that second") {
    options.resume_after = sink.committed_position;
    auto s = run(lines, sink, options);
    CHECK(s.before_position == 2);
    CHECK(s.applied == 2);
    CHECK(sink.tables["portfolios"].size() == 3);
  }
  SECTION("another event at the position means the logs changed: stop, apply nothing") {
    lines[1] = create_portfolio(2, "edited", kStart);
    options.resume_after = sink.committed_position;
    test::Tables before = sink.tables;
    CHECK_THROWS_WITH(run(lines, sink, options), Catch::Contains("the audit logs changed since the last replay"));
    CHECK(sink.tables == before);
  }
  SECTION("logs that no longer reach the position are an error") {
    lines.resize(1);
    options.resume_after = sink.committed_position;
    CHECK_THROWS_WITH(run(lines, sink, options), Catch::Contains("no longer hold the event"));
  }
}

TEST_CASE("conflicts: skip leaves the refused event out, fail rolls the batch back") {
  std::vector<Line> lines = {create_portfolio(1, "a", kStart), create_portfolio(2, "b", kStart + 1),
                             update_portfolio(9, "x", "y", kStart + 2), create_portfolio(3, "c", kStart + 3)};
  auto options = window();
  options.batch_events = 2;
  test::MemorySink sink;
  sink.refused_keys.insert("portfolios/id=2;");

  SECTION("skip") {
    auto s = run(lines, sink, options);
    CHECK(sink.tables["portfolios"].count("id=1;") == 1);
    CHECK(sink.tables["portfolios"].count("id=2;") == 0);
    CHECK(sink.tables["portfolios"].count("id=3;") == 1);
    CHECK(s.conflicts_by_kind["foreign_key"] == 1);
    CHECK(s.conflicts_by_kind["missing_row"] == 1);
    CHECK(s.skipped_conflict == 2);
    CHECK(s.applied == 2);
    REQUIRE(s.conflicts.size() == 2);
    CHECK(s.conflicts[0].line == 2);
    CHECK(s.conflicts[1].key == "id=9");
  }
  SECTION("fail") {
    options.on_conflict = replay::ConflictPolicy::fail;
    try {
      run(lines, sink, options);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::verification);
      CHECK(std::string(e.what()).find(":2 (CREATE_PORTFOLIO, portfolios id=2)") != std::string::npos);
    }
    CHECK(sink.tables["portfolios"].empty());  // the first batch held the refused event: all rolled back
    CHECK(sink.commits == 0);
  }
}

TEST_CASE("a refused event splits its batch: the events around it still go in one go") {
  std::vector<Line> lines;
  for (int id = 1; id <= 1000; ++id) lines.push_back(create_portfolio(id, "p", kStart + id));
  auto options = window(-1, 2000);
  options.batch_events = 1000;
  auto refuse = [](test::MemorySink& sink, const std::vector<int>& ids) {
    for (int id : ids) sink.refused_keys.insert("portfolios/id=" + std::to_string(id) + ";");
  };
  auto check_result = [&](const test::MemorySink& sink, const replay::ApplySummary& s, const std::vector<int>& ids) {
    // What event by event gives: every portfolio but the refused ones, their conflicts in log order.
    test::MemorySink reference;
    refuse(reference, ids);
    auto one_by_one = options;
    one_by_one.batch_events = 1;
    auto r = run(lines, reference, one_by_one);
    CHECK(sink.tables == reference.tables);
    CHECK(s.applied == r.applied);
    CHECK(s.skipped_conflict == ids.size());
    REQUIRE(s.conflicts.size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) CHECK(s.conflicts[i].line == static_cast<uint64_t>(ids[i]));
  };
  test::MemorySink sink;
  std::vector<int> ids = {500, 800};
  refuse(sink, ids);
  SECTION("the sink names the refused change: the events before it, it alone, the rest") {
    auto s = run(lines, sink, options);
    check_result(sink, s, ids);
    CHECK(sink.apply_event_calls == 2);
    CHECK(sink.apply_all_calls == 5);  // all (refused at 500), 1-499, 501-1000 (refused at 800), 501-799, 801-1000
  }
  SECTION("the sink cannot name it: halves, event by event only in small ranges") {
    sink.name_refused = false;
    auto s = run(lines, sink, options);
    check_result(sink, s, ids);
    CHECK(sink.apply_event_calls <= 2 * replay::kEventByEvent);
    CHECK(sink.apply_all_calls < 40);
  }
  SECTION("refusals everywhere: event by event once the attempts cost too much") {
    ids.clear();
    for (int id = 7; id <= 1000; id += 10) ids.push_back(id);
    test::MemorySink dense;
    refuse(dense, ids);
    auto s = run(lines, dense, options);
    check_result(dense, s, ids);
    CHECK(dense.apply_all_calls < 60);
  }
}

TEST_CASE("outcomes told before apply_all ends are tallied as its answer; taken back, they count for nothing") {
  auto same = [](const replay::ApplySummary& a, const replay::ApplySummary& b) {
    CHECK(a.applied == b.applied);
    CHECK(a.skipped_conflict == b.skipped_conflict);
    CHECK(a.conflicts_by_kind == b.conflicts_by_kind);
    CHECK(a.drift == b.drift);
    REQUIRE(a.tables.size() == b.tables.size());
    for (const auto& [name, t] : a.tables) {
      const replay::TableTally& u = b.tables.at(name);
      CHECK(t.inserted == u.inserted);
      CHECK(t.insert_existing == u.insert_existing);
      CHECK(t.updated == u.updated);
      CHECK(t.soft_deleted == u.soft_deleted);
      CHECK(t.cascaded == u.cascaded);
      CHECK(t.conflicts == u.conflicts);
      CHECK(t.drift == u.drift);
    }
    REQUIRE(a.conflicts.size() == b.conflicts.size());
    for (std::size_t i = 0; i < a.conflicts.size(); ++i) CHECK(a.conflicts[i].line == b.conflicts[i].line);
    REQUIRE(a.drift_records.size() == b.drift_records.size());
    for (std::size_t i = 0; i < a.drift_records.size(); ++i) {
      CHECK(a.drift_records[i].line == b.drift_records[i].line);
      CHECK(a.drift_records[i].found == b.drift_records[i].found);
    }
  };
  for (unsigned seed = 1; seed <= 5; ++seed) {
    auto lines = random_workload(seed, 300);
    auto options = window();
    options.batch_events = 40;
    test::MemorySink plain;
    auto reference = run(lines, plain, options);
    REQUIRE(reference.drift > 0);
    REQUIRE(reference.conflicts_by_kind["missing_row"] > 0);
    for (auto early : {test::MemorySink::Early::told, test::MemorySink::Early::taken_back}) {
      test::MemorySink sink;
      sink.early = early;
      sink.refused_keys.insert("portfolios/id=3;");  // refusals split batches: only whole ones are told
      test::MemorySink refusing;
      refusing.refused_keys = sink.refused_keys;
      auto expected = run(lines, refusing, options);
      auto s = run(lines, sink, options);
      same(s, expected);
      CHECK(sink.tables == refusing.tables);
      CHECK(sink.outcomes_told > 0);
    }
  }
  SECTION("under --on-conflict fail a conflict among outcomes told still rolls the batch back") {
    std::vector<Line> lines = {create_portfolio(1, "a", kStart), update_portfolio(9, "x", "y", kStart + 1)};
    auto options = window();
    options.on_conflict = replay::ConflictPolicy::fail;
    test::MemorySink sink;
    sink.early = test::MemorySink::Early::told;
    CHECK_THROWS_AS(run(lines, sink, options), Error);
    CHECK(sink.commits == 0);
    CHECK(sink.tables["portfolios"].empty());
  }
}

TEST_CASE("the window is (from, to]: an event at `from` is left out, one at `to` applied") {
  std::vector<Line> lines = {create_portfolio(1, "a", kStart), create_portfolio(2, "b", kStart + 5),
                             create_portfolio(3, "c", kStart + 6)};
  test::MemorySink sink;
  auto s = run(lines, sink, window(0, 5));
  CHECK(sink.tables["portfolios"].size() == 1);
  CHECK(sink.tables["portfolios"].count("id=2;") == 1);
  CHECK(s.in_window == 1);
}

TEST_CASE("--table and --user filter what is applied; cascades reach only listed tables") {
  std::vector<Line> lines = {create_portfolio(1, "a", kStart, 7), create_portfolio(2, "b", kStart, 8),
                             create_category(10, 1, kStart + 1), delete_portfolio(1, kStart + 2, 7)};
  SECTION("user") {
    test::MemorySink sink;
    auto options = window();
    options.users = {"7"};
    auto s = run(lines, sink, options);
    CHECK(sink.tables["portfolios"].count("id=1;") == 1);
    CHECK(sink.tables["portfolios"].count("id=2;") == 0);
    CHECK(sink.tables["categories"].empty());  // created by user 1
    CHECK(s.skipped_filter == 2);
  }
  SECTION("table") {
    test::MemorySink sink;
    auto options = window();
    options.tables = {"portfolios"};
    auto s = run(lines, sink, options);
    CHECK(sink.tables["categories"].empty());
    CHECK(s.tables["portfolios"].cascaded == 0);
    CHECK(s.skipped_filter == 1);
  }
  SECTION("no filter: the delete cascades to the category") {
    test::MemorySink sink;
    auto s = run(lines, sink, window());
    CHECK(s.tables["portfolios"].cascaded == 1);
    CHECK(sink.tables["categories"]["id=10;"]["deleted_at"] == std::string("2025-01-15T10:00:02.000000Z"));
  }
}

TEST_CASE("drift in the skew margin is labelled as such") {
  std::vector<Line> lines = {create_portfolio(1, "a", kStart), update_portfolio(1, "zzz", "b", kStart + 1),
                             update_portfolio(1, "zzz", "c", kStart + 10)};
  test::MemorySink sink;
  auto options = window();
  options.margin_end = replay::TimePoint(std::chrono::seconds(kStart + 3));
  auto s = run(lines, sink, options);
  CHECK(s.drift_in_margin == 1);
  CHECK(s.drift == 1);
  REQUIRE(s.drift_records.size() == 2);
  CHECK(s.drift_records[0].in_margin);
  CHECK(s.drift_records[0].found == std::string("a"));
  CHECK(s.drift_records[0].logged == std::string("zzz"));
  CHECK(sink.tables["portfolios"]["id=1;"]["title"] == std::string("c"));
}

TEST_CASE("drift beyond kMaxRecords is counted, not kept; the records kept are the first ones") {
  std::vector<Line> lines = {create_portfolio(1, "a", kStart)};
  const int drifting = static_cast<int>(replay::kMaxRecords) + 500;
  for (int i = 1; i <= drifting; ++i) lines.push_back(update_portfolio(1, "zzz", "t" + std::to_string(i), kStart + i));
  test::MemorySink sink;
  auto options = window(-1, drifting + 10);
  options.batch_events = 60000;  // the second batch's records fill what is left, the third's are counted only
  auto s = run(lines, sink, options);
  CHECK(s.drift == static_cast<uint64_t>(drifting));
  REQUIRE(s.drift_records.size() == replay::kMaxRecords);
  CHECK(s.drift_records.front().found == std::string("a"));
  CHECK(s.drift_records.back().found == "t" + std::to_string(replay::kMaxRecords - 1));
}

namespace {
Error db_failure(const std::string& sqlstate, DbFailure failure) {
  Error e = runtime_error("error while applying a batch (SQLSTATE " + sqlstate + ")");
  e.set_db_failure(sqlstate, failure);
  return e;
}
}  // namespace

TEST_CASE("a batch undone by a deadlock or a lock timeout is applied again, with the same result") {
  auto lines = random_workload(7, 60);
  replay::ApplyOptions options = window();
  options.batch_events = 10;
  test::MemorySink reference;
  auto expected = run(lines, reference, options);

  test::MemorySink sink;
  sink.failures = {db_failure("40P01", DbFailure::retryable), db_failure("55P03", DbFailure::retryable)};
  std::vector<int> attempts;
  options.retrying = [&](const Error& e, int next, int of) {
    CHECK(e.retryable());
    CHECK(of == replay::kBatchAttempts);
    attempts.push_back(next);
  };
  auto s = run(lines, sink, options);
  CHECK(attempts == std::vector<int>{2, 3});
  CHECK(s.batches_retried == 2);
  CHECK(sink.tables == reference.tables);
  CHECK(s.applied == expected.applied);
  CHECK(s.skipped_conflict == expected.skipped_conflict);
  CHECK(s.drift == expected.drift);
  CHECK(sink.commits == reference.commits);
}

TEST_CASE("a batch is applied in parts, told to the sink, and committed once; a retry applies every part again") {
  std::vector<Line> lines;
  for (int id = 1; id <= 10; ++id) lines.push_back(create_portfolio(id, "p", kStart + id));
  auto options = window(-1, 100);
  options.batch_events = 4;  // parts of 2: batches 1-4, 5-8, 9-10
  test::MemorySink sink;
  sink.asks_next = true;
  auto s = run(lines, sink, options);
  CHECK(sink.commits == 3);
  CHECK(s.applied == 10);
  using Told = std::vector<std::pair<long, bool>>;
  // The last batch: a part of 2, then the stream ends: an empty part ends the batch.
  CHECK(sink.told_next == Told{{2, true}, {2, false}, {2, true}, {2, false}, {0, true}});

  SECTION("a failure in a batch's second part rolls back and applies both parts again") {
    test::MemorySink failing;
    failing.failures = {db_failure("40P01", DbFailure::retryable)};
    failing.failures_from_call = 2;
    auto f = run(lines, failing, options);
    CHECK(f.batches_retried == 1);
    CHECK(failing.apply_all_calls == 5 + 2);  // five parts; the failed call, and the first part again
    CHECK(failing.tables == sink.tables);
    CHECK(failing.commits == 3);
    CHECK(f.applied == 10);
  }
}

TEST_CASE("the run's first part reaches the sink in pieces as it is mapped, before its batch opens") {
  std::vector<Line> lines;
  for (int id = 1; id <= 25; ++id) lines.push_back(create_portfolio(id, "p", kStart + id));
  auto options = window(-1, 100);
  options.batch_events = 40;  // parts of 20: the first one read ahead every 4 events; no other part
  options.read_ahead_events = 4;
  test::MemorySink sink;
  auto s = run(lines, sink, options);
  const auto& given = sink.read_ahead_given;
  REQUIRE(given.size() == 4);
  for (std::size_t i = 0; i < given.size(); ++i) CHECK(given[i].size() == 4 * (i + 1));
  // Each piece goes on from the one before, and the part's apply_all from the last: the same changes.
  for (std::size_t i = 1; i < given.size(); ++i)
    CHECK(std::equal(given[i - 1].begin(), given[i - 1].end(), given[i].begin()));
  REQUIRE(sink.first_applied.size() == 20);
  CHECK(std::equal(given.back().begin(), given.back().end(), sink.first_applied.begin()));
  CHECK(s.applied == 25);
  CHECK(sink.commits == 1);

  test::MemorySink quarters;  // parts of 10, smaller than 4 pieces of 4: read ahead in quarters of 2
  options.batch_events = 20;
  run(lines, quarters, options);
  CHECK(quarters.read_ahead_given.size() == 4);
  CHECK(quarters.read_ahead_given.front().size() == 2);
  CHECK(quarters.tables == sink.tables);

  test::MemorySink whole;  // the first part handed over whole: the same result
  options.read_ahead_events = 0;
  run(lines, whole, options);
  CHECK(whole.read_ahead_given.empty());
  CHECK(whole.tables == sink.tables);
}

TEST_CASE("a lost connection, a permanent failure or a batch failing every attempt ends the run") {
  auto lines = random_workload(8, 20);
  replay::ApplyOptions options = window();
  for (const auto& failure : {db_failure("", DbFailure::retryable), db_failure("08006", DbFailure::retryable),
                              db_failure("42P01", DbFailure::permanent), db_failure("", DbFailure::in_doubt)}) {
    INFO(failure.sqlstate());
    test::MemorySink sink;
    sink.failures = {failure};
    CHECK_THROWS_AS(run(lines, sink, options), Error);
    CHECK(sink.commits == 0);
  }
  test::MemorySink stubborn;
  stubborn.failures.assign(replay::kBatchAttempts, db_failure("40001", DbFailure::retryable));
  CHECK_THROWS_WITH(run(lines, stubborn, options), Catch::Contains("40001"));
  CHECK(stubborn.failures.empty());  // every attempt was made
  CHECK(stubborn.commits == 0);
}
