// Handoff and Channel: items reach the consumer in order, the producer's exception reaches it
// after the items before it, a consumer that stops early stops the producer (no thread left
// waiting), and an abandoned channel hands out nothing more.
#include "src/util/handoff.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <vector>

using namespace auditpitr;

TEST_CASE("Handoff passes every item in order, a few at a time", "[handoff]") {
  std::atomic<int> most_waiting{0}, pushed{0}, taken{0};
  Handoff<int> items(2, [&](const Handoff<int>::Push& push) {
    for (int i = 0; i < 1000; ++i) {
      if (!push(i)) return;  // (Catch2 asserts on the test's thread only)
      ++pushed;
      most_waiting = std::max(most_waiting.load(), pushed - taken);
    }
  });
  std::vector<int> got;
  while (auto item = items.next()) {
    got.push_back(*item);
    ++taken;
  }
  REQUIRE(got.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(got[static_cast<std::size_t>(i)] == i);
  CHECK(most_waiting <= 3);  // the capacity, and the one being taken
}

TEST_CASE("Handoff rethrows the producer's exception after the items it pushed", "[handoff]") {
  Handoff<int> items(4, [](const Handoff<int>::Push& push) {
    push(1);
    push(2);
    throw std::runtime_error("the log is damaged");
  });
  CHECK(*items.next() == 1);
  CHECK(*items.next() == 2);
  CHECK_THROWS_WITH(items.next(), "the log is damaged");
}

TEST_CASE("a consumer that stops early stops the producer", "[handoff]") {
  std::atomic<bool> refused{false};
  std::atomic<int> pushed{0};
  {
    Handoff<int> items(1, [&](const Handoff<int>::Push& push) {
      for (int i = 0;; ++i) {
        if (!push(i)) {
          refused = true;
          return;
        }
        ++pushed;
      }
    });
    CHECK(*items.next() == 0);
  }  // destroyed: the producer's next push answers false, and it is joined
  CHECK(refused);
  CHECK(pushed <= 3);
}

TEST_CASE("an abandoned Channel hands out nothing more, and refuses more", "[handoff]") {
  Channel<std::string> channel;
  CHECK(channel.push("projects"));
  CHECK(channel.push("portfolios"));
  CHECK(*channel.next() == "projects");
  channel.abandon();
  CHECK(channel.abandoned());
  CHECK_FALSE(channel.next());  // "portfolios" still waits, but nothing is to be read any more
  CHECK_FALSE(channel.push("sections"));
}

TEST_CASE("a closed Channel hands out what waits, then ends", "[handoff]") {
  Channel<int> channel;
  channel.push(7);
  channel.close();
  CHECK(*channel.next() == 7);
  CHECK_FALSE(channel.next());
  CHECK_FALSE(channel.abandoned());
}
