// analyze_events and its report over scripted events (no server): windows, gaps, bursts coalesced
// into periods, capped lists in the human report, progress.
#include "src/ops/analyze.h"

#include <simdjson.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;

namespace {

constexpr int64_t kStart = 1736935200;  // 2025-01-15T10:00:00Z, a minute boundary

/// Events at the given Unix times, all the same CREATE_PORTFOLIO line; optionally pauses once.
class ScriptedSource : public replay::AuditEventSource {
 public:
  explicit ScriptedSource(std::vector<int64_t> times, std::size_t pause_after = 0)
      : times_(std::move(times)), pause_after_(pause_after) {}
  bool next(replay::AuditEvent& event) override {
    if (next_ == times_.size()) return false;
    if (pause_after_ && next_ == pause_after_) std::this_thread::sleep_for(std::chrono::milliseconds(600));
    holder_ = std::make_unique<test::EventHolder>(
        "CREATE_PORTFOLIO", R"({"level":"info","operation":"CREATE_PORTFOLIO","portfolioID":1,"title":"T"})",
        times_[next_]);
    event = holder_->event;
    event.line_number = ++next_;
    return true;
  }
  std::vector<replay::AuditFileStats> file_stats() const override { return {}; }

 private:
  std::vector<int64_t> times_;
  std::size_t pause_after_;
  std::size_t next_ = 0;
  std::unique_ptr<test::EventHolder> holder_;
};

/// `count` events spread over the minute that starts `minutes` after kStart.
void add_minute(std::vector<int64_t>& times, int minutes, int count) {
  for (int i = 0; i < count; ++i) times.push_back(kStart + 60 * minutes + i % 60);
}

ops::AnalyzeReport analyze(std::vector<int64_t> times, ops::AnalyzeOptions options = {},
                           const ops::Reporter& reporter = {}) {
  ScriptedSource source(std::move(times));
  replay::Mapper mapper(replay::MappingRules{}, test::portfolio_catalog());
  return ops::analyze_events(source, nullptr, mapper, options, reporter);
}

std::vector<std::string> texts(const std::vector<ops::ReportLine>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}

}  // namespace

TEST_CASE("consecutive busy windows make one burst; a quiet window ends it", "[analyze]") {
  std::vector<int64_t> times;
  add_minute(times, 0, 40);
  add_minute(times, 1, 55);
  add_minute(times, 2, 30);  // exactly the threshold: still busy
  add_minute(times, 3, 29);  // quiet
  add_minute(times, 5, 31);
  ops::AnalyzeReport r = analyze(times);
  REQUIRE(r.bursts.size() == 2);
  CHECK(r.bursts[0].start == replay::TimePoint(std::chrono::seconds(kStart)));
  CHECK(r.bursts[0].end == replay::TimePoint(std::chrono::seconds(kStart + 180)));
  CHECK(r.bursts[0].events == 125);
  CHECK(r.bursts[0].windows == 3);
  CHECK(r.bursts[0].peak == 55);
  CHECK(r.bursts[1].start == replay::TimePoint(std::chrono::seconds(kStart + 300)));
  CHECK(r.bursts[1].events == 31);
  CHECK(r.bursts[1].windows == 1);
  CHECK(r.events == 185);

  simdjson::dom::parser parser;
  simdjson::dom::element first = simdjson::dom::array(parser.parse(ops::analyze_json(r))["bursts"]["list"]).at(0);
  CHECK(std::string_view(first["start"]) == "2025-01-15T10:00:00.000000Z");
  CHECK(std::string_view(first["end"]) == "2025-01-15T10:03:00.000000Z");
  CHECK(int64_t(first["events"]) == 125);
  CHECK(int64_t(first["windows"]) == 3);
  CHECK(int64_t(first["peak"]) == 55);
}

TEST_CASE("busy windows separated by an empty one are two bursts", "[analyze]") {
  std::vector<int64_t> times;
  add_minute(times, 0, 30);
  add_minute(times, 2, 30);  // minute 1 has no event at all
  CHECK(analyze(times).bursts.size() == 2);
}

TEST_CASE("gaps name the events on both sides; --since/--until leave out what is outside", "[analyze]") {
  std::vector<int64_t> times = {kStart, kStart + 60, kStart + 60 + 7200, kStart + 60 + 7201};
  ops::AnalyzeReport all = analyze(times);
  REQUIRE(all.gaps.size() == 1);
  CHECK(all.gaps[0].after == "update.log:2");
  CHECK(all.gaps[0].before == "update.log:3");

  ops::AnalyzeOptions window;
  window.since = replay::TimePoint(std::chrono::seconds(kStart + 60));
  window.until = replay::TimePoint(std::chrono::seconds(kStart + 60 + 7200));
  ops::AnalyzeReport part = analyze(times, window);
  CHECK(part.events == 2);
  CHECK(*part.first == *window.since);
  CHECK(*part.last == *window.until);
  REQUIRE(part.gaps.size() == 1);
}

TEST_CASE("the human report lists ten gaps and bursts, then says how many more", "[analyze]") {
  ops::AnalyzeReport r;
  for (int i = 0; i < 12; ++i) {
    auto at = replay::TimePoint(std::chrono::hours(24 * i));
    r.gaps.push_back({at, at + std::chrono::hours(2), "a.log:1", "a.log:2"});
    r.bursts.push_back({at, at + std::chrono::minutes(1), 40, 1, 40});
  }
  auto lines = texts(ops::analyze_text(r));
  auto count = [&](const std::string& prefix) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  CHECK(count("gap of 2 h 0 min") == 10);
  CHECK(count("burst: 40 events") == 10);
  CHECK(std::find(lines.begin(), lines.end(), "and 2 more gaps (--json lists them all)") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "and 2 more bursts (--json lists them all)") != lines.end());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(ops::analyze_json(r));
  CHECK(simdjson::dom::array(doc["gaps"]["list"]).size() == 12);
  CHECK(simdjson::dom::array(doc["bursts"]["list"]).size() == 12);
}

TEST_CASE("progress tells how far the reading is, then is cleared", "[analyze]") {
  std::vector<std::string> shown;
  ops::Reporter reporter;
  reporter.progress = [&](const std::string& text) { shown.push_back(text); };
  std::vector<int64_t> times(10000, kStart);
  ScriptedSource source(times, 5000);  // a pause, so that progress is due at event 8192
  replay::Mapper mapper(replay::MappingRules{}, test::portfolio_catalog());
  ops::analyze_events(source, nullptr, mapper, {}, reporter);
  REQUIRE(shown.size() == 2);
  CHECK(shown[0] == "reading the audit logs: 8,192 events, at 2025-01-15 10:00:00Z");
  CHECK(shown[1].empty());
}
