// run_beside: both pieces run, on two threads, and an exception from either reaches the caller.
#include "src/util/run_beside.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <thread>

using namespace auditpitr;

TEST_CASE("run_beside runs both pieces at once and hands their exceptions back", "[run_beside]") {
  std::thread::id here_id, beside_id;
  run_beside([&] { beside_id = std::this_thread::get_id(); }, [&] { here_id = std::this_thread::get_id(); });
  CHECK(here_id == std::this_thread::get_id());
  CHECK(beside_id != std::thread::id());
  CHECK(beside_id != here_id);

  std::atomic<bool> here_ran{false};
  CHECK_THROWS_WITH(run_beside([] { throw std::runtime_error("beside"); }, [&] { here_ran = true; }), "beside");
  CHECK(here_ran);
  std::atomic<bool> beside_ran{false};
  CHECK_THROWS_WITH(run_beside([&] { beside_ran = true; }, [] { throw std::runtime_error("here"); }), "here");
  CHECK(beside_ran);  // joined before the exception left
  CHECK_THROWS_WITH(run_beside([] { throw std::runtime_error("beside"); }, [] { throw std::runtime_error("here"); }),
                    "here");
}
